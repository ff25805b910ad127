"""The API for threads, messages and notifications: the same scoping as the web and the
admin, access-log rows (channel api), bad input, pinned query counts."""

from __future__ import annotations

import pytest
from django.test import Client

from careplan import messaging
from careplan.models import AccessLog, Message, MessageThread, Notification
from contacts.models import Scope
from tests import factories as f
from tests.conftest import CAST

pytestmark = pytest.mark.django_db

THREADS = "/api/v1/threads/"


def api(cast, who: str) -> Client:
    client = cast.client(who)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def share_messages(cast) -> None:
    cast.grant.scopes = [*cast.grant.scopes, Scope.MESSAGES]
    cast.grant.save(update_fields=["scopes"])


def start(cast, subject="Fråga", body="Hej"):
    return messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject=subject, body=body
    ).thread


def api_rows():
    return AccessLog.objects.filter(channel=AccessLog.Channel.API)


@pytest.mark.parametrize(
    ("who", "status", "shown", "logged"),
    [
        ("patient", 200, 1, 0),
        ("nurse", 200, 1, 1),
        ("other_nurse", 200, 0, 0),
        ("relative", 200, 1, 1),
        ("stranger_relative", 200, 0, 0),
        ("anonymous", 403, None, 0),
    ],
)
def test_listing_threads_for_the_whole_cast(cast, who, status, shown, logged):
    share_messages(cast)
    start(cast)
    response = api(cast, who).get(THREADS)
    assert response.status_code == status
    if shown is not None:
        assert len(response.json()["results"]) == shown
    assert api_rows().filter(action=AccessLog.Action.LIST).count() == logged


@pytest.mark.parametrize(
    ("who", "status", "outcome"),
    [
        ("patient", 200, None),
        ("nurse", 200, AccessLog.Outcome.ALLOWED),
        ("other_nurse", 404, AccessLog.Outcome.DENIED),
        ("relative", 200, AccessLog.Outcome.ALLOWED),
        ("stranger_relative", 404, AccessLog.Outcome.DENIED),
        ("anonymous", 403, None),
    ],
)
def test_reading_a_thread_for_the_whole_cast(cast, who, status, outcome):
    share_messages(cast)
    thread = start(cast, body="Ska jag ta tabletten?")
    response = api(cast, who).get(f"{THREADS}{thread.pk}/")
    assert response.status_code == status
    if status == 200:
        data = response.json()
        assert [m["body"] for m in data["messages"]] == ["Ska jag ta tabletten?"]
        assert data["answer_within_days"] == 2
        assert "personnummer" not in str(data)
    rows = list(api_rows())
    assert [r.outcome for r in rows] == ([outcome] if outcome else [])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("patient", 201),
        ("nurse", 201),
        ("other_nurse", 404),
        ("relative", 403),
        ("stranger_relative", 404),
        ("anonymous", 403),
    ],
)
def test_writing_in_a_thread_for_the_whole_cast(cast, who, status):
    share_messages(cast)
    thread = start(cast)
    response = api(cast, who).post(
        f"{THREADS}{thread.pk}/messages/", {"body": "Svar"}, content_type="application/json"
    )
    assert response.status_code == status
    assert thread.messages.filter(body="Svar").exists() == (status == 201)
    if who in ("relative", "other_nurse", "stranger_relative"):
        assert api_rows().get().outcome == AccessLog.Outcome.DENIED


@pytest.mark.parametrize("who", CAST)
def test_starting_a_thread_for_the_whole_cast(cast, who):
    share_messages(cast)
    data = {"subject": "Fråga", "body": "Hej", "patient": cast.patient.pk}
    response = api(cast, who).post(THREADS, data, content_type="application/json")
    expected = {
        "patient": 201,
        "nurse": 201,  # the care team may write first, naming the patient
        "other_nurse": 404,
        "relative": 403,
        "stranger_relative": 403,
        "anonymous": 403,
    }[who]
    assert response.status_code == expected
    assert MessageThread.objects.exists() == (expected == 201)
    if expected == 201:
        thread = MessageThread.objects.get()
        assert thread.unit == cast.unit and thread.patient == cast.patient


@pytest.mark.parametrize(
    ("body", "error"), [("", "Write your message"), ("z" * 4001, "at most 4000 fit")]
)
def test_bad_input_is_refused_with_a_clear_message(cast, body, error):
    thread = start(cast)
    response = api(cast, "patient").post(
        f"{THREADS}{thread.pk}/messages/", {"body": body}, content_type="application/json"
    )
    assert response.status_code == 400
    assert error in " ".join(response.json()["body"])
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("patient", 403),
        ("nurse", 200),
        ("other_nurse", 404),
        ("relative", 403),
        ("stranger_relative", 404),
        ("anonymous", 403),
    ],
)
def test_only_the_care_team_marks_a_thread_handled(cast, who, status):
    share_messages(cast)
    thread = start(cast)
    response = api(cast, who).post(f"{THREADS}{thread.pk}/handled/")
    assert response.status_code == status
    thread.refresh_from_db()
    assert (thread.status == MessageThread.Status.HANDLED) == (status == 200)


def test_notifications_are_the_users_own_and_can_be_marked_read(cast):
    thread = start(cast)
    messaging.message_send(by=cast.nurse, thread=thread, body="Svar")
    mine = api(cast, "patient").get("/api/v1/notifications/").json()
    assert mine["unread"] == 1
    assert [n["kind"] for n in mine["results"]] == ["message"]
    notification = Notification.objects.get(recipient=cast.patient_user)
    # The nurse sees only their own (the unit's "new message from a patient", issue 10).
    theirs = api(cast, "nurse").get("/api/v1/notifications/").json()["results"]
    assert [n["kind"] for n in theirs] == ["patient_message"]

    assert (
        api(cast, "nurse").post(f"/api/v1/notifications/{notification.pk}/read/").status_code == 404
    )
    read = api(cast, "patient").post(f"/api/v1/notifications/{notification.pk}/read/")
    assert read.status_code == 200 and read.json()["read_at"]
    cast.patient_user.refresh_from_db()
    assert cast.patient_user.unread_notifications == 0


# Threads list, staff:
#   1 session, 2 user, 3 my units (access.staff_unit_ids)
#   4 the page of threads with patient, unit and acting unit (cursor pagination: no COUNT)
#   5 INSERT the access-log rows (one per patient shown)
@pytest.mark.parametrize("n", [1, 3])
def test_the_thread_list_query_count_is_pinned(cast, django_assert_num_queries, n):
    client = api(cast, "nurse")
    client.get("/api/v1/")
    for i in range(n):
        plan = f.covered_plan(cast.unit)
        messaging.message_send(
            by=plan.patient.user, patient=plan.patient, subject=f"Fråga {i}", body="Hej"
        )
    with django_assert_num_queries(5):
        response = client.get(THREADS)
    assert len(response.json()["results"]) == n


# Notifications list:
#   1 session, 2 user, 3 the page (cursor pagination: no COUNT)
@pytest.mark.parametrize("n", [1, 3])
def test_the_notification_list_query_count_is_pinned(cast, django_assert_num_queries, n):
    client = api(cast, "patient")
    client.get("/api/v1/")
    thread = start(cast)
    for i in range(n):
        messaging.message_send(by=cast.nurse, thread=thread, body=f"Svar {i}")
    with django_assert_num_queries(3):
        response = client.get("/api/v1/notifications/")
    assert len(response.json()["results"]) == n
