"""Symptom reports on the patient's own initiative: the triage rules (worked examples per
red flag), one report and one graded alert per form, the advice page with the unit's
phone and hours, access for the fixed cast, trends and FHIR."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from careplan.models import AccessLog, CarePlan
from contacts.models import Scope
from selfmonitor import fhir, services, symptom_services, triage
from selfmonitor.definition import DefinitionError
from selfmonitor.models import Alert, Response, SymptomReport, UnitAdvice

from ..conftest import CAST


@pytest.fixture
def guide(db):
    _instrument, guide = symptom_services.symptom_setup()
    return guide.definition


def _level(guide, symptoms, *, in_treatment):
    return triage.overall(triage.advise(guide, symptoms, in_treatment=in_treatment))


# --- The rules: worked examples, one per red flag (and its non-red neighbours) ----------

# (symptoms {symptom: severity}, in treatment, expected level)
WORKED = [
    # Fever >= 38 °C during chemotherapy: call now (neutropenic fever).
    ({"fever": 2}, True, "call_now"),
    # The same fever outside treatment: today; feeling hot under 38: self-care.
    ({"fever": 2}, False, "call_today"),
    ({"fever": 1}, True, "self_care"),
    # Fever with chills / very ill: call now, in or out of treatment (sepsis).
    ({"fever": 3}, False, "call_now"),
    ({"fever": 3}, True, "call_now"),
    # Signs of infection: same day during treatment even when mild; severe: now.
    ({"infection": 1}, True, "call_today"),
    ({"infection": 1}, False, "self_care"),
    ({"infection": 3}, False, "call_now"),
    # Heavy bleeding / blood in vomit, stools or urine.
    ({"bleeding": 3}, False, "call_now"),
    ({"bleeding": 2}, False, "call_today"),
    ({"bleeding": 1}, False, "self_care"),
    # Breathless at rest: never self-care; hard to speak or worse: now.
    ({"breathless_rest": 1}, False, "call_today"),
    ({"breathless_rest": 2}, False, "call_now"),
    ({"breathless_rest": 3}, False, "call_now"),
    # Severe diarrhoea / vomiting (dehydration), mouth so sore one cannot drink.
    ({"diarrhoea": 3}, False, "call_now"),
    ({"diarrhoea": 2}, False, "call_today"),
    ({"vomiting": 3}, False, "call_now"),
    ({"mouth": 3}, False, "call_now"),
    # Sudden swelling of one limb (a clot), severe new pain, severe breathlessness.
    ({"swelling": 3}, False, "call_now"),
    ({"new_pain": 3}, False, "call_now"),
    ({"breathless": 3}, False, "call_now"),
    # Not red flags: severe tiredness or low mood is "today", never "now".
    ({"tiredness": 3}, False, "call_today"),
    ({"depression": 3}, False, "call_today"),
    ({"tiredness": 1, "nausea": 1}, False, "self_care"),
    # Several symptoms: the most urgent one decides.
    ({"tiredness": 1, "fever": 2, "skin": 2}, True, "call_now"),
]


@pytest.mark.parametrize(("symptoms", "in_treatment", "expected"), WORKED)
def test_worked_examples(guide, symptoms, in_treatment, expected):
    assert _level(guide, symptoms, in_treatment=in_treatment) == expected


def test_every_symptom_and_severity_gets_advice_with_a_source_in_both_languages(guide):
    instrument, _g = symptom_services.symptom_setup()
    for item in symptom_services.symptom_items(instrument):
        for severity in (1, 2, 3):
            for in_treatment in (True, False):
                advice = triage.advise(guide, {item["id"]: severity}, in_treatment=in_treatment)
                assert len(advice) == 1, (item["id"], severity)
                assert advice[0].text["sv"] and advice[0].text["en"]
                assert "review" in advice[0].source


def test_the_loader_refuses_a_guide_that_leaves_a_symptom_without_advice(guide):
    instrument, _g = symptom_services.symptom_setup()
    broken = json.loads(json.dumps(guide))
    broken["rules"] = [r for r in broken["rules"] if r["symptom"] != "bleeding"]
    with pytest.raises(DefinitionError) as exc:
        triage.validate_guide(broken, instrument=instrument.definition, where="x.json")
    assert "symptom 'bleeding'" in str(exc.value)


# --- "During chemotherapy" ---------------------------------------------------------------


def test_the_plan_in_treatment_phase_or_the_patients_word_makes_fever_a_red_flag(cast):
    assert symptom_services.patient_in_treatment(cast.plan, {}) is True  # phase: behandling
    cast.plan.phase = CarePlan.Phase.UPPFOLJNING
    assert symptom_services.patient_in_treatment(cast.plan, {}) is False
    assert symptom_services.patient_in_treatment(cast.plan, {"on_chemo": "yes"}) is True
    assert symptom_services.patient_in_treatment(None, {"on_chemo": "no"}) is False


def _submit(cast, answers, *, token=None, picked=None):
    return symptom_services.symptom_report_submit(
        patient=cast.patient,
        by=cast.patient_user,
        token=token or uuid.uuid4(),
        raw={k: [str(v)] for k, v in answers.items()},
        picked=picked or [k for k in answers if k not in ("on_chemo", "since", "details")],
    )


def test_fever_in_follow_up_phase_is_call_now_when_the_patient_says_chemotherapy(cast, guide):
    CarePlan.objects.filter(pk=cast.plan.pk).update(phase=CarePlan.Phase.UPPFOLJNING)
    assert _submit(cast, {"fever": 2, "on_chemo": "no"}).report.level == "call_today"
    assert _submit(cast, {"fever": 2, "on_chemo": "yes"}).report.level == "call_now"


# --- One report, one graded alert ------------------------------------------------------


def test_a_report_is_one_completed_response_and_one_alert_graded_by_the_triage(cast, guide):
    outcome = _submit(cast, {"fever": 2, "tiredness": 1, "since": 1, "details": "Frös\r\ni natt"})
    report = outcome.report
    assert report.level == "call_now" and report.in_treatment
    assert [r["symptom"] for r in report.results] == ["fever", "tiredness"]
    alert = Alert.objects.get(patient=cast.patient)
    assert alert.severity == Alert.Severity.HIGH
    assert alert.rule == "symptom-report"
    assert alert.response == report.response
    assert "Feber: 38,0 °C eller mer" in alert.text_sv
    assert "Fever: 38.0 °C or higher" in alert.text_en
    assert report.response.status == Response.Status.COMPLETED
    assert report.response.scores["fever"] == 2 and report.response.scores["pain"] is None
    assert Alert.objects.worklist().filter(pk=alert.pk).exists()


@pytest.mark.parametrize(
    ("answers", "severity"),
    [({"tiredness": 1}, Alert.Severity.LOW), ({"pain": 2}, Alert.Severity.MEDIUM)],
)
def test_alert_severity_follows_the_level(cast, guide, answers, severity):
    _submit(cast, answers)
    assert Alert.objects.get(patient=cast.patient).severity == severity


def test_a_double_submitted_report_gives_one_report_and_one_alert(cast, guide):
    token = uuid.uuid4()
    first = _submit(cast, {"fever": 2}, token=token)
    second = _submit(cast, {"fever": 2}, token=token)
    assert second.already and second.report.pk == first.report.pk
    assert SymptomReport.objects.count() == 1
    assert Alert.objects.filter(patient=cast.patient).count() == 1


def test_a_picked_symptom_without_severity_is_named_and_nothing_stored(cast, guide):
    outcome = _submit(cast, {"fever": 2}, picked=["fever", "bleeding"])
    assert outcome.report is None and "bleeding" in outcome.errors
    assert _submit(cast, {}, picked=[]).errors["__all__"]
    assert not SymptomReport.objects.exists() and not Alert.objects.exists()


def test_a_unit_adapts_the_wording_but_not_the_triage(cast, guide):
    UnitAdvice.objects.create(
        unit=cast.unit,
        rule_key="fever-in-treatment",
        text_sv="Ring avdelning 12 direkt på 010-123 45 67.",
        text_en="Call ward 12 at once.",
        source="Bröstmottagningens patientinformation 2026",
    )
    report = _submit(cast, {"fever": 2}).report
    assert report.level == "call_now"
    assert report.results[0]["text"]["sv"].startswith("Ring avdelning 12")
    assert report.results[0]["source"] == "Bröstmottagningens patientinformation 2026"


def test_a_report_is_a_valid_fhir_questionnaire_response_and_in_the_trends(cast, guide):
    report = _submit(cast, {"fever": 2, "details": "Frös"}).report
    data = fhir.questionnaire_response(report.response)
    QuestionnaireResponse.model_validate(data)
    assert data["status"] == "completed"
    client = cast.client("patient")
    page = client.get(reverse("selfmonitor_trend", args=[cast.plan.pk, "symptom-report"]))
    assert page.status_code == 200
    assert "Feber" in page.content.decode()


# --- The web: pick, say how much, read the advice ---------------------------------------


def test_patient_reports_fever_and_gets_call_now_with_the_units_number(cast, guide):
    cast.unit.phone = "010-111 22 33"
    cast.unit.reachable = "Mån–fre 8–16"
    cast.unit.save()
    client = cast.client("patient")
    pick = client.get(reverse("symptom_new"))
    assert pick.status_code == 200 and "Feber" in pick.content.decode()
    form = client.get(reverse("symptom_new"), {"s": ["fever"], "step": "2"})
    assert form.status_code == 200
    token = form.context["token"]
    data = {"token": str(token), "s": ["fever"], "a-fever": "2", "a-details": "Frös\r\ni natt"}
    response = client.post(reverse("symptom_new"), data)
    report = SymptomReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("symptom_report", args=[report.pk])
    client.post(reverse("symptom_new"), data)  # the back button and send again
    assert SymptomReport.objects.count() == 1 and Alert.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Ring din vårdenhet nu" in page
    assert "tel:0101112233" in page
    assert "112" in page
    assert "granskas av vårdteamet" in page


def test_outside_opening_hours_the_advice_says_1177(cast, guide, settings):
    cast.unit.phone = "010-111 22 33"
    cast.unit.phone_opens = dt.time(8, 0)
    cast.unit.phone_closes = dt.time(16, 0)
    cast.unit.phone_weekdays = "12345"
    cast.unit.save()
    report = _submit(cast, {"fever": 2}).report
    client = cast.client("patient")
    saturday_night = timezone.make_aware(dt.datetime(2026, 11, 28, 23, 0))
    assert cast.unit.phone_open_at(saturday_night) is False
    assert cast.unit.phone_open_at(timezone.make_aware(dt.datetime(2026, 11, 30, 9, 0)))
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=saturday_night):
        page = client.get(reverse("symptom_report", args=[report.pk])).content.decode()
    assert "är stängd nu" in page, page[page.find("<main") : page.find("</main")]
    assert "tel:1177" in page


def test_a_missing_severity_keeps_the_other_answers_on_the_page(cast, guide):
    client = cast.client("patient")
    data = {
        "token": str(uuid.uuid4()),
        "s": ["fever", "pain"],
        "a-fever": "2",
        "a-details": "Ont i ryggen",
    }
    response = client.post(reverse("symptom_new"), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'name="a-fever" value="2" checked' in html
    assert "Ont i ryggen" in html
    assert "Välj hur mycket det besvärar dig." in html
    assert not SymptomReport.objects.exists()


def test_picking_nothing_says_so(cast, guide):
    response = cast.client("patient").get(reverse("symptom_new"), {"step": "2"})
    assert response.status_code == 400
    assert "Välj minst ett symtom." in response.content.decode()


@pytest.mark.parametrize("who", [w for w in CAST if w != "patient"])
def test_only_the_patient_reports(cast, guide, who):
    response = cast.client(who).post(
        reverse("symptom_new"), {"token": str(uuid.uuid4()), "s": ["fever"], "a-fever": "2"}
    )
    assert response.status_code in (302, 404)
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
    assert not SymptomReport.objects.exists()


REPORT_PAGE = {
    "patient": (200, 0),
    "nurse": (200, 1),
    "other_nurse": (404, 1),
    "relative": (404, 1),  # no questionnaires scope
    "stranger_relative": (404, 1),
    "anonymous": (302, 0),
}


@pytest.mark.parametrize("who", CAST)
def test_report_page_permissions_and_access_log(cast, guide, who):
    report = _submit(cast, {"fever": 2}).report
    status, rows = REPORT_PAGE[who]
    before = AccessLog.objects.filter(patient=cast.patient).count()
    response = cast.client(who).get(reverse("symptom_report", args=[report.pk]))
    assert response.status_code == status
    logs = AccessLog.objects.filter(patient=cast.patient)
    assert logs.count() - before == rows
    if rows:
        assert logs.latest("pk").object_type == "SymptomReport"


def test_a_relative_with_the_questionnaires_scope_reads_the_report(cast, guide):
    cast.grant.scopes = [*cast.grant.scopes, Scope.QUESTIONNAIRES]
    cast.grant.save()
    report = _submit(cast, {"fever": 2}).report
    page = cast.client("relative").get(reverse("symptom_report", args=[report.pk]))
    assert page.status_code == 200
    assert "Rapportera ett till symtom" not in page.content.decode()


def test_a_high_score_links_to_the_matching_self_care_advice(cast, send):
    assignment = send("symptom-scale")
    answers = {k: ["2"] for k in ("tiredness", "drowsiness", "nausea", "appetite")}
    answers |= {k: ["1"] for k in ("breath", "low_mood", "anxiety", "wellbeing")}
    outcome = services.response_submit(
        assignment=assignment, by=cast.patient_user, raw={"pain": ["8"], **answers}
    )
    assert outcome.completed, outcome.errors or outcome.missing
    client = cast.client("patient")
    page = client.get(reverse("selfmonitor_response", args=[outcome.response.pk])).content
    html = page.decode()
    advice_url = reverse("symptom_advice", args=["pain"])
    assert advice_url in html
    assert reverse("symptom_advice", args=["tiredness"]) not in html  # 2 of 10 is not high
    assert "8 av 10" in html
    advice = client.get(advice_url).content.decode()
    assert "Ta din smärtlindring som ordinerat." in advice
    assert "Ring din vårdenhet idag" in advice
    assert client.get(reverse("symptom_advice", args=["nonsense"])).status_code == 404


def test_the_symptom_report_is_not_offered_to_send_as_a_questionnaire(cast, guide, instruments):
    from careplan.access import patients_for
    from selfmonitor.admin import SendForm

    form = SendForm(patients=patients_for(cast.nurse))
    keys = set(form.fields["instrument"].queryset.values_list("key", flat=True))
    assert "symptom-report" not in keys and "distress-thermometer" in keys
