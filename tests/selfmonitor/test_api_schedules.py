"""Scheduling questionnaires through the API (issue 13): staff of the responsible unit
make, list and stop a patient's schedules with the services the admin uses; the patient,
relatives and other units cannot; every access is logged."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careplan.models import AccessLog
from selfmonitor import services
from selfmonitor.models import Schedule

from ..conftest import CAST

pytestmark = pytest.mark.django_db
JSON = "application/json"
URL = "/api/v1/questionnaire-schedules/"


def _last_id():
    return AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _rows(cast, since):
    return list(AccessLog.objects.filter(patient=cast.patient, id__gt=since).order_by("id"))


@pytest.fixture
def schedule(cast, instruments) -> Schedule:
    return services.schedule_save(
        schedule=Schedule(
            patient=cast.patient,
            instrument_key="distress-thermometer",
            trigger="every",
            every_days=14,
        ),
        by=cast.nurse,
        creating=True,
    )


def test_the_nurse_schedules_lists_and_stops(cast, instruments):
    nurse = cast.client("nurse")
    body = {
        "patient": cast.patient.pk,
        "instrument_key": "distress-thermometer",
        "trigger": "every",
        "every_days": 7,
    }
    created = nurse.post(URL, body, content_type=JSON)
    assert created.status_code == 201, created.content
    schedule = Schedule.objects.get()
    assert (schedule.patient, schedule.every_days, schedule.created_by, schedule.active) == (
        cast.patient,
        7,
        cast.nurse,
        True,
    )
    assert created.json()["due_days"] == 7 and created.json()["expire_days"] == 14
    listed = nurse.get(URL).json()["results"]
    assert [s["id"] for s in listed] == [schedule.pk]
    stopped = nurse.post(f"{URL}{schedule.pk}/deactivate/", content_type=JSON)
    assert stopped.status_code == 200 and stopped.json()["active"] is False
    schedule.refresh_from_db()
    assert schedule.active is False
    # Sending stops with it.
    assert services.schedules_materialise() == 0


def test_invalid_schedules_get_the_admins_messages_and_store_nothing(cast, instruments):
    nurse = cast.client("nurse")
    base = {"patient": cast.patient.pk, "instrument_key": "distress-thermometer"}
    no_days = nurse.post(URL, {**base, "trigger": "every"}, content_type=JSON)
    assert no_days.status_code == 400
    assert "every_days" in str(no_days.json())
    early = nurse.post(
        URL, {**base, "trigger": "plan_start", "due_days": 10, "expire_days": 3}, content_type=JSON
    )
    assert early.status_code == 400 and "expire_days" in str(early.json())
    unknown = nurse.post(
        URL, {**base, "instrument_key": "no-such", "trigger": "plan_start"}, content_type=JSON
    )
    assert unknown.status_code == 400 and "instrument_key" in str(unknown.json())
    english = nurse.post(
        URL, {**base, "trigger": "every"}, content_type=JSON, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Say how many days between the sendings." in str(english.json())
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("who", CAST)
def test_only_the_responsible_unit_reads_and_stops_and_every_try_is_logged(cast, schedule, who):
    client = cast.client(who)
    since = _last_id()
    read = client.get(f"{URL}{schedule.pk}/")
    stop = client.post(f"{URL}{schedule.pk}/deactivate/", content_type=JSON)
    listed = client.get(URL)
    rows = _rows(cast, since)
    schedule.refresh_from_db()
    if who == "nurse":
        assert read.status_code == stop.status_code == 200
        assert not schedule.active
        assert [(r.action, r.outcome, r.acting_unit) for r in rows] == [
            ("view", "allowed", cast.unit),
            ("update", "allowed", cast.unit),
            ("list", "allowed", cast.unit),
        ]
        return
    assert schedule.active
    if who == "anonymous":
        assert read.status_code == stop.status_code == listed.status_code == 403
        assert rows == []
        return
    assert read.status_code == stop.status_code == 404
    assert listed.json()["results"] == []
    expected = [] if who == "patient" else [("view", "denied"), ("update", "denied")]
    assert [(r.action, r.outcome) for r in rows] == expected


@pytest.mark.parametrize("who", ["patient", "other_nurse", "relative"])
def test_others_cannot_schedule(cast, instruments, who):
    body = {"patient": cast.patient.pk, "instrument_key": "distress-thermometer"}
    got = cast.client(who).post(URL, {**body, "trigger": "plan_start"}, content_type=JSON)
    assert got.status_code == 404
    assert not Schedule.objects.exists()


def test_the_list_costs_the_same_for_one_and_three_schedules(cast, schedule):
    nurse = cast.client("nurse")
    nurse.get(URL)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert nurse.get(URL).status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for days in (3, 5):
        services.schedule_save(
            schedule=Schedule(
                patient=cast.patient,
                instrument_key="distress-thermometer",
                trigger="every",
                every_days=days,
            ),
            by=cast.nurse,
            creating=True,
        )
    # session, user, the user's units, the page (acting unit annotated), the
    # access-log insert
    assert queries() == one == 5
