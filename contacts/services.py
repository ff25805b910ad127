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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
