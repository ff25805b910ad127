"""Unit reports: PREM results only aggregated per unit and month and only for groups of
at least five; completion rate and the share of patients assessed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog
from selfmonitor import reports, services
from selfmonitor.models import Assignment
from tests import factories as f

PREM_ITEMS = ("reach_nurse", "info_clear", "info_confusing", "involved", "relatives")
PREM_ITEMS += ("respect", "listened")
URL = reverse("admin:selfmonitor_reports")


def _prem(patient, instruments, by, respect="5"):
    assignment = services.assignment_send(
        patient=patient, instrument=instruments["care-experience"], by=by
    )
    raw = {k: ["4"] for k in PREM_ITEMS} | {"knows_nurse": ["yes"], "respect": [respect]}
    return services.response_submit(assignment=assignment, by=patient.user, raw=raw).response


def _patients(cast, n):
    return [f.covered_plan(cast.unit, nurse=cast.nurse).patient for _i in range(n)]


def test_a_prem_group_of_four_is_not_shown(cast, instruments):
    for patient in _patients(cast, 4):
        _prem(patient, instruments, cast.nurse)
    today = timezone.localdate()
    scales, groups = reports.prem_summary(unit_ids=[cast.unit.pk], start=today, end=today)
    assert [(g.answers, g.shown, g.means) for g in groups] == [(4, False, {})]


def test_a_prem_group_of_five_shows_the_means(cast, instruments):
    for i, patient in enumerate(_patients(cast, 5)):
        _prem(patient, instruments, cast.nurse, respect=str(1 + i))  # respect 1..5
    today = timezone.localdate()
    scales, groups = reports.prem_summary(unit_ids=[cast.unit.pk], start=today, end=today)
    (group,) = groups
    assert group.shown
    assert group.means["respect"] == 3.5  # mean of (1..5 with 'listened' 4) per answer
    assert group.means["knows_nurse"] == 1


def test_the_report_page_hides_small_groups_and_names_nobody(cast, instruments):
    patients = _patients(cast, 3)
    for patient in patients:
        _prem(patient, instruments, cast.nurse)
    client = cast.client("nurse")
    client.cookies["django_language"] = "en"
    page = client.get(URL)
    assert page.status_code == 200
    assert b"Fewer than 5 answers: not shown" in page.content
    for patient in patients:
        assert patient.last_name.encode() not in page.content
    assert not AccessLog.objects.filter(action="list").exists()


def test_completion_rate_and_share_assessed(cast, instruments):
    others = _patients(cast, 3)  # 4 patients in the unit with the cast's patient
    sent = [
        services.assignment_send(
            patient=p, instrument=instruments["distress-thermometer"], by=cast.nurse
        )
        for p in [cast.patient, *others]
    ]
    for assignment in sent[:2]:
        services.response_submit(
            assignment=assignment,
            by=assignment.patient.user,
            raw={"distress": ["2"], "wants_contact": ["no"]},
        )
    Assignment.objects.filter(pk=sent[2].pk).update(status=Assignment.Status.EXPIRED)
    today = timezone.localdate()
    (row,) = reports.unit_report(unit_ids=[cast.unit.pk], start=today, end=today)
    assert (row.sent, row.completed, row.expired) == (4, 2, 1)
    assert row.completion_rate == 50
    assert (row.patients, row.assessed, row.assessed_share) == (4, 2, 50)


def test_reports_cover_only_my_units(cast, instruments):
    other = f.covered_plan(cast.other_unit, nurse=cast.other_nurse).patient
    services.assignment_send(
        patient=other, instrument=instruments["distress-thermometer"], by=cast.other_nurse
    )
    client = cast.client("nurse")
    page = client.get(URL)
    assert [r.unit for r in page.context["units"]] == [cast.unit]
    assert page.context["units"][0].sent == 0


@pytest.mark.parametrize("who", ["patient", "relative", "anonymous"])
def test_reports_are_for_the_care_team_only(cast, who):
    assert cast.client(who).get(URL).status_code == 302


def test_bad_dates_are_refused_with_a_message(cast):
    client = cast.client("nurse")
    client.cookies["django_language"] = "en"
    page = client.get(URL, {"start": "yesterday"})
    assert b"Give dates as YYYY-MM-DD." in page.content


def test_a_period_outside_the_answers_is_empty(cast, instruments):
    for patient in _patients(cast, 5):
        _prem(patient, instruments, cast.nurse)
    old = timezone.localdate() - dt.timedelta(days=400)
    _scales, groups = reports.prem_summary(unit_ids=[cast.unit.pk], start=old, end=old)
    assert groups == []
