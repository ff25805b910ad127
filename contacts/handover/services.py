"""Writes for active handovers between care units. Typed, keyword-only, atomic.

A handover moves draft -> sent -> accepted -> completed (or declined / cancelled) along
``Handover.may_become``; each step locks the row, checks who acts (the sending unit's
staff, the receiving unit's staff, or the patient for their needs and wishes), leaves a
``HandoverEvent`` and tells the patient and the receiving unit (no health data).
Acceptance moves the responsibility: the care relation and the contact nurse.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from careplan import access
from careplan.messaging import notify
from careplan.models import (
    CarePlan,
    CareRelation,
    ContactNurseAssignment,
    Notification,
    Patient,
    Role,
    User,
)
from careplan.services import contact_nurse_flag_sync, patient_lock_responsibility
from rehab.models import RehabPlan
from selfmonitor import services as selfmonitor_services

from ..models import Handover, HandoverEvent
from .access import grace_hours


def _handover_event(*, handover, from_state: str, by: User | None, what: str = ""):
    event = HandoverEvent.objects.create(
        handover=handover, from_state=from_state, to_state=handover.state, by=by, what=what[:300]
    )
    if from_state != handover.state:
        _handover_notify_patient(handover)
    return event


# What the patient is told at each step of a handover (no health data, no unit names).
PATIENT_STEP_TEXT = {
    "draft": gettext_lazy(
        "Your care team is preparing to hand your care over: tell them your wishes"
    ),
    "sent": gettext_lazy("Your care team has sent a handover of your care"),
    "accepted": gettext_lazy("Your new care unit has taken over your care"),
    "declined": gettext_lazy("A handover of your care was declined; your care team stays"),
    "cancelled": gettext_lazy("A planned handover of your care was cancelled"),
    "completed": gettext_lazy("The handover of your care is complete"),
}


def _handover_notify_patient(handover) -> None:
    """An in-app notification (and the e-mail that something is waiting) for the patient
    at each step of a handover, once per step."""
    patient = handover.patient
    if patient.user_id is None or handover.state not in PATIENT_STEP_TEXT:
        return
    if handover.state == handover.State.DRAFT:
        url = reverse("handover_needs", args=[handover.pk])
    else:
        plan = CarePlan.objects.filter(patient=patient).exclude(status="closed").first()
        url = reverse("plan_detail", args=[plan.pk]) if plan else ""
    with translation.override(patient.language or None):
        text = str(PATIENT_STEP_TEXT[handover.state])
    notify(
        recipients=[patient.user],
        kind=Notification.Kind.OTHER,
        dedupe_key=f"handover-patient:{handover.pk}:{handover.state}",
        url=url,
        patient=patient,
        text=text,
    )


def _locked_handover(handover):
    """The handover row, locked for this transaction (two people acting at once: the
    second waits and then sees the first one's state)."""
    return Handover.objects.select_for_update().select_related("patient").get(pk=handover.pk)


def _move(handover, to_state: str) -> str:
    """Check the transition table; return the state it came from."""
    if not handover.may_become(to_state):
        raise ValidationError(
            _("A handover that is %(state)s cannot become %(new)s.")
            % {
                "state": handover.get_state_display().lower(),
                "new": str(dict(handover.State.choices)[to_state]).lower(),
            }
        )
    old = handover.state
    handover.state = to_state
    return old


def handover_current_assessment(patient: Patient) -> str:
    """The SBAR "current assessment" filled in from the latest self-monitoring screening
    and the rehab plan, where there are any (read through those apps' services)."""
    lines: list[str] = []
    screening = selfmonitor_services.latest_screening(patient)
    if screening:
        lines.append(
            _("Latest rehabilitation-needs screening (%(date)s):")
            % {"date": timezone.localtime(screening["submitted_at"]).date().isoformat()}
        )
        for area, values in screening["areas"].items():
            score = values.get("score")
            flags = []
            if values.get("need"):
                flags.append(_("need"))
            if values.get("wants_support"):
                flags.append(_("wants support"))
            lines.append(
                f"- {area}: {'–' if score is None else score}"
                + (f" ({', '.join(flags)})" if flags else "")
            )

    rehab_plan = RehabPlan.objects.filter(patient=patient).order_by("-id").first()
    if rehab_plan is not None:
        lines.append(_("Rehabilitation plan: %(plan)s") % {"plan": rehab_plan})
        if rehab_plan.summary_assessment:
            lines.append(rehab_plan.summary_assessment)
    return "\n".join(lines)


@transaction.atomic
def handover_create(
    *,
    patient: Patient,
    by: User,
    to_unit,
    situation: str = "",
    background: str = "",
    assessment: str | None = None,
    recommendation: str = "",
    needs_and_wishes: str = "",
):
    """A draft handover from the patient's responsible unit (``by`` works there)."""
    from_unit = access.responsible_unit_for_write(by, patient)
    if to_unit is None:
        raise ValidationError({"to_unit": _("Choose the unit that takes over.")})
    if to_unit.pk == from_unit.pk:
        raise ValidationError(
            {"to_unit": _("The patient's own unit is already responsible: choose another unit.")}
        )
    # Serialise handovers of one patient; the partial unique index is the last defence.
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    if Handover.objects.filter(patient=patient, state__in=["draft", "sent"]).exists():
        raise ValidationError(
            _("The patient already has an open handover: finish or cancel it first.")
        )
    handover = Handover(
        patient=patient,
        from_unit=from_unit,
        to_unit=to_unit,
        situation=situation,
        background=background,
        assessment=handover_current_assessment(patient) if assessment is None else assessment,
        recommendation=recommendation,
        needs_and_wishes=needs_and_wishes,
        created_by=by,
    )
    handover.full_clean(exclude=["patient", "from_unit", "to_unit", "created_by"])
    try:
        with transaction.atomic():
            handover.save()
    except IntegrityError:
        raise ValidationError(
            _("The patient already has an open handover: finish or cancel it first.")
        ) from None
    _handover_event(handover=handover, from_state="", by=by, what=gettext_lazy("Created"))
    return handover


@transaction.atomic
def handover_update(*, handover, by: User, **fields):
    """Change the text of a draft: the sender's staff (SBAR and needs) or the patient
    (needs and wishes only)."""
    handover = _locked_handover(handover)
    if handover.state != handover.State.DRAFT:
        raise ValidationError(_("Only a draft handover can be changed."))
    if getattr(by, "is_authenticated", False) and by.role == Role.PATIENT:
        access.require_patient_self(by, handover.patient)
        allowed = {"needs_and_wishes"}
    elif access.is_staff_of(by, handover.from_unit_id):
        allowed = {"situation", "background", "assessment", "recommendation", "needs_and_wishes"}
    else:
        raise PermissionDenied(_("Only the sending unit or the patient can change this."))
    unknown = set(fields) - allowed
    if unknown:
        raise PermissionDenied(_("Only the sending unit or the patient can change this."))
    for name, value in fields.items():
        setattr(handover, name, (value or "").strip())
    handover.full_clean(exclude=["patient", "from_unit", "to_unit", "created_by"])
    handover.save(update_fields=list(fields))
    _handover_event(
        handover=handover,
        from_state=handover.state,
        by=by,
        what=_("Changed: %(fields)s") % {"fields": ", ".join(sorted(fields))},
    )
    return handover


@transaction.atomic
def handover_send(*, handover, by: User):
    """The sender sends the draft; the receiving unit's staff are told (no health data)."""
    handover = _locked_handover(handover)
    if not access.is_staff_of(by, handover.from_unit_id):
        raise PermissionDenied(_("Only the sending unit can send this handover."))
    old = _move(handover, handover.State.SENT)
    if not (handover.situation.strip() and handover.recommendation.strip()):
        raise ValidationError(
            _("Write at least the situation and the recommendation before sending.")
        )
    handover.sent_at = timezone.now()
    handover.save(update_fields=["state", "sent_at"])
    _handover_event(handover=handover, from_state=old, by=by)
    _handover_notify_receiver(handover, step="sent")
    return handover


def handover_inbox_url(handover) -> str:
    try:
        return reverse("admin:contacts_handover_change", args=[handover.pk])
    except NoReverseMatch:  # pragma: no cover - the admin is always installed
        return ""


def _handover_notify_receiver(handover, *, step: str) -> None:
    staff = User.objects.filter(care_units=handover.to_unit_id, role=Role.STAFF, is_active=True)
    notify(
        recipients=staff,
        kind=Notification.Kind.HANDOVER,
        dedupe_key=f"handover:{handover.pk}:{step}",
        url=handover_inbox_url(handover),
        patient=handover.patient,
    )


@transaction.atomic
def handover_accept(
    *,
    handover,
    by: User,
    contact_nurse: User | None,
    contact_made_on: dt.date | None,
    contact_how: str,
):
    """The receiver confirms contact with the patient and names the new contact nurse.

    In one transaction: the sender's care relation and contact nurse assignment end, the
    receiver's begin (PostgreSQL's deferred triggers check "one responsible unit, one
    named contact nurse" at commit). Two people accepting at once: the row lock makes
    the second wait, and it then finds the handover accepted and is refused.
    """
    handover = _locked_handover(handover)
    # The same lock as ``contact_nurse_assign``: a sender naming a new contact nurse at
    # this moment waits, then finds the receiver responsible and is refused.
    patient_lock_responsibility(patient=handover.patient)
    if not access.is_staff_of(by, handover.to_unit_id):
        raise PermissionDenied(_("Only the receiving unit can accept this handover."))
    if handover.state == handover.State.ACCEPTED:
        raise ValidationError(_("This handover has already been accepted."))
    old = _move(handover, handover.State.ACCEPTED)
    errors: dict[str, str] = {}
    if contact_nurse is None:
        errors["contact_nurse"] = _("Name the patient's new contact nurse.")
    elif not access.is_staff_of(contact_nurse, handover.to_unit_id):
        errors["contact_nurse"] = _("The contact nurse must work in the receiving unit.")
    today = timezone.localdate()
    if contact_made_on is None:
        errors["contact_made_on"] = _("Enter the date contact with the patient was made.")
    elif contact_made_on > today:
        errors["contact_made_on"] = _("The date of contact cannot be in the future.")
    if not (contact_how or "").strip():
        errors["contact_how"] = _("Say how contact with the patient was made.")
    if errors:
        raise ValidationError(errors)
    patient = handover.patient
    now = timezone.now()
    relation = (
        CareRelation.objects.select_for_update()
        .filter(patient=patient, ended_at__isnull=True)
        .first()
    )
    if relation is None or relation.unit_id != handover.from_unit_id:
        raise ValidationError(
            _("The sending unit is no longer responsible for the patient; ask them to cancel.")
        )
    relation.ended_at = now
    relation.save(update_fields=["ended_at"])
    CareRelation.objects.create(
        patient=patient, unit=handover.to_unit, started_at=now, created_by=by
    )
    current = (
        ContactNurseAssignment.objects.select_for_update()
        .filter(patient=patient, ended_on__isnull=True)
        .first()
    )
    if current is not None:
        current.ended_on = max(current.started_on, today)
        current.save(update_fields=["ended_on"])
    ContactNurseAssignment.objects.create(
        patient=patient,
        nurse=contact_nurse,
        unit=handover.to_unit,
        started_on=today,
        created_by=by,
    )
    contact_nurse_flag_sync(patient_ids=[patient.pk])
    handover.accepted_at = now
    handover.accepted_by = by
    handover.contact_nurse = contact_nurse
    handover.contact_made_on = contact_made_on
    handover.contact_how = contact_how.strip()[:200]
    handover.save(
        update_fields=[
            "state",
            "accepted_at",
            "accepted_by",
            "contact_nurse",
            "contact_made_on",
            "contact_how",
        ]
    )
    _handover_event(
        handover=handover,
        from_state=old,
        by=by,
        what=_(
            "Contact made %(date)s (%(how)s); contact nurse %(nurse)s; the access of "
            "%(sender)s ends %(ends)s"
        )
        % {
            "sender": handover.from_unit,
            "ends": _handover_access_end_text(),
            "date": contact_made_on.isoformat(),
            "how": handover.contact_how,
            "nurse": contact_nurse,
        },
    )
    return handover


def _handover_access_end_text() -> str:
    hours = grace_hours()
    if hours <= 0:
        return _("now")
    return ngettext("in %(hours)s hour", "in %(hours)s hours", hours) % {"hours": hours}


@transaction.atomic
def handover_decline(*, handover, by: User, reason: str):
    """The receiver declines with a reason; the sender stays responsible."""
    handover = _locked_handover(handover)
    if not access.is_staff_of(by, handover.to_unit_id):
        raise PermissionDenied(_("Only the receiving unit can decline this handover."))
    old = _move(handover, handover.State.DECLINED)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"decline_reason": _("Give a reason for declining.")})
    handover.decline_reason = reason
    handover.closed_at = timezone.now()
    handover.full_clean(exclude=["patient", "from_unit", "to_unit", "created_by"])
    handover.save(update_fields=["state", "decline_reason", "closed_at"])
    _handover_event(handover=handover, from_state=old, by=by, what=reason)
    return handover


@transaction.atomic
def handover_cancel(*, handover, by: User):
    """The sender withdraws a draft or a sent handover."""
    handover = _locked_handover(handover)
    if not access.is_staff_of(by, handover.from_unit_id):
        raise PermissionDenied(_("Only the sending unit can cancel this handover."))
    old = _move(handover, handover.State.CANCELLED)
    handover.closed_at = timezone.now()
    handover.save(update_fields=["state", "closed_at"])
    _handover_event(handover=handover, from_state=old, by=by)
    return handover


@transaction.atomic
def handover_complete(*, handover, by: User):
    """The receiver (now responsible) closes an accepted handover."""
    handover = _locked_handover(handover)
    if not access.is_staff_of(by, handover.to_unit_id):
        raise PermissionDenied(_("Only the receiving unit can complete this handover."))
    old = _move(handover, handover.State.COMPLETED)
    handover.closed_at = timezone.now()
    handover.save(update_fields=["state", "closed_at"])
    _handover_event(handover=handover, from_state=old, by=by)
    return handover


def handover_overdue_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    hours = getattr(settings, "CAREPLAN_HANDOVER_ACCEPT_WITHIN_HOURS", 72)
    return (now or timezone.now()) - dt.timedelta(hours=hours)


def handovers_remind_overdue(*, now: dt.datetime | None = None) -> int:
    """Beat: a sent handover not accepted in time reminds the receiving unit's staff and
    alerts the sending unit's staff, once per step (the notification's dedupe key names
    the handover and its state, so running again, or after a broker outage, tells nobody
    twice; the e-mails go through the outbox). Returns the handovers that told someone."""
    told = 0
    overdue = Handover.objects.filter(
        state=Handover.State.SENT, sent_at__lte=handover_overdue_cutoff(now)
    ).select_related("patient")
    for handover in overdue:
        with transaction.atomic():
            step = f"handover:{handover.pk}:{handover.state}:overdue"
            receiver = notify(
                recipients=User.objects.filter(
                    care_units=handover.to_unit_id, role=Role.STAFF, is_active=True
                ),
                kind=Notification.Kind.HANDOVER,
                dedupe_key=f"{step}:receiver",
                url=handover_inbox_url(handover),
                patient=handover.patient,
                text=gettext_lazy("A handover to your unit is waiting for acceptance"),
            )
            sender = notify(
                recipients=User.objects.filter(
                    care_units=handover.from_unit_id, role=Role.STAFF, is_active=True
                ),
                kind=Notification.Kind.HANDOVER,
                dedupe_key=f"{step}:sender",
                url=handover_inbox_url(handover),
                patient=handover.patient,
                text=gettext_lazy("A handover from your unit has not been accepted in time"),
            )
        told += bool(receiver or sender)
    return told
