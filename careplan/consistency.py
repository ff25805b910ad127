"""The invariants a restored (or any) database must satisfy, checked with set queries.

``manage.py check_consistency`` runs them after a restore drill. The database enforces
most of them while it runs (partial unique indexes, constraint triggers at commit), but
a data-only restore, ``pg_restore --disable-triggers`` or a hand-made fix bypasses
triggers, and the rule that the contact nurse works in the responsible unit spans
tables. Each problem names rows by id, never by personnummer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from contacts.models import HANDOVER_OPEN_STATES, Handover, HandoverState

from . import outbox
from .models import (
    CarePlan,
    CareRelation,
    ContactNurseAssignment,
    Outbox,
    Patient,
    Role,
    StaffMembership,
)

# A row still "sending" this long after its lease lapsed: the relay is not running.
OUTBOX_STUCK_AFTER = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Problem:
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


def _ids(queryset, limit: int = 20) -> str:
    ids = list(queryset.values_list("pk", flat=True).order_by("pk")[: limit + 1])
    shown = ", ".join(str(i) for i in ids[:limit])
    return shown + (", ..." if len(ids) > limit else "")


def _report(problems: list[Problem], check: str, queryset, what: str) -> None:
    count = queryset.count()
    if count:
        problems.append(Problem(check, f"{count} {what} (ids {_ids(queryset)})"))


def _care_plan_problems(problems: list[Problem]) -> None:
    active_plan = CarePlan.objects.filter(patient=OuterRef("pk"), status=CarePlan.Status.ACTIVE)
    patients = Patient.objects.filter(Exists(active_plan))
    relations = CareRelation.objects.filter(ended_at__isnull=True)
    assignments = ContactNurseAssignment.objects.filter(ended_on__isnull=True)

    counted = patients.annotate(
        units=Count(
            "care_relations", filter=Q(care_relations__ended_at__isnull=True), distinct=True
        ),
        nurses=Count(
            "nurse_assignments", filter=Q(nurse_assignments__ended_on__isnull=True), distinct=True
        ),
    )
    _report(
        problems,
        "responsible_unit",
        counted.filter(units=0),
        "patients with an established plan have no responsible care unit",
    )
    _report(
        problems,
        "responsible_unit",
        counted.filter(units__gt=1),
        "patients have more than one responsible care unit",
    )
    _report(
        problems,
        "contact_nurse",
        counted.filter(nurses=0),
        "patients with an established plan have no contact nurse",
    )
    _report(
        problems,
        "contact_nurse",
        counted.filter(nurses__gt=1),
        "patients have more than one contact nurse",
    )
    # The contact nurse works in the responsible unit (and is active staff).
    responsible_unit = relations.filter(patient=OuterRef("patient"))
    member = StaffMembership.objects.filter(
        user=OuterRef("nurse"),
        unit__in=relations.filter(patient=OuterRef(OuterRef("patient"))).values("unit"),
    )
    current = assignments.filter(Exists(responsible_unit))
    _report(
        problems,
        "contact_nurse_unit",
        current.filter(~Exists(member)),
        "contact nurse assignments name a nurse who does not work in the responsible unit",
    )
    _report(
        problems,
        "contact_nurse_unit",
        current.exclude(unit__in=relations.filter(patient=OuterRef("patient")).values("unit")),
        "contact nurse assignments are recorded for another unit than the responsible one",
    )
    _report(
        problems,
        "contact_nurse_staff",
        assignments.filter(Q(nurse__is_active=False) | ~Q(nurse__role=Role.STAFF)),
        "contact nurse assignments name an inactive or non-staff user",
    )
    # The worklist reads "no contact nurse named" from the active relation's flag
    # (careplan.services.contact_nurse_flag_sync keeps it): it must match the assignments.
    named = assignments.filter(patient=OuterRef("patient"))
    _report(
        problems,
        "contact_nurse_flag",
        relations.filter(needs_contact_nurse=True).filter(Exists(named)),
        "active care relations are flagged as without a contact nurse, but one is named",
    )
    _report(
        problems,
        "contact_nurse_flag",
        relations.filter(needs_contact_nurse=False).exclude(Exists(named)),
        "active care relations are flagged as having a contact nurse, but none is named",
    )


def _handover_problems(problems: list[Problem]) -> None:
    responsible = CareRelation.objects.filter(patient=OuterRef("patient"), ended_at__isnull=True)
    _report(
        problems,
        "handover",
        Handover.objects.filter(state__in=HANDOVER_OPEN_STATES).exclude(
            Exists(responsible.filter(unit=OuterRef("from_unit")))
        ),
        "open handovers come from a unit that is no longer responsible",
    )
    _report(
        problems,
        "handover",
        Handover.objects.filter(state=HandoverState.SENT, sent_at__isnull=True),
        "sent handovers have no time sent",
    )
    done = Handover.objects.filter(state__in=[HandoverState.ACCEPTED, HandoverState.COMPLETED])
    _report(
        problems,
        "handover",
        done.filter(Q(accepted_at__isnull=True) | Q(contact_nurse__isnull=True)),
        "accepted handovers lack the time accepted or the new contact nurse",
    )
    later = Handover.objects.filter(
        patient=OuterRef("patient"),
        state__in=[HandoverState.ACCEPTED, HandoverState.COMPLETED],
        accepted_at__gt=OuterRef("accepted_at"),
    )
    latest = done.filter(accepted_at__isnull=False).exclude(Exists(later))
    _report(
        problems,
        "handover",
        latest.exclude(Exists(responsible.filter(unit=OuterRef("to_unit")))),
        "patients' latest accepted handovers went to a unit that is not responsible now",
    )


def _outbox_problems(problems: list[Problem], *, now: dt.datetime) -> None:
    S = Outbox.Status
    _report(
        problems,
        "outbox",
        Outbox.objects.filter(
            Q(status=S.DONE, done_at__isnull=True) | (~Q(status=S.DONE) & Q(done_at__isnull=False))
        ),
        "outbox rows have a status that contradicts their time done",
    )
    _report(
        problems,
        "outbox",
        Outbox.objects.filter(status=S.DEAD, last_error=""),
        "dead outbox rows have no error recorded",
    )
    _report(
        problems,
        "outbox",
        Outbox.objects.exclude(status__in=S.values),
        "outbox rows have an unknown status",
    )
    _report(
        problems,
        "outbox",
        Outbox.objects.filter(status=S.SENDING, next_attempt_at__lt=now - OUTBOX_STUCK_AFTER),
        "outbox rows are stuck in 'sending' long after their lease (is the relay running?)",
    )
    unknown = []
    for task in Outbox.objects.exclude(status=S.DONE).values_list("task", flat=True).distinct():
        if not outbox.is_registered(task):
            unknown.append(task)
    if unknown:
        problems.append(
            Problem("outbox", f"outbox rows name tasks that do not exist: {', '.join(unknown)}")
        )


def consistency_problems(*, now: dt.datetime | None = None) -> list[Problem]:
    """Every broken invariant, as a list (empty when the database is consistent)."""
    problems: list[Problem] = []
    _care_plan_problems(problems)
    _handover_problems(problems)
    _outbox_problems(problems, now=now or timezone.now())
    return problems
