"""The patient's "who has read my record" page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _row(cast, *, patient=None, minutes_ago=0, **fields) -> AccessLog:
    defaults = dict(
        at=timezone.now() - dt.timedelta(minutes=minutes_ago),
        user=cast.nurse,
        user_name=str(cast.nurse),
        role="staff",
        acting_unit=cast.unit,
        basis=AccessLog.Basis.CARE_RELATION,
        patient=patient or cast.patient,
        object_type="CarePlan",
        object_id=str(cast.plan.pk),
        action=AccessLog.Action.VIEW,
        outcome=AccessLog.Outcome.ALLOWED,
        channel=AccessLog.Channel.ADMIN,
    )
    defaults.update(fields)
    return AccessLog.objects.create(**defaults)


def _page(cast, query=""):
    return cast.client("patient").get(reverse("my_access_log") + query)


def test_the_patient_sees_who_read_what_when_and_how(cast):
    _row(cast, at=timezone.make_aware(dt.datetime(2025, 6, 1, 10, 5), dt.UTC))
    _row(
        cast,
        minutes_ago=1,
        user=cast.other_nurse,
        user_name="Olle Annan",
        acting_unit=None,
        basis=AccessLog.Basis.NONE,
        object_type="CalendarEvent",
        action=AccessLog.Action.UPDATE,
        outcome=AccessLog.Outcome.DENIED,
        channel=AccessLog.Channel.WEB,
    )

    body = _page(cast).content.decode()

    assert "Karin Kontakt" in body
    assert "Bröstmottagningen" in body
    assert "2025-06-01 12:05" in body  # shown in Swedish local time (UTC+2 in June)
    assert "Vårdteam" in body
    assert "Läst: vårdplan" in body
    assert "Administrationen" in body
    assert "Olle Annan" in body and "Nekat" in body and "Ändrat: kalenderpost" in body


def test_it_lists_newest_first(cast):
    _row(cast, minutes_ago=30, user_name="Äldst")
    _row(cast, minutes_ago=1, user_name="Nyast")

    body = _page(cast).content.decode()

    assert body.index("Nyast") < body.index("Äldst")


def test_it_shows_only_the_patients_own_rows(cast):
    other = PatientFactory(last_name="Annansson")
    _row(cast, patient=other, user_name="Läste någon annan")
    _row(cast, user_name="Läste min plan")

    body = _page(cast).content.decode()

    assert "Läste min plan" in body
    assert "Läste någon annan" not in body


def test_it_pages_by_fifty(cast):
    AccessLog.objects.bulk_create(
        AccessLog(
            at=timezone.now() - dt.timedelta(minutes=i),
            user_name=f"Rad {i:02d}.",
            role="staff",
            basis=AccessLog.Basis.CARE_RELATION,
            patient=cast.patient,
            object_type="CarePlan",
            action=AccessLog.Action.VIEW,
            outcome=AccessLog.Outcome.ALLOWED,
            channel=AccessLog.Channel.WEB,
        )
        for i in range(55)
    )

    first = _page(cast).content.decode()
    second = _page(cast, "?page=2").content.decode()

    assert "Rad 00." in first and "Rad 49." in first and "Rad 50." not in first
    assert "Rad 50." in second and "Rad 54." in second and "Rad 49." not in second
    assert "?page=2" in first


def test_an_empty_log_says_so(cast):
    body = _page(cast).content.decode()

    assert "Ingen annan har öppnat din vårdplan än." in body


def test_viewing_the_own_log_is_not_itself_logged(cast):
    _page(cast)

    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("n", [1, 3])
def test_access_log_query_count_is_pinned(cast, django_assert_num_queries, n):
    client = cast.client("patient")
    client.get(reverse("my_access_log"))  # warm up: session activity stamp
    for i in range(n):
        _row(cast, minutes_ago=i, user_name=f"Läsare {i}")

    # 1 session, 2 user, 3 count for the pager, 4 the page of rows with their unit.
    with django_assert_num_queries(4):
        response = client.get(reverse("my_access_log"))
    assert response.content.decode().count("Läsare ") == n
