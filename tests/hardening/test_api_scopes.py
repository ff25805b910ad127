"""Every API channel applies the same relative scopes as the web, and no form in the
browsable API offers another patient's data (issue 12, "Access and privacy")."""

from __future__ import annotations

import pytest

from careplan.models import AccessLog
from contacts import services as contacts_services
from contacts.models import CareMapEntry, EntryKind
from tests import factories as f

MARKER_ENTRY = "Ella-Markör-Andersson"


@pytest.fixture
def entry(cast):
    cmap = contacts_services.care_map_of(cast.patient)
    return contacts_services.care_map_entry_save(
        entry=CareMapEntry(care_map=cmap, kind=EntryKind.PERSON, name=MARKER_ENTRY),
        by=cast.patient_user,
        creating=True,
    )


@pytest.mark.parametrize("who", ["nurse", "other_nurse", "relative", "stranger_relative"])
def test_the_browsable_invitation_form_lists_no_ones_care_map_to_others(cast, entry, who):
    other = f.PatientFactory()
    client = cast.client(who)
    response = client.get("/api/v1/invitations/?format=api")
    assert response.status_code in (200, 403)
    assert MARKER_ENTRY not in response.content.decode()
    # And another patient's form lists only their own (empty) map.
    from careplan.testing import login

    response = login(client, other.user).get("/api/v1/invitations/?format=api")
    assert response.status_code == 200
    assert MARKER_ENTRY not in response.content.decode()


def test_the_patient_may_pick_only_their_own_entries(cast, entry):
    response = cast.client("patient").get("/api/v1/invitations/?format=api")
    assert MARKER_ENTRY in response.content.decode()  # the form offers the own map

    other = f.covered_plan().patient
    from careplan.testing import login

    client = login(cast.client("anonymous"), other.user)
    response = client.post(
        "/api/v1/invitations/",
        {"email": "gun@example.test", "scopes": ["calendar"], "entry": entry.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "entry" in response.json()


@pytest.fixture
def calendar_only(cast):
    cast.grant.scopes = ["calendar"]
    cast.grant.save(update_fields=["scopes"])
    cast.plan.diagnosis = "Diagnos-Markör"
    cast.plan.treatment_summary = "Behandling-Markör"
    cast.plan.followup_plan = "Uppföljning-Markör"
    cast.plan.save()
    return cast


@pytest.mark.parametrize("path", ["/api/v1/plans/", "/api/v1/plans/{pk}/"])
def test_plans_api_hides_section_fields_from_a_relative_shared_only_the_calendar(
    calendar_only, path
):
    cast = calendar_only
    response = cast.client("relative").get(path.format(pk=cast.plan.pk))
    assert response.status_code == 200
    body = response.content.decode()
    for marker in ("Diagnos-Markör", "Behandling-Markör", "Uppföljning-Markör"):
        assert marker not in body
    plan = response.json()["results"][0] if path.endswith("plans/") else response.json()
    assert plan["diagnosis"] is None
    assert plan["treatment_summary"] is None
    assert plan["followup_plan"] is None
    assert plan["title"] == cast.plan.title  # the plan itself is still listed


@pytest.mark.parametrize("who", ["patient", "nurse", "relative"])
def test_plans_api_shows_section_fields_to_whoever_has_the_sections(calendar_only, who):
    cast = calendar_only
    if who == "relative":
        cast.grant.scopes = ["calendar", "plan_sections"]
        cast.grant.save(update_fields=["scopes"])
    for path in ("/api/v1/plans/", f"/api/v1/plans/{cast.plan.pk}/"):
        body = cast.client(who).get(path).content.decode()
        for marker in ("Diagnos-Markör", "Behandling-Markör", "Uppföljning-Markör"):
            assert marker in body, (who, path)


def test_plans_list_costs_the_same_for_one_and_three_shared_plans(
    calendar_only, django_assert_num_queries
):
    cast = calendar_only
    client = cast.client("relative")
    client.get("/api/v1/")  # the session's first request stores its activity time
    # session, user, grants' scopes (patients_for), page (cursor pagination: no COUNT),
    # access-log bulk insert, grants' scopes again (which plans show their section fields)
    with django_assert_num_queries(6):
        client.get("/api/v1/plans/")
    for _ in range(2):
        plan = f.covered_plan()
        f.RelativeGrantFactory(patient=plan.patient, relative=cast.relative, scopes=["calendar"])
    with django_assert_num_queries(6):
        response = client.get("/api/v1/plans/")
    assert len(response.json()["results"]) == 3
    assert AccessLog.objects.filter(user=cast.relative, action="list").count() == 4
