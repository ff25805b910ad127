"""Writes that span several models. Typed, keyword-only, atomic (HackSoft style)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import personnummer as pnr
from .models import (
    CalendarEvent,
    CarePlan,
    CareRelation,
    CareUnit,
    ContactNurseAssignment,
    EventChangeRequest,
    Outbox,
    Patient,
    PlanChange,
    PlanSection,
    PlanTemplate,
    Role,
    User,
)


def _responsible_unit_of(by: User, patient: Patient) -> CareUnit:
    """The unit ``by`` acts for: it must be the one responsible for the patient."""
    relation = patient.responsible_relation()
    if relation is None:
        raise ValidationError(_("The patient has no responsible care unit."))
    if by.role != Role.STAFF or not by.care_units.filter(pk=relation.unit_id).exists():
        raise PermissionDenied(_("The patient belongs to another care unit."))
    return relation.unit


# --- Outbox -------------------------------------------------------------------------------


def outbox_enqueue(*, task: str, kwargs: dict, dedupe_key: str) -> Outbox | None:
    """Store a side effect with the change that caused it; send it after commit.

    The same ``dedupe_key`` is stored once, so a retried request never sends twice. If the
    broker is down at commit, ``relay_outbox`` (Celery beat) sends it later.
    """
    try:
        with transaction.atomic():
            row = Outbox.objects.create(task=task, kwargs=kwargs, dedupe_key=dedupe_key)
    except IntegrityError:
        return None
    transaction.on_commit(lambda: outbox_dispatch(outbox_id=row.pk))
    return row


def outbox_dispatch(*, outbox_id: int) -> None:
    from .tasks import run_outbox

    try:
        run_outbox.delay(outbox_id)
    except Exception:  # noqa: BLE001 - broker down: the relay picks it up later
        import logging

        logging.getLogger(__name__).warning("outbox %s not sent; relay will retry", outbox_id)
        return
    Outbox.objects.filter(pk=outbox_id, sent_at__isnull=True).update(sent_at=timezone.now())


# --- Patients, responsibility, contact nurse ------------------------------------------------


@transaction.atomic
def patient_register(
    *,
    unit: CareUnit,
    by: User | None,
    first_name: str,
    last_name: str,
    personnummer: str,
    **fields,
) -> Patient:
    try:
        personnummer = pnr.normalize(personnummer)
    except ValidationError as exc:
        raise ValidationError({"personnummer": exc.messages}) from None
    patient = Patient(
        first_name=first_name, last_name=last_name, personnummer=personnummer, **fields
    )
    patient.full_clean()
    patient.save()
    CareRelation.objects.create(patient=patient, unit=unit, created_by=by)
    return patient


@transaction.atomic
def contact_nurse_assign(
    *,
    patient: Patient,
    nurse: User,
    by: User | None,
    direct_phone: str = "",
    reachable: str = "",
    started_on: dt.date | None = None,
) -> ContactNurseAssignment:
    """Name the contact nurse; the previous assignment ends the day before (history)."""
    relation = patient.responsible_relation()
    if relation is None:
        raise ValidationError(_("The patient has no responsible care unit."))
    if by is not None:
        _responsible_unit_of(by, patient)
    # Serialise concurrent assignments for one patient (the partial unique index is the
    # last line of defence; this lock makes the second writer wait instead of failing).
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    if nurse.role != Role.STAFF or not nurse.care_units.filter(pk=relation.unit_id).exists():
        raise ValidationError(
            {"nurse": _("The contact nurse must work in the responsible care unit.")}
        )
    started_on = started_on or timezone.localdate()
    current = (
        ContactNurseAssignment.objects.select_for_update()
        .filter(patient=patient, ended_on__isnull=True)
        .first()
    )
    if current is not None:
        if current.nurse_id == nurse.pk:
            current.direct_phone = direct_phone or current.direct_phone
            current.reachable = reachable or current.reachable
            current.save(update_fields=["direct_phone", "reachable"])
            return current
        current.ended_on = max(current.started_on, started_on)
        current.save(update_fields=["ended_on"])
    assignment = ContactNurseAssignment.objects.create(
        patient=patient,
        nurse=nurse,
        unit=relation.unit,
        started_on=started_on,
        direct_phone=direct_phone,
        reachable=reachable,
        created_by=by,
    )
    for plan in CarePlan.objects.filter(patient=patient).exclude(status=CarePlan.Status.CLOSED):
        if plan.contact_nurse_offered_on is None:
            plan.contact_nurse_offered_on = started_on
            plan.save(update_fields=["contact_nurse_offered_on", "updated_at"])
        plan_record_change(
            plan=plan,
            by=by,
            what=patient_text(
                plan, gettext_lazy("Your contact nurse is now %(name)s."), name=str(nurse)
            ),
        )
    return assignment


@transaction.atomic
def patient_login_invite(*, patient: Patient, by: User) -> User:
    """Give the patient a login: an account with no password yet, and an e-mail (after
    commit, via the outbox) with a link to choose one. The e-mail holds no health data."""
    from allauth.account.models import EmailAddress

    _responsible_unit_of(by, patient)
    if patient.user_id is not None:
        raise ValidationError(_("%(patient)s already has a login.") % {"patient": patient})
    email = (patient.email or "").strip().lower()
    if not email:
        raise ValidationError(
            _("Add %(patient)s's e-mail address before sending a login invitation.")
            % {"patient": patient}
        )
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(
            _("The e-mail address of %(patient)s is already used by another account.")
            % {"patient": patient}
        )
    user = User(
        email=email,
        first_name=patient.first_name,
        last_name=patient.last_name,
        role=Role.PATIENT,
        language=patient.language,
    )
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    patient.user = user
    patient.save(update_fields=["user"])
    outbox_enqueue(
        task="careplan.tasks.send_login_invitation",
        kwargs={"user_id": user.pk},
        dedupe_key=f"login-invitation:{user.pk}",
    )
    return user


# --- Care plan --------------------------------------------------------------------------------


@transaction.atomic
def plan_create_from_template(
    *, patient: Patient, template: PlanTemplate, by: User, diagnosis: str = ""
) -> CarePlan:
    _responsible_unit_of(by, patient)
    if CarePlan.objects.filter(patient=patient).exclude(status=CarePlan.Status.CLOSED).exists():
        raise ValidationError(
            _("The patient already has an open care plan. Close it before creating a new one.")
        )
    lang = patient.language
    plan = CarePlan.objects.create(
        patient=patient,
        template=template,
        title=template.title_en if lang == "en" else template.title_sv,
        diagnosis=diagnosis,
        created_by=by,
    )
    PlanSection.objects.bulk_create(
        PlanSection(
            plan=plan,
            key=s.key,
            order=s.order,
            title_sv=s.title_sv,
            title_en=s.title_en,
            body_sv=s.body_sv,
            body_en=s.body_en,
        )
        for s in template.sections.all()
    )
    assignment = patient.contact_nurse_assignment()
    if assignment is not None:
        plan.contact_nurse_offered_on = assignment.started_on
        plan.save(update_fields=["contact_nurse_offered_on"])
    return plan


@transaction.atomic
def plan_establish(*, plan: CarePlan, by: User, on: dt.date | None = None) -> CarePlan:
    """The plan is established with the patient: needs a named contact nurse."""
    _responsible_unit_of(by, plan.patient)
    if plan.patient.contact_nurse_assignment() is None:
        raise ValidationError(
            _("Name a contact nurse before the plan is established with the patient.")
        )
    plan.status = CarePlan.Status.ACTIVE
    plan.established_on = on or timezone.localdate()
    plan.save(update_fields=["status", "established_on", "updated_at"])
    plan_record_change(
        plan=plan, by=by, what=patient_text(plan, gettext_lazy("Your care plan was established."))
    )
    return plan


def patient_text(plan: CarePlan, message, **params) -> str:
    """Word a history line in the patient's language (the patient is who reads it)."""
    with translation.override(plan.patient.language):
        return str(message) % params if params else str(message)


def plan_record_change(
    *, plan: CarePlan, by: User | None, what: str, section_key: str = ""
) -> PlanChange | None:
    """Note a change the patient should see; tell the patient (no health data) once a
    day per plan, through ``messaging.notify`` (in-app notification and e-mail).

    Changes by the patient themself are history only, not news to them.
    """
    change = PlanChange.objects.create(plan=plan, by=by, what=what[:300], section_key=section_key)
    if by is not None and by.pk == plan.patient.user_id:
        return change
    if plan.patient.user_id and plan.status == CarePlan.Status.ACTIVE:
        from .messaging import notify
        from .models import Notification

        # One notification (and e-mail) per plan and day at most.
        notify(
            recipients=[plan.patient.user],
            kind=Notification.Kind.PLAN_CHANGED,
            url=reverse("plan_detail", args=[plan.pk]),
            patient=plan.patient,
            dedupe_key=f"plan-changed:{plan.pk}:{timezone.localdate().isoformat()}",
        )
    return change


@transaction.atomic
def section_update(*, section: PlanSection, by: User, fields: dict[str, str]) -> PlanSection:
    _responsible_unit_of(by, section.plan.patient)
    for name, value in fields.items():
        setattr(section, name, value)
    section.full_clean()
    section.save()
    plan_record_change(
        plan=section.plan,
        by=by,
        what=patient_text(
            section.plan,
            gettext_lazy("The section “%(title)s” was updated."),
            title=section.title_en if section.plan.patient.language == "en" else section.title_sv,
        ),
        section_key=section.key,
    )
    return section


@transaction.atomic
def event_save(*, event: CalendarEvent, by: User, creating: bool) -> CalendarEvent:
    """Create or change a calendar entry (patient or staff) and note it in the history.
    A patient changes only their own entries (the care team's are read-only to them)."""
    if not creating and not event.editable_by(by):
        raise PermissionDenied(_("Your care team made this entry. Ask them to change it instead."))
    if creating:
        event.created_by = by
    event.updated_by = by
    event.full_clean()
    event.save()
    what = (
        _("Added to the calendar: %(title)s")
        if creating
        else _("Changed in the calendar: %(title)s")
    ) % {"title": event.title}
    plan_record_change(plan=event.plan, by=by, what=what)
    return event


@transaction.atomic
def event_delete(*, event: CalendarEvent, by: User) -> None:
    if not event.editable_by(by):
        raise PermissionDenied(_("Your care team made this entry. Ask them to change it instead."))
    plan = event.plan
    title = event.title
    event.delete()
    plan_record_change(
        plan=plan,
        by=by,
        what=patient_text(plan, gettext_lazy("Removed from the calendar: %(title)s"), title=title),
    )


@transaction.atomic
def event_change_request(*, event: CalendarEvent, by: User, text: str) -> EventChangeRequest:
    """The patient asks the care team to change one of the team's entries: one open
    request per entry (a second send adds nothing), on the unit's worklist at once, and
    the contact nurse is told (no health data)."""
    from .messaging import notify
    from .models import Notification

    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError({"text": _("Write what you would like to change.")})
    if len(text) > 2000:
        raise ValidationError({"text": _("Write at most %(n)s characters.") % {"n": 2000}})
    patient = event.plan.patient
    if by.role != Role.PATIENT or patient.user_id != by.pk:
        raise PermissionDenied
    CalendarEvent.objects.select_for_update().filter(pk=event.pk).first()
    existing = EventChangeRequest.objects.open().filter(event=event).first()
    if existing is not None:
        return existing
    request = EventChangeRequest.objects.create(
        event=event, patient=patient, text=text, requested_by=by
    )
    nurse = patient.contact_nurse_assignment()
    relation = patient.responsible_relation()
    recipients = (
        [nurse.nurse]
        if nurse
        else list(User.objects.filter(care_units=relation.unit_id, role=Role.STAFF))
        if relation
        else []
    )
    notify(
        recipients=recipients,
        kind=Notification.Kind.OTHER,
        text=str(gettext_lazy("A patient asks to change a calendar entry")),
        dedupe_key=f"event-change-request:{request.pk}",
        url=reverse("admin:careplan_eventchangerequest_change", args=[request.pk]),
        patient=patient,
    )
    return request


@transaction.atomic
def event_change_request_handle(
    *, change_request: EventChangeRequest, by: User, note: str
) -> EventChangeRequest:
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Write a note on what was done.")})
    _responsible_unit_of(by, change_request.patient)
    updated = EventChangeRequest.objects.filter(
        pk=change_request.pk, handled_at__isnull=True
    ).update(handled_at=timezone.now(), handled_by=by, note=note)
    if not updated:
        raise ValidationError(_("This request was already handled."))
    change_request.refresh_from_db()
    return change_request


# --- Questions for the next visit ----------------------------------------------------------


def visit_question_add(*, patient: Patient, by: User, text: str):
    """The patient notes a question for the next visit (CR LF from browsers made LF)."""
    from .models import VisitQuestion

    if by.role != Role.PATIENT or patient.user_id != by.pk:
        raise PermissionDenied
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError({"text": _("Write your question first.")})
    if len(text) > 1000:
        raise ValidationError({"text": _("Write at most %(n)s characters.") % {"n": 1000}})
    return VisitQuestion.objects.create(patient=patient, text=text)


def visit_question_set_answered(*, question, by: User, answered: bool) -> None:
    """The patient ticks a question off (or back on); only the patient's own."""
    from .models import VisitQuestion

    if by.role != Role.PATIENT or question.patient.user_id != by.pk:
        raise PermissionDenied
    VisitQuestion.objects.filter(pk=question.pk).update(
        answered_at=timezone.now() if answered else None
    )


def visit_question_delete(*, question, by: User) -> None:
    if by.role != Role.PATIENT or question.patient.user_id != by.pk:
        raise PermissionDenied
    question.delete()
