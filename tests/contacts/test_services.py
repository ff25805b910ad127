"""Care map, invitations and grants: the rules in contacts/services.py."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from careplan.models import AccessLog
from contacts import services, tasks
from contacts.models import CareMapEntry, CareMapVersion, Invitation, RelativeGrant

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _messages(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- The care map -------------------------------------------------------------------------------


def test_every_change_to_the_map_keeps_a_version(cast, care_map):
    versions = list(CareMapVersion.objects.filter(care_map=care_map).order_by("number"))
    assert [v.number for v in versions] == [1, 2, 3]
    assert [len(v.snapshot["entries"]) for v in versions] == [1, 2, 3]
    entry = care_map.entries.get(name="Bo Berg")
    entry.closeness = "inner"
    services.care_map_entry_save(entry=entry, by=cast.patient_user, creating=False)
    services.care_map_entry_delete(
        entry=care_map.entries.get(name="Hemtjänsten"), by=cast.patient_user
    )
    services.care_map_support_update(
        care_map=care_map, missing_support="Someone to talk to at night", by=cast.patient_user
    )
    care_map.refresh_from_db()
    assert care_map.version == 6
    latest = care_map.versions.get(number=6)
    assert latest.snapshot["missing_support"] == "Someone to talk to at night"
    assert len(latest.snapshot["entries"]) == 2
    # The earlier version still holds what was then.
    v3 = care_map.versions.get(number=3)
    assert {e["name"] for e in v3.snapshot["entries"]} == {
        "Ella Andersson",
        "Bo Berg",
        "Hemtjänsten",
    }
    assert care_map.versions.get(number=4).what == "Changed Bo Berg"


def test_the_contact_nurses_unit_may_draw_the_map_with_the_patient(cast, care_map):
    entry = care_map.entries.get(name="Bo Berg")
    entry.frequency = "daily"
    services.care_map_entry_save(entry=entry, by=cast.nurse, creating=False)
    version = care_map.versions.get(number=4)
    assert version.created_by == cast.nurse
    assert version.snapshot["entries"][1]["frequency"] == "daily"


@pytest.mark.parametrize("who", ["other_nurse", "relative", "stranger_relative"])
def test_only_the_patient_and_the_responsible_unit_change_the_map(cast, care_map, who):
    entry = care_map.entries.first()
    with pytest.raises(PermissionDenied):
        services.care_map_entry_save(entry=entry, by=cast.user(who), creating=False)
    with pytest.raises(PermissionDenied):
        services.care_map_entry_delete(entry=entry, by=cast.user(who))
    assert care_map.versions.count() == 3


def test_children_and_relatives_needing_support_are_flagged(care_map):
    flagged = CareMapEntry.objects.needing_support()
    assert [e.name for e in flagged] == ["Ella Andersson"]
    bo = care_map.entries.get(name="Bo Berg")
    bo.needs_support = True
    bo.save()
    assert {e.name for e in CareMapEntry.objects.needing_support()} == {"Ella Andersson", "Bo Berg"}


# --- Invitations --------------------------------------------------------------------------------


def test_an_invitation_stores_only_the_hash_and_mails_the_link_without_health_data(
    cast, invite, mailoutbox
):
    invitation, token = invite(email="New.Relative@Example.test", scopes=["calendar"])

    assert invitation.email == "new.relative@example.test"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert invitation.expires_at - timezone.now() > dt.timedelta(days=6, hours=23)
    assert invitation.expires_at - timezone.now() <= dt.timedelta(days=7)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["new.relative@example.test"]
    assert f"/invitation/{token}/" in mail.body
    for secret in (
        cast.patient.first_name,
        cast.patient.last_name,
        cast.plan.diagnosis,
        cast.patient.personnummer,
        cast.patient.personnummer_masked,
        "cancer",
    ):
        assert secret.lower() not in (mail.subject + mail.body).lower()


def test_an_invitation_to_the_patients_own_address_is_refused(cast, invite, mailoutbox):
    with pytest.raises(ValidationError) as exc:
        invite(email=cast.patient_user.email.upper())
    assert "your own e-mail address" in _messages(exc.value)
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_a_duplicate_invitation_is_refused(invite, mailoutbox):
    invite(email="a@example.test")
    with pytest.raises(ValidationError) as exc:
        invite(email="A@example.test")
    assert "already been invited" in _messages(exc.value)
    assert Invitation.objects.count() == 1
    assert len(mailoutbox) == 1


def test_an_expired_invitation_does_not_block_a_new_one(invite):
    first, _ = invite(email="a@example.test")
    Invitation.objects.filter(pk=first.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    second, _ = invite(email="a@example.test")
    first.refresh_from_db()
    assert first.status == Invitation.Status.EXPIRED
    assert second.status == Invitation.Status.PENDING


def test_inviting_someone_who_already_has_access_is_refused(cast, invite):
    with pytest.raises(ValidationError) as exc:
        invite(email=cast.relative.email)
    assert "already has access" in _messages(exc.value)


@pytest.mark.parametrize("scopes", [["diagnosis"], ["calendar", "everything"], []])
def test_an_unknown_or_empty_scope_is_refused(invite, scopes):
    with pytest.raises(ValidationError) as exc:
        invite(scopes=scopes)
    assert "scopes" in exc.value.error_dict
    assert not Invitation.objects.exists()


def test_an_end_date_in_the_past_is_refused(invite):
    with pytest.raises(ValidationError) as exc:
        invite(valid_until=timezone.localdate() - dt.timedelta(days=1))
    assert "valid_until" in exc.value.error_dict


def test_an_address_of_a_staff_or_patient_account_is_refused(cast, invite):
    with pytest.raises(ValidationError) as exc:
        invite(email=cast.nurse.email)
    assert "cannot be a relative" in _messages(exc.value)


@pytest.mark.parametrize("who", ["nurse", "relative", "stranger_relative"])
def test_only_the_patient_invites(cast, who):
    with pytest.raises(PermissionDenied):
        services.invitation_create(
            patient=cast.patient, by=cast.user(who), email="x@example.test", scopes=["calendar"]
        )


# --- Accepting ----------------------------------------------------------------------------------


def test_accepting_gives_exactly_the_invited_parts_once(cast, invite):
    until = timezone.localdate() + dt.timedelta(days=30)
    invitation, token = invite(
        scopes=["calendar", "plan_sections"], valid_until=until, name="Nils Nilsson"
    )
    relative = f.verified_email(
        f.RelativeUserFactory(email="new.relative@example.test", first_name="", last_name="")
    )

    grant = services.invitation_accept(token=token, user=relative)

    assert grant.scopes == ["plan_sections", "calendar"]
    assert grant.valid_until == until
    assert RelativeGrant.objects.active().filter(patient=cast.patient, relative=relative).exists()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    assert invitation.grant == grant
    relative.refresh_from_db()
    assert relative.get_full_name() == "Nils Nilsson"
    # Reused: refused, and nothing changes.
    with pytest.raises(services.InvitationError) as exc:
        services.invitation_accept(token=token, user=f.RelativeUserFactory())
    assert exc.value.code == "used"
    assert RelativeGrant.objects.filter(patient=cast.patient).count() == 2  # the cast's + this


def test_a_tampered_token_is_refused(invite):
    _invitation, token = invite()
    with pytest.raises(services.InvitationError) as exc:
        services.invitation_accept(token=token[:-2] + "xx", user=f.RelativeUserFactory())
    assert exc.value.code == "invalid"
    assert "not valid" in _messages(exc.value)


def test_an_expired_token_is_refused(invite):
    invitation, token = invite()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(services.InvitationError) as exc:
        services.invitation_accept(token=token, user=f.RelativeUserFactory())
    assert exc.value.code == "expired"
    assert "expired" in _messages(exc.value)


def test_a_withdrawn_invitation_cannot_be_accepted(cast, invite):
    invitation, token = invite()
    services.invitation_cancel(invitation=invitation, by=cast.patient_user)
    with pytest.raises(services.InvitationError) as exc:
        services.invitation_accept(token=token, user=f.RelativeUserFactory())
    assert exc.value.code == "cancelled"


@pytest.mark.parametrize(("who", "code"), [("patient", "self"), ("nurse", "role")])
def test_staff_or_the_inviting_patient_cannot_accept(cast, invite, who, code):
    invitation, token = invite()
    with pytest.raises(services.InvitationError) as exc:
        services.invitation_accept(token=token, user=cast.user(who))
    assert exc.value.code == code
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING


def test_a_patient_of_another_plan_accepts_with_the_same_account(cast, invite):
    """One person, two roles (issue 15): a patient here who is also someone's relative
    keeps one account; the grant is theirs like any relative's."""
    other = f.covered_plan().patient
    f.verified_email(other.user)  # the invitation goes to her own, verified address
    invitation, token = invite(email=other.user.email)
    grant = services.invitation_accept(token=token, user=other.user)
    assert grant.relative == other.user and grant.patient == cast.patient
    other.user.refresh_from_db()
    assert other.user.role == "patient"


def test_the_expiry_job_marks_old_invitations_expired(invite):
    old, _ = invite(email="old@example.test")
    fresh, _ = invite(email="fresh@example.test")
    Invitation.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))

    assert tasks.expire_invitations.delay().get() == 1
    assert tasks.expire_invitations.delay().get() == 0  # idempotent

    assert Invitation.objects.get(pk=old.pk).status == Invitation.Status.EXPIRED
    assert Invitation.objects.get(pk=fresh.pk).status == Invitation.Status.PENDING


def test_the_expiry_job_is_on_the_beat_schedule(settings):
    tasks_scheduled = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "contacts.tasks.expire_invitations" in tasks_scheduled


# --- Grants ------------------------------------------------------------------------------------


def test_the_patient_changes_the_scope_with_effect_on_the_next_check(cast):
    from careplan import access

    assert access.reach(cast.relative, cast.patient).covers("calendar")
    services.grant_update(
        grant=cast.grant, by=cast.patient_user, scopes=["plan_sections"], valid_until=None
    )
    assert not access.reach(cast.relative, cast.patient).covers("calendar")
    assert access.reach(cast.relative, cast.patient).covers("plan_sections")


def test_revoking_locks_the_relative_out_at_once(cast):
    from careplan import access

    services.grant_revoke(grant=cast.grant, by=cast.patient_user)
    assert not access.reach(cast.relative, cast.patient).allowed
    with pytest.raises(ValidationError):
        services.grant_update(
            grant=cast.grant, by=cast.patient_user, scopes=["calendar"], valid_until=None
        )


@pytest.mark.parametrize("who", ["nurse", "relative", "stranger_relative"])
def test_only_the_patient_changes_or_revokes_a_grant(cast, who):
    with pytest.raises(PermissionDenied):
        services.grant_revoke(grant=cast.grant, by=cast.user(who))
    with pytest.raises(PermissionDenied):
        services.grant_update(
            grant=cast.grant, by=cast.user(who), scopes=["messages"], valid_until=None
        )
    cast.grant.refresh_from_db()
    assert cast.grant.revoked_at is None
    assert not AccessLog.objects.filter(outcome="allowed", action="update").exists()


def test_an_expired_grant_gives_no_reach(cast):
    from careplan import access

    RelativeGrant.objects.filter(pk=cast.grant.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    assert not access.reach(cast.relative, cast.patient).allowed
