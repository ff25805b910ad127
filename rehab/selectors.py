"""Read-side queries of rehabilitation for the care team: the patient's comments on the
rehabilitation plan on the worklist, and, for the patient overview, the latest needs
assessment, the rehabilitation plan with its goals and interventions and the open
comments."""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from careplan import access, rendering
from careplan.models import Patient
from careplan.prepared import prepared
from careplan.selectors import (
    HIGH,
    LOW,
    MEDIUM,
    PATIENT_FIELDS,
    WorkItem,
    answer_by,
    of_units,
    register_worklist_source,
    source_rows,
)

from .models import Intervention, NeedsAssessment, RehabPlan, RehabPlanComment
from .services import worklist_reassessments

_open_comments_of_units = source_rows(
    lambda units: (
        of_units(RehabPlanComment.objects.open(), units)
        .select_related("patient")
        .only("patient_id", "text", "created_at", *PATIENT_FIELDS)
        .order_by("created_at", "id")
    )
)


@register_worklist_source("rehab_comment")
def rehab_comment_items(user, *, limit: int) -> list[WorkItem]:
    """Open comments of my units' patients on their rehabilitation plans, oldest first
    (one query: comments, patients, acting unit; served by the partial index of open
    comments). Medium, high once past the answer-by time of a message."""
    comments = _open_comments_of_units(user, limit)
    now = timezone.now()
    items = []
    for c in comments:
        due = answer_by(c.created_at)
        items.append(
            WorkItem(
                kind="rehab_comment",
                kind_label=_("Comment on the rehabilitation plan"),
                severity=HIGH if due < now else MEDIUM,
                since=c.created_at,
                patient=c.patient,
                title=c.text[:80],
                url=rendering.url("admin:rehab_rehabplancomment_change", c.pk),
                obj=c,
                acting_unit_id=c.acting_unit_id,
                due_at=due,
            )
        )
    return items


@register_worklist_source("rehab_reassessment", top=LOW)
def rehab_reassessment_items(user, *, limit: int) -> list[WorkItem]:
    """My units' patients whose rehabilitation needs are due to be (re)assessed, with the
    reasons (one query, ``services.worklist_reassessments``). Waiting since the latest
    assessment, or since the unit took over when never assessed."""
    rows = worklist_reassessments(access.patients_for(user), user, limit=limit)
    label = _("Rehabilitation needs to (re)assess")
    add = reverse("admin:rehab_needsassessment_add")
    return [
        WorkItem(
            kind="rehab_reassessment",
            kind_label=label,
            severity=LOW,
            since=p.rehab_last_at or p.rehab_relation_since,
            patient=p,
            title=", ".join(str(r) for r in p.rehab_due_reasons),
            url=f"{add}?patient={p.pk}",
            obj=p,
            acting_unit_id=p.acting_unit_id,
        )
        for p in rows
    ]


_open_comments = prepared(
    lambda patient_id: (
        RehabPlanComment.objects.open()
        .filter(patient_id=patient_id)
        .order_by("created_at", "id")[:10]
    )
)
_latest_assessment = prepared(
    lambda patient_id: (
        NeedsAssessment.objects.filter(patient_id=patient_id)
        .only("patient_id", "assessed_at", "level", "summary")
        .order_by("-assessed_at", "-id")[:1]
    )
)
_current_rehab_plan = prepared(
    lambda patient_id: (
        RehabPlan.objects.filter(patient_id=patient_id)
        .prefetch_related(
            "goals",
            Prefetch("interventions", queryset=Intervention.objects.select_related("kva")),
        )
        .order_by("-updated_at", "-id")[:1]
    )
)


def open_comments(patient: Patient) -> list[RehabPlanComment]:
    """The patient's 10 oldest comments on the rehabilitation plan not yet handled (one
    query)."""
    return _open_comments(patient_id=patient.pk)


def latest_assessment(patient: Patient) -> NeedsAssessment | None:
    return next(iter(_latest_assessment(patient_id=patient.pk)), None)


def current_rehab_plan(patient: Patient) -> RehabPlan | None:
    """The latest rehab plan with goals and coded interventions (three queries)."""
    return next(iter(_current_rehab_plan(patient_id=patient.pk)), None)
