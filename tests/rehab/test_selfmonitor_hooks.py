"""Rehab with the self-monitoring app's real data: the latest rehab-needs screening
stands beside the assessment form and drives the suggestion; an alert after the latest
assessment makes a reassessment due."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from careplan.access import patients_for
from rehab import services
from rehab.models import Level
from selfmonitor import services as sm

from .conftest import english

pytestmark = pytest.mark.django_db


@pytest.fixture
def instruments(db) -> dict:
    loaded = {}
    for path in sorted(sm.INSTRUMENT_DIR.glob("*.json")):
        instrument, _what = sm.instrument_load(
            data=sm.read_instrument_file(path), source_file=path.name
        )
        loaded[instrument.key] = instrument
    return loaded


def _submit(cast, instrument, raw: dict):
    assignment = sm.assignment_send(patient=cast.patient, instrument=instrument, by=cast.nurse)
    return sm.response_submit(assignment=assignment, by=cast.patient_user, raw=raw).response


def test_the_screening_answered_in_selfmonitor_drives_the_suggestion(cast, instruments):
    items = [i["id"] for p in instruments["rehab-needs"].definition["pages"] for i in p["items"]]
    raw = {item: ["no"] if item.endswith("_support") else ["1"] for item in items}
    raw.update(ph_energy=["8"], ps_worry=["6"], so_work=["5"])
    _submit(cast, instruments["rehab-needs"], raw)

    with translation.override("en"):
        results = services.latest_screening(cast.patient)
        flagged = [r.title for r in results if r.flagged]
        assert flagged == ["Physical", "Psychological", "Social"]
        assert services.suggest_level(results).level == Level.AVANCERAD

    page = english(cast.client("nurse")).get(
        reverse("admin:rehab_needsassessment_add") + f"?patient={cast.patient.pk}"
    )
    assert "Advanced (avancerad)" in page.text
    assert "above threshold" in page.text


def test_an_alert_after_the_latest_assessment_makes_a_reassessment_due(cast, instruments):
    services.assessment_record(
        patient=cast.patient, by=cast.nurse, level="grundlaggande", summary="S"
    )
    assert list(services.due_reassessments(patients_for(cast.nurse))) == []

    _submit(cast, instruments["distress-thermometer"], {"distress": ["8"], "wants_contact": ["no"]})

    rows = list(services.due_reassessments(patients_for(cast.nurse)))
    with translation.override("en"):
        assert services.due_reasons(rows[0]) == ["After an alert"]
