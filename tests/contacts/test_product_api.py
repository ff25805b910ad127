"""The API's new endpoints (issue 13): handovers (list, read, FHIR, state moves), patients
for staff, the patient's own access log, sending questionnaires, care-map versions and
invitation acceptance; each checked with the fixed cast, logged, and its list's query
count pinned."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from careplan.models import AccessLog, CareUnit
from contacts import services
from contacts.handover import services as handover_services
from contacts.models import CareMapEntry, EntryKind, Handover, RelativeGrant
from selfmonitor.models import Assignment

from .. import factories as f
from ..fhir.validate import assert_valid

pytestmark = pytest.mark.django_db
JSON = "application/json"


def api(cast, who):
    client = cast.client(who)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def draft(cast):
    cast.other_unit.kind = CareUnit.Kind.PRIMARY
    cast.other_unit.save(update_fields=["kind"])
    response = api(cast, "nurse").post(
        "/api/v1/handovers/",
        {
            "patient": cast.patient.pk,
            "to_unit": cast.other_unit.pk,
            "situation": "Behandling klar",
            "recommendation": "Årlig kontroll",
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    return Handover.objects.get(pk=response.json()["id"])


def test_the_handover_moves_through_the_api(cast, draft):
    nurse, receiver = api(cast, "nurse"), api(cast, "other_nurse")
    url = f"/api/v1/handovers/{draft.pk}/"
    # The receiver sees nothing of a draft.
    assert receiver.get(url).status_code == 404
    assert nurse.post(f"{url}send/").json()["state"] == "sent"
    assert receiver.get(url).status_code == 200
    assert [h["id"] for h in receiver.get("/api/v1/handovers/").json()["results"]] == [draft.pk]
    # Before acceptance the receiver's FHIR document holds the handover only.
    doc = receiver.get(f"{url}fhir/", HTTP_ACCEPT="application/fhir+json")
    assert doc.status_code == 200 and doc["Content-Type"].startswith("application/fhir+json")
    assert_valid(doc.json())
    kinds = {e["resource"]["resourceType"] for e in doc.json()["entry"]}
    assert "CarePlan" not in kinds and "Patient" in kinds
    assert "CarePlan" in {
        e["resource"]["resourceType"] for e in nurse.get(f"{url}fhir/").json()["entry"]
    }
    # The sender cannot accept; the receiver must say how contact was made.
    assert nurse.post(f"{url}accept/", {}, content_type=JSON).status_code == 400
    bad = receiver.post(f"{url}accept/", {"contact_nurse": cast.other_nurse.pk}, content_type=JSON)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    ok = receiver.post(
        f"{url}accept/",
        {
            "contact_nurse": cast.other_nurse.pk,
            "contact_made_on": timezone.localdate().isoformat(),
            "contact_how": "Telefon",
        },
        content_type=JSON,
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["state"] == "accepted"
    assert cast.patient.responsible_relation().unit == cast.other_unit
    assert receiver.post(f"{url}complete/").json()["state"] == "completed"
    rows = AccessLog.objects.filter(patient=cast.patient, object_type="Handover", channel="api")
    assert rows.filter(action="export").count() == 2
    assert rows.filter(action="list").count() == 1


def test_declining_and_cancelling(cast, draft):
    nurse, receiver = api(cast, "nurse"), api(cast, "other_nurse")
    url = f"/api/v1/handovers/{draft.pk}/"
    nurse.post(f"{url}send/")
    assert receiver.post(f"{url}decline/", {"reason": ""}, content_type=JSON).status_code == 400
    declined = receiver.post(f"{url}decline/", {"reason": "Ingen plats"}, content_type=JSON)
    assert declined.json()["state"] == "declined"
    again = nurse.post(f"{url}cancel/")
    assert again.status_code == 400


def test_the_patient_reads_their_own_handover_but_moves_nothing(cast, draft):
    client = api(cast, "patient")
    assert client.get(f"/api/v1/handovers/{draft.pk}/").status_code == 200
    assert client.post(f"/api/v1/handovers/{draft.pk}/send/").status_code == 404
    assert Handover.objects.get(pk=draft.pk).state == "draft"


@pytest.mark.parametrize("who", ["relative", "stranger_relative", "anonymous"])
def test_only_staff_and_the_patient_reach_handovers(cast, draft, who):
    client = api(cast, who) if who != "anonymous" else cast.client("anonymous")
    assert client.get(f"/api/v1/handovers/{draft.pk}/").status_code in (403, 404)
    listed = client.get("/api/v1/handovers/")
    assert listed.status_code in (200, 403)
    if listed.status_code == 200:
        assert listed.json()["results"] == []


def test_lists_cost_the_same_for_one_and_three_rows(cast):
    nurse = api(cast, "nurse")

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert nurse.get(url).status_code == 200
        return len(ctx.captured_queries)

    nurse.get("/api/v1/patients/")
    handover_services.handover_create(patient=cast.patient, by=cast.nurse, to_unit=cast.other_unit)
    one = {url: count(url) for url in ("/api/v1/patients/", "/api/v1/handovers/")}
    for _ in range(2):
        plan = f.covered_plan(cast.unit, nurse=cast.nurse)
        handover_services.handover_create(
            patient=plan.patient, by=cast.nurse, to_unit=cast.other_unit
        )
    # patients: session, user, units, count, page, care relations + units, nurse
    # assignments + nurses, access-log insert; handovers: session, user, units, count,
    # page, access-log insert
    assert {url: count(url) for url in one} == one


@pytest.mark.parametrize(
    ("who", "status"),
    [("nurse", 200), ("other_nurse", 404), ("patient", 404), ("relative", 404)],
)
def test_patients_are_for_staff_of_their_unit(cast, who, status):
    response = api(cast, who).get(f"/api/v1/patients/{cast.patient.pk}/")
    assert response.status_code == status
    if status == 200:
        data = response.json()
        assert data["name"] == "Alva Andersson"
        assert data["contact_nurse"] == cast.nurse.get_full_name()
        assert "personnummer" not in data
    listed = api(cast, who).get("/api/v1/patients/").json()["results"]
    assert [p["id"] for p in listed] == ([cast.patient.pk] if status == 200 else [])


def test_the_patient_reads_their_own_access_log_and_nobody_else_does(cast):
    api(cast, "nurse").get(f"/api/v1/patients/{cast.patient.pk}/")
    rows = api(cast, "patient").get("/api/v1/access-log/").json()["results"]
    assert rows and rows[0]["user_name"] == str(cast.nurse)
    assert rows[0]["basis"] == "care_relation"
    for who in ("nurse", "relative"):
        assert api(cast, who).get("/api/v1/access-log/").json()["results"] == []


def test_staff_send_a_questionnaire(cast):
    from selfmonitor import services as sm_services

    for path in sorted(sm_services.INSTRUMENT_DIR.glob("*.json")):
        sm_services.instrument_load(
            data=sm_services.read_instrument_file(path), source_file=path.name
        )
    body = {"patient": cast.patient.pk, "instrument": "distress-thermometer", "due_days": 3}
    sent = api(cast, "nurse").post("/api/v1/questionnaire-assignments/", body, content_type=JSON)
    assert sent.status_code == 201, sent.content
    assert Assignment.objects.filter(patient=cast.patient).count() == 1
    unknown = api(cast, "nurse").post(
        "/api/v1/questionnaire-assignments/", {**body, "instrument": "nope"}, content_type=JSON
    )
    assert unknown.status_code == 400
    for who in ("other_nurse", "patient", "relative"):
        refused = api(cast, who).post("/api/v1/questionnaire-assignments/", body, content_type=JSON)
        assert refused.status_code in (403, 404)
    assert Assignment.objects.filter(patient=cast.patient).count() == 1


def test_care_map_versions_for_the_patient_and_the_unit(cast):
    cmap = services.care_map_of(cast.patient)
    services.care_map_entry_save(
        entry=CareMapEntry(care_map=cmap, kind=EntryKind.PERSON, name="Ella"),
        by=cast.patient_user,
        creating=True,
    )
    listed = api(cast, "patient").get("/api/v1/care-map-versions/").json()["results"]
    assert listed and listed[0]["number"] == 1
    detail = api(cast, "nurse").get(f"/api/v1/care-map-versions/{listed[0]['id']}/")
    assert detail.status_code == 200 and "snapshot" in detail.json()
    for who in ("other_nurse", "relative"):
        assert (
            api(cast, who).get(f"/api/v1/care-map-versions/{listed[0]['id']}/").status_code == 404
        )


def test_a_relative_accepts_an_invitation_through_the_api(cast):
    from allauth.account.models import EmailAddress

    # Acceptance is bound to the invited, verified address (contacts.services).
    EmailAddress.objects.update_or_create(
        user=cast.stranger_relative,
        email=cast.stranger_relative.email,
        defaults={"verified": True, "primary": True},
    )
    invitation, token = services.invitation_create(
        patient=cast.patient,
        by=cast.patient_user,
        email=cast.stranger_relative.email,
        scopes=["calendar"],
    )
    client = api(cast, "stranger_relative")
    bad = client.post("/api/v1/invitation-acceptances/", {"token": "nope"}, content_type=JSON)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    ok = client.post("/api/v1/invitation-acceptances/", {"token": token}, content_type=JSON)
    assert ok.status_code == 201, ok.content
    assert RelativeGrant.objects.filter(
        patient=cast.patient, relative=cast.stranger_relative
    ).exists()
    used = client.post("/api/v1/invitation-acceptances/", {"token": token}, content_type=JSON)
    assert used.status_code == 400 and used.json()["code"] == "used"
