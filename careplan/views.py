"""Patient and relative web: typed function views over the access helpers.

Every view reaches patient data through ``careplan.access`` (one helper call per request,
which also writes the access-log row for anyone but the patient) and writes through
``careplan.services``. Relatives see only the parts a patient shared; they never write.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Max, Q, When
from django.db.models.functions import Now, TruncDate
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django_htmx.http import reswap, retarget

from contacts.templatetags.contacts_handover import handovers_read

from . import access, pdf, services
from .forms import CalendarEventForm
from .health import health_report
from .models import (
    AccessLog,
    CalendarEvent,
    CarePlan,
    ContactNurseAssignment,
    Patient,
    PlanChange,
    PlanSection,
    Role,
    Scope,
    UnitLink,
    VisitQuestion,
)
from .prepared import prepared, together
from .selectors import visit_questions as selected
from .todo import todo_for_patient, todo_reads

Action = AccessLog.Action

PAST_EVENTS_SHOWN = 50
CHANGES_SHOWN = 20
ACCESS_LOG_DAYS_PER_PAGE = 14

# What a relative is told the patient has not shared (the plan's start page).
NOT_SHARED_TEXT = [
    ("sections", gettext_lazy("the texts of the care plan")),
    ("calendar", gettext_lazy("the calendar")),
    ("contact_nurse", gettext_lazy("the contact nurse's details")),
    ("questionnaires", gettext_lazy("questionnaire results")),
    ("rehab_plan", gettext_lazy("the rehabilitation plan")),
    ("messages", gettext_lazy("messages with the care team")),
]
# The patient's access log in plain words: "<verb> <what>", e.g. "read your care plan".
ACTION_DONE = {
    "view": pgettext_lazy("access log", "read"),
    "list": pgettext_lazy("access log", "saw in a list"),
    "create": pgettext_lazy("access log", "added"),
    "update": pgettext_lazy("access log", "changed"),
    "delete": pgettext_lazy("access log", "removed"),
    "print": pgettext_lazy("access log", "printed"),
    "export": pgettext_lazy("access log", "exported"),
}
ACTION_TRIED = {
    "view": pgettext_lazy("access log", "tried to read"),
    "list": pgettext_lazy("access log", "tried to list"),
    "create": pgettext_lazy("access log", "tried to add"),
    "update": pgettext_lazy("access log", "tried to change"),
    "delete": pgettext_lazy("access log", "tried to remove"),
    "print": pgettext_lazy("access log", "tried to print"),
    "export": pgettext_lazy("access log", "tried to export"),
}
OBJECT_YOUR = {
    "Patient": gettext_lazy("your details"),
    "CarePlan": gettext_lazy("your care plan"),
    "PlanSection": gettext_lazy("a part of your care plan"),
    "CalendarEvent": gettext_lazy("an entry in your calendar"),
    "PlanChange": gettext_lazy("the history of your care plan"),
    "CareMap": gettext_lazy("your care map"),
    "CareMapEntry": gettext_lazy("your care map"),
    "RelativeGrant": gettext_lazy("who can read your care plan"),
    "Invitation": gettext_lazy("an invitation to read your care plan"),
    "MessageThread": gettext_lazy("your messages with the care team"),
    "RehabPlan": gettext_lazy("your rehabilitation plan"),
    "NeedsAssessment": gettext_lazy("an assessment of your rehabilitation needs"),
    "Referral": gettext_lazy("a referral for rehabilitation"),
    "RehabReport": gettext_lazy("a rehabilitation report (numbers only)"),
    "Assignment": gettext_lazy("a questionnaire sent to you"),
    "Response": gettext_lazy("your answers to a questionnaire"),
    "Alert": gettext_lazy("an alert from your answers to the care team"),
    "Handover": gettext_lazy("a handover of your care to another unit"),
    "SymptomReport": gettext_lazy("a symptom report"),
    "EventChangeRequest": gettext_lazy("your request to change a calendar entry"),
    "RehabPlanComment": gettext_lazy("your comment on your rehabilitation plan"),
}
# Why a refused attempt was refused, by the role of who tried.
DENIED_WHY = {
    "staff": gettext_lazy("Refused: their unit is not responsible for your care."),
    "relative": gettext_lazy(
        "Refused: you have not shared this with them, or the sharing has ended."
    ),
    "": gettext_lazy("Refused: they have no right to see it."),
}
ROLE_TEXT = {**dict(Role.choices), "anonymous": gettext_lazy("not logged in")}
# What the start page's contact card (and the footer, the handover card) read of the
# contact nurse assignment, the nurse and the unit.
NURSE_CARD_FIELDS = (
    "id",
    "patient_id",
    "nurse_id",
    "unit_id",
    "direct_phone",
    "reachable",
    "started_on",
    "nurse__first_name",
    "nurse__last_name",
    "nurse__email",
    "nurse__title",
    "unit__name",
    "unit__phone",
    "unit__reachable",
)
# The start page's fixed queries, compiled once per process (careplan.prepared): the
# contact card (``Patient.contact_nurse_assignment`` with the columns above) and the
# section titles.
_contact_card = prepared(
    lambda patient_id: (
        ContactNurseAssignment.objects.filter(patient_id=patient_id, ended_on__isnull=True)
        .select_related("nurse", "unit")
        .only(*NURSE_CARD_FIELDS)[:1]
    )
)
# The open plans of the patients who share with a relative (their start page).
_open_plans = prepared(
    lambda patient_ids: (
        CarePlan.objects.filter(patient_id__in=patient_ids)
        .exclude(status=CarePlan.Status.CLOSED)
        .only("id", "patient_id", "title", "status")
    )
)
_patients_by_name = prepared(
    lambda patient_ids: Patient.objects.filter(id__in=patient_ids).order_by(
        "first_name", "last_name", "id"
    )
)
_section_titles = prepared(
    lambda plan_id: PlanSection.objects.filter(plan_id=plan_id).only(
        "id", "plan_id", "key", "title_sv", "title_en", "translations"
    )
)
# The section page's fixed queries: the section's id by its plan and key, and the care
# unit's links for a section's key (the units caring for the patient now).
_section_id = prepared(
    lambda plan_id, key: PlanSection.objects.filter(plan_id=plan_id, key=key).values_list(
        "pk", flat=True
    )[:1]
)
_unit_links = prepared(
    lambda section_key, patient_id: UnitLink.objects.filter(
        section_key=section_key,
        unit__care_relations__patient_id=patient_id,
        unit__care_relations__ended_at__isnull=True,
    ).order_by("title")
)
# The next three events ("What is next"): upcoming by the database's clock (``Now()``, as
# ``_is_upcoming``), so the SQL holds no time of its own and compiles once.
_next_events = prepared(
    lambda plan_id: (
        CalendarEvent.objects.filter(plan_id=plan_id)
        .filter(Q(ends_at__gte=Now()) | Q(ends_at__isnull=True, starts_at__gte=Now()))
        .only("id", "plan_id", "kind", "title", "starts_at", "ends_at", "location", "note")
        .order_by("starts_at", "id")[:3]
    )
)
# The changes since the patient last looked at the plan, not their own, with who made
# them: newer than the patient's mark read in the same query (``plan_detail`` runs it
# only when there is a mark; ``CarePlan.changes_since``).
_changes_since_seen = prepared(
    lambda plan_id, user_id: (
        PlanChange.objects.filter(plan_id=plan_id, at__gt=F("plan__patient__last_seen_plan_at"))
        .exclude(by_id=user_id)
        .select_related("by")
        .only(
            "id",
            "plan_id",
            "at",
            "by_id",
            "what",
            "section_key",
            "by__first_name",
            "by__last_name",
            "by__email",
        )[:CHANGES_SHOWN]
    )
)


@dataclass(frozen=True)
class Shared:
    """Which parts of a plan the viewer may see, from the reach ``plan_for`` found."""

    sections: bool
    calendar: bool
    contact_nurse: bool
    rehab_plan: bool
    questionnaires: bool
    messages: bool
    write: bool
    is_self: bool
    is_relative: bool

    @classmethod
    def of(cls, r: access.Reach) -> Shared:
        return cls(
            sections=r.covers(Scope.PLAN_SECTIONS),
            calendar=r.covers(Scope.CALENDAR),
            contact_nurse=r.covers(Scope.CONTACT_NURSE),
            rehab_plan=r.covers(Scope.REHAB_PLAN),
            questionnaires=r.covers(Scope.QUESTIONNAIRES),
            messages=r.covers(Scope.MESSAGES),
            write=r.write,
            is_self=r.is_self,
            is_relative=r.basis == AccessLog.Basis.RELATIVE_GRANT,
        )


def _is_upcoming(now) -> Q:
    return Q(ends_at__gte=now) | Q(ends_at__isnull=True, starts_at__gte=now)


def _plan_context(plan: CarePlan) -> dict:
    """What every plan page needs: the plan, what is shared, the patient's first name."""
    return {
        "plan": plan,
        "patient": plan.patient,
        "shared": Shared.of(plan.reach),
    }


# --- Health ------------------------------------------------------------------------------


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that do not name one (the admin).

    Resolved per request: the production manifest exists only after collectstatic."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("careplan/favicon.svg"))


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (cookie, safe ``next``), and for a logged-in user also their
    saved preference, so the next login, e-mails and notices follow it."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in services.Language.values:
        services.user_language_set(user=request.user, language=language)
    return response


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Each dependency (database, cache, broker) within a second: 200 ``ok`` or
    ``degraded`` (Redis down: the site works on), 503 ``error`` (no database)."""
    status, checks = health_report()
    return JsonResponse(
        {"status": status, "checks": checks}, status=503 if status == "error" else 200
    )


# --- Start page ----------------------------------------------------------------------------


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return render(request, "careplan/landing.html")
    if user.role == Role.STAFF:
        return redirect("admin:index")
    if user.role == Role.PATIENT:
        plan = access.current_plan_for_patient_user(user)
        if plan is not None:
            return redirect("plan_detail", pk=plan.pk)
        return render(request, "careplan/home.html", {"role": "patient"})
    if user.role == Role.RELATIVE:
        return _relative_home(request)
    raise Http404


@require_GET
@login_required
def shared_with_me(request: HttpRequest) -> HttpResponse:
    """What others share with a patient who is also their relative (one account, two
    roles); a relative's start page shows the same."""
    if request.user.role not in (Role.PATIENT, Role.RELATIVE):
        raise Http404
    return _relative_home(request)


def _relative_home(request: HttpRequest) -> HttpResponse:
    """The patients who share with this relative, each with their open plan."""
    user = request.user
    patients = _patients_by_name(
        patient_ids=tuple(access.shared_patient_ids(user, scope=access.ANY_SCOPE))
    )
    plans: dict[int, CarePlan] = {}
    for plan in _open_plans(patient_ids=tuple(p.pk for p in patients)):
        plans.setdefault(plan.patient_id, plan)
    access.log_list(
        user=user,
        rows=[(p.pk, None, plans.get(p.pk, p)) for p in patients],
        channel=AccessLog.Channel.WEB,
        as_relative=True,
    )
    shared = [(p, plans.get(p.pk)) for p in patients]
    return render(request, "careplan/home.html", {"role": "relative", "shared_with_me": shared})


# --- The plan ------------------------------------------------------------------------------


@require_GET
@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = access.plan_for(request.user, pk, scope=access.ANY_SCOPE)
    ctx = _plan_context(plan)
    shared: Shared = ctx["shared"]
    patient = plan.patient

    # Everything the page reads after the access check, in one round trip (careplan.
    # prepared.together): the parts this reader sees, and for the patient the handovers
    # (for the handover card and the to-do card), the changes since the last visit (only
    # with a mark to compare with) and the to-do card's reads.
    reads = {}
    if shared.contact_nurse:
        reads["nurse"] = _contact_card.bind(patient_id=patient.pk)
    if shared.is_self or shared.contact_nurse:
        # The handover card (others than the patient see the latest one only).
        reads["handovers"] = handovers_read(patient.pk, latest=not shared.is_self)
    if shared.is_self and patient.last_seen_plan_at is not None:
        reads["changes"] = _changes_since_seen.bind(plan_id=plan.pk, user_id=request.user.pk)
    if shared.calendar:
        reads["upcoming"] = _next_events.bind(plan_id=plan.pk)
    if shared.sections:
        reads["sections"] = _section_titles.bind(plan_id=plan.pk)
    if shared.is_self:
        reads.update(todo_reads(plan))
    rows = dict(zip(reads, together(*reads.values()), strict=True))

    nurse = unit = None
    if shared.contact_nurse:
        nurse = next(iter(rows["nurse"]), None)
        if nurse is None:
            relation = patient.responsible_relation()
            unit = relation.unit if relation else None
        else:
            unit = nurse.unit

    handovers = rows.get("handovers")
    changes = rows.get("changes", [])
    if shared.is_self and (changes or patient.last_seen_plan_at is None):
        # The patient has now seen the plan (only the patient moves this mark). The mark
        # only decides which changes are new: with none to show it need not move (no
        # write on every visit), as the next visit shows the same changes either way.
        Patient.objects.filter(pk=patient.pk).update(last_seen_plan_at=timezone.now())

    ctx.update(
        nurse=nurse,
        unit=unit,
        urgent_unit=unit,
        upcoming=rows.get("upcoming", []),
        sections=rows.get("sections", []),
        changes=changes,
        first_visit=shared.is_self and patient.last_seen_plan_at is None,
        handovers=handovers,
        todo=todo_for_patient(plan, handovers, rows) if shared.is_self else [],
        not_shared=[str(label) for part, label in NOT_SHARED_TEXT if not getattr(shared, part)]
        if shared.is_relative
        else [],
    )
    return render(request, "careplan/plan_detail.html", ctx)


@require_GET
@login_required
def plan_section(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    section_id = next(iter(_section_id(plan_id=pk, key=key)), None)
    if section_id is None:
        raise Http404
    section = access.section_for(request.user, section_id)
    plan = section.plan
    plan.reach = section.reach
    # The care unit's links for this section and the plan's other sections (the pager),
    # in one round trip (careplan.prepared.together).
    links, siblings = together(
        _unit_links.bind(section_key=section.key, patient_id=plan.patient_id),
        _section_titles.bind(plan_id=plan.pk),
    )
    index = next((i for i, s in enumerate(siblings) if s.pk == section.pk), 0)
    return render(
        request,
        "careplan/plan_section.html",
        {
            **_plan_context(plan),
            "section": section,
            "links": links,
            "previous": siblings[index - 1] if index > 0 else None,
            "next": siblings[index + 1] if index + 1 < len(siblings) else None,
        },
    )


# --- Calendar ------------------------------------------------------------------------------


# What the calendar shows of an entry and of who added it.
_EVENT_FIELDS = (
    *("id", "plan_id", "kind", "title", "starts_at", "ends_at", "location", "note"),
    *("created_by_id", "created_by__first_name", "created_by__last_name"),
    *("created_by__email", "created_by__title"),
)


def _plan_events(plan_id: int):
    """All upcoming entries and the latest ``PAST_EVENTS_SHOWN`` others, each marked
    ``upcoming``: one statement, so both halves see the same "now" (the database's
    ``Now()``, which keeps the compiled SQL free of the time). The past ones are picked
    by a subquery rather than a UNION: rows of one plain query are made the quick way
    (``prepared``), a UNION's by the ORM's own, slower iteration."""
    events = CalendarEvent.objects.filter(plan_id=plan_id)
    is_upcoming = _is_upcoming(Now())
    past_shown = (
        events.exclude(is_upcoming).order_by("-starts_at", "-id").values("pk")[:PAST_EVENTS_SHOWN]
    )
    return (
        events.filter(is_upcoming | Q(pk__in=past_shown))
        .select_related("created_by")
        .only(*_EVENT_FIELDS)
        .annotate(upcoming=Case(When(is_upcoming, then=True), default=False))
        .order_by()
    )


_plan_events_of = prepared(_plan_events)


def _calendar_lists(plan: CarePlan, user=None) -> dict:
    rows = _plan_events_of(plan_id=plan.pk)
    # A union's rows come in no promised order: each half sorted as its query orders it.
    upcoming = sorted((e for e in rows if e.upcoming), key=lambda e: (e.starts_at, e.pk))
    past = sorted(
        (e for e in rows if not e.upcoming), key=lambda e: (e.starts_at, e.pk), reverse=True
    )
    write = plan.reach.write
    for event in (*upcoming, *past):
        # The care team's entries are read-only for the patient, who may ask for a change.
        event.editable = write and event.editable_by(user)
        event.ask_change = write and not event.editable and plan.reach.is_self
    return {"upcoming": upcoming, "past": past, "past_limit": PAST_EVENTS_SHOWN}


@require_http_methods(["GET", "POST"])
@login_required
def plan_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        plan = access.plan_for(
            request.user, pk, write=True, scope=Scope.CALENDAR, action=Action.CREATE
        )
        form = CalendarEventForm(request.POST, instance=CalendarEvent(plan=plan))
        if form.is_valid():
            try:
                event = services.event_create(
                    event=form.instance,
                    by=request.user,
                    submission_key=form.cleaned_data.get("submission"),
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                notice = _("Added to the calendar: %(title)s") % {"title": event.title}
                if request.htmx:
                    # The list, and a fresh key for the form the page keeps (out of band).
                    ctx = {
                        **_plan_context(plan),
                        **_calendar_lists(plan, request.user),
                        "notice": notice,
                        "next_submission": CalendarEventForm()["submission"],
                    }
                    return render(request, "careplan/calendar.html#event-list", ctx)
                messages.success(request, notice)
                return redirect("plan_calendar", pk=plan.pk)
        if request.htmx:
            response = render(
                request, "careplan/calendar.html#event-form", {**_plan_context(plan), "form": form}
            )
            return reswap(retarget(response, "#event-form"), "outerHTML")
    else:
        plan = access.plan_for(request.user, pk, scope=Scope.CALENDAR)
        form = CalendarEventForm() if plan.reach.write else None
    ctx = {**_plan_context(plan), **_calendar_lists(plan, request.user), "form": form}
    return render(request, "careplan/calendar.html", ctx)


def _event_in_plan(request: HttpRequest, pk: int, event_id: int, action: str) -> CalendarEvent:
    event = access.event_for(request.user, event_id, write=True, action=action)
    if event.plan_id != pk:
        raise Http404
    return event


@require_http_methods(["GET", "POST"])
@login_required
def event_edit(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    action = Action.UPDATE if request.method == "POST" else Action.VIEW
    event = _event_in_plan(request, pk, event_id, action)
    if request.method == "POST":
        form = CalendarEventForm(request.POST, instance=event)
        if form.is_valid():
            try:
                services.event_update(event=form.instance, by=request.user)
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(
                    request, _("Changed in the calendar: %(title)s") % {"title": event.title}
                )
                return redirect("plan_calendar", pk=pk)
    else:
        form = CalendarEventForm(instance=event)
    plan = event.plan
    plan.reach = event.reach
    return render(
        request, "careplan/event_edit.html", {**_plan_context(plan), "event": event, "form": form}
    )


@require_http_methods(["GET", "POST"])
@login_required
def event_delete(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    action = Action.DELETE if request.method == "POST" else Action.VIEW
    event = _event_in_plan(request, pk, event_id, action)
    if request.method == "POST":
        title = event.title
        services.event_delete(event=event, by=request.user)
        messages.success(request, _("Removed from the calendar: %(title)s") % {"title": title})
        return redirect("plan_calendar", pk=pk)
    plan = event.plan
    plan.reach = event.reach
    return render(request, "careplan/event_delete.html", {**_plan_context(plan), "event": event})


@require_http_methods(["GET", "POST"])
@login_required
def event_change_request(request: HttpRequest, pk: int, event_id: int) -> HttpResponse:
    """The patient asks the care team to change one of the team's entries."""
    event = access.event_for(request.user, event_id)
    if event.plan_id != pk:
        raise Http404
    if not event.reach.is_self:
        raise PermissionDenied
    plan = event.plan
    plan.reach = event.reach
    open_request = event.change_requests.open().first()
    text = request.POST.get("text", "")
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.event_change_request(event=event, by=request.user, text=text)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(
                request,
                _("Your care team has your request about %(title)s and will contact you.")
                % {"title": event.title},
            )
            return redirect("plan_calendar", pk=pk)
    return render(
        request,
        "careplan/event_change_request.html",
        {
            **_plan_context(plan),
            "event": event,
            "open_request": open_request,
            "text": text,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def visit_questions(request: HttpRequest) -> HttpResponse:
    """Questions for my next visit: the patient's own list (add, tick off, remove)."""

    if request.user.role != Role.PATIENT:
        raise Http404
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        raise Http404
    text, errors = "", []
    if request.method == "POST":
        action = request.POST.get("action", "add")
        try:
            if action == "add":
                text = request.POST.get("text", "")
                services.visit_question_add(patient=patient, by=request.user, text=text)
                messages.success(request, _("Your question is on the list."))
            else:
                question = VisitQuestion.objects.filter(
                    pk=request.POST.get("question") or 0, patient=patient
                ).first()
                if question is None:
                    raise Http404
                if action == "delete":
                    services.visit_question_delete(question=question, by=request.user)
                else:
                    services.visit_question_set_answered(
                        question=question, by=request.user, answered=action == "answered"
                    )
        except ValidationError as exc:
            errors = exc.messages
        else:
            return redirect("visit_questions")
    questions = list(selected(patient, include_answered=True))
    return render(
        request,
        "careplan/visit_questions.html",
        {
            "open": [q for q in questions if q.answered_at is None],
            "answered": [q for q in questions if q.answered_at is not None],
            "text": text,
            "errors": errors,
            "plan": access.current_plan_for_patient_user(request.user),
        },
        status=400 if errors else 200,
    )


# --- Print -----------------------------------------------------------------------------------


@require_GET
@login_required
def plan_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    plan = access.plan_for(
        request.user,
        pk,
        channel=AccessLog.Channel.PDF,
        action=Action.PRINT,
        scope=Scope.PLAN_SECTIONS,
    )
    scopes = frozenset(s for s in Scope.values if plan.reach.covers(s))
    data = pdf.plan_pdf(plan, language=get_language() or "sv", scopes=scopes)
    response = HttpResponse(data, content_type="application/pdf")
    stem = _("care-plan")  # outside the f-string: makemessages skips those
    filename = f"{stem}-{timezone.localdate():%Y-%m-%d}.pdf"
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response


# --- Who has read my record ---------------------------------------------------------------------


@require_GET
@login_required
def my_access_log(request: HttpRequest) -> HttpResponse:
    """ "Who has read my record": grouped by day, then by person and unit, one line per
    kind of access with how many times ("Karin Kontakt, Bröstmottagningen: read your care
    plan 3 times"), each refusal explained; a filter by who."""
    if request.user.role != Role.PATIENT:
        raise Http404
    tz = timezone.get_current_timezone()
    rows = AccessLog.objects.filter(patient__user=request.user)
    # The people in the log, for the filter (one query; few people per patient).
    people = {
        (uid, name)
        for uid, name in rows.values_list("user_id", "user_name").distinct()
        if name or uid
    }
    who = request.GET.get("who", "")
    if who.isdigit():
        rows = rows.filter(user_id=int(who))
    elif who == "none":
        rows = rows.filter(user__isnull=True)
    dated = rows.annotate(day=TruncDate("at", tzinfo=tz))
    days = dated.values_list("day", flat=True).distinct().order_by("-day")
    page = Paginator(days, ACCESS_LOG_DAYS_PER_PAGE).get_page(request.GET.get("page"))
    groups = (
        dated.filter(day__in=list(page))
        .values(
            "day",
            "user_id",
            "user_name",
            "role",
            "acting_unit__name",
            "action",
            "object_type",
            "outcome",
        )
        .annotate(n=Count("id"), last=Max("at"))
        .order_by("-day", "-last")
    )
    by_day: dict = {}
    for g in groups:
        person_key = (g["user_id"], g["user_name"], g["role"], g["acting_unit__name"])
        persons = by_day.setdefault(g["day"], {})
        person = persons.setdefault(
            person_key,
            {
                "name": g["user_name"] or str(ROLE_TEXT.get(g["role"], g["role"])),
                "role": ROLE_TEXT.get(g["role"], g["role"]),
                "unit": g["acting_unit__name"] or "",
                "last": g["last"],
                "lines": [],
            },
        )
        denied = g["outcome"] == AccessLog.Outcome.DENIED
        verbs = ACTION_TRIED if denied else ACTION_DONE
        person["lines"].append(
            {
                "text": _("%(verb)s %(what)s")
                % {
                    "verb": verbs.get(g["action"], g["action"]),
                    "what": OBJECT_YOUR.get(g["object_type"], g["object_type"]),
                },
                "n": g["n"],
                "last": g["last"],
                "denied": denied,
                "why": DENIED_WHY.get(g["role"], DENIED_WHY[""]) if denied else "",
            }
        )
    day_list = [{"day": day, "persons": list(persons.values())} for day, persons in by_day.items()]
    return render(
        request,
        "careplan/access_log.html",
        {
            "page": page,
            "days": day_list,
            "people": sorted(people, key=lambda p: p[1] or ""),
            "who": who,
        },
    )


# --- Errors ------------------------------------------------------------------------------------


def _error(request: HttpRequest, status: int) -> HttpResponse:
    return render(request, "error.html", {"status": status}, status=status)


def error_400(request, exception=None):
    return _error(request, 400)


def error_403(request, exception=None):
    return _error(request, 403)


def error_404(request, exception=None):
    return _error(request, 404)


def error_500(request):
    # No request context: the database or the session may be what failed.
    html = render_to_string("error.html", {"status": 500, "minimal": True})
    return HttpResponse(html, status=500)
