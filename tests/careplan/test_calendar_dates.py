"""Calendar dates within a sensible window (today ± 10 years): a year-1 date is refused
with a clear message on the web, in the admin and in the API, and the database refuses
what the model would not (``calendarevent_sensible_dates``). Rows stored before the
check are repaired by migration 0010 so every page reads them again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from careplan import services
from careplan.models import CalendarEvent, calendar_window
from tests import factories as f

from .test_admin import admin_url, as_english

pytestmark = pytest.mark.django_db

YEAR_ONE = "0001-01-01 00:00"


def _english(client):
    client.cookies["django_language"] = "en"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_the_patient_typing_year_one_gets_a_clear_message_and_keeps_the_rest(cast):
    response = _english(cast.client("patient")).post(
        reverse("plan_calendar", args=[cast.plan.pk]),
        {"kind": "visit", "title": "Återbesök", "starts_at": YEAR_ONE, "location": "Plan 2"},
    )

    assert response.status_code == 200
    first, last = calendar_window()
    error = response.context["form"].errors["starts_at"][0]
    assert error.startswith(f"Enter a date between {first.isoformat()} and {last.isoformat()}")
    assert 'value="Återbesök"' in response.text and 'value="Plan 2"' in response.text
    assert not CalendarEvent.objects.exists()


def test_the_message_is_swedish_by_default(cast):
    response = cast.client("patient").post(
        reverse("plan_calendar", args=[cast.plan.pk]),
        {"kind": "visit", "title": "Återbesök", "starts_at": "2999-01-01 10:00"},
    )

    assert response.status_code == 200
    assert "Ange ett datum mellan" in response.context["form"].errors["starts_at"][0]


def test_the_nurse_in_the_admin_gets_a_clear_message(cast):
    response = as_english(cast, "nurse").post(
        admin_url("careplan_calendarevent_add"),
        {
            "plan": cast.plan.pk,
            "kind": "visit",
            "title": "Återbesök",
            "starts_at_0": "0001-01-01",
            "starts_at_1": "00:00",
        },
    )

    assert response.status_code == 200
    assert "Enter a date between" in response.context["adminform"].form.errors["starts_at"][0]
    assert not CalendarEvent.objects.exists()


@pytest.mark.parametrize("who", ["patient", "nurse"])
def test_the_api_answers_400_for_year_one(cast, who):
    response = _english(cast.client(who)).post(
        "/api/v1/events/",
        {"plan": cast.plan.pk, "kind": "visit", "title": "X", "starts_at": "0001-01-01T00:00"},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "Enter a date between" in response.json()["starts_at"][0]
    assert not CalendarEvent.objects.exists()


def test_an_end_far_ahead_is_refused_on_the_end_field(cast):
    event = CalendarEvent(
        plan=cast.plan,
        title="X",
        starts_at=timezone.now(),
        ends_at=timezone.now() + dt.timedelta(days=366 * 11),
    )
    with pytest.raises(ValidationError) as exc:
        services.event_create(event=event, by=cast.nurse)
    assert set(exc.value.message_dict) == {"ends_at"}


def test_the_database_refuses_year_one(cast):
    year_one = dt.datetime(1, 1, 2, tzinfo=dt.UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        f.CalendarEventFactory(plan=cast.plan, starts_at=year_one)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the 500 was PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_year_one_row_stored_before_the_check_is_repaired_and_every_page_reads_again(cast):
    executor = MigrationExecutor(connection)
    executor.migrate([("careplan", "0009_contact_nurse_in_responsible_unit")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO careplan_calendarevent (plan_id, kind, title, starts_at, location,"
                " note, created_by_id, created_at, updated_at) VALUES (%s, 'visit', 'Trasig',"
                " '0001-01-01 00:00+01:12', '', 'Ta med remissen', %s, now(), now())",
                [cast.plan.pk, cast.patient_user.pk],
            )
        with pytest.raises(Exception, match="before year 1"):
            list(CalendarEvent.objects.all())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    event = CalendarEvent.objects.get(title="Trasig")
    assert event.note.startswith(
        "Ta med remissen [Datumet som skrevs in (0001-01-01 00:00) gick inte"
    )
    assert abs(event.starts_at - timezone.now()) < dt.timedelta(minutes=5)
    for who, url in [
        ("patient", reverse("plan_detail", args=[cast.plan.pk])),
        ("patient", reverse("plan_calendar", args=[cast.plan.pk])),
        ("patient", f"/api/v1/events/?plan={cast.plan.pk}"),
        ("nurse", admin_url("careplan_careplan_change", cast.plan.pk)),
        ("nurse", admin_url("careplan_calendarevent_change", event.pk)),
    ]:
        assert cast.client(who).get(url).status_code == 200, url
    deleted = cast.client("patient").post(reverse("event_delete", args=[cast.plan.pk, event.pk]))
    assert deleted.status_code == 302
    assert not CalendarEvent.objects.filter(pk=event.pk).exists()
