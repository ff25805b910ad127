"""Writes for the care map, invitations and relatives' access. Typed, keyword-only, atomic.

Who may call them is checked here as well as in the views, by ``careplan.access``: the map
is the patient's, drawn by them or by the responsible unit's staff together with them
(``require_care_map_writer``); the sharing is the patient's alone
(``require_patient_self``); relatives never write. Every change to the map saves a new
version; every change to a grant takes effect on the relative's next request
(``careplan.access.reach`` reads the grant each time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from careplan import access
from careplan.models import Patient, Role, User
from careplan.outbox import outbox_enqueue

from .models import (
    INVITATION_DAYS,
    CareMap,
    CareMapEntry,
    CareMapVersion,
    Invitation,
    RelativeGrant,
    Scope,
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_token(nonce: str) -> str:
    """The invitation link's token: an HMAC of a random nonce with ``SECRET_KEY``. The
    outbox row keeps the nonce so the e-mail can be (re)sent after commit, but neither
    the database nor the broker ever holds the token itself (only its hash)."""
    return salted_hmac("careplan.contacts.invitation", nonce, algorithm="sha256").hexdigest()


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(dict.fromkeys(scopes or []))
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown:
        raise ValidationError(
            {"scopes": _("Unknown shared part: %(parts)s") % {"parts": ", ".join(unknown)}}
        )
    if not scopes:
        raise ValidationError({"scopes": _("Choose at least one part to share.")})
    return [s for s in Scope.values if s in scopes]  # the order of the list of parts


def _clean_until(valid_until: dt.date | None) -> dt.date | None:
    if valid_until is not None and valid_until < timezone.localdate():
        raise ValidationError({"valid_until": _("The end date cannot be in the past.")})
    return valid_until


# --- The care map ----------------------------------------------------------------------------


def care_map_of(patient: Patient) -> CareMap:
    """The patient's map (created empty on first use)."""
    care_map, _created = CareMap.objects.get_or_create(patient=patient)
    return care_map


def _save_version(*, care_map: CareMap, by: User | None, what, **params) -> CareMapVersion:
    """A new version; ``what`` (lazy) is worded in the patient's language, who reads it."""
    with translation.override(care_map.patient.language):
        what = str(what) % params if params else str(what)
    # Lock the map row so two changes never get the same version number.
    locked = CareMap.objects.select_for_update().get(pk=care_map.pk)
    locked.version += 1
    locked.missing_support = care_map.missing_support
    locked.save(update_fields=["version", "missing_support", "updated_at"])
    care_map.version = locked.version
    entries = list(locked.entries.all())
    return CareMapVersion.objects.create(
        care_map=locked,
        number=locked.version,
        created_by=by,
        what=what[:300],
        snapshot=locked.snapshot(entries),
    )


@transaction.atomic
def care_map_entry_save(*, entry: CareMapEntry, by: User, creating: bool) -> CareMapEntry:
    access.require_care_map_writer(by, entry.care_map.patient)
    entry.full_clean()
    entry.save()
    what = gettext_lazy("Added %(name)s") if creating else gettext_lazy("Changed %(name)s")
    _save_version(care_map=entry.care_map, by=by, what=what, name=entry.name)
    return entry


@transaction.atomic
def care_map_entry_delete(*, entry: CareMapEntry, by: User) -> None:
    care_map = entry.care_map
    access.require_care_map_writer(by, care_map.patient)
    name = entry.name
    entry.delete()
    _save_version(care_map=care_map, by=by, what=gettext_lazy("Removed %(name)s"), name=name)


@transaction.atomic
def care_map_support_update(*, care_map: CareMap, missing_support: str, by: User) -> CareMap:
    access.require_care_map_writer(by, care_map.patient)
    care_map.missing_support = missing_support.strip()
    care_map.full_clean(exclude=["patient"])
    _save_version(
        care_map=care_map, by=by, what=gettext_lazy("Changed the support you are missing")
    )
    return care_map


# --- Invitations -------------------------------------------------------------------------------


def invitations_expire(*, now: dt.datetime | None = None) -> int:
    """Mark pending invitations past their time as expired (beat; idempotent)."""
    now = now or timezone.now()
    return Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__lte=now).update(
        status=Invitation.Status.EXPIRED
    )


@transaction.atomic
def invitation_create(
    *,
    patient: Patient,
    by: User,
    email: str,
    scopes: Iterable[str],
    valid_until: dt.date | None = None,
    name: str = "",
    entry: CareMapEntry | None = None,
) -> tuple[Invitation, str]:
    """Invite a relative by e-mail. Returns the invitation and the token for the link
    (only its hash is stored). The e-mail goes after commit and holds no health data."""
    access.require_patient_self(by, patient)
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": _("Enter the relative's e-mail address.")})
    own = {a.lower() for a in (patient.email, by.email) if a}
    if email in own:
        raise ValidationError(
            {"email": _("This is your own e-mail address. Enter your relative's address.")}
        )
    scopes = _clean_scopes(scopes)
    valid_until = _clean_until(valid_until)
    if entry is not None and entry.care_map.patient_id != patient.pk:
        raise ValidationError(_("That person is not on your care map."))
    existing = User.objects.filter(email__iexact=email).first()
    # A patient here may be invited too (one person, two roles; not by themself).
    if existing is not None and (
        existing.role not in (Role.RELATIVE, Role.PATIENT) or existing.pk == by.pk
    ):
        raise ValidationError(
            {"email": _("This address belongs to an account that cannot be a relative's.")}
        )
    if (
        existing is not None
        and RelativeGrant.objects.active().filter(patient=patient, relative=existing).exists()
    ):
        raise ValidationError(
            {
                "email": _("%(email)s already has access. Change what is shared instead.")
                % {"email": email}
            }
        )
    invitations_expire()
    if Invitation.objects.pending().filter(patient=patient, email=email).exists():
        raise ValidationError(
            {
                "email": _("%(email)s has already been invited and has not answered yet.")
                % {"email": email}
            }
        )
    nonce = secrets.token_urlsafe(32)
    token = invitation_token(nonce)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                patient=patient,
                entry=entry,
                name=(name or (entry.name if entry else ""))[:200],
                email=email,
                scopes=scopes,
                valid_until=valid_until,
                token_hash=token_hash(token),
                created_by=by,
                expires_at=timezone.now() + dt.timedelta(days=INVITATION_DAYS),
            )
    except IntegrityError:  # a double submit: the first one is stored
        raise ValidationError(
            {
                "email": _("%(email)s has already been invited and has not answered yet.")
                % {"email": email}
            }
        ) from None
    # The e-mail through the outbox, stored with the invitation and sent after commit:
    # a broker outage delays it (the relay re-sends) but neither loses it nor fails the
    # request.
    outbox_enqueue(
        task="contacts.tasks.send_invitation_email",
        kwargs={"invitation_id": invitation.pk, "nonce": nonce},
        dedupe_key=f"invitation-email:{invitation.pk}",
    )
    return invitation, token


@transaction.atomic
def invitation_cancel(*, invitation: Invitation, by: User) -> Invitation:
    access.require_patient_self(by, invitation.patient)
    if invitation.status == Invitation.Status.PENDING:
        invitation.status = Invitation.Status.CANCELLED
        invitation.save(update_fields=["status"])
    return invitation


class InvitationError(ValidationError):
    """A token that cannot be used; ``code`` says why (invalid, expired, used, cancelled)."""


def invitation_lookup(token: str) -> Invitation:
    """The invitation behind a link, or ``InvitationError`` with a clear reason."""
    invitation = (
        Invitation.objects.select_related("patient")
        .filter(token_hash=token_hash(token or ""))
        .first()
        if token
        else None
    )
    if invitation is None:
        raise InvitationError(
            _("This invitation link is not valid. Check that you copied the whole link."),
            code="invalid",
        )
    if invitation.status == Invitation.Status.ACCEPTED:
        raise InvitationError(
            _("This invitation has already been used. Log in to see what is shared with you."),
            code="used",
        )
    if invitation.status == Invitation.Status.CANCELLED:
        raise InvitationError(_("This invitation was withdrawn."), code="cancelled")
    if invitation.status == Invitation.Status.EXPIRED or invitation.is_expired:
        raise InvitationError(
            _("This invitation has expired. Ask the person who invited you to send a new one."),
            code="expired",
        )
    return invitation


def _has_verified_address(user: User, email: str) -> bool:
    """The account has ``email`` as a verified address (allauth's, case-insensitive)."""
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> RelativeGrant:
    """The relative accepts: a grant with the invitation's parts. Single use, and only by
    an account with the invited e-mail address, verified."""
    invitation = invitation_lookup(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise InvitationError(
            _("This invitation has already been used. Log in to see what is shared with you."),
            code="used",
        )
    # One person, two roles: a patient here may also be someone else's relative, with the
    # same account (careplan.access.reach reads grants for both roles).
    if user.role not in (Role.RELATIVE, Role.PATIENT):
        raise InvitationError(
            _(
                "You are logged in with an account that cannot be a relative's. "
                "Log out and sign up or log in as a relative."
            ),
            code="role",
        )
    patient = invitation.patient
    if patient.user_id == user.pk:
        raise InvitationError(_("You cannot accept your own invitation."), code="self")
    if not _has_verified_address(user, invitation.email):
        # The link alone is not enough (it may be forwarded, or read from a log): the
        # account must own the address the invitation was sent to.
        raise InvitationError(
            _(
                "This invitation was sent to another e-mail address than your account's. "
                "Log in (or sign up) with the address the invitation came to, or ask the "
                "person who invited you to invite the address you use."
            ),
            code="email",
        )
    grant = (
        RelativeGrant.objects.select_for_update()
        .filter(patient=patient, relative=user, revoked_at__isnull=True)
        .first()
    )
    if grant is None:
        grant = RelativeGrant(patient=patient, relative=user)
    grant.scopes = invitation.scopes
    grant.valid_until = invitation.valid_until
    grant.full_clean()
    grant.save()
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.grant = grant
    invitation.save(update_fields=["status", "accepted_at", "grant"])
    if invitation.name and not (user.first_name or user.last_name):
        first, _sep, last = invitation.name.partition(" ")
        user.first_name, user.last_name = first[:150], last[:150]
        user.save(update_fields=["first_name", "last_name"])
    return grant


@transaction.atomic
def relative_account_from_eid(*, invitation: Invitation) -> User:
    """Someone holding an invitation logs in with an e-ID nobody here knows: their relative
    account, made for the address the invitation was sent to (the link proved it), with no
    password. careplan.eid binds the e-ID to it; they accept with ``invitation_accept``."""
    from allauth.account.models import EmailAddress

    invitation = invitation_lookup_for_update(invitation.pk)
    email = invitation.email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise InvitationError(
            _(
                "There is already an account with the address this invitation was sent to. "
                "Log in with it first, then accept the invitation and bind your e-ID."
            ),
            code="email_taken",
        )
    first, _sep, last = (invitation.name or "").partition(" ")
    user = User(email=email, role=Role.RELATIVE, first_name=first[:150], last_name=last[:150])
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def invitation_lookup_for_update(pk: int) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=pk)
    if invitation.status != Invitation.Status.PENDING or invitation.is_expired:
        raise InvitationError(
            _("This invitation has expired. Ask the person who invited you to send a new one."),
            code="expired",
        )
    return invitation


# --- Grants ------------------------------------------------------------------------------------


@transaction.atomic
def grant_update(
    *, grant: RelativeGrant, by: User, scopes: Iterable[str], valid_until: dt.date | None
) -> RelativeGrant:
    """Change what is shared; the relative sees the change on their next request."""
    access.require_patient_self(by, grant.patient)
    if grant.revoked_at is not None:
        raise ValidationError(_("This access has ended. Invite the relative again."))
    grant.scopes = _clean_scopes(scopes)
    grant.valid_until = _clean_until(valid_until)
    grant.full_clean()
    grant.save(update_fields=["scopes", "valid_until"])
    return grant


@transaction.atomic
def grant_revoke(*, grant: RelativeGrant, by: User) -> RelativeGrant:
    """End the access now; the relative is locked out on their next request."""
    access.require_patient_self(by, grant.patient)
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
    return grant


# --- Active handovers ---------------------------------------------------------------------------


def _handover_event(*, handover, from_state: str, by: User | None, what: str = ""):
    from .models import HandoverEvent

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
    from django.urls import reverse

    from careplan.messaging import notify
    from careplan.models import CarePlan, Notification

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
    from .models import Handover

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
    from selfmonitor.services import latest_screening

    screening = latest_screening(patient)
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
    from rehab.models import RehabPlan

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
    from .models import Handover

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
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("admin:contacts_handover_change", args=[handover.pk])
    except NoReverseMatch:  # pragma: no cover - the admin is always installed
        return ""


def _handover_notify_receiver(handover, *, step: str) -> None:
    from careplan.messaging import notify
    from careplan.models import Notification

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
    from careplan.models import CareRelation, ContactNurseAssignment
    from careplan.services import patient_lock_responsibility

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
    from .handover_access import grace_hours

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
    from django.conf import settings

    hours = getattr(settings, "CAREPLAN_HANDOVER_ACCEPT_WITHIN_HOURS", 72)
    return (now or timezone.now()) - dt.timedelta(hours=hours)


def handovers_remind_overdue(*, now: dt.datetime | None = None) -> int:
    """Beat: a sent handover not accepted in time reminds the receiving unit's staff and
    alerts the sending unit's staff, once per step (the notification's dedupe key names
    the handover and its state, so running again, or after a broker outage, tells nobody
    twice; the e-mails go through the outbox). Returns the handovers that told someone."""
    from careplan.messaging import notify
    from careplan.models import Notification

    from .models import Handover

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
                text=str(gettext_lazy("A handover to your unit is waiting for acceptance")),
            )
            sender = notify(
                recipients=User.objects.filter(
                    care_units=handover.from_unit_id, role=Role.STAFF, is_active=True
                ),
                kind=Notification.Kind.HANDOVER,
                dedupe_key=f"{step}:sender",
                url=handover_inbox_url(handover),
                patient=handover.patient,
                text=str(gettext_lazy("A handover from your unit has not been accepted in time")),
            )
        told += bool(receiver or sender)
    return told
