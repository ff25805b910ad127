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
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import access, content, rendering
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
from .prepared import prepared

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
    # The highest severity the source's items can have: a source whose items could not
    # reach the list any more (``limit`` more severe items are already there) is not asked.
    top: int = HIGH


WORKLIST_SOURCES: dict[str, WorklistSource] = {}


def register_worklist_source(
    key: str, *, top: int = HIGH, log: Callable[[object, list[WorkItem]], None] | None = None
) -> Callable:
    """Decorator: ``@register_worklist_source("alert")`` over ``def f(user, *, limit)``;
    ``top`` is the highest severity its items can have (planning items are ``LOW``)."""

    def wrap(func: Callable[..., list[WorkItem]]) -> Callable[..., list[WorkItem]]:
        WORKLIST_SOURCES[key] = WorklistSource(key, func, log or log_care_relation_rows, top)
        return func

    return wrap


# What a worklist row shows of its patient (``.only()`` with ``select_related("patient")``:
# a source reads up to ``limit`` rows of which only some are shown).
PATIENT_FIELDS = (
    "patient__id",
    "patient__first_name",
    "patient__last_name",
    "patient__personnummer",
)


def of_my_units(qs: QuerySet, user, *, patient_path: str = "patient") -> QuerySet:
    """Rows whose patient one of my units is responsible for, each with its
    ``acting_unit_id`` (for the access log), through one join to the active care
    relation (one per patient, so no duplicates; the index ``carerelation_active_unit``
    serves it). Cheaper to build and to plan than ``patients_for`` plus
    ``with_acting_unit`` (a subquery each); staff only, nobody else lists a unit."""
    if not access.is_care_staff(user):
        return qs.none()
    return of_units(qs, tuple(access.staff_unit_ids(user)), patient_path=patient_path)


def of_units(qs: QuerySet, units, *, patient_path: str = "patient") -> QuerySet:
    """``of_my_units`` for the given unit ids (a source's prepared query takes them)."""
    relation = f"{patient_path}__care_relations"
    return qs.filter(
        **{f"{relation}__unit_id__in": units},
        **{f"{relation}__ended_at__isnull": True},
    ).annotate(acting_unit_id=F(f"{relation}__unit_id"))


WORKLIST_LIMIT = 25


def source_rows(build: Callable[[Any], QuerySet]) -> Callable[..., list]:
    """A source's one query, compiled once (``careplan.prepared``): ``build(units)`` is
    the queryset of my units' rows in the source's order; ``rows(user, limit)`` gives the
    first ``limit`` (the compiled query reads ``WORKLIST_LIMIT``; a longer list asks the
    ORM)."""
    compiled = prepared(lambda units: build(units)[:WORKLIST_LIMIT])

    def rows(user, limit: int) -> list:
        units = tuple(sorted(access.staff_unit_ids(user)))
        if limit <= WORKLIST_LIMIT:
            return compiled(units=units)[:limit]
        return list(build(units)[:limit])

    return rows


def worklist(user, *, limit: int = WORKLIST_LIMIT) -> list[WorkItem] | None:
    """Everything waiting for my units, most severe first, then oldest first: what needs
    an answer (messages, alerts, symptoms, handovers, …) and the unit's planning (patients
    without a contact nurse, draft plans, due rehab reassessments, relatives who need
    support).

    One query per source asked, the staff member's units (cached on the user) and one
    access-log insert: one row for every patient shown. Sources are asked most severe first; a
    source is skipped when ``limit`` items more severe than any of its own are already
    found (its items could not be shown: the list is the same, only cheaper on a busy
    unit). None for users who are not care staff with a unit.
    """
    if not access.is_care_staff(user) or not access.staff_unit_ids(user):
        return None
    items: list[WorkItem] = []
    sources = sorted(WORKLIST_SOURCES.values(), key=lambda s: -s.top)  # stable
    for source in sources:
        if sum(1 for i in items if i.severity > source.top) >= limit:
            continue
        items.extend(source.items(user, limit=limit))
    items.sort(key=lambda i: (-i.severity, i.since))
    shown = items[:limit]
    logged: set[int] = set()  # one row per patient shown, at their first source's item
    with access.one_log_insert():
        for source in sources:
            mine = [i for i in shown if i.kind == source.key and i.patient.pk not in logged]
            logged.update(i.patient.pk for i in mine)
            if mine:
                source.log(user, mine)
    return shown


# --- careplan's sources ---------------------------------------------------------------------


def answer_by(since: dt.datetime) -> dt.datetime:
    """The time the patient was promised an answer by (CAREPLAN_ANSWER_WITHIN_DAYS)."""
    return since + dt.timedelta(days=settings.CAREPLAN_ANSWER_WITHIN_DAYS)


_waiting_threads = source_rows(
    lambda units: (
        of_units(MessageThread.objects.waiting(), units)
        .select_related("patient")
        .only(
            "patient_id",
            "subject",
            "awaiting_reply_since",
            "last_staff_message_at",
            "escalated_at",
            *PATIENT_FIELDS,
        )
        .order_by("awaiting_reply_since", "id")
    )
)


@register_worklist_source("message")
def message_items(user, *, limit: int) -> list[WorkItem]:
    """Threads waiting for the team's answer (one query: threads, patients, acting unit)."""
    to_item = rendering.route("admin:careplan_messagethread_change")  # one reverse() for every row
    threads = _waiting_threads(user, limit)
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
                url=to_item(t.pk),
                obj=t,
                acting_unit_id=t.acting_unit_id,
                due_at=due,
            )
        )
    return items


_open_change_requests_of_units = source_rows(
    lambda units: (
        of_units(EventChangeRequest.objects.open(), units)
        .select_related("patient", "event")
        .only(
            "patient_id", "text", "created_at", "event__title", "event__starts_at", *PATIENT_FIELDS
        )
        .order_by("created_at", "id")
    )
)


@register_worklist_source("change_request", top=MEDIUM)
def change_request_items(user, *, limit: int) -> list[WorkItem]:
    """Patients' open requests to change one of the care team's calendar entries, oldest
    first (one query: requests, patients, entries, acting unit). Medium when the entry is
    within the answer-by time (it must be handled before it happens), low otherwise; the
    item opens the request's page, where it is handled with a note."""
    to_item = rendering.route(
        "admin:careplan_eventchangerequest_change"
    )  # one reverse() for every row
    requests = _open_change_requests_of_units(user, limit)
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
                url=to_item(r.pk),
                obj=r,
                acting_unit_id=r.acting_unit_id,
                due_at=r.event.starts_at,
                detail=r.text,
            )
        )
    return items


# --- The unit's planning, on the same list -----------------------------------------------


_needing_a_nurse = source_rows(
    lambda units: (
        CareRelation.objects.filter(
            unit_id__in=units, ended_at__isnull=True, needs_contact_nurse=True
        )
        .select_related("patient")
        .only("patient_id", "unit_id", "started_at", *PATIENT_FIELDS)
        .order_by("started_at", "id")
    )
)


@register_worklist_source("no_contact_nurse", top=LOW)
def no_contact_nurse_items(user, *, limit: int) -> list[WorkItem]:
    """Patients of my units without a named contact nurse, longest first (one query).

    Read from the care relation's maintained ``needs_contact_nurse`` flag (set and
    cleared by the services that name a contact nurse and move responsibility) through
    the partial index ``carerelation_needs_nurse``: the rows read are the patients
    without a nurse, never every patient of the unit (no anti-join over the unit)."""
    to_item = rendering.route("admin:careplan_patient_contact_nurse")  # one reverse() for every row
    relations = _needing_a_nurse(user, limit)
    label = str(_("No named contact nurse"))
    title = str(_("Name a contact nurse"))
    return [
        WorkItem(
            kind="no_contact_nurse",
            kind_label=label,
            severity=LOW,
            since=r.started_at,
            patient=r.patient,
            title=title,
            url=to_item(r.patient_id),
            obj=r.patient,
            acting_unit_id=r.unit_id,
        )
        for r in relations
    ]


def patients_without_contact_nurse(user, *, limit: int = 10) -> list[Patient]:
    """The patients of ``no_contact_nurse_items`` (one query)."""
    return [i.patient for i in no_contact_nurse_items(user, limit=limit)]


_draft_plans = source_rows(
    lambda units: (
        of_units(CarePlan.objects.filter(status=CarePlan.Status.DRAFT), units)
        .select_related("patient")
        .only("patient_id", "title", "created_at", *PATIENT_FIELDS)
        .order_by("created_at", "id")
    )
)


@register_worklist_source("draft_plan", top=LOW)
def draft_plan_items(user, *, limit: int) -> list[WorkItem]:
    """Care plans of my units' patients not yet established, oldest first (one query,
    from the partial index of draft plans)."""
    to_item = rendering.route("admin:careplan_careplan_change")  # one reverse() for every row
    plans = _draft_plans(user, limit)
    label = str(_("Draft plan not yet established"))
    return [
        WorkItem(
            kind="draft_plan",
            kind_label=label,
            severity=LOW,
            since=p.created_at,
            patient=p.patient,
            title=p.title,
            url=to_item(p.pk),
            obj=p,
            acting_unit_id=p.acting_unit_id,
        )
        for p in plans
    ]


def unread_count(user) -> int:
    """The admin header's counter: the user's unread notifications, kept on the user row
    by ``messaging.notify`` / ``notifications_mark_read`` (no query of its own)."""
    return int(getattr(user, "unread_notifications", 0) or 0)


def notifications_of(user, *, limit: int = 50) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("-created_at", "-id")[:limit])


# --- The patient overview: careplan's parts -------------------------------------------------


# The overview's fixed queries, compiled once per process (careplan.prepared): on this
# page of twenty small queries, building the SQL cost more than running it.
_nurse = ContactNurseAssignment.objects.filter(
    patient_id=OuterRef("patient_id"), ended_on__isnull=True
)
_active_relation = prepared(
    lambda patient_id: (
        CareRelation.objects.filter(patient_id=patient_id, ended_at__isnull=True)
        .select_related("patient", "unit")
        .annotate(
            nurse_first=Subquery(_nurse.values("nurse__first_name")[:1]),
            nurse_last=Subquery(_nurse.values("nurse__last_name")[:1]),
            nurse_phone=Subquery(_nurse.values("direct_phone")[:1]),
        )[:1]
    )
)


def overview_patient(user, pk) -> Patient | None:
    """The patient with my acting unit, the responsible unit and the contact nurse (one
    query, compiled once: the patient's active care relation with the patient, the unit
    and the contact nurse). None when no unit of mine is responsible."""
    found = next(iter(_active_relation(patient_id=int(pk))), None)
    if found is None or found.unit_id not in access.staff_unit_ids(user):
        return None
    patient = found.patient
    patient.acting_unit_id = found.unit_id  # for the log
    patient.responsible_unit_name = found.unit.name
    patient.responsible_unit_phone = found.unit.phone
    patient.nurse_first = found.nurse_first
    patient.nurse_last = found.nurse_last
    patient.nurse_phone = found.nurse_phone
    return patient


_current_plan = prepared(
    lambda patient_id: (
        CarePlan.objects.filter(patient_id=patient_id)
        .exclude(status=CarePlan.Status.CLOSED)
        .order_by("-created_at", "-id")[:1]
    )
)


def current_plan(patient: Patient) -> CarePlan | None:
    return next(iter(_current_plan(patient_id=patient.pk)), None)


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


# "From now" is the database's clock (Now()), so the compiled SQL holds no time.
_next_events = prepared(
    lambda patient_id: (
        CalendarEvent.objects.filter(plan__patient_id=patient_id, starts_at__gte=Now())
        .only("title", "starts_at", "location")
        .order_by("starts_at", "id")[:5]
    )
)


def next_events(patient: Patient) -> list[CalendarEvent]:
    """The patient's next five calendar entries (one query)."""
    return _next_events(patient_id=patient.pk)


_open_threads = prepared(
    lambda patient_id: (
        MessageThread.objects.filter(patient_id=patient_id, status=MessageThread.Status.OPEN)
        .annotate(
            last_body=Subquery(
                Message.objects.filter(thread=OuterRef("pk"))
                .order_by("-created_at", "-id")
                .values("body")[:1]
            ),
            last_from_patient=Subquery(
                Message.objects.filter(thread=OuterRef("pk"))
                .order_by("-created_at", "-id")
                .values("from_patient")[:1]
            ),
        )
        .inbox_order()[:10]
    )
)


def open_threads(patient: Patient) -> list[MessageThread]:
    """The 10 latest open threads, waiting ones first, each with its last message (one
    query, whatever the number of messages)."""
    return _open_threads(patient_id=patient.pk)


_open_change_requests = prepared(
    lambda patient_id: (
        EventChangeRequest.objects.open()
        .filter(patient_id=patient_id)
        .select_related("event")
        .only("text", "created_at", "event__title", "event__starts_at")
        .order_by("created_at", "id")[:10]
    )
)


def open_change_requests(patient: Patient) -> list[EventChangeRequest]:
    """The patient's 10 oldest open calendar change requests with their entries (one
    query)."""
    return _open_change_requests(patient_id=patient.pk)


_access_log_tail = prepared(
    lambda patient_id: (
        AccessLog.objects.filter(patient_id=patient_id)
        .select_related("acting_unit")
        .only("at", "user_name", "action", "outcome", "channel", "acting_unit__name")
        .order_by("-at", "-id")[:10]
    )
)


def access_log_tail(patient: Patient) -> list[AccessLog]:
    """The patient's 10 latest access-log rows (one query)."""
    return _access_log_tail(patient_id=patient.pk)


def staff_of_units(unit_ids: Iterable[int]) -> QuerySet[User]:
    return User.objects.filter(
        care_units__id__in=list(unit_ids), role=Role.STAFF, is_staff=True, is_active=True
    ).distinct()


_open_visit_questions = prepared(
    lambda patient_id: VisitQuestion.objects.filter(
        patient_id=patient_id, answered_at__isnull=True
    ).order_by("created_at", "id")
)


def open_visit_questions(patient: Patient) -> list[VisitQuestion]:
    """``visit_questions`` not yet answered, as a list (one query, compiled once): the
    overview's."""
    return _open_visit_questions(patient_id=patient.pk)


def visit_questions(patient: Patient | int, *, include_answered: bool = False) -> QuerySet:
    """The patient's questions for the next visit, oldest first (one query, served by
    the ``visitquestion_patient`` index). For the care team's patient overview: the
    caller has checked access (``careplan.access.patient_for``) and logged it."""
    patient_id = patient if isinstance(patient, int) else patient.pk
    qs = VisitQuestion.objects.filter(patient_id=patient_id)
    if not include_answered:
        qs = qs.filter(answered_at__isnull=True)
    return qs.order_by("created_at", "id")
