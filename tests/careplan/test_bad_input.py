"""Bad input answers 400 with a clear message, never 500: a NUL character in any form
value, query string or JSON string, and JSON nested too deep (``FormInputMiddleware``,
``careplan.parsers.SafeJSONParser``). What is stored stays as it was."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careplan.models import CalendarEvent, MessageThread, PlanSection
from selfmonitor import services as sm_services
from selfmonitor.models import Instrument, Response

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def assignment(cast):
    path = sm_services.INSTRUMENT_DIR / "distress-thermometer.v1.json"
    instrument, _what = sm_services.instrument_load(
        data=sm_services.read_instrument_file(path), source_file=path.name
    )
    assert isinstance(instrument, Instrument)
    return sm_services.assignment_send(patient=cast.patient, instrument=instrument, by=cast.nurse)


def _english(client):
    client.cookies["django_language"] = "en"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_a_nul_in_a_questionnaire_text_answer_is_a_clear_400(cast, assignment):
    response = _english(cast.client("patient")).post(
        reverse("selfmonitor_answer", args=[assignment.pk]),
        {"page": 1, "action": "next", "a-distress": "4", "a-other_problem": "Ont\x00i magen"},
    )

    assert response.status_code == 400
    assert "invisible control character (NUL)" in response.text
    assert not Response.objects.exists()


def test_the_refusal_is_in_swedish_by_default(cast, assignment):
    response = cast.client("patient").post(
        reverse("selfmonitor_answer", args=[assignment.pk]),
        {"page": 1, "action": "next", "a-other_problem": "\x00"},
    )

    assert response.status_code == 400
    assert "osynligt styrtecken (NUL)" in response.text


@pytest.mark.parametrize(
    ("who", "url", "data"),
    [
        ("patient", "message_new", {"subject": "Fråga", "body": "Hej\x00"}),
        ("nurse", "admin:careplan_careplan_changelist", None),
    ],
)
def test_a_nul_anywhere_in_a_form_or_query_is_a_400(cast, who, url, data):
    client = _english(cast.client(who))
    if data is None:
        response = client.get(reverse(url), {"q": "Alva\x00"})
    else:
        response = client.post(reverse(url), data)

    assert response.status_code == 400
    assert "invisible control character (NUL)" in response.text
    assert not MessageThread.objects.exists()


def test_a_nul_in_a_calendar_entry_of_the_web_form_stores_nothing(cast):
    response = _english(cast.client("patient")).post(
        reverse("plan_calendar", args=[cast.plan.pk]),
        {"kind": "visit", "title": "Prov\x00tagning", "starts_at": "2030-01-10T09:00"},
    )

    assert response.status_code == 400
    assert not CalendarEvent.objects.exists()


def test_a_nul_in_api_json_is_a_400(cast, assignment):
    client = _english(cast.client("patient"))

    response = client.post(
        reverse("questionnaire-assignment-answers", args=[assignment.pk]),
        '{"answers": {"other_problem": "Ont\\u0000i magen"}}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "invisible control character (NUL" in response.json()["detail"]
    assert not Response.objects.exists()


@pytest.mark.parametrize("who", ["patient", "nurse"])
def test_json_nested_100_000_levels_is_a_400(cast, assignment, who):
    client = _english(cast.client(who))
    section = cast.plan.sections.get(key="treatment")
    urls = [
        reverse("questionnaire-assignment-answers", args=[assignment.pk]),
        f"/api/v1/sections/{section.pk}/",
        "/api/v1/events/",
    ]
    for url in urls:
        method = client.patch if "sections" in url else client.post
        response = method(url, DEEP, content_type="application/json")
        assert response.status_code == 400, url
        assert response.json()["detail"] == "The JSON is nested deeper than 32 levels.", url
    assert PlanSection.objects.get(pk=section.pk).version == 1
    assert not CalendarEvent.objects.exists()


def test_the_questionnaire_service_refuses_a_nul_for_its_item_and_keeps_the_rest(cast, assignment):
    outcome = sm_services.response_save_draft(
        assignment=assignment,
        by=cast.patient_user,
        raw={"distress": ["4"], "other_problem": ["a\x00b"]},
    )

    assert "other_problem" in outcome.errors
    assert outcome.response.answers == {"distress": 4}
