"""One row per submit: a message, a reply or a calendar entry sent twice from the same
form (a double click, a resent POST, an API retry with the same Idempotency-Key) is
stored once. The key is made when the form is shown; each page view gets a new one."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections
from django.urls import reverse

from careplan import messaging, services
from careplan.models import CalendarEvent, Message, MessageThread

from .test_admin import admin_url, as_english, form_data

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _key(response, name="submission") -> str:
    return response.context["form"][name].value()


def test_a_new_message_sent_twice_is_stored_once(cast):
    client = cast.client("patient")
    key = _key(client.get(reverse("message_new")))
    data = {"subject": "Fråga", "body": "Ska jag fasta?", "submission": key}

    first = client.post(reverse("message_new"), data)
    second = client.post(reverse("message_new"), data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert MessageThread.objects.count() == 1
    assert Message.objects.count() == 1


def test_a_reply_sent_twice_is_stored_once_and_a_new_page_gives_a_new_key(cast):
    thread = messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject="Fråga", body="Hej"
    ).thread
    client = cast.client("patient")
    url = reverse("message_thread", args=[thread.pk])
    page = client.get(url)
    data = {"body": "Och en sak till.", "submission": _key(page)}

    client.post(url, data)
    client.post(url, data, **HTMX)
    again = client.get(url)

    assert thread.messages.filter(body="Och en sak till.").count() == 1
    assert _key(again) != _key(page)
    client.post(url, {"body": "Och en sak till.", "submission": _key(again)})
    assert thread.messages.filter(body="Och en sak till.").count() == 2  # a new submit


def test_a_calendar_entry_sent_twice_is_stored_once(cast):
    client = cast.client("patient")
    url = reverse("plan_calendar", args=[cast.plan.pk])
    key = _key(client.get(url))
    data = {"kind": "visit", "title": "Återbesök", "starts_at": "2027-01-10T09:00"}

    client.post(url, {**data, "submission": key})
    second = client.post(url, {**data, "submission": key}, **HTMX)

    assert CalendarEvent.objects.filter(title="Återbesök").count() == 1
    # The htmx answer hands the page a fresh key for its next entry (out of band).
    assert 'hx-swap-oob="true"' in second.text
    assert f'value="{key}"' not in second.text


def test_the_same_key_from_another_author_is_another_submit(cast):
    key = uuid.uuid4()
    event = dict(plan=cast.plan, title="Prov", starts_at="2027-01-10T09:00+01:00")
    services.event_create(event=CalendarEvent(**event), by=cast.patient_user, submission_key=key)
    services.event_create(event=CalendarEvent(**event), by=cast.nurse, submission_key=key)
    assert CalendarEvent.objects.filter(title="Prov").count() == 2


def test_an_admin_answer_sent_twice_is_stored_once(cast):
    thread = messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject="Fråga", body="Hej"
    ).thread
    client = as_english(cast, "nurse")
    url = admin_url("careplan_messagethread_change", thread.pk)
    data = {**form_data(client.get(url)), "answer": "Ja, på morgonen."}

    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert thread.messages.filter(from_patient=False).count() == 1


def test_an_admin_calendar_entry_sent_twice_is_stored_once(cast):
    client = as_english(cast, "nurse")
    url = admin_url("careplan_calendarevent_add")
    data = {
        **form_data(client.get(url)),
        "plan": cast.plan.pk,
        "kind": "visit",
        "title": "Mammografi",
        "starts_at_0": "2027-01-10",
        "starts_at_1": "09:30",
    }

    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert CalendarEvent.objects.filter(title="Mammografi").count() == 1


# --- The API: Idempotency-Key -------------------------------------------------------------


@pytest.mark.parametrize("who", ["patient", "nurse"])
def test_api_posts_with_one_idempotency_key_store_one_row(cast, who):
    client = cast.client(who)
    thread = messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject="Fråga", body="Hej"
    ).thread
    posts = [
        ("/api/v1/threads/", {"patient": cast.patient.pk, "subject": "Ny", "body": "Text"}),
        (f"/api/v1/threads/{thread.pk}/messages/", {"body": "Svar"}),
        (
            "/api/v1/events/",
            {"plan": cast.plan.pk, "kind": "visit", "title": "X", "starts_at": "2027-01-10T09:00"},
        ),
    ]
    messages_before = Message.objects.count()
    for url, body in posts:
        key = str(uuid.uuid4())
        first = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
        second = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)
        assert first.status_code == second.status_code == 201, (url, second.content)
        assert first.json()["id"] == second.json()["id"], url
    assert Message.objects.count() == messages_before + 2
    assert CalendarEvent.objects.count() == 1


def test_api_posts_without_a_key_are_each_a_submit(cast):
    client = cast.client("patient")
    body = {"plan": cast.plan.pk, "kind": "visit", "title": "X", "starts_at": "2027-01-10T09:00"}
    client.post("/api/v1/events/", body, content_type="application/json")
    client.post("/api/v1/events/", body, content_type="application/json")
    assert CalendarEvent.objects.count() == 2


def test_a_malformed_idempotency_key_is_a_clear_400(cast):
    response = cast.client("patient").post(
        "/api/v1/events/",
        {"plan": cast.plan.pk, "kind": "visit", "title": "X", "starts_at": "2027-01-10T09:00"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="not-a-uuid",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json()["Idempotency-Key"][0].startswith("Give a UUID")
    assert not CalendarEvent.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_store_one_message_and_one_entry(cast):
    thread = messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject="Fråga", body="Hej"
    ).thread
    message_key, event_key = uuid.uuid4(), uuid.uuid4()
    barrier = threading.Barrier(4)
    errors: list[Exception] = []

    def reply():
        try:
            barrier.wait(timeout=10)
            messaging.message_send(
                by=cast.patient_user,
                thread=MessageThread.objects.get(pk=thread.pk),
                body="Samtidigt",
                submission_key=message_key,
            )
        except Exception as exc:  # noqa: BLE001 - any error is a failure of the test
            errors.append(exc)
        finally:
            connections.close_all()

    def add():
        try:
            barrier.wait(timeout=10)
            services.event_create(
                event=CalendarEvent(
                    plan_id=cast.plan.pk, title="Samtidigt", starts_at="2027-01-10T09:00+01:00"
                ),
                by=cast.patient_user,
                submission_key=event_key,
            )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=t) for t in (reply, reply, add, add)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert Message.objects.filter(body="Samtidigt").count() == 1
    assert CalendarEvent.objects.filter(title="Samtidigt").count() == 1
