"""The plan's calendar: list, add (with and without htmx), change, remove, bad input and
the pinned query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from careplan.models import CalendarEvent, PlanChange
from tests.factories import CalendarEventFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _url(cast) -> str:
    return reverse("plan_calendar", args=[cast.plan.pk])


def _local(days: float) -> dt.datetime:
    return timezone.localtime(timezone.now() + dt.timedelta(days=days)).replace(
        second=0, microsecond=0
    )


def _data(title="Blodprov", *, start_days=2, end_hours: float | None = 1, **extra) -> dict:
    start = _local(start_days)
    data = {
        "kind": CalendarEvent.Kind.EXAMINATION,
        "title": title,
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": ""
        if end_hours is None
        else (start + dt.timedelta(hours=end_hours)).strftime("%Y-%m-%dT%H:%M"),
        "location": "Provtagningen, plan 2",
        "note": "Fastande",
    }
    data.update(extra)
    return data


# --- List ---------------------------------------------------------------------------------


def test_the_calendar_lists_upcoming_and_past_with_who_added_them(cast):
    CalendarEventFactory(
        plan=cast.plan,
        title="Strålning",
        starts_at=timezone.now() + dt.timedelta(days=1),
        location="Strålbehandlingen",
        note="Ta med läkemedelslista",
        created_by=cast.nurse,
    )
    CalendarEventFactory(
        plan=cast.plan, title="Läkarbesök", starts_at=timezone.now() - dt.timedelta(days=3)
    )

    body = cast.client("patient").get(_url(cast)).content.decode()

    upcoming, past = body.split('id="past-title"')
    assert "Strålning" in upcoming and "Strålbehandlingen" in upcoming
    assert "Ta med läkemedelslista" in upcoming
    assert "Tillagd av Karin Kontakt (Sjuksköterska)" in upcoming
    assert "Läkarbesök" in past
    assert 'id="event-form"' in body


def test_the_relative_reads_the_calendar_without_any_edit_controls(cast):
    event = CalendarEventFactory(plan=cast.plan, title="Strålning")

    body = cast.client("relative").get(_url(cast)).content.decode()

    assert "Strålning" in body
    assert "Endast läsning" in body
    assert 'id="event-form"' not in body
    assert reverse("event_edit", args=[cast.plan.pk, event.pk]) not in body
    assert reverse("event_delete", args=[cast.plan.pk, event.pk]) not in body


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize(
    ("who", "queries"),
    [
        # 1 session, 2 user, 3 plan (plan_for), 4 upcoming and past events with author
        # (one UNION ALL).
        ("patient", 4),
        # ... plus 4 the nurse's units, 5 the care relation, 6 INSERT access log.
        ("nurse", 7),
        # ... with 3 the plan and the relative's active grants in one round trip (the
        # grants also say whether any shares messages, for the header's "Messages"
        # link), 4 the events, 5 INSERT access log.
        ("relative", 5),
    ],
)
def test_calendar_query_count_is_pinned(cast, django_assert_num_queries, who, queries, n):
    client = cast.client(who)
    client.get(_url(cast))  # warm up: session activity stamp, grant last seen
    for i in range(n):
        CalendarEventFactory(plan=cast.plan, title=f"Kommande {i}", created_by=cast.nurse)
        CalendarEventFactory(
            plan=cast.plan,
            title=f"Tidigare {i}",
            starts_at=timezone.now() - dt.timedelta(days=i + 1),
        )

    with django_assert_num_queries(queries):
        response = client.get(_url(cast))
    assert response.content.decode().count('<li class="event ') == 2 * n


# --- Add ------------------------------------------------------------------------------------


def test_the_patient_adds_an_event_and_it_is_noted_in_the_plan_history(cast):
    client = cast.client("patient")

    response = client.post(_url(cast), _data("Blodprov"), follow=True)

    event = CalendarEvent.objects.get(title="Blodprov")
    assert event.plan == cast.plan
    assert event.created_by == cast.patient_user
    assert event.location == "Provtagningen, plan 2"
    assert timezone.localtime(event.starts_at).strftime("%Y-%m-%dT%H:%M") == _data()["starts_at"]
    assert "Tillagt i kalendern: Blodprov" in response.content.decode()
    assert PlanChange.objects.filter(plan=cast.plan, what__contains="Blodprov").exists()


def test_an_end_before_the_start_is_refused_and_keeps_what_was_typed(cast):
    client = cast.client("patient")

    response = client.post(
        _url(cast), _data("Min egen titel", end_hours=-2, note="Glöm inte remissen")
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "Sluttiden kan inte vara före starttiden." in body
    assert 'value="Min egen titel"' in body
    assert "Glöm inte remissen" in body
    assert 'aria-invalid="true"' in body
    assert not CalendarEvent.objects.exists()
    assert not PlanChange.objects.exists()


def test_a_missing_title_and_a_bad_date_get_clear_messages(cast):
    response = cast.client("patient").post(
        _url(cast), _data("", starts_at="i morgon", location="Kvar")
    )

    body = response.content.decode()
    assert "Skriv vad det gäller." in body
    assert "Skriv ett datum och en tid, till exempel 2025-03-14 09:30." in body
    assert 'value="Kvar"' in body
    assert not CalendarEvent.objects.exists()


def test_htmx_add_returns_only_the_list_fragment(cast):
    CalendarEventFactory(plan=cast.plan, title="Redan bokad")

    response = cast.client("patient").post(_url(cast), _data("Via htmx"), **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="event-list"')
    assert "<html" not in body and "<header" not in body
    assert 'id="event-form"' not in body
    assert "Via htmx" in body and "Redan bokad" in body
    assert "Tillagt i kalendern: Via htmx" in body
    assert CalendarEvent.objects.filter(title="Via htmx").exists()


def test_htmx_add_with_bad_input_returns_the_form_fragment_in_place(cast):
    response = cast.client("patient").post(_url(cast), _data("Behåll", end_hours=-1), **HTMX)

    body = response.content.decode()
    assert response["HX-Retarget"] == "#event-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert body.lstrip().startswith('<section id="event-form"')
    assert 'value="Behåll"' in body
    assert "Sluttiden kan inte vara före starttiden." in body
    assert not CalendarEvent.objects.exists()


def test_the_add_form_works_with_and_without_javascript(cast):
    body = cast.client("patient").get(_url(cast)).content.decode()

    assert f'action="{_url(cast)}"' in body
    assert f'hx-post="{_url(cast)}"' in body
    assert 'hx-target="#event-list"' in body


def test_the_care_team_adds_an_event_for_the_patient(cast):
    response = cast.client("nurse").post(_url(cast), _data("Från vårdteamet"))

    assert response.status_code == 302
    assert CalendarEvent.objects.get(title="Från vårdteamet").created_by == cast.nurse


# --- Change and remove -------------------------------------------------------------------------


def test_the_patient_changes_their_own_event(cast):
    event = CalendarEventFactory(plan=cast.plan, title="Gammal", created_by=cast.patient_user)
    url = reverse("event_edit", args=[cast.plan.pk, event.pk])
    client = cast.client("patient")

    form = client.get(url).content.decode()
    response = client.post(url, _data("Ny titel"))

    assert 'value="Gammal"' in form
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.title == "Ny titel"
    assert event.updated_by == cast.patient_user


def test_the_patient_cannot_change_or_remove_an_event_the_nurse_added(cast):
    # Issue 11: the care team's bookings are read-only for the patient (who may ask for
    # a change); this test used to say the opposite.
    event = CalendarEventFactory(plan=cast.plan, title="Gammal", created_by=cast.nurse)
    client = cast.client("patient")
    edit = reverse("event_edit", args=[cast.plan.pk, event.pk])
    delete = reverse("event_delete", args=[cast.plan.pk, event.pk])

    assert client.get(edit).status_code == 403
    assert client.post(edit, _data("Ny titel")).status_code == 403
    assert client.post(delete).status_code == 403
    event.refresh_from_db()
    assert event.title == "Gammal"
    calendar = client.get(reverse("plan_calendar", args=[cast.plan.pk])).content.decode()
    assert edit not in calendar and delete not in calendar
    assert reverse("event_change_request", args=[cast.plan.pk, event.pk]) in calendar


def test_changing_an_event_to_end_before_it_starts_keeps_the_typed_values(cast):
    event = CalendarEventFactory(plan=cast.plan, title="Gammal")
    url = reverse("event_edit", args=[cast.plan.pk, event.pk])

    response = cast.client("nurse").post(url, _data("Skrivet nu", end_hours=-3))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Skrivet nu"' in body
    assert "Sluttiden kan inte vara före starttiden." in body
    event.refresh_from_db()
    assert event.title == "Gammal"


def test_removing_asks_first_then_removes(cast):
    event = CalendarEventFactory(plan=cast.plan, title="Ska bort")
    url = reverse("event_delete", args=[cast.plan.pk, event.pk])
    client = cast.client("patient")

    confirm = client.get(url)
    assert CalendarEvent.objects.filter(pk=event.pk).exists()
    response = client.post(url, follow=True)

    assert "Ta bort kalenderposten?" in confirm.content.decode()
    assert f'action="{url}"' in confirm.content.decode()
    assert not CalendarEvent.objects.filter(pk=event.pk).exists()
    assert "Borttaget från kalendern: Ska bort" in response.content.decode()


def test_delete_needs_post(cast):
    event = CalendarEventFactory(plan=cast.plan)

    response = cast.client("patient").put(reverse("event_delete", args=[cast.plan.pk, event.pk]))

    assert response.status_code == 405
    assert CalendarEvent.objects.filter(pk=event.pk).exists()
