"""The admin pages of self-monitoring: sending a questionnaire once, answers (PREMs never
one by one), schedules, instruments; scoped to the nurse's units and logged."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careplan.models import AccessLog
from selfmonitor import services
from selfmonitor.models import Assignment, Schedule
from tests import factories as f


def _en(client):
    client.cookies["django_language"] = "en"
    return client


def test_nurse_sends_a_questionnaire_once_from_the_admin(cast, instruments):
    client = _en(cast.client("nurse"))
    url = reverse("admin:selfmonitor_assignment_add")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "patient": cast.patient.pk,
            "instrument": instruments["symptom-scale"].pk,
            "due_days": 3,
            "expire_days": 10,
        },
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert assignment.status == Assignment.Status.OPEN
    assert assignment.created_by == cast.nurse
    assert AccessLog.objects.filter(
        patient=cast.patient, object_type="Assignment", action="create"
    ).exists()


def test_sending_to_a_patient_of_another_unit_is_refused_and_logged(cast, instruments):
    client = _en(cast.client("other_nurse"))
    response = client.post(
        reverse("admin:selfmonitor_assignment_add"),
        {
            "patient": cast.patient.pk,
            "instrument": instruments["symptom-scale"].pk,
            "due_days": 3,
            "expire_days": 10,
        },
    )
    assert response.status_code == 200
    assert b"not cared for by any of your care units" in response.content
    assert not Assignment.objects.exists()
    assert AccessLog.objects.filter(patient=cast.patient, outcome="denied").count() == 1


def test_an_expiry_before_the_due_date_is_refused_with_the_values_kept(cast, instruments):
    client = _en(cast.client("nurse"))
    response = client.post(
        reverse("admin:selfmonitor_assignment_add"),
        {
            "patient": cast.patient.pk,
            "instrument": instruments["symptom-scale"].pk,
            "due_days": 10,
            "expire_days": 3,
        },
    )
    assert response.status_code == 200
    assert b"cannot expire before it is due" in response.content
    assert b'value="10"' in response.content


def test_answers_list_shows_proms_of_my_units_never_single_prems(cast, send):
    services.response_submit(
        assignment=send("distress-thermometer"),
        by=cast.patient_user,
        raw={"distress": ["2"], "wants_contact": ["no"]},
    )
    services.response_submit(
        assignment=send("care-experience"),
        by=cast.patient_user,
        raw={"knows_nurse": ["yes"]}
        | {
            k: ["4"]
            for k in (
                "reach_nurse",
                "info_clear",
                "info_confusing",
                "involved",
                "relatives",
                "respect",
                "listened",
            )
        },
    )
    url = reverse("admin:selfmonitor_response_changelist")
    page = _en(cast.client("nurse")).get(url)
    rows = page.context["cl"].result_list
    assert [r.instrument_key for r in rows] == ["distress-thermometer"]
    trend = reverse("selfmonitor_trend", args=[cast.plan.pk, "distress-thermometer"])
    assert trend.encode() in page.content
    assert list(_en(cast.client("other_nurse")).get(url).context["cl"].result_list) == []


def test_nurse_adds_a_schedule_for_a_patient_of_her_unit(cast, instruments):
    client = _en(cast.client("nurse"))
    response = client.post(
        reverse("admin:selfmonitor_schedule_add"),
        {
            "instrument_key": "symptom-scale",
            "patient": cast.patient.pk,
            "trigger": "every",
            "every_days": 14,
            "due_days": 3,
            "expire_days": 7,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    schedule = Schedule.objects.get()
    assert (schedule.patient, schedule.every_days) == (cast.patient, 14)


def test_template_schedules_are_for_administrators(cast, instruments):
    url = reverse("admin:selfmonitor_templateschedule_add")
    assert cast.client("nurse").get(url).status_code == 403
    admin = f.StaffFactory(units=[cast.unit], is_superuser=True)
    client = _en(cast.client("nurse"))
    from careplan.testing import login

    login(client, admin)
    response = client.post(
        url,
        {
            "instrument_key": "distress-thermometer",
            "template": cast.plan.template_id,
            "trigger": "plan_start",
            "due_days": 7,
            "expire_days": 14,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    assert Schedule.objects.get().template_id == cast.plan.template_id


@pytest.mark.parametrize("who", ["nurse", "other_nurse"])
def test_instruments_are_listed_read_only_for_staff(cast, instruments, who):
    client = _en(cast.client(who))
    page = client.get(reverse("admin:selfmonitor_instrument_changelist"))
    assert page.status_code == 200
    assert b"Symptoms right now" in page.content
    change = client.get(
        reverse("admin:selfmonitor_instrument_change", args=[instruments["symptom-scale"].pk])
    )
    assert b'name="title_en"' not in change.content
