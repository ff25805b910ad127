"""The read-only FHIR endpoint /fhir/: metadata, read, search with paging, $everything,
content negotiation, OperationOutcome errors, access logging for every read, and
OAuth2 machine clients bound to a unit and to scopes."""

from __future__ import annotations

import base64

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careplan.fhir_clients import fhir_client_create
from careplan.fhir_views import READERS
from careplan.models import AccessLog
from selfmonitor import services

from .conftest import full_answers
from .validate import assert_valid

pytestmark = pytest.mark.django_db
FHIR = "application/fhir+json"


def get(client, url, **params):
    return client.get(url, params, HTTP_ACCEPT=FHIR)


def outcome(response, status):
    assert response.status_code == status, response.content[:300]
    data = response.json()
    assert data["resourceType"] == "OperationOutcome"
    assert_valid(data)
    return data["issue"][0]["code"]


def test_metadata_lists_exactly_what_is_served(client):
    response = get(client, "/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR)
    data = response.json()
    assert_valid(data)
    kinds = {r["type"]: r for r in data["rest"][0]["resource"]}
    assert set(kinds) == set(READERS)
    assert [p["name"] for p in kinds["Observation"]["searchParam"]] == ["patient", "code", "date"]
    assert kinds["Patient"]["operation"][0]["name"] == "everything"


def test_plain_json_is_served_too_and_other_types_are_refused(client):
    assert client.get("/fhir/metadata", HTTP_ACCEPT="application/json").status_code == 200
    outcome(client.get("/fhir/metadata", HTTP_ACCEPT="text/csv"), 406)


def test_the_api_fhir_actions_answer_fhir_json(cast, answered):
    response = cast.client("nurse").get(
        f"/api/v1/questionnaire-responses/{answered['symptom-scale'].pk}/fhir/",
        HTTP_ACCEPT=FHIR,
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(FHIR)
    assert_valid(response.json())


def test_errors_are_operation_outcomes(cast, client):
    assert outcome(get(client, "/fhir/Observation"), 401) == "login"
    nurse = cast.client("nurse")
    assert outcome(get(nurse, "/fhir/Nothing/1"), 404) == "not-found"
    assert outcome(get(nurse, "/fhir/Patient/1/x/y"), 404) == "not-found"
    assert outcome(get(nurse, "/fhir/Observation", foo="1"), 400) == "invalid"
    assert outcome(get(nurse, "/fhir/Observation", date="yesterday"), 400) == "invalid"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("patient", 200),
        ("nurse", 200),
        ("other_nurse", 404),
        ("relative", 404),
        ("stranger_relative", 404),
    ],
)
def test_reading_the_patient_and_an_observation_is_checked_and_logged(cast, answered, who, status):
    client = cast.client(who)
    response = answered["symptom-scale"]
    before = AccessLog.objects.filter(patient=cast.patient).count()
    obs_id = f"response-{response.pk}-low-mood"
    got = get(client, f"/fhir/Observation/{obs_id}")
    assert got.status_code == status
    pat = get(client, f"/fhir/Patient/{cast.patient.pk}")
    assert pat.status_code == status
    if status == 200:
        assert_valid(got.json())
        assert got.json()["id"] == obs_id
        assert pat.json()["identifier"][0]["value"] == cast.patient.personnummer
    else:
        outcome(got, 404)
    rows = AccessLog.objects.filter(patient=cast.patient).count() - before
    assert rows == (0 if who == "patient" else 2)


def test_a_prem_answer_is_never_read_by_staff(cast, answered):
    prem = answered["care-experience"]
    for url in (
        f"/fhir/QuestionnaireResponse/response-{prem.pk}",
        f"/fhir/Observation/response-{prem.pk}-information",
    ):
        outcome(get(cast.client("nurse"), url), 404)
        assert get(cast.client("patient"), url).status_code == 200


def test_every_read_type_answers_valid_fhir(cast, answered, rehab_full):
    from contacts.handover import services as contact_services

    h = contact_services.handover_create(
        patient=cast.patient, by=cast.nurse, to_unit=cast.other_unit, situation="S"
    )
    nurse = cast.client("nurse")
    instrument = answered["symptom-scale"].instrument
    for url in (
        f"/fhir/Patient/{cast.patient.pk}",
        f"/fhir/CareTeam/careteam-{cast.patient.pk}",
        f"/fhir/CarePlan/careplan-{cast.plan.pk}",
        f"/fhir/CarePlan/rehab-plan-{rehab_full.pk}",
        f"/fhir/Organization/unit-{cast.unit.pk}",
        f"/fhir/Questionnaire/{instrument.key}-v{instrument.version}",
        f"/fhir/QuestionnaireResponse/response-{answered['symptom-scale'].pk}",
        f"/fhir/Task/handover-{h.pk}",
    ):
        response = get(nurse, url)
        assert response.status_code == 200, url
        assert_valid(response.json())
    outcome(get(cast.client("other_nurse"), f"/fhir/CarePlan/careplan-{cast.plan.pk}"), 404)


def _answer(cast, instruments, key, n):
    for _ in range(n):
        a = services.assignment_send(
            patient=cast.patient, instrument=instruments[key], by=cast.nurse
        )
        services.response_submit(
            assignment=a, by=cast.patient_user, raw=full_answers(instruments[key])
        )


def test_observation_search_by_patient_code_and_date_pages(cast, instruments):
    _answer(cast, instruments, "distress-thermometer", 3)
    _answer(cast, instruments, "symptom-scale", 1)
    nurse = cast.client("nurse")
    code = (
        "https://careplan.invalid/fhir/CodeSystem/selfmonitor-scale|distress-thermometer.distress"
    )
    before = AccessLog.objects.filter(patient=cast.patient, action="list").count()
    first = get(
        nurse,
        "/fhir/Observation",
        patient=f"Patient/{cast.patient.pk}",
        code=code,
        date="ge2000-01-01",
        _count=2,
    )
    assert first.status_code == 200
    data = first.json()
    assert_valid(data)
    assert data["type"] == "searchset" and data["total"] == 3
    assert len(data["entry"]) == 2
    next_url = next(link["url"] for link in data["link"] if link["relation"] == "next")
    second = nurse.get(next_url, HTTP_ACCEPT=FHIR).json()
    assert len(second["entry"]) == 1
    assert not [link for link in second["link"] if link["relation"] == "next"]
    ids = [e["resource"]["id"] for e in data["entry"] + second["entry"]]
    assert len(set(ids)) == 3 and all(i.endswith("-distress") for i in ids)
    assert AccessLog.objects.filter(patient=cast.patient, action="list").count() - before == 3
    # Without a code, every scored scale of every response; a future date finds none.
    everything = get(nurse, "/fhir/Observation", patient=cast.patient.pk, _count=200).json()
    assert everything["total"] == 3 * 2 + 12
    assert get(nurse, "/fhir/Observation", date="gt2999-01-01").json()["total"] == 0
    # Another unit's nurse finds nothing.
    assert get(cast.client("other_nurse"), "/fhir/Observation").json()["total"] == 0


def test_questionnaire_response_search(cast, instruments):
    _answer(cast, instruments, "distress-thermometer", 2)
    _answer(cast, instruments, "care-experience", 1)
    nurse = cast.client("nurse")
    data = get(
        nurse,
        "/fhir/QuestionnaireResponse",
        patient=cast.patient.pk,
        questionnaire="https://careplan.invalid/fhir/Questionnaire/distress-thermometer",
        authored="ge2000-01-01",
    ).json()
    assert_valid(data)
    assert data["total"] == 2
    # PREM answers: the patient's own only.
    assert get(nurse, "/fhir/QuestionnaireResponse").json()["total"] == 2
    assert get(cast.client("patient"), "/fhir/QuestionnaireResponse").json()["total"] == 3


def test_search_costs_the_same_for_one_and_three_matches(cast, instruments):
    nurse = cast.client("nurse")
    nurse.get("/fhir/metadata")

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert get(nurse, "/fhir/Observation", patient=cast.patient.pk).status_code == 200
        return len(ctx.captured_queries)

    _answer(cast, instruments, "distress-thermometer", 1)
    one = queries()
    _answer(cast, instruments, "distress-thermometer", 2)
    # session, user, the user's units, the pairs (scores), the page's responses,
    # the access-log insert
    assert queries() == one


def test_everything_is_for_staff_and_valid(cast, answered, rehab_full, care_map_full, grants):
    response = get(cast.client("nurse"), f"/fhir/Patient/{cast.patient.pk}/$everything")
    assert response.status_code == 200
    data = response.json()
    assert_valid(data)
    kinds = {e["resource"]["resourceType"] for e in data["entry"]}
    assert {
        "Patient",
        "CareTeam",
        "CarePlan",
        "QuestionnaireResponse",
        "Observation",
        "Goal",
        "RelatedPerson",
        "Consent",
    } <= kinds
    assert "care-experience" not in str(data)
    assert AccessLog.objects.filter(patient=cast.patient, action="export").count() == 1
    for who in ("patient", "other_nurse", "relative"):
        outcome(get(cast.client(who), f"/fhir/Patient/{cast.patient.pk}/$everything"), 404)


# --- Machine clients ----------------------------------------------------------------------


def _token(client, fhir_client, secret):
    basic = base64.b64encode(f"{fhir_client.application.client_id}:{secret}".encode()).decode()
    response = client.post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_a_machine_client_reads_within_its_unit_and_scopes_and_is_logged(cast, client, answered):
    fhir_client, secret = fhir_client_create(
        name="Regionens integrationsplattform",
        unit=cast.unit,
        scopes=["system/Observation.read", "system/QuestionnaireResponse.read"],
    )
    token = _token(client, fhir_client, secret)
    assert set(token["scope"].split()) == {
        "system/Observation.read",
        "system/QuestionnaireResponse.read",
    }
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token['access_token']}", "HTTP_ACCEPT": FHIR}
    response = answered["symptom-scale"]
    got = client.get(f"/fhir/Observation/response-{response.pk}-low-mood", **auth)
    assert got.status_code == 200
    row = AccessLog.objects.filter(patient=cast.patient).order_by("-id").first()
    assert row.user == fhir_client.application.user
    assert "Regionens integrationsplattform" in row.user_name
    assert row.acting_unit == cast.unit
    # Not in its scopes: 403; a wrong token: 401.
    outcome(client.get(f"/fhir/Patient/{cast.patient.pk}", **auth), 403)
    outcome(
        client.get("/fhir/Observation", HTTP_AUTHORIZATION="Bearer nope", HTTP_ACCEPT=FHIR), 401
    )
    # A client of another unit reads nothing of this patient.
    other, other_secret = fhir_client_create(
        name="Annan region", unit=cast.other_unit, scopes=["system/Observation.read"]
    )
    other_auth = {
        "HTTP_AUTHORIZATION": f"Bearer {_token(client, other, other_secret)['access_token']}",
        "HTTP_ACCEPT": FHIR,
    }
    outcome(client.get(f"/fhir/Observation/response-{response.pk}-low-mood", **other_auth), 404)
    assert client.get("/fhir/Observation", **other_auth).json()["total"] == 0


def test_a_client_cannot_ask_for_scopes_it_was_not_given(cast, client):
    fhir_client, secret = fhir_client_create(
        name="Registret", unit=cast.unit, scopes=["system/Observation.read"]
    )
    basic = base64.b64encode(f"{fhir_client.application.client_id}:{secret}".encode()).decode()
    response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "system/Patient.read"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 400
    with pytest.raises(ValueError):
        fhir_client_create(name="x", unit=cast.unit, scopes=["system/Everything.write"])


# --- Every kind $everything holds can be read by id ----------------------------------------


@pytest.fixture
def everything(cast, answered, rehab_full, care_map_full, grants):
    """$everything over a record with every kind of resource (a sent handover with a new
    contact nurse too), as the responsible unit's nurse reads it."""
    from contacts.handover import services as contact_services

    contact_services.handover_create(
        patient=cast.patient, by=cast.nurse, to_unit=cast.other_unit, situation="S"
    )
    response = get(cast.client("nurse"), f"/fhir/Patient/{cast.patient.pk}/$everything")
    assert response.status_code == 200
    return [e["resource"] for e in response.json()["entry"]]


def test_every_resource_of_everything_is_read_by_id_the_same(cast, everything):
    nurse = cast.client("nurse")
    kinds = {r["resourceType"] for r in everything}
    assert {
        "Consent",
        "Goal",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "Procedure",
        "RelatedPerson",
        "ServiceRequest",
        "Task",
    } <= kinds
    # Every kind $everything holds is read by id, and the metadata says so.
    assert kinds <= set(READERS)
    for resource in everything:
        url = f"/fhir/{resource['resourceType']}/{resource['id']}"
        got = get(nurse, url)
        assert got.status_code == 200, (url, got.content[:300])
        assert got.json() == resource, url  # one builder: the same resource both ways
        assert_valid(got.json())


NEW_KINDS = ("RelatedPerson", "Consent", "Goal", "Procedure", "ServiceRequest")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("patient", 200),
        ("nurse", 200),
        ("other_nurse", 404),
        ("relative", 404),
        ("stranger_relative", 404),
        ("anonymous", 401),
    ],
)
def test_reading_the_new_kinds_is_checked_and_logged(cast, everything, who, status):
    client = cast.client(who)
    picked = {}
    for r in everything:
        picked.setdefault(r["resourceType"], r)
    before = AccessLog.objects.filter(patient=cast.patient).count()
    for kind in NEW_KINDS:
        got = get(client, f"/fhir/{kind}/{picked[kind]['id']}")
        if status == 200:
            assert got.status_code == 200, kind
            assert got.json() == picked[kind]
        else:
            outcome(got, status)
    new_rows = AccessLog.objects.filter(patient=cast.patient).order_by("id")[before:]
    logged = {"patient": 0, "anonymous": 0}
    # One row per read (allowed or denied) for everyone but the patient, channel API.
    assert len(new_rows) == logged.get(who, len(NEW_KINDS)), who
    outcomes = {(r.outcome, r.channel) for r in new_rows}
    if who == "nurse":
        assert outcomes == {("allowed", "api")}
        assert {r.object_type for r in new_rows} == {"CareMapEntry", "RelativeGrant", "RehabPlan"}
    elif new_rows:
        assert outcomes == {("denied", "api")}


def test_staff_directory_kinds_are_for_staff_only(cast, everything):
    roles = [r for r in everything if r["resourceType"] == "PractitionerRole"]
    people = [r for r in everything if r["resourceType"] == "Practitioner"]
    for who in ("patient", "relative", "stranger_relative"):
        client = cast.client(who)
        outcome(get(client, f"/fhir/PractitionerRole/{roles[0]['id']}"), 404)
        outcome(get(client, f"/fhir/Practitioner/{people[0]['id']}"), 404)
    nurse = cast.client("nurse")
    # A staff member in a unit they do not work in is no PractitionerRole.
    outcome(get(nurse, f"/fhir/PractitionerRole/staff-{cast.nurse.pk}-unit-999999"), 404)
    outcome(get(nurse, f"/fhir/Practitioner/staff-{cast.patient_user.pk}"), 404)
    # An id of one kind asked for as another: not found.
    goal = next(r for r in everything if r["resourceType"] == "Goal")
    outcome(get(nurse, f"/fhir/Procedure/{goal['id']}"), 404)
    procedure = next(r for r in everything if r["resourceType"] == "Procedure")
    outcome(
        get(nurse, f"/fhir/ServiceRequest/{procedure['id'].replace('procedure', 'request')}"), 404
    )
    contact = next(
        r
        for r in everything
        if r["id"].startswith("caremap-") and r["resourceType"] == "Organization"
    )
    outcome(get(nurse, f"/fhir/RelatedPerson/{contact['id']}"), 404)
