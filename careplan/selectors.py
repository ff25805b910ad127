"""Read-side queries of the care team's day (HackSoft "selectors"): the worklist and the
patient overview, used by the admin (``careplan.admin.worklist``, ``careplan.admin.overview``) and open to
the API.

The worklist is one list of everything that waits for the care team, most severe first,
oldest first. Each app contributes its items through a *worklist source* registered here
at import time of its ``selectors`` module (``AppConfig.ready``): a function returning
``WorkItem`` rows in one query, and how the rows shown are written to the access log.
A new kind of signal is one more source; nothing here changes (a patient's symptom report
is an alert of ``selfmonitor``'s source; a calendar change request is careplan's own).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import F, Model, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rehab.services import worklist_reassessments  # rehab's part of the staff worklist

from . import access, content
from .models import (
    AccessLog,
    CalendarEvent,
    CarePlan,
    CareRelation,
    ContactNurseAssignment,
    EventChangeRequest,
    Message,
    MessageThread,
    Notification,
    Patient,
    PlanSection,
    Role,
    User,
    VisitQuestion,
)

# Severity of a work item: alerts keep their own (1 low … 3 high); a waiting message is
# "medium" until it passes its answer-by time, then "high".
LOW, MEDIUM, HIGH = 1, 2, 3


@dataclass
class WorkItem:
    """One thing waiting for the care team. ``since`` is when it started waiting;
    ``url`` opens the page where it is handled; ``due_at`` is the answer-by time."""

    kind: str
    kind_label: str
    severity: int
    since: dt.datetime
    patient: Patient
    title: str
    url: str
    obj: Model
    acting_unit_id: int | None = None
    due_at: dt.datetime | None = None
    detail: str = ""

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and self.due_at < timezone.now()

    @property
    def severity_label(self) -> str:
        return str({HIGH: _("High"), MEDIUM: _("Medium"), LOW: _("Low")}.get(self.severity, ""))


def log_care_relation_rows(user, items: Iterable[WorkItem]) -> None:
    """The default access-log writer of a source: one ``list`` row per patient shown, on
    the basis of the care relation (``access.log_list``)."""
    rows: dict[int, tuple[int, int | None, Model]] = {}
    for item in items:
        rows.setdefault(item.patient.pk, (item.patient.pk, item.acting_unit_id, item.obj))
    access.log_list(user=user, rows=rows.values(), channel=AccessLog.Channel.ADMIN)


@dataclass(frozen=True)
class WorklistSource:
    key: str
    items: Callable[..., list[WorkItem]]  # (user, *, limit) -> items, one query
    log: Callable[[object, list[WorkItem]], None] = field(default=log_care_relation_rows)


WORKLIST_SOURCES: dict[str, WorklistSource] = {}


def register_worklist_source(
    key: str, *, log: Callable[[object, list[WorkItem]], None] | None = None
) -> Callable:
    """Decorator: ``@register_worklist_source("alert")`` over ``def f(user, *, limit)``."""

    def wrap(func: Callable[..., list[WorkItem]]) -> Callable[..., list[WorkItem]]:
        WORKLIST_SOURCES[key] = WorklistSource(key, func, log or log_care_relation_rows)
        return func

    return wrap


def of_my_units(qs: QuerySet, user, *, patient_path: str = "patient") -> QuerySet:
    """Rows whose patient one of my units is responsible for, each with its
    ``acting_unit_id`` (for the access log), through one join to the active care
    relation (one per patient, so no duplicates; the index ``carerelation_active_unit``
    serves it). Cheaper to build and to plan than ``patients_for`` plus
    ``with_acting_unit`` (a subquery each); staff only, nobody else lists a unit."""
    if not access.is_care_staff(user):
        return qs.none()
    relation = f"{patient_path}__care_relations"
    return qs.filter(
        **{f"{relation}__unit_id__in": access.staff_unit_ids(user)},
        **{f"{relation}__ended_at__isnull": True},
    ).annotate(acting_unit_id=F(f"{relation}__unit_id"))


def worklist(user, *, limit: int = 25) -> list[WorkItem] | None:
    """Everything waiting for my units, most severe first, then oldest first.

    One query per source (messages, alerts, handovers, …), the staff member's units
    (cached on the user) and one access-log insert per source that shows a row. None for
    users who are not care staff with a unit.
    """
    if not access.is_care_staff(user) or not access.staff_unit_ids(user):
        return None
    items: list[WorkItem] = []
    for source in WORKLIST_SOURCES.values():
        items.extend(source.items(user, limit=limit))
    items.sort(key=lambda i: (-i.severity, i.since))
    shown = items[:limit]
    for source in WORKLIST_SOURCES.values():
        mine = [i for i in shown if i.kind == source.key]
        if mine:
            source.log(user, mine)
    return shown


# --- careplan's sources ---------------------------------------------------------------------


def answer_by(since: dt.datetime) -> dt.datetime:
    """The time the patient was promised an answer by (CAREPLAN_ANSWER_WITHIN_DAYS)."""
    return since + dt.timedelta(days=settings.CAREPLAN_ANSWER_WITHIN_DAYS)


@register_worklist_source("message")
def message_items(user, *, limit: int) -> list[WorkItem]:
    """Threads waiting for the team's answer (one query: threads, patients, acting unit)."""
    threads = list(
        of_my_units(MessageThread.objects.waiting(), user)
        .select_related("patient")
        .order_by("awaiting_reply_since", "id")[:limit]
    )
    now = timezone.now()
    items = []
    for t in threads:
        due = answer_by(t.awaiting_reply_since)
        new = t.last_staff_message_at is None
        items.append(
            WorkItem(
                kind="message",
                kind_label=str(_("New message") if new else _("Reply from the patient")),
                severity=HIGH if due < now or t.escalated_at else MEDIUM,
                since=t.awaiting_reply_since,
                patient=t.patient,
                title=t.subject,
                url=reverse("admin:careplan_messagethread_change", args=[t.pk]),
                obj=t,
                acting_unit_id=t.acting_unit_id,
                due_at=due,
            )
        )
    return items


@register_worklist_source("change_request")
def change_request_items(user, *, limit: int) -> list[WorkItem]:
    """Patients' open requests to change one of the care team's calendar entries, oldest
    first (one query: requests, patients, entries, acting unit). Medium when the entry is
    within the answer-by time (it must be handled before it happens), low otherwise; the
    item opens the request's page, where it is handled with a note."""
    requests = list(
        of_my_units(EventChangeRequest.objects.open(), user)
        .select_related("patient", "event")
        .order_by("created_at", "id")[:limit]
    )
    soon = answer_by(timezone.now())
    items = []
    for r in requests:
        starts = timezone.localtime(r.event.starts_at)
        items.append(
            WorkItem(
                kind="change_request",
                kind_label=str(_("Calendar change asked for")),
                severity=MEDIUM if r.event.starts_at <= soon else LOW,
                since=r.created_at,
                patient=r.patient,
                title=f"{r.event.title} {starts:%Y-%m-%d %H:%M}",
                url=reverse("admin:careplan_eventchangerequest_change", args=[r.pk]),
                obj=r,
                acting_unit_id=r.acting_unit_id,
                due_at=r.event.starts_at,
                detail=r.text,
            )
        )
    return items


# --- The unit's planning list (below the worklist on the admin index) -----------------------


def patients_without_contact_nurse(user, *, limit: int = 10) -> list[Patient]:
    """Patients of my units without a named contact nurse, by name (one query).

    Read from the care relation's maintained ``needs_contact_nurse`` flag (set and
    cleared by the services that name a contact nurse and move responsibility) through
    the partial index ``carerelation_needs_nurse``: the rows read are the patients
    without a nurse, never every patient of the unit (no anti-join over the unit)."""
    units = access.staff_unit_ids(user)
    return list(
        Patient.objects.filter(
            care_relations__unit_id__in=units,
            care_relations__ended_at__isnull=True,
            care_relations__needs_contact_nurse=True,
        )
        .annotate(acting_unit_id=F("care_relations__unit_id"))
        .order_by("last_name", "first_name", "id")[:limit]
    )


def draft_plans(user, *, limit: int = 10) -> list[CarePlan]:
    """Care plans of my units' patients not yet established, oldest first (one query,
    from the partial index of draft plans)."""
    return list(
        of_my_units(CarePlan.objects.filter(status=CarePlan.Status.DRAFT), user)
        .select_related("patient")
        .order_by("created_at", "id")[:limit]
    )


def upcoming_events(user, *, days: int = 7, limit: int = 10) -> list[CalendarEvent]:
    """My units' calendar entries in the next ``days`` days, soonest first (one query,
    walking the entries' time index)."""
    now = timezone.now()
    return list(
        of_my_units(
            CalendarEvent.objects.filter(
                starts_at__gte=now, starts_at__lt=now + dt.timedelta(days=days)
            ),
            user,
            patient_path="plan__patient",
        )
        .select_related("plan__patient")
        .order_by("starts_at")[:limit]
    )


def staff_worklist(user: User, *, days: int = 7, limit: int = 10) -> dict[str, Any] | None:
    """The unit's planning list on the admin index, below the worklist: patients of my
    units without a named contact nurse, draft plans not yet established, entries in the
    next ``days`` days, rehab's due reassessments.

    Five queries (four lists and the access-log rows, one per patient shown); none reads
    every patient of the unit (``tests/careplan/test_worklist_speed.py``)."""
    if not access.is_care_staff(user) or not access.staff_unit_ids(user):
        return None
    no_nurse = patients_without_contact_nurse(user, limit=limit)
    drafts = draft_plans(user, limit=limit)
    events = upcoming_events(user, days=days, limit=limit)
    reassessments = worklist_reassessments(access.patients_for(user), user, limit=limit)
    rows: dict[int, tuple[int, int | None, Model]] = {}
    shown: list[tuple[int, Any]] = [(p.pk, p) for p in no_nurse]
    shown += [(p.patient_id, p) for p in drafts]
    shown += [(e.plan.patient_id, e) for e in events]
    shown += [(p.pk, p) for p in reassessments]
    for patient_id, obj in shown:
        # Every row was annotated with the acting unit (``with_acting_unit`` or the join).
        rows.setdefault(patient_id, (patient_id, getattr(obj, "acting_unit_id", None), obj))
    access.log_list(user=user, rows=rows.values(), channel=AccessLog.Channel.ADMIN)
    return {
        "no_contact_nurse": no_nurse,
        "draft_plans": drafts,
        "upcoming_events": events,
        "rehab_reassessments": reassessments,
        "days": days,
    }


def unread_count(user) -> int:
    """The admin header's counter: the user's unread notifications, kept on the user row
    by ``messaging.notify`` / ``notifications_mark_read`` (no query of its own)."""
    return int(getattr(user, "unread_notifications", 0) or 0)


def notifications_of(user, *, limit: int = 50) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("-created_at", "-id")[:limit])


# --- The patient overview: careplan's parts -------------------------------------------------


def overview_patient(user, pk) -> Patient | None:
    """The patient with my acting unit, the responsible unit and the contact nurse (one
    query). None when no unit of mine is responsible."""
    relation = CareRelation.objects.filter(patient=OuterRef("pk"), ended_at__isnull=True)
    nurse = ContactNurseAssignment.objects.filter(patient=OuterRef("pk"), ended_on__isnull=True)
    qs = access.with_acting_unit(
        access.patients_for(user).filter(pk=pk), user, patient_path="pk"
    ).annotate(
        responsible_unit_name=Subquery(relation.values("unit__name")[:1]),
        responsible_unit_phone=Subquery(relation.values("unit__phone")[:1]),
        nurse_first=Subquery(nurse.values("nurse__first_name")[:1]),
        nurse_last=Subquery(nurse.values("nurse__last_name")[:1]),
        nurse_phone=Subquery(nurse.values("direct_phone")[:1]),
    )
    return qs.first()


def current_plan(patient: Patient) -> CarePlan | None:
    return (
        CarePlan.objects.filter(patient=patient)
        .exclude(status=CarePlan.Status.CLOSED)
        .order_by("-created_at")
        .first()
    )


def plan_translation_gaps(plan: CarePlan | None, lang: str) -> list[PlanSection]:
    """The plan's sections without a reviewed version in ``lang`` (the reader's language):
    what the nurse sees on the plan and overview pages. Swedish readers: none, no query;
    else one query whatever the number of sections."""
    if plan is None or lang == content.ORIGINAL:
        return []
    sections = PlanSection.objects.filter(plan=plan).only(
        "id", "plan_id", "key", "order", "title_sv", "title_en", "translations"
    )
    return [s for s in sections if content.lacks_review(s, lang)]


def next_events(patient: Patient, *, limit: int = 5) -> list[CalendarEvent]:
    return list(
        CalendarEvent.objects.filter(plan__patient=patient, starts_at__gte=timezone.now()).order_by(
            "starts_at", "id"
        )[:limit]
    )


def open_threads(patient: Patient, *, limit: int = 10) -> list[MessageThread]:
    """Open threads, waiting ones first, each with its last message (one query, whatever
    the number of messages)."""
    last = Message.objects.filter(thread=OuterRef("pk")).order_by("-created_at", "-id")
    return list(
        MessageThread.objects.filter(patient=patient, status=MessageThread.Status.OPEN)
        .annotate(
            last_body=Subquery(last.values("body")[:1]),
            last_from_patient=Subquery(last.values("from_patient")[:1]),
        )
        .inbox_order()[:limit]
    )


def open_change_requests(patient: Patient, *, limit: int = 10) -> list[EventChangeRequest]:
    """The patient's open calendar change requests with their entries, oldest first (one
    query)."""
    return list(
        EventChangeRequest.objects.open()
        .filter(patient=patient)
        .select_related("event")
        .order_by("created_at", "id")[:limit]
    )


def access_log_tail(patient: Patient, *, limit: int = 10) -> list[AccessLog]:
    return list(
        AccessLog.objects.filter(patient=patient)
        .select_related("acting_unit")
        .order_by("-at", "-id")[:limit]
    )


def staff_of_units(unit_ids: Iterable[int]) -> QuerySet[User]:
    return User.objects.filter(
        care_units__id__in=list(unit_ids), role=Role.STAFF, is_staff=True, is_active=True
    ).distinct()


def visit_questions(patient: Patient | int, *, include_answered: bool = False) -> QuerySet:
    """The patient's questions for the next visit, oldest first (one query, served by
    the ``visitquestion_patient`` index). For the care team's patient overview: the
    caller has checked access (``careplan.access.patient_for``) and logged it."""
    patient_id = patient if isinstance(patient, int) else patient.pk
    qs = VisitQuestion.objects.filter(patient_id=patient_id)
    if not include_answered:
        qs = qs.filter(answered_at__isnull=True)
    return qs.order_by("created_at", "id")
