"""FHIR R4 export: Questionnaire per shipped instrument, QuestionnaireResponse and
Observations for scores, each validated with fhir.resources.R4B."""

from __future__ import annotations

import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from selfmonitor import fhir, services

KEYS = ["distress-thermometer", "symptom-scale", "rehab-needs", "care-experience"]


@pytest.mark.parametrize("key", KEYS)
def test_each_shipped_instrument_is_a_valid_questionnaire(instruments, key):
    data = fhir.questionnaire(instruments[key])
    resource = Questionnaire.model_validate(data)
    assert resource.url.endswith(f"/Questionnaire/{key}")
    assert resource.version == "1"
    assert resource.item[0].type == "group"


def test_scales_map_to_integers_with_min_and_max_and_conditions_to_enable_when(instruments):
    data = fhir.questionnaire(instruments["symptom-scale"])
    items = {i["linkId"]: i for page in data["item"] for i in page["item"]}
    assert items["pain"]["type"] == "integer"
    assert [e["valueInteger"] for e in items["pain"]["extension"]] == [0, 10]
    assert items["own_score"]["enableWhen"] == [
        {"question": "own_symptom", "operator": "exists", "answerBoolean": True}
    ]
    dt_items = {
        i["linkId"]: i
        for page in fhir.questionnaire(instruments["distress-thermometer"])["item"]
        for i in page["item"]
    }
    assert dt_items["problems_physical"]["repeats"] is True
    assert dt_items["wants_contact"]["type"] == "boolean"


def _answered(cast, send, by=None):
    assignment = send("distress-thermometer")
    return services.response_submit(
        assignment=assignment,
        by=by or cast.patient_user,
        raw={
            "distress": ["8"],
            "problems_physical": ["pain", "sleep"],
            "other_problem": ["Svårt att sova"],
            "wants_contact": ["yes"],
        },
    ).response


def test_a_response_is_a_valid_questionnaire_response(cast, send):
    response = _answered(cast, send)
    data = fhir.questionnaire_response(response)
    resource = QuestionnaireResponse.model_validate(data)
    assert resource.status == "completed"
    assert resource.questionnaire.endswith("/Questionnaire/distress-thermometer|1")
    assert data["author"] == {
        "reference": f"Patient/{cast.patient.pk}",
        "display": "Alva Andersson",
    }
    answers = {i["linkId"]: i["answer"] for g in data["item"] for i in g["item"]}
    assert answers["distress"] == [{"valueInteger": 8}]
    assert [a["valueCoding"]["code"] for a in answers["problems_physical"]] == ["pain", "sleep"]
    assert answers["wants_contact"] == [{"valueBoolean": True}]
    assert cast.patient.personnummer not in str(data)


def test_a_response_entered_by_a_nurse_names_her_as_author(cast, send):
    data = fhir.questionnaire_response(_answered(cast, send, by=cast.nurse))
    assert data["author"]["reference"] == f"Practitioner/staff-{cast.nurse.pk}"


def test_scores_are_valid_observations_in_a_bundle(cast, send):
    response = _answered(cast, send)
    observations = fhir.observations(response)
    assert [o["code"]["coding"][0]["code"] for o in observations] == [
        "distress-thermometer.distress",
        "distress-thermometer.problems",
    ]
    for data in observations:
        Observation.model_validate(data)
    assert observations[0]["valueQuantity"]["value"] == 8
    assert observations[0]["interpretation"] == [{"text": "Hög – vi hör av oss"}]
    Bundle.model_validate(fhir.observation_bundle(response))


def test_fhir_endpoints_serve_the_same_resources(cast, send, instruments):
    response = _answered(cast, send)
    client = cast.client("nurse")
    q = client.get(reverse("questionnaire-fhir", args=[instruments["symptom-scale"].pk]))
    Questionnaire.model_validate(q.json())
    qr = client.get(reverse("questionnaire-response-fhir", args=[response.pk]))
    QuestionnaireResponse.model_validate(qr.json())
    obs = client.get(reverse("questionnaire-response-observations", args=[response.pk]))
    Bundle.model_validate(obs.json())
