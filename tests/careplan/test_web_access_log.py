"""The patient's "who has read my record" page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


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


def _log(body: str) -> str:
    """The log itself, without the filter's list of names."""
    return body[body.index("</select>") :] if "</select>" in body else body


def test_the_patient_sees_who_read_what_when_in_plain_words(cast):
    # Issue 11: grouped by day and by person and unit, in plain words (this test used to
    # read the one-row-per-access table).
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

    assert "Karin Kontakt, Bröstmottagningen" in body
    assert "1 juni 2025" in body and "12:05" in body  # Swedish local time (UTC+2 in June)
    assert "Vårdteam" in body
    assert "Läste din vårdplan en gång" in body
    assert "Olle Annan" in body
    assert "Försökte ändra en post i din kalender en gång" in body
    assert "Nekat: personens enhet ansvarar inte för din vård." in body


def test_reads_by_one_person_on_one_day_are_one_line_with_a_count(cast):
    now = timezone.localtime()
    noon = now.replace(hour=12, minute=0)
    for minutes in (0, 10, 20):
        _row(cast, at=noon - dt.timedelta(minutes=minutes))
    _row(cast, at=noon - dt.timedelta(days=1))

    body = _page(cast).content.decode()

    assert body.count("Läste din vårdplan 3 gånger") == 1
    assert body.count("Läste din vårdplan en gång") == 1
    assert body.count('class="log-day"') == 2


def test_a_filter_shows_one_persons_accesses(cast):
    _row(cast, user_name="Karin Kontakt")
    _row(cast, user=cast.other_nurse, user_name="Olle Annan", outcome="denied")

    everyone = _page(cast).content.decode()
    only = _page(cast, f"?who={cast.other_nurse.pk}").content.decode()

    assert f'<option value="{cast.other_nurse.pk}">Olle Annan</option>' in everyone
    assert "Karin Kontakt" in everyone and "Olle Annan" in everyone
    assert only.count('class="card log-person"') == 1
    assert "Försökte läsa din vårdplan" in only


def test_it_lists_newest_first(cast):
    _row(cast, minutes_ago=30, user_name="Äldst")
    _row(cast, minutes_ago=1, user_name="Nyast")

    body = _log(_page(cast).content.decode())

    assert body.index("Nyast") < body.index("Äldst")


def test_it_shows_only_the_patients_own_rows(cast):
    other = PatientFactory(last_name="Annansson")
    _row(cast, patient=other, user_name="Läste någon annan")
    _row(cast, user_name="Läste min plan")

    body = _page(cast).content.decode()

    assert "Läste min plan" in body
    assert "Läste någon annan" not in body


def test_it_pages_by_two_weeks_of_days(cast):
    AccessLog.objects.bulk_create(
        AccessLog(
            at=timezone.now() - dt.timedelta(days=i),
            user_name=f"Rad {i:02d}.",
            role="staff",
            basis=AccessLog.Basis.CARE_RELATION,
            patient=cast.patient,
            object_type="CarePlan",
            action=AccessLog.Action.VIEW,
            outcome=AccessLog.Outcome.ALLOWED,
            channel=AccessLog.Channel.WEB,
        )
        for i in range(20)
    )

    first = _log(_page(cast).content.decode())
    second = _log(_page(cast, "?page=2").content.decode())

    assert "Rad 00." in first and "Rad 13." in first and "Rad 14." not in first
    assert "Rad 14." in second and "Rad 19." in second and "Rad 13." not in second
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

    # 1 session, 2 user, 3 the people for the filter, 4 count of days for the pager,
    # 5 the page's days, 6 the groups (day, person, unit, action, object) with counts.
    with django_assert_num_queries(6):
        response = client.get(reverse("my_access_log"))
    assert _log(response.content.decode()).count("Läsare ") == n
