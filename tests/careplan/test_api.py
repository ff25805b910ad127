"""The REST API under /api/v1/: plans, sections, calendar events and the contact nurse.

Every endpoint and method is tried by the whole cast, with the status and the access-log
row each leaves (none for the patient themself and for anonymous, who never reaches
patient data).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from careplan.models import AccessLog, CalendarEvent, PlanChange, PlanSection
from contacts.models import Scope
from tests import factories as f
from tests.conftest import CAST

END_BEFORE_START = "The event cannot end before it starts."

# who -> (status, outcome of the one access-log row, or None for no row)
READ = {
    "patient": (200, None),
    "nurse": (200, "allowed"),
    "other_nurse": (404, "denied"),
    "relative": (200, "allowed"),
    "stranger_relative": (404, "denied"),
    "anonymous": (403, None),
}
WRITE_OK = {"patient": 200, "nurse": 200}
WRITE = {
    **READ,
    "relative": (403, "denied"),
}
BASIS = {
    "nurse": AccessLog.Basis.CARE_RELATION,
    "other_nurse": AccessLog.Basis.NONE,
    "relative": AccessLog.Basis.RELATIVE_GRANT,
    "stranger_relative": AccessLog.Basis.NONE,
}


def assert_one_log_row(cast, who, *, outcome, action, object_type, object_id=None):
    rows = list(AccessLog.objects.all())
    if outcome is None:
        assert rows == [], f"{who} must leave no access-log row"
        return
    assert len(rows) == 1, rows
    row = rows[0]
    assert row.user == cast.user(who)
    assert row.role == cast.user(who).role
    assert row.patient == cast.patient
    assert row.channel == AccessLog.Channel.API
    assert row.outcome == outcome
    assert row.action == action
    assert row.object_type == object_type
    if object_id is not None:
        assert row.object_id == str(object_id)
    assert row.basis == BASIS[who]
    assert row.acting_unit == (cast.unit if who == "nurse" else None)


def json_client(cast, who: str, language: str = "en") -> Client:
    client = cast.client(who)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def payload(plan, **changes) -> dict:
    starts = timezone.now() + dt.timedelta(days=7)
    data = {
        "plan": plan.pk,
        "kind": CalendarEvent.Kind.EXAMINATION,
        "title": "Provtagning",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=1)).isoformat(),
        "location": "Labbet, plan 2",
        "note": "Fasta från midnatt",
    }
    data.update(changes)
    return data


@pytest.fixture
def event(cast):
    return f.CalendarEventFactory(plan=cast.plan, title="Cytostatika")


# --- Plans ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_plan_list_shows_each_role_only_their_plans_and_logs_one_row(cast, who):
    response = json_client(cast, who).get("/api/v1/plans/")

    status, outcome = READ[who]
    if who == "anonymous":
        assert response.status_code == 403
        assert AccessLog.objects.count() == 0
        return
    assert response.status_code == 200
    ids = [plan["id"] for plan in response.json()["results"]]
    assert ids == ([] if outcome == "denied" else [cast.plan.pk])
    if outcome == "denied":  # an empty list shows no patient: nothing to log
        assert AccessLog.objects.count() == 0
    else:
        assert_one_log_row(
            cast,
            who,
            outcome=outcome,
            action="list",
            object_type="CarePlan",
            object_id=cast.plan.pk,
        )


@pytest.mark.parametrize("language", ["sv", "en", "ar"])
def test_plan_representation_is_drfs(cast, language):
    """PlanSerializer writes its output out (issue 16): the same JSON as DRF's fields, for
    shared and unshared sections, empty dates and texts, every phase and status."""
    from rest_framework.renderers import JSONRenderer

    from careplan.api import PlanDetailSerializer, PlanSerializer
    from careplan.models import CarePlan

    plans = [cast.plan]
    for phase, status in zip(CarePlan.Phase.values, CarePlan.Status.values, strict=False):
        plans.append(
            f.covered_plan(
                cast.unit,
                phase=phase,
                status=status,
                established_on=timezone.localdate(),
                contact_nurse_offered_on=None,
                diagnosis="",
                followup_plan="Kontroll <om> 3 mån & sedan",
            )
        )
    plans = list(CarePlan.objects.filter(pk__in=[p.pk for p in plans]).select_related("patient"))
    CarePlan.objects.filter(pk=plans[0].pk).update(
        updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    plans[0].refresh_from_db()
    with translation.override(language):
        for shared in (True, False):
            context = {"sections_shared": lambda plan, shared=shared: shared}
            for serializer_class in (PlanSerializer, PlanDetailSerializer):
                many = serializer_class(plans, many=True, context=context)
                for plan, ours in zip(plans, many.data, strict=True):
                    drfs = _drf_representation(many.child, plan, shared)
                    assert JSONRenderer().render(ours) == JSONRenderer().render(drfs)
        no_context = PlanSerializer(cast.plan)
        assert no_context.data == _drf_representation(no_context, cast.plan, False)
        assert no_context.data["diagnosis"] is None


def _drf_representation(serializer, plan, shared: bool) -> dict:
    """DRF's own output for PlanSerializer's fields, the unshared parts null."""
    from rest_framework import serializers

    from careplan.api import SECTION_FIELDS

    data = serializers.ModelSerializer.to_representation(serializer, plan)
    if not shared:
        data.update(dict.fromkeys(SECTION_FIELDS))
    return data


@pytest.mark.parametrize("who", CAST)
def test_plan_detail_is_scoped_and_logged_for_the_whole_cast(cast, who):
    response = json_client(cast, who).get(f"/api/v1/plans/{cast.plan.pk}/")

    status, outcome = READ[who]
    assert response.status_code == status
    assert_one_log_row(
        cast, who, outcome=outcome, action="view", object_type="CarePlan", object_id=cast.plan.pk
    )
    if status == 200:
        body = response.json()
        assert body["phase"] == "behandling"
        assert body["status"] == "active"
        assert body["diagnosis"] == "Bröstcancer"
        assert body["patient"] == {"id": cast.patient.pk, "name": "Alva Andersson"}
        assert [s["key"] for s in body["sections"]] == [
            "about_diagnosis",
            "treatment",
            "self_care",
        ]


@pytest.mark.parametrize("who", ["patient", "nurse", "relative"])
def test_it_never_shows_the_personnummer(cast, who):
    client = json_client(cast, who)
    for url in ("/api/v1/plans/", f"/api/v1/plans/{cast.plan.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        text = response.content.decode()
        assert cast.patient.personnummer not in text
        assert cast.patient.personnummer_masked not in text
        assert "personnummer" not in text


def test_it_hides_unshared_sections_from_relative(cast):
    cast.grant.scopes = [Scope.CALENDAR]
    cast.grant.save()

    response = json_client(cast, "relative").get(f"/api/v1/plans/{cast.plan.pk}/")

    assert response.status_code == 200
    assert response.json()["sections"] is None
    assert_one_log_row(cast, "relative", outcome="allowed", action="view", object_type="CarePlan")


def test_a_relative_with_nothing_shared_gets_404_and_a_denied_row(cast):
    cast.grant.scopes = []
    cast.grant.save()
    client = json_client(cast, "relative")

    assert client.get("/api/v1/plans/").json()["results"] == []
    response = client.get(f"/api/v1/plans/{cast.plan.pk}/")

    assert response.status_code == 404
    row = AccessLog.objects.get()
    assert (row.outcome, row.basis) == ("denied", AccessLog.Basis.RELATIVE_GRANT)


def test_a_revoked_grant_takes_effect_on_the_next_request(cast):
    client = json_client(cast, "relative")
    assert client.get(f"/api/v1/plans/{cast.plan.pk}/").status_code == 200

    cast.grant.revoked_at = timezone.now()
    cast.grant.save()

    assert client.get(f"/api/v1/plans/{cast.plan.pk}/").status_code == 404
    assert client.get("/api/v1/plans/").json()["results"] == []


def test_unknown_plan_id_gives_404_without_a_row(cast):
    response = json_client(cast, "nurse").get("/api/v1/plans/999999/")

    assert response.status_code == 404
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_plans_are_read_only(cast, method):
    response = getattr(json_client(cast, "nurse"), method)(
        f"/api/v1/plans/{cast.plan.pk}/", {}, content_type="application/json"
    )
    assert response.status_code == 405


# --- Sections -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_section_detail_is_scoped_and_logged_for_the_whole_cast(cast, who):
    section = cast.plan.sections.get(key="treatment")

    response = json_client(cast, who).get(f"/api/v1/sections/{section.pk}/")

    status, outcome = READ[who]
    assert response.status_code == status
    assert_one_log_row(
        cast, who, outcome=outcome, action="view", object_type="PlanSection", object_id=section.pk
    )
    if status == 200:
        assert response.json()["title"] == "Section treatment"  # Accept-Language: en


@pytest.mark.parametrize(
    "who,status,outcome",
    [
        ("patient", 403, None),  # the patient co-edits the calendar, not the sections
        ("nurse", 200, "allowed"),
        ("other_nurse", 404, "denied"),
        ("relative", 403, "denied"),
        ("stranger_relative", 404, "denied"),
        ("anonymous", 403, None),
    ],
)
def test_only_the_care_team_changes_a_section(cast, who, status, outcome):
    section = cast.plan.sections.get(key="treatment")

    response = json_client(cast, who).patch(
        f"/api/v1/sections/{section.pk}/",
        {"personal_note": "Ring oss om du får feber.", "version": section.version},
        content_type="application/json",
    )

    assert response.status_code == status
    assert_one_log_row(
        cast, who, outcome=outcome, action="update", object_type="PlanSection", object_id=section.pk
    )
    section.refresh_from_db()
    if status == 200:
        assert section.personal_note == "Ring oss om du får feber."
        assert response.json()["personal_note"] == "Ring oss om du får feber."
        assert PlanChange.objects.filter(plan=cast.plan, section_key="treatment").exists()
    else:
        assert section.personal_note == ""
        assert not PlanChange.objects.exists()


def test_a_blank_section_text_is_refused_and_nothing_is_saved(cast):
    section = cast.plan.sections.get(key="treatment")

    response = json_client(cast, "nurse").patch(
        f"/api/v1/sections/{section.pk}/",
        {"personal_note": "Ny", "body_sv": "", "version": section.version},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "body_sv" in response.json()
    section.refresh_from_db()
    assert (section.personal_note, section.body_sv) == ("", "Text om treatment.")


def test_an_empty_section_change_says_what_is_missing(cast):
    section = cast.plan.sections.get(key="treatment")

    response = json_client(cast, "nurse").patch(
        f"/api/v1/sections/{section.pk}/",
        {"version": section.version},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Give at least one of personal_note, body_sv or body_en."],
        "code": "invalid",  # issue 13: every API error carries a stable code
    }


def test_sections_cannot_be_replaced_or_deleted(cast):
    section = cast.plan.sections.first()
    client = json_client(cast, "nurse")
    url = f"/api/v1/sections/{section.pk}/"

    assert client.put(url, {}, content_type="application/json").status_code == 405
    assert client.delete(url).status_code == 405
    assert PlanSection.objects.filter(pk=section.pk).exists()


# --- Calendar: reading ------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_event_list_shows_each_role_only_their_events_and_logs_one_row(cast, who, event):
    response = json_client(cast, who).get("/api/v1/events/")

    status, outcome = READ[who]
    if who == "anonymous":
        assert response.status_code == 403
        assert AccessLog.objects.count() == 0
        return
    assert response.status_code == 200
    results = response.json()["results"]
    assert [e["id"] for e in results] == ([] if outcome == "denied" else [event.pk])
    if outcome == "denied":
        assert AccessLog.objects.count() == 0
    else:
        assert results[0]["created_by"] == str(cast.patient_user)
        assert_one_log_row(cast, who, outcome=outcome, action="list", object_type="CalendarEvent")


@pytest.mark.parametrize("who", CAST)
def test_event_list_for_one_plan_is_scoped_and_logged(cast, who, event):
    response = json_client(cast, who).get(f"/api/v1/events/?plan={cast.plan.pk}")

    status, outcome = READ[who]
    assert response.status_code == status
    assert_one_log_row(
        cast, who, outcome=outcome, action="list", object_type="CarePlan", object_id=cast.plan.pk
    )
    if status == 200:
        assert [e["id"] for e in response.json()["results"]] == [event.pk]


def test_event_list_filters_by_plan(cast, event):
    other = f.CalendarEventFactory(plan=f.covered_plan(cast.unit))  # another patient's plan
    client = json_client(cast, "nurse")

    assert {e["id"] for e in client.get("/api/v1/events/").json()["results"]} == {
        event.pk,
        other.pk,
    }
    filtered = client.get(f"/api/v1/events/?plan={other.plan.pk}").json()["results"]
    assert [e["id"] for e in filtered] == [other.pk]


def test_event_list_for_an_unknown_plan_is_404(cast):
    response = json_client(cast, "nurse").get("/api/v1/events/?plan=999999")

    assert response.status_code == 404
    assert AccessLog.objects.count() == 0


def test_event_list_with_a_plan_that_is_not_a_number_says_so(cast):
    response = json_client(cast, "nurse").get("/api/v1/events/?plan=abc")

    assert response.status_code == 400
    assert response.json() == {"plan": ["A valid integer is required."], "code": "invalid"}


def test_a_relative_without_the_calendar_part_sees_no_events(cast, event):
    cast.grant.scopes = [Scope.PLAN_SECTIONS]
    cast.grant.save()
    client = json_client(cast, "relative")

    assert client.get("/api/v1/events/").json()["results"] == []
    assert client.get(f"/api/v1/events/{event.pk}/").status_code == 404
    assert client.get(f"/api/v1/events/?plan={cast.plan.pk}").status_code == 404
    assert list(AccessLog.objects.values_list("outcome", flat=True)) == ["denied", "denied"]


@pytest.mark.parametrize("who", CAST)
def test_event_detail_is_scoped_and_logged_for_the_whole_cast(cast, who, event):
    response = json_client(cast, who).get(f"/api/v1/events/{event.pk}/")

    status, outcome = READ[who]
    assert response.status_code == status
    assert_one_log_row(
        cast, who, outcome=outcome, action="view", object_type="CalendarEvent", object_id=event.pk
    )
    if status == 200:
        assert response.json()["title"] == "Cytostatika"
        assert response.json()["plan"] == cast.plan.pk


def test_created_by_is_shown_as_name_and_title(cast):
    event = f.CalendarEventFactory(plan=cast.plan, created_by=cast.nurse)

    response = json_client(cast, "patient").get(f"/api/v1/events/{event.pk}/")

    assert response.json()["created_by"] == "Karin Kontakt (Sjuksköterska)"


# --- Calendar: writing ------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_event_create_for_the_whole_cast(cast, who):
    response = json_client(cast, who).post(
        "/api/v1/events/", payload(cast.plan), content_type="application/json"
    )

    status, outcome = WRITE[who]
    expected = 201 if status == 200 else status
    assert response.status_code == expected
    assert_one_log_row(
        cast, who, outcome=outcome, action="create", object_type="CarePlan", object_id=cast.plan.pk
    )
    if expected == 201:
        event = CalendarEvent.objects.get()
        assert response.json()["id"] == event.pk
        assert event.created_by == cast.user(who)
        assert event.plan == cast.plan
        assert PlanChange.objects.filter(plan=cast.plan).count() == 1
    else:
        assert CalendarEvent.objects.count() == 0


@pytest.mark.parametrize("who", CAST)
def test_event_update_for_the_whole_cast(cast, who, event):
    response = json_client(cast, who).patch(
        f"/api/v1/events/{event.pk}/", {"title": "Strålning"}, content_type="application/json"
    )

    status, outcome = WRITE[who]
    assert response.status_code == status
    assert_one_log_row(
        cast, who, outcome=outcome, action="update", object_type="CalendarEvent", object_id=event.pk
    )
    event.refresh_from_db()
    assert event.title == ("Strålning" if status == 200 else "Cytostatika")
    if status == 200:
        assert event.updated_by == cast.user(who)


@pytest.mark.parametrize("who", CAST)
def test_event_replace_for_the_whole_cast(cast, who, event):
    response = json_client(cast, who).put(
        f"/api/v1/events/{event.pk}/",
        payload(cast.plan, title="Läkarbesök", kind="visit"),
        content_type="application/json",
    )

    status, outcome = WRITE[who]
    assert response.status_code == status
    assert_one_log_row(cast, who, outcome=outcome, action="update", object_type="CalendarEvent")
    event.refresh_from_db()
    assert event.title == ("Läkarbesök" if status == 200 else "Cytostatika")


@pytest.mark.parametrize("who", CAST)
def test_event_delete_for_the_whole_cast(cast, who, event):
    response = json_client(cast, who).delete(f"/api/v1/events/{event.pk}/")

    status, outcome = WRITE[who]
    expected = 204 if status == 200 else status
    assert response.status_code == expected
    assert_one_log_row(
        cast, who, outcome=outcome, action="delete", object_type="CalendarEvent", object_id=event.pk
    )
    assert CalendarEvent.objects.filter(pk=event.pk).exists() == (expected != 204)


def test_a_relative_cannot_write_even_with_bad_input(cast, event):
    client = json_client(cast, "relative")

    created = client.post(
        "/api/v1/events/", {"plan": cast.plan.pk, "title": ""}, content_type="application/json"
    )
    changed = client.patch(
        f"/api/v1/events/{event.pk}/", {"starts_at": "nonsense"}, content_type="application/json"
    )

    assert (created.status_code, changed.status_code) == (403, 403)
    assert list(AccessLog.objects.order_by("id").values_list("action", "outcome")) == [
        ("create", "denied"),
        ("update", "denied"),
    ]


def test_an_event_that_ends_before_it_starts_is_refused_with_a_clear_message(cast):
    data = payload(cast.plan)
    data["ends_at"], data["starts_at"] = data["starts_at"], data["ends_at"]

    response = json_client(cast, "patient", "en").post(
        "/api/v1/events/", data, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"ends_at": [END_BEFORE_START], "code": "invalid"}
    assert response["Content-Language"] == "en"
    assert CalendarEvent.objects.count() == 0
    assert PlanChange.objects.count() == 0


def test_the_message_follows_accept_language_sv(cast):
    data = payload(cast.plan)
    data["ends_at"], data["starts_at"] = data["starts_at"], data["ends_at"]
    cast.patient_user.language = "en"  # the header wins over the saved language
    cast.patient_user.save()

    response = json_client(cast, "patient", "sv").post(
        "/api/v1/events/", data, content_type="application/json"
    )

    assert response.status_code == 400
    assert response["Content-Language"] == "sv"
    with translation.override("sv"):
        swedish = gettext(END_BEFORE_START)  # the Swedish text once the catalogue has it
    assert response.json() == {"ends_at": [swedish], "code": "invalid"}


def test_a_change_that_ends_before_it_starts_is_refused_and_nothing_is_saved(cast, event):
    before = event.starts_at - dt.timedelta(hours=1)

    response = json_client(cast, "nurse").patch(
        f"/api/v1/events/{event.pk}/",
        {"title": "Ändrad", "ends_at": before.isoformat()},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json() == {"ends_at": [END_BEFORE_START], "code": "invalid"}
    event.refresh_from_db()
    assert (event.title, event.ends_at) == ("Cytostatika", None)


def test_an_event_for_an_unknown_plan_is_404(cast):
    response = json_client(cast, "patient").post(
        "/api/v1/events/", {**payload(cast.plan), "plan": 999999}, content_type="application/json"
    )

    assert response.status_code == 404
    assert CalendarEvent.objects.count() == 0


def test_an_event_without_a_plan_says_the_plan_is_required(cast):
    data = payload(cast.plan)
    del data["plan"]

    response = json_client(cast, "patient").post(
        "/api/v1/events/", data, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"plan": ["This field is required."], "code": "invalid"}


def test_an_event_sent_as_a_list_is_refused(cast):
    response = json_client(cast, "patient").post(
        "/api/v1/events/", [payload(cast.plan)], content_type="application/json"
    )

    assert response.status_code == 400
    assert CalendarEvent.objects.count() == 0


def test_an_event_for_a_plan_of_another_patient_is_404_and_logged(cast):
    other_plan = f.covered_plan()

    response = json_client(cast, "patient").post(
        "/api/v1/events/", payload(other_plan), content_type="application/json"
    )

    assert response.status_code == 404
    assert CalendarEvent.objects.count() == 0
    row = AccessLog.objects.get()
    assert (row.user, row.patient, row.action, row.outcome) == (
        cast.patient_user,
        other_plan.patient,
        "create",
        "denied",
    )


def test_an_event_cannot_move_to_another_plan(cast, event):
    other_plan = f.covered_plan()

    response = json_client(cast, "patient").patch(
        f"/api/v1/events/{event.pk}/", {"plan": other_plan.pk}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "plan": ["An entry cannot be moved to another plan."],
        "code": "invalid",
    }
    event.refresh_from_db()
    assert event.plan == cast.plan


def test_the_api_checks_csrf_for_session_writes(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.patient_user, backend="django.contrib.auth.backends.ModelBackend")

    response = client.post("/api/v1/events/", payload(cast.plan), content_type="application/json")

    assert response.status_code == 403
    assert CalendarEvent.objects.count() == 0


# --- Contact nurse ------------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("by", ["plan", "patient"])
def test_contact_nurse_is_scoped_and_logged_for_the_whole_cast(cast, who, by):
    target = cast.plan if by == "plan" else cast.patient

    response = json_client(cast, who).get(f"/api/v1/contact-nurse/?{by}={target.pk}")

    status, outcome = READ[who]
    assert response.status_code == status
    assert_one_log_row(
        cast,
        who,
        outcome=outcome,
        action="view",
        object_type="CarePlan" if by == "plan" else "Patient",
        object_id=target.pk,
    )
    if status == 200:
        assert response.json() == {
            "patient": cast.patient.pk,
            "name": "Karin Kontakt",
            "title": "Sjuksköterska",
            "direct_phone": "010-000 00 01",
            "reachable": "Mån–tor 8–12",
            "unit": "Bröstmottagningen",
            "unit_phone": "010-000 00 00",
            "started_on": timezone.localdate().isoformat(),
        }


def test_a_relative_without_the_contact_nurse_part_gets_404(cast):
    cast.grant.scopes = [Scope.CALENDAR, Scope.PLAN_SECTIONS]
    cast.grant.save()

    response = json_client(cast, "relative").get(f"/api/v1/contact-nurse/?plan={cast.plan.pk}")

    assert response.status_code == 404
    assert AccessLog.objects.get().outcome == "denied"


def test_contact_nurse_falls_back_to_the_units_phone_and_hours(cast):
    assignment = cast.patient.contact_nurse_assignment()
    assignment.direct_phone = ""
    assignment.reachable = ""
    assignment.save()

    body = json_client(cast, "patient").get(f"/api/v1/contact-nurse/?plan={cast.plan.pk}").json()

    assert (body["direct_phone"], body["reachable"]) == ("010-000 00 00", "Mån–fre 8–16")


@pytest.mark.parametrize("query", ["", "?plan=1&patient=1", "?plan=x"])
def test_contact_nurse_needs_exactly_one_of_plan_or_patient(cast, query):
    response = json_client(cast, "nurse").get(f"/api/v1/contact-nurse/{query}")

    assert response.status_code == 400
    assert AccessLog.objects.count() == 0


def test_contact_nurse_says_when_none_is_named_yet(cast):
    # A draft: an established plan always has a named contact nurse (invariant 1).
    plan = f.CarePlanFactory(status="draft", established_on=None)
    f.CareRelationFactory(patient=plan.patient, unit=cast.unit)

    response = json_client(cast, "nurse").get(f"/api/v1/contact-nurse/?plan={plan.pk}")

    assert response.status_code == 404
    assert response.json() == {
        "detail": "No contact nurse has been named yet.",
        "code": "not_found",
    }


# --- Staff MFA ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", "/api/v1/plans/"),
        ("get", "/api/v1/plans/{plan}/"),
        ("get", "/api/v1/events/"),
        ("post", "/api/v1/events/"),
        ("get", "/api/v1/contact-nurse/?plan={plan}"),
    ],
)
def test_staff_without_an_mfa_session_get_403(cast, method, url):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.nurse, backend="django.contrib.auth.backends.ModelBackend")

    url = url.format(plan=cast.plan.pk)
    if method == "post":
        response = client.post(url, payload(cast.plan), content_type="application/json")
    else:
        response = client.get(url)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Two-factor authentication is required for staff.",
        "code": "mfa_required",  # issue 13: every API error carries a stable code
    }
    assert AccessLog.objects.count() == 0
    assert CalendarEvent.objects.count() == 0


# --- Lists: one access-log row per patient, in one query; pinned query counts ---------------


def test_a_list_logs_one_row_per_patient_not_per_row(cast):
    f.CalendarEventFactory.create_batch(3, plan=cast.plan)
    other = f.covered_plan(cast.unit)
    f.CalendarEventFactory.create_batch(2, plan=other)

    response = json_client(cast, "nurse").get("/api/v1/events/")

    assert len(response.json()["results"]) == 5
    rows = AccessLog.objects.all()
    assert sorted(r.patient_id for r in rows) == sorted([cast.patient.pk, other.patient.pk])
    assert {r.acting_unit_id for r in rows} == {cast.unit.pk}


def _rows(cast, who: str, n: int) -> None:
    """Make ``who`` see ``n`` plans and ``n`` calendar entries. Staff and relative: ``n``
    patients of the nurse's unit who share with the relative (cast.patient is the first),
    one plan and one entry each; the patient: ``n`` plans of their own (all but one
    closed) and ``n`` entries in the open one."""
    if who == "patient":
        f.CarePlanFactory.create_batch(n - 1, patient=cast.patient, status="closed")
        f.CalendarEventFactory.create_batch(n, plan=cast.plan)
        return
    f.CalendarEventFactory(plan=cast.plan)
    for _ in range(n - 1):
        plan = f.covered_plan(cast.unit)
        f.RelativeGrantFactory(patient=plan.patient, relative=cast.relative)
        f.CalendarEventFactory(plan=plan)


# Queries per list request, by role:
#   1 session, 2 user                        (session middleware, authentication)
#   staff: 3 the user's unit ids             (access.staff_unit_ids)
#   relative: 3 the grants' scopes           (access.patients_for)
#   (no COUNT(*): cursor pagination, careplan/pagination.py)
#   the page: patient / plan and created_by joined, the acting unit as a subquery
#   INSERT the access-log rows               (access.log_list, one bulk insert; not patient)
#   plans, relative: the grants' scopes again, to null the parts of the plan that belong
#                    to the sections for a patient who did not share them (issue 12)
LIST_QUERIES = {"patient": 3, "nurse": 5, "relative": 5}
PLAN_LIST_EXTRA = {"patient": 0, "nurse": 0, "relative": 1}


@pytest.mark.parametrize("rows", [1, 3])
@pytest.mark.parametrize("who", ["patient", "nurse", "relative"])
@pytest.mark.parametrize("url", ["/api/v1/plans/", "/api/v1/events/"])
def test_a_list_costs_the_same_queries_for_one_and_three_rows(
    cast, who, url, rows, django_assert_num_queries
):
    _rows(cast, who, rows)
    client = json_client(cast, who)
    client.get("/api/v1/")  # the session's first request stores its activity time

    extra = PLAN_LIST_EXTRA[who] if url == "/api/v1/plans/" else 0
    with django_assert_num_queries(LIST_QUERIES[who] + extra):
        response = client.get(url)

    assert len(response.json()["results"]) == rows
    logged = AccessLog.objects.values_list("patient_id", flat=True)
    assert len(logged) == (0 if who == "patient" else rows)  # one row per patient
    assert len(set(logged)) == len(logged)


# One plan's calendar (``?plan=``):
#   1 session, 2 user
#   the plan with patient and template       (access.plan_for; for a relative in one
#                                             round trip with their active grants)
#   staff: the user's unit ids, then the acting unit
#   relative: the grant's last-seen time     (RelativeGrant.touch, at most once a minute)
#   INSERT the access-log row                (not patient)
#   the page with created_by joined (no COUNT(*): cursor pagination)
PLAN_CALENDAR_QUERIES = {"patient": 4, "nurse": 7, "relative": 6}


@pytest.mark.parametrize("rows", [1, 3])
@pytest.mark.parametrize("who", ["patient", "nurse", "relative"])
def test_one_plans_calendar_costs_the_same_queries_for_one_and_three_entries(
    cast, who, rows, django_assert_num_queries
):
    f.CalendarEventFactory.create_batch(rows, plan=cast.plan)
    client = json_client(cast, who)
    client.get("/api/v1/")

    with django_assert_num_queries(PLAN_CALENDAR_QUERIES[who]):
        response = client.get(f"/api/v1/events/?plan={cast.plan.pk}")

    assert len(response.json()["results"]) == rows
