"""The patient's "to do" card at the top of the start page: nothing waits unseen.

Read-only selectors over the other apps' models (imported inside the function so the
core app does not depend on them at import time). Four reads, whatever the number of
rows: open questionnaires with their drafts, the rehabilitation plan, a draft handover
(none when the start page passes its handovers), unread message threads; the three
prepared ones in one round trip (``careplan.prepared.together``), with the start page's
own reads when it runs them (``todo_reads``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from contacts.models import Handover, HandoverState
from rehab.models import RehabPlan
from selfmonitor.models import Instrument, open_assignments

from .models import CarePlan, MessageThread
from .prepared import Bound, prepared, together


@dataclass(frozen=True)
class Todo:
    kind: str  # questionnaire | rehab_plan | handover | message
    text: str
    url: str
    due: datetime | None = None
    started: bool = False


# The card's queries, compiled once per process (careplan.prepared); the open
# questionnaires are selfmonitor's ``open_assignments``, as the questionnaire list reads them.
_rehab_to_agree = prepared(
    lambda plan_id: RehabPlan.objects.filter(care_plan_id=plan_id, agreed_at__isnull=True).only(
        "pk"
    )[:1]
)
_unread_answers = prepared(
    lambda patient_id: (
        MessageThread.objects.filter(
            Q(patient_read_at__isnull=True) | Q(patient_read_at__lt=F("last_staff_message_at")),
            patient_id=patient_id,
            last_staff_message_at__isnull=False,
        )
        .order_by("-last_staff_message_at")
        .only("pk", "subject")[:5]
    )
)


def todo_reads(plan: CarePlan) -> dict[str, Bound]:
    """The card's three reads, for the caller to run with its own in one round trip
    (``careplan.prepared.together``; the start page does) and give to
    ``todo_for_patient`` as ``rows``."""
    return {
        "questionnaires": open_assignments.bind(patient_id=plan.patient_id),
        "rehab": _rehab_to_agree.bind(plan_id=plan.pk),
        "unread": _unread_answers.bind(patient_id=plan.patient_id),
    }


def todo_for_patient(
    plan: CarePlan,
    handovers: list[Handover] | None = None,
    rows: dict[str, list] | None = None,
) -> list[Todo]:
    """What waits for the patient of ``plan``, most pressing first. ``handovers``: the
    patient's handovers newest first, when the caller read them already (the start page
    does, for its handover card: ``contacts_handover.plan_handovers``); a draft among
    them is the one the query below would find. ``rows``: the results of ``todo_reads``
    when the caller ran them (else they are read here, together)."""

    patient = plan.patient
    if rows is None:
        reads = todo_reads(plan)
        rows = dict(zip(reads, together(*reads.values()), strict=True))
    items: list[Todo] = []
    # 1: open questionnaires, the earliest due first, each marked if already started
    for assignment in Instrument.attach_parsed(rows["questionnaires"]):
        items.append(
            Todo(
                kind="questionnaire",
                text=assignment.instrument.title,
                url=reverse("selfmonitor_answer", args=[assignment.pk]),
                due=assignment.due_at,
                started=assignment.started,
            )
        )
    # 2: a rehabilitation plan not yet looked at and agreed
    rehab = next(iter(rows["rehab"]), None)
    if rehab is not None:
        items.append(
            Todo(
                kind="rehab_plan",
                text=_("Look at your rehabilitation plan and say if you agree"),
                url=reverse("rehab_plan", args=[plan.pk]),
            )
        )
    # 3: a handover being prepared, waiting for the patient's needs and wishes
    if handovers is not None:
        handover = next(
            (h for h in handovers if h.state == HandoverState.DRAFT and h.needs_and_wishes == ""),
            None,
        )
    else:
        handover = (
            Handover.objects.filter(patient=patient, state=HandoverState.DRAFT, needs_and_wishes="")
            .select_related("to_unit")
            .only("pk", "to_unit__name")
            .first()
        )
    if handover is not None:
        items.append(
            Todo(
                kind="handover",
                text=_("Tell %(unit)s what matters to you before your care moves there")
                % {"unit": handover.to_unit.name},
                url=reverse("handover_needs", args=[handover.pk]),
            )
        )
    # 4: answers from the care team not yet read
    for thread in rows["unread"]:
        items.append(
            Todo(
                kind="message",
                text=_("Read the care team's answer: %(subject)s") % {"subject": thread.subject},
                url=reverse("message_thread", args=[thread.pk]),
            )
        )
    return items
