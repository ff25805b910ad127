"""Read-side queries of rehabilitation for the care team: the patient's comments on the
rehabilitation plan on the worklist, and, for the patient overview, the latest needs
assessment, the rehabilitation plan with its goals and interventions and the open
comments."""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from careplan.models import Patient
from careplan.selectors import (
    HIGH,
    MEDIUM,
    WorkItem,
    answer_by,
    of_my_units,
    register_worklist_source,
)

from .models import Intervention, NeedsAssessment, RehabPlan, RehabPlanComment


@register_worklist_source("rehab_comment")
def rehab_comment_items(user, *, limit: int) -> list[WorkItem]:
    """Open comments of my units' patients on their rehabilitation plans, oldest first
    (one query: comments, patients, acting unit; served by the partial index of open
    comments). Medium, high once past the answer-by time of a message."""
    comments = list(
        of_my_units(RehabPlanComment.objects.open(), user)
        .select_related("patient")
        .order_by("created_at", "id")[:limit]
    )
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
                url=reverse("admin:rehab_rehabplancomment_change", args=[c.pk]),
                obj=c,
                acting_unit_id=c.acting_unit_id,
                due_at=due,
            )
        )
    return items


def open_comments(patient: Patient, *, limit: int = 10) -> list[RehabPlanComment]:
    """The patient's comments on the rehabilitation plan not yet handled, oldest first
    (one query)."""
    return list(
        RehabPlanComment.objects.open().filter(patient=patient).order_by("created_at", "id")[:limit]
    )


def latest_assessment(patient: Patient) -> NeedsAssessment | None:
    return (
        NeedsAssessment.objects.filter(patient=patient)
        .select_related("assessed_by", "kva")
        .order_by("-assessed_at", "-id")
        .first()
    )


def current_rehab_plan(patient: Patient) -> RehabPlan | None:
    """The latest rehab plan with goals and coded interventions (three queries)."""
    return (
        RehabPlan.objects.filter(patient=patient)
        .prefetch_related(
            "goals",
            Prefetch("interventions", queryset=Intervention.objects.select_related("kva")),
        )
        .order_by("-updated_at", "-id")
        .first()
    )
