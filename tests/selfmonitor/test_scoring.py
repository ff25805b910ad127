"""Scores by plain functions: worked examples per instrument, missing-answer rules,
reversed items, bands and alert rules."""

from __future__ import annotations

import json

import pytest

from selfmonitor import scoring, services
from selfmonitor.definition import clean_answers, missing_required, visible_answers


def _definition(name: str) -> dict:
    return json.loads((services.INSTRUMENT_DIR / f"{name}.v1.json").read_text())


DT = _definition("distress-thermometer")
ESAS = _definition("symptom-scale")
REHAB = _definition("rehab-needs")
PREM = _definition("care-experience")

NINE = ["pain", "tiredness", "drowsiness", "nausea", "appetite", "breath", "low_mood"]
NINE += ["anxiety", "wellbeing"]


def test_distress_thermometer_worked_example():
    answers = {
        "distress": 8,
        "problems_practical": ["money", "transport"],
        "problems_physical": ["pain"],
        "wants_contact": "no",
    }
    scores = scoring.score(DT, answers)
    assert scores == {"distress": 8, "problems": 3}
    assert [a.key for a in scoring.alerts(DT, answers, scores)] == ["distress-4-or-more"]


def test_distress_of_3_raises_no_alert_and_4_does():
    for value, expected in ((3, []), (4, ["distress-4-or-more"])):
        answers = {"distress": value, "wants_contact": "no"}
        scores = scoring.score(DT, answers)
        assert [a.key for a in scoring.alerts(DT, answers, scores)] == expected


def test_distress_problem_count_is_none_when_no_problem_list_was_answered():
    assert scoring.score(DT, {"distress": 2})["problems"] is None


def test_wanting_contact_alerts_with_medium_severity():
    answers = {"distress": 1, "wants_contact": "yes"}
    hits = scoring.alerts(DT, answers, scoring.score(DT, answers))
    assert [(a.key, a.severity) for a in hits] == [("wants-contact", 2)]


def test_symptom_scale_worked_example_with_bands():
    answers = dict(zip(NINE, [2, 5, 0, 1, 3, 0, 4, 7, 3], strict=True))
    scores = scoring.score(ESAS, answers)
    assert scores["total"] == 25
    assert scores["worst"] == 7
    scales = {s["key"]: s for s in ESAS["scales"]}
    assert scoring.band(scales["pain"], scores["pain"])["label"]["en"] == "Mild"
    assert scoring.band(scales["tiredness"], scores["tiredness"])["label"]["en"] == "Moderate"
    assert scoring.band(scales["anxiety"], scores["anxiety"])["label"]["en"] == "Severe"
    assert scoring.band(scales["drowsiness"], 0)["label"]["en"] == "None"
    keys = [a.key for a in scoring.alerts(ESAS, answers, scores)]
    assert keys == ["severe-symptom", "moderate-symptom"]


def test_symptom_total_is_prorated_with_two_missing_and_none_with_three():
    seven = dict(zip(NINE[:7], [2, 4, 1, 0, 3, 2, 2], strict=True))  # sum 14 of 7 items
    assert scoring.score(ESAS, seven)["total"] == 18  # 14 * 9 / 7 = 18.0
    six = dict(list(seven.items())[:6])
    assert scoring.score(ESAS, six)["total"] is None


def test_own_symptom_counts_in_the_worst_symptom():
    answers = {s: 1 for s in NINE} | {"own_symptom": "Klåda", "own_score": 9}
    assert scoring.score(ESAS, answers)["worst"] == 9
    assert scoring.score(ESAS, answers)["own"] == 9


def test_rehab_screening_worked_example():
    answers = {
        "ph_energy": 6,
        "ph_pain": 2,
        "ph_function": 1,
        "ph_body": 0,
        "physical_support": "yes",
        "ps_worry": 8,
        "ps_mood": 3,
        "psychological_support": "no",
        "so_family": 0,
        "social_support": "no",
        "ex_meaning": 1,
        "existential_support": "no",
    }
    scores = scoring.score(REHAB, answers)
    assert scores["physical"] == 6
    assert scores["physical_support"] == 1
    assert scores["psychological"] == 8
    assert scores["social"] == 0
    assert [a.key for a in scoring.alerts(REHAB, answers, scores)] == ["psychological-need"]


def test_prem_means_with_a_reversed_item():
    answers = {
        "knows_nurse": "yes",
        "reach_nurse": 5,
        "info_clear": 4,
        "info_confusing": 2,  # reversed: 1 + 5 - 2 = 4
        "involved": 3,
        "respect": 5,
        "listened": 4,
    }
    scores = scoring.score(PREM, answers)
    assert scores == {"information": 4.3, "participation": 3, "respect": 4.5, "knows_nurse": 1}
    assert scoring.alerts(PREM, answers, scores) == []


def test_prem_information_needs_two_answers():
    assert scoring.score(PREM, {"reach_nurse": 5})["information"] is None


@pytest.mark.parametrize(
    ("raw", "error_item"),
    [
        ({"distress": ["11"]}, "distress"),
        ({"distress": ["-1"]}, "distress"),
        ({"distress": ["eight"]}, "distress"),
        ({"wants_contact": ["maybe"]}, "wants_contact"),
        ({"problems_practical": ["money", "yacht"]}, "problems_practical"),
        ({"not_an_item": ["1"]}, "not_an_item"),
        # A list for a scale item is refused, not trimmed to its first value.
        ({"distress": ["3", "9"]}, "distress"),
    ],
)
def test_bad_values_are_errors_for_their_item_and_valid_ones_are_kept(raw, error_item):
    answers, errors = clean_answers(DT, raw | {"problems_family": ["children"]})
    assert error_item in errors
    assert answers["problems_family"] == ["children"]
    assert error_item not in answers


def test_a_conditional_item_is_required_only_when_shown_and_dropped_when_hidden():
    base = {s: 1 for s in NINE}
    assert missing_required(ESAS, base) == []
    assert missing_required(ESAS, base | {"own_symptom": "Klåda"}) == ["own_score"]
    assert "own_score" not in visible_answers(ESAS, base | {"own_score": 5})


def test_latest_screening_for_the_rehab_app(cast, send):
    assert services.latest_screening(cast.patient) is None
    raw = {
        "ph_energy": ["6"],
        "ph_pain": ["2"],
        "ph_function": ["1"],
        "ph_body": ["0"],
        "physical_support": ["no"],
        "ps_worry": ["2"],
        "ps_mood": ["1"],
        "ps_sleep": ["0"],
        "ps_mind": ["0"],
        "psychological_support": ["yes"],
        "so_family": ["0"],
        "so_work": ["0"],
        "so_life": ["0"],
        "social_support": ["no"],
        "ex_meaning": ["0"],
        "ex_future": ["3"],
        "ex_alone": ["0"],
        "existential_support": ["no"],
    }
    first = services.response_submit(
        assignment=send("rehab-needs"), by=cast.patient_user, raw=raw
    ).response
    assert first.status == "completed"
    latest = services.latest_screening(cast.patient)
    assert latest["response_id"] == first.pk
    assert latest["instrument_version"] == 1
    assert latest["areas"] == {
        "physical": {"score": 6, "need": True, "wants_support": False},
        "psychological": {"score": 2, "need": True, "wants_support": True},
        "social": {"score": 0, "need": False, "wants_support": False},
        "existential": {"score": 3, "need": False, "wants_support": False},
    }
    second = services.response_submit(
        assignment=send("rehab-needs"), by=cast.patient_user, raw=raw | {"ph_energy": ["1"]}
    ).response
    latest = services.latest_screening(cast.patient)
    assert latest["response_id"] == second.pk
    assert latest["areas"]["physical"] == {"score": 2, "need": False, "wants_support": False}
