"""Every FHIR export is valid against fhir.resources R4B and the official R4 JSON schema,
with data that exercises every shipped instrument, item type and state; ids are FHIR ids;
one object has one id and one status in every export; staff exports identify the patient
by personnummer; the handover is a document Bundle whose references all resolve and
which never carries PREM answers, nor the record before acceptance."""

from __future__ import annotations

import pytest
from django.utils import timezone

from careplan import fhir as core
from careplan.models import CareUnit
from contacts import fhir as contacts_fhir
from contacts.handover import services as contact_services
from contacts.models import Handover, HandoverState
from rehab import fhir as rehab_fhir
from selfmonitor import fhir as sm_fhir

from .. import factories as f
from .validate import assert_valid, references, schema_errors

pytestmark = pytest.mark.django_db


def test_the_validator_catches_what_the_issue_found():
    """The check can fail: an id with '_' and a placeholder reference are refused."""
    bad = {
        "resourceType": "Observation",
        "id": "response-2-low_mood",
        "status": "final",
        "code": {"text": "x"},
    }
    assert schema_errors(bad)
    with pytest.raises(AssertionError):
        assert_valid(bad)
    doc = core.bundle([bad | {"id": "ok"}], type="document", id="d")
    doc["entry"][0]["resource"]["subject"] = {"reference": "Patient/404"}
    with pytest.raises(AssertionError, match="unresolvable"):
        assert_valid(doc)


def test_fhir_ids_keep_only_allowed_characters():
    assert core.fhir_id("response", 2, "low_mood") == "response-2-low-mood"
    with pytest.raises(ValueError):
        core.fhir_id("x" * 65)


def test_every_shipped_instrument_is_a_valid_questionnaire(instruments):
    for instrument in instruments.values():
        assert_valid(sm_fhir.questionnaire(instrument))


def test_every_response_and_its_scores_are_valid(answered):
    kinds_seen = set()
    for response in answered.values():
        qr = sm_fhir.questionnaire_response(response)
        assert_valid(qr)
        kinds_seen |= {next(iter(a)) for g in qr["item"] for i in g["item"] for a in i["answer"]}
        observations = sm_fhir.observations(response)
        for obs in observations:
            assert_valid(obs)
            assert obs["valueQuantity"]["system"] == "http://unitsofmeasure.org"
            assert obs["valueQuantity"]["code"] == "{score}"
        assert_valid(sm_fhir.observation_bundle(response))
    # Every item type of the shipped instruments reached the export.
    assert kinds_seen == {"valueInteger", "valueBoolean", "valueString", "valueCoding"}
    low_mood = [
        o["id"] for o in sm_fhir.observations(answered["symptom-scale"]) if "low" in o["id"]
    ]
    assert low_mood == [f"response-{answered['symptom-scale'].pk}-low-mood"]


def test_observation_ids_are_distinct_for_every_shipped_scale(answered):
    for response in answered.values():
        ids = [o["id"] for o in sm_fhir.observations(response)]
        assert len(ids) == len(set(ids)) > 0


def test_the_rehab_bundle_is_valid_resolvable_and_coded_with_the_published_kva_oid(
    cast, rehab_full
):
    data = rehab_fhir.rehab_plan_bundle(rehab_full)
    assert_valid(data)
    assert all(e["fullUrl"].startswith("urn:uuid:") for e in data["entry"])
    urls = {e["fullUrl"] for e in data["entry"]}
    internal = [r for r in references(data) if not r.startswith("Patient/")]
    assert internal and all(r in urls or r.startswith("CarePlan/") for r in internal)
    systems = {
        c["system"]
        for e in data["entry"]
        if e["resource"]["resourceType"] in ("ServiceRequest", "Procedure")
        for c in e["resource"]["code"]["coding"]
    }
    assert systems == {"urn:oid:1.2.752.116.1.3.2.3.4"}
    statuses = sorted(
        e["resource"].get("status")
        for e in data["entry"]
        if e["resource"]["resourceType"] in ("ServiceRequest", "Procedure")
    )
    assert statuses == ["active", "active", "completed", "revoked"]


def test_the_kva_system_is_a_setting(settings, rehab_full):
    settings.REHAB_KVA_SYSTEM = "urn:oid:1.2.3"
    data = rehab_fhir.rehab_plan_bundle(rehab_full)
    codings = [
        c
        for e in data["entry"]
        if e["resource"]["resourceType"] == "ServiceRequest"
        for c in e["resource"]["code"]["coding"]
    ]
    assert {c["system"] for c in codings} == {"urn:oid:1.2.3"}


def test_care_map_entries_and_consents_in_every_state_are_valid(care_map_full, grants):
    for entry in care_map_full:
        assert_valid(contacts_fhir.care_map_entry(entry))
    statuses = []
    for grant in grants:
        data = contacts_fhir.grant_consent(grant)
        assert_valid(data)
        statuses.append(data["status"])
    assert statuses == ["active", "inactive", "inactive"]


def test_the_patient_carries_the_personnummer_with_the_official_oid(cast):
    data = core.patient_resource(cast.patient)
    assert_valid(data)
    assert data["identifier"] == [
        {
            "use": "official",
            "system": "urn:oid:1.2.752.129.2.1.3.1",
            "value": cast.patient.personnummer,
        }
    ]


def test_a_samordningsnummer_gets_its_own_system(cast):
    cast.patient.personnummer = "197010632391"  # synthetic, day 63 = 3rd + 60
    assert core.patient_resource(cast.patient)["identifier"][0]["system"] == (
        "urn:oid:1.2.752.129.2.1.3.3"
    )


def test_care_team_and_main_care_plan_are_valid_and_complete(cast):
    resources = core.patient_core(cast.patient)
    kinds = [r["resourceType"] for r in resources]
    assert kinds == [
        "Patient",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "CareTeam",
        "CarePlan",
    ]
    for r in resources:
        assert_valid(r)
    plan = resources[-1]
    assert plan["category"][0]["text"] == "Min vårdplan cancer"
    assert plan["author"]["reference"] == f"Organization/unit-{cast.unit.pk}"
    assert plan["careTeam"] == [{"reference": f"CareTeam/careteam-{cast.patient.pk}"}]
    assert "start" in plan["period"]
    team = resources[4]
    assert [p["member"]["reference"].split("/")[0] for p in team["participant"]] == [
        "PractitionerRole",
        "Organization",
    ]
    assert_valid(core.bundle(resources, type="collection"))


# --- Handover document ------------------------------------------------------------------


@pytest.fixture
def handover(cast, answered, rehab_full):
    cast.other_unit.kind = CareUnit.Kind.PRIMARY
    cast.other_unit.save(update_fields=["kind"])
    cast.plan.followup_plan = "Mammografi varje år.\r\nKontakt vid nya besvär."
    cast.plan.save(update_fields=["followup_plan"])
    h = contact_services.handover_create(
        patient=cast.patient,
        by=cast.nurse,
        to_unit=cast.other_unit,
        situation="Behandlingen avslutad",
        background="Opererad",
        recommendation="Årlig mammografi",
        needs_and_wishes="Besök i hemmet\r\nhelst på förmiddagen",
    )
    return h


def _kinds(data):
    return [e["resource"]["resourceType"] for e in data["entry"]]


def _resources(data, kind):
    return [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == kind]


def test_the_handover_is_a_valid_document_in_every_state(cast, handover):
    contact_services.handover_send(handover=handover, by=cast.nurse)
    states = {}
    for state in HandoverState.values:
        Handover.objects.filter(pk=handover.pk).update(
            state=state,
            decline_reason="Ingen plats" if state == "declined" else "",
        )
        handover.refresh_from_db()
        for full in (False, True):
            data = contacts_fhir.handover_bundle(handover, full=full)
            assert_valid(data)
            assert data["type"] == "document"
            assert _kinds(data)[0] == "Composition"
            states[state] = _resources(data, "Task")[0]["status"]
    assert states == {
        "draft": "draft",
        "sent": "requested",
        "accepted": "accepted",
        "completed": "completed",
        "declined": "rejected",
        "cancelled": "cancelled",
    }


def test_the_accepted_handover_document_holds_everything_the_receiver_needs(cast, handover):
    contact_services.handover_send(handover=handover, by=cast.nurse)
    contact_services.handover_accept(
        handover=handover,
        by=cast.other_nurse,
        contact_nurse=cast.other_nurse,
        contact_made_on=timezone.localdate(),
        contact_how="Telefon",
    )
    handover.refresh_from_db()
    data = contacts_fhir.handover_bundle(handover, full=True)
    assert_valid(data)
    kinds = set(_kinds(data))
    assert {
        "Composition",
        "Patient",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "CareTeam",
        "CarePlan",
        "Goal",
        "ServiceRequest",
        "Procedure",
        "Observation",
        "Task",
    } <= kinds
    patient = _resources(data, "Patient")[0]
    assert patient["identifier"][0]["value"] == cast.patient.personnummer
    # Every resource about the patient references the one Patient entry.
    patient_url = next(e["fullUrl"] for e in data["entry"] if e["resource"] is patient)
    for e in data["entry"]:
        r = e["resource"]
        for key in ("subject", "for", "patient"):
            if key in r and r["resourceType"] != "Practitioner":
                assert r[key]["reference"] == patient_url, (r["resourceType"], key)
    assert len(_resources(data, "Organization")) == 2
    roles = _resources(data, "PractitionerRole")
    assert {r["organization"]["display"] for r in roles} == {cast.unit.name, cast.other_unit.name}
    composition = _resources(data, "Composition")[0]
    titles = [s["title"] for s in composition["section"]]
    assert titles[:6] == [
        "Situation",
        "Bakgrund",
        "Aktuell bedömning",
        "Rekommendation",
        "Patientens behov och önskemål",
        "Uppföljningsplan",
    ]
    needs = composition["section"][4]["text"]["div"]
    assert "Besök i hemmet<br/>helst på förmiddagen" in needs
    # The same rehab plan has the same id and status as in the rehab export.
    rehab = rehab_fhir.rehab_plan_resources(cast.patient.rehab_plans.get())
    in_doc = {(r["resourceType"], r["id"], r.get("status")) for r in _resources(data, "CarePlan")}
    assert (rehab[0]["resourceType"], rehab[0]["id"], rehab[0]["status"]) in in_doc
    service_requests = [
        s for s in _resources(data, "ServiceRequest") if s["id"].startswith("rehab-request")
    ]
    assert service_requests
    assert all(
        s["code"]["coding"][0]["system"] == "urn:oid:1.2.752.116.1.3.2.3.4"
        for s in service_requests
    )


def test_the_handover_document_never_carries_prem(cast, handover, answered):
    data = contacts_fhir.handover_bundle(handover, full=True)
    codes = [o["code"]["coding"][0]["code"] for o in _resources(data, "Observation")]
    assert codes
    assert not [c for c in codes if c.startswith("care-experience.")]
    assert "care-experience" not in str(data)


def test_before_acceptance_the_receiver_gets_only_the_handover(cast, handover):
    contact_services.handover_send(handover=handover, by=cast.nurse)
    handover.refresh_from_db()
    from contacts.handover.access import handover_reach

    reach = handover_reach(cast.other_nurse, handover)
    assert not contacts_fhir.handover_document_full(handover, reach)
    assert contacts_fhir.handover_document_full(handover, handover_reach(cast.nurse, handover))
    data = contacts_fhir.handover_bundle(handover, full=False)
    assert_valid(data)
    kinds = set(_kinds(data))
    assert not kinds & {"Observation", "Goal", "Procedure", "CarePlan"}
    assert not [e for e in data["entry"] if e["resource"]["id"].startswith("rehab")]
    # What the handover needs: who, from and to whom, what is asked, SBAR and follow-up.
    assert {"Patient", "Organization", "PractitionerRole", "CareTeam", "Task"} <= kinds
    sections = _resources(data, "Composition")[0]["section"]
    follow_up = next(s for s in sections if s["title"] == "Uppföljningsplan")
    assert "Mammografi varje år." in follow_up["text"]["div"]


def test_a_patient_with_a_samordningsnummer_and_no_nurse_still_gives_valid_exports(db):
    plan = f.covered_plan()
    plan.patient.contact_nurse_assignment()
    for r in core.patient_core(plan.patient):
        assert_valid(r)
