"""Writes that span several models. Typed, keyword-only, atomic (HackSoft style)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import access, content
from . import personnummer as pnr
from .messaging import notify
from .models import (
    CalendarEvent,
    CarePlan,
    CareRelation,
    CareUnit,
    ContactNurseAssignment,
    EventChangeRequest,
    Language,
    Notification,
    Patient,
    PlanChange,
    PlanSection,
    PlanTemplate,
    PlanTemplateSection,
    Role,
    User,
    VisitQuestion,
)

# Re-exported: the other apps and older callers use ``services.outbox_*``.
from .outbox import outbox_dispatch, outbox_enqueue, outbox_retry  # noqa: F401

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
    contact_nurse_flag_sync(patient_ids=[patient.pk])
    return patient


def contact_nurse_flag_sync(*, patient_ids) -> int:
    """Set the active care relation's ``needs_contact_nurse`` from the assignments (one
    UPDATE): true while the patient has no named contact nurse. Every service that names
    or ends a contact nurse or moves responsibility calls it after its writes, so the
    worklist reads the flag instead of comparing every patient of a unit with the
    assignments (``manage.py check_consistency`` checks it)."""
    named = ContactNurseAssignment.objects.filter(
        patient_id=OuterRef("patient_id"), ended_on__isnull=True
    )
    return CareRelation.objects.filter(
        patient_id__in=list(patient_ids), ended_at__isnull=True
    ).update(needs_contact_nurse=~Exists(named))


def patient_lock_responsibility(*, patient: Patient) -> None:
    """Lock the patient's row for the rest of the transaction: every change of who is
    responsible (care relation, contact nurse) takes this lock first, so two of them
    run one after the other and the second sees what the first committed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("patient_lock_responsibility needs a transaction")
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()


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
    # Serialise with every other change of responsibility for this patient (another
    # assignment, a handover's acceptance: ``contacts.services.handover_accept`` takes the
    # same lock first). The responsible unit is read after the lock, so a handover that
    # committed meanwhile is seen and a sender's nurse is refused, never left in charge.
    patient_lock_responsibility(patient=patient)
    relation = patient.responsible_relation()
    if relation is None:
        raise ValidationError(_("The patient has no responsible care unit."))
    if by is not None:
        access.responsible_unit_for_write(by, patient)
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
    contact_nurse_flag_sync(patient_ids=[patient.pk])
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

    access.responsible_unit_for_write(by, patient)
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


def user_language_set(*, user: User, language: str) -> None:
    """A user's own choice of language (the switcher on every page). A patient's choice is
    also the patient record's, which the care team sees and which e-mails and notices use."""
    if language not in Language.values:
        raise ValidationError(_("That language is not available."))
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    Patient.objects.filter(user=user).exclude(language=language).update(language=language)


@transaction.atomic
def patient_login_from_eid(*, patient: Patient, relative: User | None = None) -> User:
    """The first e-ID login of a registered patient: an account without a password,
    linked to the Patient the care team registered (careplan.eid matched the number).
    The e-mail is the patient's when free, else a placeholder nobody receives.

    ``relative``: the person already has a relative's account with this e-ID bound; it
    becomes the patient's account (one person, two roles: the grants stay theirs)."""
    from allauth.account.models import EmailAddress

    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    if patient.user_id is not None:
        return patient.user  # type: ignore[return-value]  # user_id is set
    if relative is not None:
        if relative.role != Role.RELATIVE or Patient.objects.filter(user=relative).exists():
            raise ValidationError(_("This account cannot become a patient's."))
        relative.role = Role.PATIENT
        relative.save(update_fields=["role"])
        patient.user = relative
        patient.save(update_fields=["user"])
        return relative
    email = (patient.email or "").strip().lower()
    if not email or User.objects.filter(email__iexact=email).exists():
        email = f"patient-{patient.pk}@eid.careplan.invalid"
    user = User(
        email=email,
        first_name=patient.first_name,
        last_name=patient.last_name,
        role=Role.PATIENT,
        language=patient.language,
    )
    user.set_unusable_password()
    user.save()
    if not email.endswith(".invalid"):
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    patient.user = user
    patient.save(update_fields=["user"])
    return user


# --- Care plan --------------------------------------------------------------------------------


@transaction.atomic
def plan_create_from_template(
    *, patient: Patient, template: PlanTemplate, by: User, diagnosis: str = ""
) -> CarePlan:
    access.responsible_unit_for_write(by, patient)
    if CarePlan.objects.filter(patient=patient).exclude(status=CarePlan.Status.CLOSED).exists():
        raise ValidationError(
            _("The patient already has an open care plan. Close it before creating a new one.")
        )
    lang = patient.language
    plan = CarePlan.objects.create(
        patient=patient,
        template=template,
        title=content.localized(template, "title", lang),
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
            translations=s.translations,
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
    access.responsible_unit_for_write(by, plan.patient)
    # Established once: a second click, or two nurses at once, find it done.
    given, plan = plan, _locked_plan(plan)
    if plan.status != CarePlan.Status.DRAFT:
        raise ValidationError(
            _("The care plan is already established.")
            if plan.status == CarePlan.Status.ACTIVE
            else _("A closed care plan cannot be established."),
            code="not_draft",
        )
    if plan.patient.contact_nurse_assignment() is None:
        raise ValidationError(
            _("Name a contact nurse before the plan is established with the patient.")
        )
    plan.status = CarePlan.Status.ACTIVE
    plan.established_on = on or timezone.localdate()
    plan.version += 1
    plan.save(update_fields=["status", "established_on", "version", "updated_at"])
    plan_record_change(
        plan=plan, by=by, what=patient_text(plan, gettext_lazy("Your care plan was established."))
    )
    for name in ("status", "established_on", "version", "updated_at"):
        setattr(given, name, getattr(plan, name))  # the caller's object shows what was saved
    return given


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
        # One notification (and e-mail) per plan and day at most.
        notify(
            recipients=[plan.patient.user],  # type: ignore[list-item]  # user_id is set
            kind=Notification.Kind.PLAN_CHANGED,
            url=reverse("plan_detail", args=[plan.pk]),
            patient=plan.patient,
            dedupe_key=f"plan-changed:{plan.pk}:{timezone.localdate().isoformat()}",
        )
    return change


# --- Editing a plan and its sections: one way in, for the admin and the API --------------------

#: What the care team may edit on a plan (``plan_update``), and in a section.
PLAN_FIELDS = (
    "title",
    "diagnosis",
    "phase",
    "status",
    "contact_nurse_offered_on",
    "established_on",
    "followup_plan",
    "treatment_summary",
)
SECTION_FIELDS = ("title_sv", "title_en", "personal_note", "body_sv", "body_en")
#: Told to the patient when one of these changes (the rest are register dates).
_PLAN_CONTENT = ("title", "diagnosis", "followup_plan", "treatment_summary")


def normalize_newlines(value):
    """Text as stored: browsers post textarea line breaks as CR LF, the database keeps LF.
    Non-text values pass through."""
    if isinstance(value, str) and "\r" in value:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


class EditConflict(ValidationError):
    """Someone saved the plan or section after this editor read it (``version`` moved on).
    ``current`` is the object as saved now; ``last_change`` the history row naming who
    changed it and when (None if the history has none)."""

    def __init__(self, message, *, current, last_change: PlanChange | None):
        super().__init__(message, code="conflict")
        self.current = current
        self.last_change = last_change


@dataclass(frozen=True)
class SectionEdit:
    """One section's new values, and the version the editor read it at (None: unchecked,
    for callers that read and write in the same transaction, such as the demo seed)."""

    section: PlanSection
    fields: dict[str, object]
    version: int | None


def _locked_plan(plan: CarePlan) -> CarePlan:
    """The plan row, locked for this transaction: edits to a plan and its sections queue
    behind each other (plan first, then its sections: one lock order everywhere)."""
    return CarePlan.objects.select_for_update().select_related("patient").get(pk=plan.pk)


def _stale_versions(section: PlanSection, changed: dict) -> list[str]:
    """The languages whose version no longer matches a changed Swedish original (English,
    kept in its own columns, is the editor's to change alongside)."""
    if not {"title_sv", "body_sv"} & set(changed):
        return []
    return [lang for lang in (section.translations or {}) if lang not in ("sv", "en")]


def plan_lock_for_edit(*, plan: CarePlan) -> CarePlan:
    """Lock the plan for the rest of the transaction and return it as saved now (the admin
    checks the versions of its form with this, before it saves through ``plan_update``)."""
    return _locked_plan(plan)


def _last_change(plan: CarePlan, section_key: str | None) -> PlanChange | None:
    changes = PlanChange.objects.filter(plan=plan).select_related("by")
    if section_key is not None:
        changes = changes.filter(section_key=section_key)
    return changes.order_by("-at", "-id").first()


def plan_conflict(*, plan: CarePlan, version: int | None) -> EditConflict | None:
    """The conflict if ``plan`` (locked, as saved now) moved past ``version``."""
    if version is None or plan.version == version:
        return None
    return EditConflict(
        _("Someone else saved this care plan while you were editing it."),
        current=plan,
        last_change=_last_change(plan, ""),
    )


def section_conflict(*, section: PlanSection, version: int | None) -> EditConflict | None:
    """The conflict if ``section`` (as saved now) moved past ``version``."""
    if version is None or section.version == version:
        return None
    return EditConflict(
        _("Someone else saved the section “%(title)s” while you were editing it.")
        % {"title": section.title},
        current=section,
        last_change=_last_change(section.plan, section.key),
    )


def _changed(obj, fields: dict[str, object], allowed: tuple[str, ...]) -> dict[str, object]:
    """The fields whose value really differs from what is stored (line endings aside)."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    return {
        name: normalize_newlines(value)
        for name, value in fields.items()
        if normalize_newlines(value) != getattr(obj, name)
    }


def _unchanged(obj, changed: dict) -> list[str]:
    """Fields not to validate again: only what this edit changes is checked."""
    return [f.name for f in obj._meta.concrete_fields if f.name not in changed]


def _plan_news(plan: CarePlan, changed: set[str]) -> list[str]:
    """What the patient is told about a change of the plan itself, in their language."""
    news = []
    with translation.override(plan.patient.language):
        if "phase" in changed:
            news.append(
                _("Your care is now in the phase: %(phase)s.") % {"phase": plan.get_phase_display()}
            )
        if "status" in changed and plan.status == CarePlan.Status.CLOSED:
            news.append(_("Your care plan was closed."))
        content = [
            str(CarePlan._meta.get_field(name).verbose_name)  # type: ignore[union-attr]  # fields
            for name in _PLAN_CONTENT
            if name in changed
        ]
        if content:
            news.append(
                _("Your care plan was updated: %(parts)s.") % {"parts": ", ".join(content).lower()}
            )
    return news


@transaction.atomic
def plan_update(
    *,
    plan: CarePlan,
    by: User,
    fields: dict[str, object] | None = None,
    version: int | None = None,
    sections: list[SectionEdit] | tuple[SectionEdit, ...] = (),
) -> CarePlan:
    """Change a plan and/or its sections: every write path (admin, API) comes here.

    Checks the versions the editor read (``EditConflict`` when someone saved in between,
    nothing is written), keeps only real changes (a textarea posted with CR LF is not a
    change), raises each changed object's version, records one history line per real
    change and tells the patient once (``plan_record_change``). A save that changes
    nothing records nothing.
    """
    access.responsible_unit_for_write(by, plan.patient)
    current = _locked_plan(plan)
    fields = fields or {}
    if fields and (conflict := plan_conflict(plan=current, version=version)):
        raise conflict
    stored = {
        s.pk: s
        for s in PlanSection.objects.select_for_update()
        .filter(plan=current, pk__in=[e.section.pk for e in sections])
        .order_by("pk")
    }
    for edit in sections:
        section = stored.get(edit.section.pk)
        if section is None:
            raise ValidationError(_("This section is not part of the care plan."))
        section.plan = current
        if conflict := section_conflict(section=section, version=edit.version):
            raise conflict

    changed = _changed(current, fields, PLAN_FIELDS)
    if changed:
        for name, value in changed.items():
            setattr(current, name, value)
        current.version += 1
        current.full_clean(exclude=_unchanged(current, changed))
        current.save(update_fields=[*changed, "version", "updated_at"])
        for what in _plan_news(current, set(changed)):
            plan_record_change(plan=current, by=by, what=what)

    for edit in sections:
        section = stored[edit.section.pk]
        section_changed = _changed(section, edit.fields, SECTION_FIELDS)
        if not section_changed:
            continue
        for name, value in section_changed.items():
            setattr(section, name, value)
        stale = _stale_versions(section, section_changed)
        if stale:
            # A translation of a Swedish text that changed is never shown: the reader
            # gets the new Swedish with the "not yet in your language" note.
            section.translations = content.without(section.translations, stale)
            section_changed["translations"] = section.translations
        section.version += 1
        section.full_clean(exclude=_unchanged(section, section_changed))
        section.save(update_fields=[*section_changed, "version", "updated_at"])
        plan_record_change(
            plan=current,
            by=by,
            what=patient_text(
                current,
                gettext_lazy("The section “%(title)s” was updated."),
                title=section.title_en if current.patient.language == "en" else section.title_sv,
            ),
            section_key=section.key,
        )
    # The caller's objects show what was saved.
    for name in [*PLAN_FIELDS, "version", "updated_at"]:
        setattr(plan, name, getattr(current, name))
    for edit in sections:
        section = stored[edit.section.pk]
        for name in [*SECTION_FIELDS, "translations", "version", "updated_at"]:
            setattr(edit.section, name, getattr(section, name))
    return plan


def section_update(
    *, section: PlanSection, by: User, fields: dict[str, object], version: int | None = None
) -> PlanSection:
    """One section through ``plan_update`` (the API edits sections one by one)."""
    plan_update(
        plan=section.plan,
        by=by,
        sections=[SectionEdit(section=section, fields=fields, version=version)],
    )
    return section


# --- Calendar -----------------------------------------------------------------------------------


@transaction.atomic
def event_create(
    *, event: CalendarEvent, by: User, submission_key: uuid.UUID | None = None
) -> CalendarEvent:
    """Add a calendar entry (patient or staff) and note it in the history.

    With ``submission_key`` (the form's, or the API's Idempotency-Key) a second submit of
    the same form returns the entry the first one added and stores nothing."""
    if submission_key is not None:
        # Two submits at once: the second waits here, then finds the first one's row.
        CarePlan.objects.select_for_update().filter(pk=event.plan_id).values_list("pk").first()
        existing = CalendarEvent.objects.filter(
            created_by=by, submission_key=submission_key
        ).first()
        if existing is not None:
            return existing
        event.submission_key = submission_key
    event.created_by = by
    event.updated_by = by
    event.full_clean()
    event.save()
    plan_record_change(
        plan=event.plan,
        by=by,
        what=patient_text(
            event.plan, gettext_lazy("Added to the calendar: %(title)s"), title=event.title
        ),
    )
    return event


@transaction.atomic
def event_update(*, event: CalendarEvent, by: User) -> CalendarEvent:
    """Change a calendar entry and note it in the history. A patient changes only their
    own entries (the care team's are read-only to them)."""
    if not event.editable_by(by):
        raise PermissionDenied(_("Your care team made this entry. Ask them to change it instead."))
    event.updated_by = by
    event.full_clean()
    event.save()
    plan_record_change(
        plan=event.plan,
        by=by,
        what=patient_text(
            event.plan, gettext_lazy("Changed in the calendar: %(title)s"), title=event.title
        ),
    )
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
        text=gettext_lazy("A patient asks to change a calendar entry"),
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
    access.responsible_unit_for_write(by, change_request.patient)
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
    if by.role != Role.PATIENT or question.patient.user_id != by.pk:
        raise PermissionDenied
    VisitQuestion.objects.filter(pk=question.pk).update(
        answered_at=timezone.now() if answered else None
    )


def visit_question_delete(*, question, by: User) -> None:
    if by.role != Role.PATIENT or question.patient.user_id != by.pk:
        raise PermissionDenied
    question.delete()


# --- Language versions of content -------------------------------------------------------------


@transaction.atomic
def translation_review(*, obj, lang: str, by: User) -> object:
    """Mark ``obj``'s ``lang`` version reviewed by ``by`` now (any content with a
    ``translations`` field: templates and their sections, plan sections, advice, the
    symptom advice guide). Refused to anyone without the permission and for a language
    the text has no version in. A template's review also reaches its sections and the plan
    sections still carrying that same text."""
    if not access.can_review_translations(by):
        raise PermissionDenied(_("Only a translation reviewer can mark a text reviewed."))
    if lang not in content.translated_languages():
        raise ValidationError(_("Choose a language other than the original (Swedish)."))
    model = type(obj)
    rows = [model.objects.select_for_update().get(pk=obj.pk)]
    if isinstance(obj, PlanTemplate):
        rows += list(obj.sections.select_for_update())
    reviewed = 0
    for row in rows:
        if not _has_version(row, lang):
            continue
        row.translations = content.reviewed(row.translations, lang, by=by)
        row.save(update_fields=["translations"])
        reviewed += 1
        if isinstance(row, PlanTemplateSection):
            _review_copies(row, lang)
    if not reviewed:
        raise ValidationError(_("This text has no version in that language to review."))
    obj.translations = rows[0].translations
    return obj


def _has_version(row, lang: str) -> bool:
    version = (row.translations or {}).get(lang)
    if version is None:
        return False
    texts = [k for k in version if k not in content.META_KEYS]
    return bool(texts) or hasattr(row, f"title_{lang}") or hasattr(row, f"body_{lang}")


def _review_copies(source: PlanTemplateSection, lang: str) -> None:
    """Plan sections copied from ``source`` whose Swedish and ``lang`` texts are still the
    template's get its review (an individualised section keeps its own status)."""
    version = source.translations.get(lang) or {}
    for section in PlanSection.objects.filter(
        plan__template_id=source.template_id, key=source.key, title_sv=source.title_sv
    ).only("id", "body_sv", "translations"):
        mine = (section.translations or {}).get(lang) or {}
        texts = {k: v for k, v in version.items() if k not in content.META_KEYS}
        if section.body_sv == source.body_sv and all(mine.get(k) == v for k, v in texts.items()):
            section.translations = {**section.translations, lang: dict(version)}
            section.save(update_fields=["translations"])
