"""The patient's care map and sharing pages, and the relative's invitation pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog, Role, User
from contacts.models import CareMapEntry, Invitation, RelativeGrant

from .. import factories as f
from ..conftest import CAST

pytestmark = pytest.mark.django_db

OTHERS = [w for w in CAST if w not in ("patient", "anonymous")]


def en(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def _client(cast, who) -> Client:
    return en(cast.client(who))


ENTRY = {
    "kind": "person",
    "name": "Ella Andersson",
    "relation": "daughter",
    "closeness": "inner",
    "direction": "cared_for_by_patient",
    "frequency": "daily",
    "phone": "",
    "email": "",
    "note": "Twelve years old",
    "is_child": "on",
}


# --- Who reaches the pages ---------------------------------------------------------------------


def _page_urls(care_map):
    entry = care_map.entries.first()
    return [
        reverse("care_map"),
        reverse("care_map_print"),
        reverse("care_map_versions"),
        reverse("care_map_version", args=[1]),
        reverse("care_map_entry_edit", args=[entry.pk]),
        reverse("sharing"),
        reverse("invite"),
    ]


def test_the_patient_reaches_every_page_of_their_map_and_sharing(cast, care_map):
    client = _client(cast, "patient")
    for url in _page_urls(care_map) + [reverse("grant_change", args=[cast.grant.pk])]:
        assert client.get(url).status_code == 200, url
    assert not AccessLog.objects.exists()  # the patient's own reading is not logged


@pytest.mark.parametrize("who", OTHERS)
def test_nobody_else_reads_the_patients_map_or_sharing(cast, care_map, who):
    client = _client(cast, who)
    for url in _page_urls(care_map) + [reverse("grant_change", args=[cast.grant.pk])]:
        assert client.get(url).status_code == 404, url
    # The pages naming one of the patient's objects (an entry, a grant) leave a denied row
    # each, as the access module promises (issue 12); the others name no patient.
    logs = AccessLog.objects.all()
    assert sorted(logs.values_list("object_type", "outcome", "patient_id")) == [
        ("CareMapEntry", "denied", cast.patient.pk),
        ("RelativeGrant", "denied", cast.patient.pk),
    ]


def test_anonymous_is_sent_to_log_in(cast, care_map):
    client = _client(cast, "anonymous")
    for url in _page_urls(care_map):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def _write_posts(cast, care_map):
    entry = care_map.entries.first()
    return [
        (reverse("care_map"), ENTRY),
        (reverse("care_map_entry_edit", args=[entry.pk]), ENTRY),
        (reverse("care_map_entry_delete", args=[entry.pk]), {}),
        (reverse("care_map_support"), {"missing_support": "x"}),
        (reverse("invite"), {"email": "z@example.test", "scopes": ["calendar"]}),
        (reverse("grant_change", args=[cast.grant.pk]), {"scopes": ["messages"]}),
        (reverse("grant_revoke", args=[cast.grant.pk]), {}),
    ]


@pytest.mark.parametrize("who", OTHERS)
def test_every_write_refuses_anyone_but_the_patient(cast, care_map, who):
    client = _client(cast, who)
    before = care_map.versions.count()
    for url, data in _write_posts(cast, care_map):
        assert client.post(url, data).status_code == 403, url
    assert care_map.versions.count() == before
    assert not Invitation.objects.exists()
    cast.grant.refresh_from_db()
    assert cast.grant.revoked_at is None
    assert cast.grant.scopes == ["plan_sections", "calendar", "contact_nurse"]


def test_another_patient_cannot_touch_this_patients_entries_or_grants(cast, care_map):
    other = f.covered_plan().patient
    client = en(Client())
    from careplan.testing import login

    login(client, other.user)
    entry = care_map.entries.first()
    assert client.get(reverse("care_map_entry_edit", args=[entry.pk])).status_code == 404
    assert client.post(reverse("care_map_entry_delete", args=[entry.pk])).status_code == 404
    assert client.post(reverse("grant_revoke", args=[cast.grant.pk])).status_code == 404
    assert CareMapEntry.objects.filter(pk=entry.pk).exists()


# --- The care map -------------------------------------------------------------------------------


def test_the_map_shows_an_accessible_picture_and_the_same_as_a_list(cast, care_map):
    body = _client(cast, "patient").get(reverse("care_map")).content.decode()
    assert 'role="img"' in body
    assert re.search(r"<title id=\"care-map-title\">Care map of Alva</title>", body)
    assert '<desc id="care-map-desc">' in body
    for name in ("Ella Andersson", "Bo Berg", "Hemtjänsten"):
        assert body.count(name) >= 2  # in the picture's titles and in the list
    assert "A child" in body
    assert 'style="' not in body  # the CSP forbids inline styles


def test_adding_an_entry_saves_a_new_version(cast, care_map):
    response = _client(cast, "patient").post(reverse("care_map"), ENTRY | {"name": "Olof"})
    assert response.status_code == 302
    assert care_map.entries.filter(name="Olof", is_child=True).exists()
    assert care_map.versions.count() == 4


def test_bad_input_keeps_what_was_typed_and_saves_nothing(cast, care_map):
    data = ENTRY | {"name": "", "email": "not-an-address", "note": "Keep this note"}
    response = _client(cast, "patient").post(reverse("care_map"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Write a name." in body
    assert "Enter an e-mail address like name@example.se." in body
    assert "Keep this note" in body
    assert 'value="not-an-address"' in body
    assert care_map.versions.count() == 3


def test_an_unknown_closeness_is_refused(cast, care_map):
    response = _client(cast, "patient").post(reverse("care_map"), ENTRY | {"closeness": "far"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_editing_and_removing_entries(cast, care_map):
    client = _client(cast, "patient")
    bo = care_map.entries.get(name="Bo Berg")
    response = client.post(
        reverse("care_map_entry_edit", args=[bo.pk]),
        ENTRY | {"name": "Bo Berg", "closeness": "outer"},
    )
    assert response.status_code == 302
    bo.refresh_from_db()
    assert bo.closeness == "outer"
    assert client.post(reverse("care_map_entry_delete", args=[bo.pk])).status_code == 302
    assert not CareMapEntry.objects.filter(pk=bo.pk).exists()
    assert [v.what for v in care_map.versions.order_by("-number")[:2]] == [
        "Removed Bo Berg",
        "Changed Bo Berg",
    ]


def test_missing_support_is_saved(cast, care_map):
    client = _client(cast, "patient")
    response = client.post(reverse("care_map_support"), {"missing_support": "Help with shopping"})
    assert response.status_code == 302
    care_map.refresh_from_db()
    assert care_map.missing_support == "Help with shopping"


def test_earlier_versions_can_be_seen(cast, care_map):
    client = _client(cast, "patient")
    care_map.entries.get(name="Bo Berg").delete()  # not through the service: no version
    body = client.get(reverse("care_map_versions")).content.decode()
    assert "Version 3" in body and "Added Hemtjänsten" in body
    body = client.get(reverse("care_map_version", args=[3])).content.decode()
    assert "Bo Berg" in body  # as the map was then
    body = client.get(reverse("care_map_version", args=[1])).content.decode()
    assert "Bo Berg" not in body
    assert client.get(reverse("care_map_version", args=[99])).status_code == 404


def test_the_print_page_has_the_picture_and_the_list(cast, care_map):
    body = _client(cast, "patient").get(reverse("care_map_print")).content.decode()
    assert "<svg" in body and "Hemtjänsten" in body and "Version 3" in body


# The care map page: 1 session, 2 user, 3 the patient, 4 the care map (get_or_create
# finds it), 5 the entries.
MAP_QUERIES = 5


@pytest.mark.parametrize("rows", [1, 3])
def test_the_map_costs_the_same_queries_for_one_and_three_entries(
    cast, rows, django_assert_num_queries
):
    from contacts import services

    cmap = services.care_map_of(cast.patient)
    for i in range(rows):
        CareMapEntry.objects.create(care_map=cmap, kind="person", name=f"P{i}")
    client = _client(cast, "patient")
    client.get(reverse("care_map"))  # the session's first request stores its activity time
    with django_assert_num_queries(MAP_QUERIES):
        response = client.get(reverse("care_map"))
    assert response.status_code == 200


# --- Sharing ------------------------------------------------------------------------------------


def test_the_patient_sees_who_has_access_to_what_and_when_they_last_looked(cast):
    seen = timezone.now() - dt.timedelta(hours=2)
    RelativeGrant.objects.filter(pk=cast.grant.pk).update(last_seen_at=seen)
    body = _client(cast, "patient").get(reverse("sharing")).content.decode()
    assert "Rut Relativ" in body
    assert "Plan sections, Calendar, Contact nurse details" in body
    assert timezone.localtime(seen).strftime("%Y-%m-%d %H:%M") in body


# 1 session, 2 user, 3 the patient, 4 expire old invitations (update),
# 5 grants with their relatives, 6 pending invitations
SHARING_QUERIES = 6


@pytest.mark.parametrize("rows", [1, 3])
def test_the_sharing_page_costs_the_same_for_one_and_three_relatives(
    cast, rows, invite, django_assert_num_queries
):
    for i in range(rows - 1):
        f.RelativeGrantFactory(patient=cast.patient)
    for i in range(rows):
        invite(email=f"r{i}@example.test")
    client = _client(cast, "patient")
    client.get(reverse("sharing"))
    with django_assert_num_queries(SHARING_QUERIES):
        response = client.get(reverse("sharing"))
    assert response.content.decode().count('class="card grant"') == rows


def test_inviting_from_the_map_prefills_the_person(cast, care_map):
    bo = care_map.entries.get(name="Bo Berg")
    body = _client(cast, "patient").get(reverse("invite") + f"?entry={bo.pk}").content.decode()
    assert 'value="bo@example.test"' in body
    assert 'value="Bo Berg"' in body


def test_inviting_sends_the_e_mail_and_lists_the_invitation(
    cast, care_map, mailoutbox, django_capture_on_commit_callbacks
):
    bo = care_map.entries.get(name="Bo Berg")
    client = _client(cast, "patient")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("invite"),
            {"entry": bo.pk, "name": "Bo Berg", "email": "bo@example.test", "scopes": ["calendar"]},
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.entry == bo and invitation.scopes == ["calendar"]
    assert len(mailoutbox) == 1
    body = client.get(reverse("sharing")).content.decode()
    assert "bo@example.test" in body and "Invited, no answer yet" in body


@pytest.mark.parametrize(
    "data, message",
    [
        ({"email": "alva@self", "scopes": ["calendar"]}, "Enter an e-mail address"),
        ({"email": "x@example.test", "scopes": ["diagnosis"]}, "is not a part you can share"),
        ({"email": "x@example.test"}, "Choose at least one part to share."),
        (
            {"email": "x@example.test", "scopes": ["calendar"], "valid_until": "2001-01-01"},
            "The end date cannot be in the past.",
        ),
        (
            {"email": "x@example.test", "scopes": ["calendar"], "valid_until": "31/12"},
            "Enter a date, for example 2025-12-31.",
        ),
    ],
)
def test_a_bad_invitation_is_refused_clearly_and_keeps_the_input(cast, data, message, mailoutbox):
    response = _client(cast, "patient").post(reverse("invite"), data | {"name": "Typed name"})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'value="Typed name"' in body
    assert not Invitation.objects.exists()
    assert mailoutbox == []


def test_an_invitation_to_the_own_address_is_refused_on_the_page(cast):
    response = _client(cast, "patient").post(
        reverse("invite"), {"email": cast.patient_user.email, "scopes": ["calendar"]}
    )
    assert response.status_code == 400
    assert "This is your own e-mail address." in response.content.decode()


def test_a_duplicate_invitation_is_refused_on_the_page(cast, invite):
    invite(email="dup@example.test")
    response = _client(cast, "patient").post(
        reverse("invite"), {"email": "dup@example.test", "scopes": ["calendar"]}
    )
    assert response.status_code == 400
    assert "has already been invited" in response.content.decode()
    assert Invitation.objects.count() == 1


def test_the_patient_changes_the_scope_and_the_relative_sees_it_on_the_next_request(cast):
    relative = _client(cast, "relative")
    calendar = reverse("plan_calendar", args=[cast.plan.pk])
    assert relative.get(calendar).status_code == 200
    response = _client(cast, "patient").post(
        reverse("grant_change", args=[cast.grant.pk]), {"scopes": ["plan_sections"]}
    )
    assert response.status_code == 302
    assert relative.get(calendar).status_code == 404


def test_a_grant_change_with_an_unknown_scope_is_refused(cast):
    response = _client(cast, "patient").post(
        reverse("grant_change", args=[cast.grant.pk]), {"scopes": ["diagnosis"]}
    )
    assert response.status_code == 400
    assert "is not a part you can share" in response.content.decode()
    cast.grant.refresh_from_db()
    assert "calendar" in cast.grant.scopes


def test_the_patient_revokes_and_the_relative_is_locked_out_at_once(cast):
    relative = _client(cast, "relative")
    plan = reverse("plan_detail", args=[cast.plan.pk])
    assert relative.get(plan).status_code == 200
    assert (
        _client(cast, "patient").post(reverse("grant_revoke", args=[cast.grant.pk])).status_code
        == 302
    )
    assert relative.get(plan).status_code == 404
    body = _client(cast, "patient").get(reverse("sharing")).content.decode()
    assert "Access that has ended" in body and "Nobody can read your care plan." in body


def test_withdrawing_an_invitation(cast, invite):
    invitation, token = invite()
    response = _client(cast, "patient").post(reverse("invitation_cancel", args=[invitation.pk]))
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.CANCELLED


# --- The relative's side ------------------------------------------------------------------------


def test_an_invited_person_signs_up_and_accepts(cast, invite, settings):
    settings.ACCOUNT_RATE_LIMITS = False
    invitation, token = invite(
        email="nya@example.test", scopes=["plan_sections"], name="Nya Närstående"
    )
    client = en(Client())

    response = client.get(reverse("invitation_open", args=[token]))
    assert response.status_code == 302 and response["Location"] == reverse("invitation_accept")
    body = client.get(reverse("invitation_accept")).content.decode()
    assert "Alva Andersson invites you" in body and "Plan sections" in body
    # Signing up is open for the holder of an invitation; the invited address counts as
    # verified (the link came to it), so the relative is logged in at once.
    response = client.post(
        reverse("account_signup") + "?next=" + reverse("invitation_accept"),
        {
            "email": "nya@example.test",
            "password1": "a-long-secret-42",
            "password2": "a-long-secret-42",
            "next": reverse("invitation_accept"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="nya@example.test")
    assert user.role == Role.RELATIVE
    response = client.post(reverse("invitation_accept"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    grant = RelativeGrant.objects.active().get(relative=user)
    assert grant.patient == cast.patient and grant.scopes == ["plan_sections"]

    # Exactly the shared parts: a section yes, the calendar no.
    section = reverse("plan_section", args=[cast.plan.pk, "treatment"])
    assert client.get(section).status_code == 200
    assert client.get(reverse("plan_calendar", args=[cast.plan.pk])).status_code == 404
    assert client.post(
        reverse("plan_calendar", args=[cast.plan.pk]), {"title": "x"}
    ).status_code in (403, 404)

    # The link is single use.
    fresh = en(Client())
    response = fresh.get(reverse("invitation_open", args=[token]))
    assert response.status_code == 400
    assert "already been used" in response.content.decode()


def test_an_existing_relative_logs_in_and_accepts(cast, invite):
    relative = f.verified_email(f.RelativeUserFactory(email="known@example.test"))
    _invitation, token = invite(email="known@example.test", scopes=["calendar"])
    client = en(Client())
    client.get(reverse("invitation_open", args=[token]))
    from careplan.testing import login

    login(client, relative)
    assert client.get(reverse("invitation_accept")).status_code == 200
    assert client.post(reverse("invitation_accept")).status_code == 302
    assert RelativeGrant.objects.active().filter(relative=relative, patient=cast.patient).exists()


@pytest.mark.parametrize("case", ["tampered", "expired", "reused", "withdrawn"])
def test_a_bad_invitation_link_is_refused_clearly(cast, invite, case):
    invitation, token = invite()
    expected = {
        "tampered": "This invitation link is not valid.",
        "expired": "This invitation has expired.",
        "reused": "This invitation has already been used.",
        "withdrawn": "This invitation was withdrawn.",
    }[case]
    if case == "tampered":
        token = token[:-3] + "abc"
    elif case == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    elif case == "reused":
        Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.ACCEPTED)
    else:
        Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.CANCELLED)
    client = en(Client())
    response = client.get(reverse("invitation_open", args=[token]))
    assert response.status_code == 400
    assert expected in response.content.decode()
    assert "invitation_token" not in client.session
    # Without a token in the session, sign-up stays closed.
    assert "invitation_token" not in client.session


def test_the_accept_page_without_an_invitation_says_so(cast):
    response = _client(cast, "relative").get(reverse("invitation_accept"))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_a_patient_accepts_an_invitation_and_keeps_her_own_plan_too(cast, invite):
    """One person, two roles (issue 15): the same account reads her own plan and, read
    only and logged, what the inviting patient shares."""
    other_plan = f.covered_plan()
    other = other_plan.patient
    f.verified_email(other.user)  # the invitation goes to her own, verified address
    _invitation, token = invite(email=other.user.email)
    client = en(Client())
    client.get(reverse("invitation_open", args=[token]))
    from careplan.testing import login

    login(client, other.user)
    response = client.post(reverse("invitation_accept"))
    assert response.status_code == 302
    assert response["Location"] == reverse("shared_with_me")
    assert RelativeGrant.objects.filter(relative=other.user, patient=cast.patient).exists()
    assert client.get(reverse("plan_detail", args=[other_plan.pk])).status_code == 200
    assert client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).status_code == 200
    row = AccessLog.objects.filter(user=other.user, patient=cast.patient).latest("id")
    assert row.basis == AccessLog.Basis.RELATIVE_GRANT
    # Read only: she cannot change an event in the shared plan.
    event = f.CalendarEventFactory(plan=cast.plan, title="Gammal")
    edit = client.post(reverse("event_edit", args=[cast.plan.pk, event.pk]), {"title": "Nytt"})
    assert edit.status_code in (403, 404)
    event.refresh_from_db()
    assert event.title == "Gammal"


def test_every_relative_access_is_logged_with_the_grant_and_shown_to_the_patient(cast):
    relative = _client(cast, "relative")
    relative.get(reverse("plan_section", args=[cast.plan.pk, "treatment"]))
    row = AccessLog.objects.get()
    assert row.basis == AccessLog.Basis.RELATIVE_GRANT and row.user == cast.relative
    assert row.outcome == "allowed"
    cast.grant.refresh_from_db()
    assert cast.grant.last_seen_at is not None
    body = _client(cast, "patient").get(reverse("my_access_log")).content.decode()
    assert "Rut Relativ" in body and "Relative" in body


@pytest.mark.parametrize("state", ["revoked", "expired", "stranger", "other_patients"])
def test_relatives_without_a_valid_grant_read_nothing(cast, state, other_patient_relative):
    user = cast.relative
    if state == "revoked":
        RelativeGrant.objects.filter(pk=cast.grant.pk).update(revoked_at=timezone.now())
    elif state == "expired":
        RelativeGrant.objects.filter(pk=cast.grant.pk).update(
            valid_until=timezone.localdate() - dt.timedelta(days=1)
        )
    elif state == "stranger":
        user = cast.stranger_relative
    else:
        user = other_patient_relative
    from careplan.testing import login

    client = en(login(Client(), user))
    for url in (
        reverse("plan_detail", args=[cast.plan.pk]),
        reverse("plan_section", args=[cast.plan.pk, "treatment"]),
        reverse("plan_calendar", args=[cast.plan.pk]),
    ):
        assert client.get(url).status_code == 404, url
    rows = AccessLog.objects.filter(patient=cast.patient)
    assert rows.count() == 3 and set(rows.values_list("outcome", flat=True)) == {"denied"}


# The versions page: 1 session, 2 user, 3 the patient, 4 the care map, 5 the versions with
# who saved them.
VERSIONS_QUERIES = 5


@pytest.mark.parametrize("rows", [1, 3])
def test_the_versions_page_costs_the_same_for_one_and_three_versions(
    cast, rows, django_assert_num_queries
):
    from contacts import services

    cmap = services.care_map_of(cast.patient)
    for i in range(rows):
        services.care_map_entry_save(
            entry=CareMapEntry(care_map=cmap, kind="person", name=f"P{i}"),
            by=cast.patient_user,
            creating=True,
        )
    client = _client(cast, "patient")
    client.get(reverse("care_map_versions"))
    with django_assert_num_queries(VERSIONS_QUERIES):
        response = client.get(reverse("care_map_versions"))
    assert len(re.findall(r'href="/care-map/versions/\d+/"', response.content.decode())) == rows


def test_a_withdrawn_invitation_is_not_mailed(cast, mailoutbox):
    from contacts import tasks

    invitation = Invitation.objects.create(
        patient=cast.patient,
        email="w@example.test",
        scopes=["calendar"],
        token_hash="0" * 64,
        expires_at=timezone.now() + dt.timedelta(days=7),
        status=Invitation.Status.CANCELLED,
    )
    assert tasks.send_invitation(invitation.pk, "token") == "skipped"
    assert mailoutbox == []


def test_a_patient_without_a_plan_yet_reaches_the_care_map_from_the_start_page(db):
    patient = f.PatientFactory()
    from careplan.testing import login

    body = en(login(Client(), patient.user)).get(reverse("home")).content.decode()
    assert f'href="{reverse("care_map")}"' in body
    assert f'href="{reverse("sharing")}"' in body


# --- Irreversible steps ask first (issue 10) ------------------------------------------------


def test_removing_ending_access_and_withdrawing_ask_on_a_page_first(cast, care_map):
    from contacts import services

    entry = care_map.entries.first()
    invitation, _token = services.invitation_create(
        patient=cast.patient, by=cast.patient_user, email="z@example.test", scopes=["calendar"]
    )
    client = en(cast.client("patient"))
    pages = [
        (reverse("care_map_entry_delete", args=[entry.pk]), "Remove from your care map?"),
        (reverse("grant_revoke", args=[cast.grant.pk]), "can no longer read your care plan"),
        (reverse("invitation_cancel", args=[invitation.pk]), "stops working"),
    ]
    for url, says in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert says in body and 'method="post"' in body
    # Nothing happened on the way.
    assert CareMapEntry.objects.filter(pk=entry.pk).exists()
    cast.grant.refresh_from_db()
    assert cast.grant.revoked_at is None
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING
    # The POST does it.
    assert client.post(pages[1][0]).status_code == 302
    cast.grant.refresh_from_db()
    assert cast.grant.revoked_at is not None


@pytest.mark.parametrize("who", ["nurse", "other_nurse", "relative", "stranger_relative"])
def test_no_one_else_sees_the_confirmation_pages(cast, care_map, who):
    entry = care_map.entries.first()
    client = _client(cast, who)
    for url in (
        reverse("care_map_entry_delete", args=[entry.pk]),
        reverse("grant_revoke", args=[cast.grant.pk]),
    ):
        assert client.get(url).status_code in (403, 404), url
