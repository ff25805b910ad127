"""One notification mechanism (``careplan.messaging.notify``): in-app rows and the
header count, e-mail through the outbox (after commit, idempotent, no health data),
plan changes folded in, the escalation of unanswered threads, and the web pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from careplan import messaging, services, tasks
from careplan.models import MessageThread, Notification, Outbox
from tests import factories as f

pytestmark = pytest.mark.django_db

EMAIL_TASK = "careplan.tasks.send_notification_email"


def start(cast, subject="Ont i magen", body="Jag har ont i magen efter behandlingen."):
    return messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject=subject, body=body
    ).thread


def unread(user) -> int:
    user.refresh_from_db()
    return user.unread_notifications


# --- notify() -------------------------------------------------------------------------------


def test_notify_stores_one_row_per_recipient_and_counts_it_once(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = messaging.notify(
            recipients=[cast.patient_user, cast.nurse, cast.patient_user],
            kind=Notification.Kind.OTHER,
            dedupe_key="k1",
            url="/",
        )
        again = messaging.notify(
            recipients=[cast.patient_user], kind=Notification.Kind.OTHER, dedupe_key="k1"
        )

    assert len(first) == 2 and again == []
    assert Notification.objects.count() == 2
    assert unread(cast.patient_user) == 1 and unread(cast.nurse) == 1
    assert Outbox.objects.filter(task=EMAIL_TASK).count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.patient_user.email, cast.nurse.email]
    )


def test_the_e_mail_is_queued_only_after_commit(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        messaging.notify(recipients=[cast.patient_user], kind="other", dedupe_key="k2")
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1


def test_a_broker_outage_loses_nothing_the_relay_sends_it_later(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.run_outbox, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        messaging.notify(recipients=[cast.patient_user], kind="other", dedupe_key="k3")
    row = Outbox.objects.get(task=EMAIL_TASK)
    assert row.done_at is None and mail.outbox == []
    assert Notification.objects.filter(recipient=cast.patient_user).exists()  # stored first

    monkeypatch.undo()
    Outbox.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert tasks.relay_outbox() == 1
    row.refresh_from_db()
    assert row.done_at is not None and len(mail.outbox) == 1
    tasks.run_outbox(row.pk)  # delivered twice by the broker: sent once
    assert len(mail.outbox) == 1


def test_the_message_e_mail_says_only_that_something_is_waiting(
    cast, django_capture_on_commit_callbacks
):
    thread = start(cast)
    with django_capture_on_commit_callbacks(execute=True):
        messaging.message_send(by=cast.nurse, thread=thread, body="Ta en Alvedon mot smärtan.")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [cast.patient_user.email]
    text = message.subject + message.body
    for secret in (
        "Alvedon",
        "Ont i magen",
        "ont i magen",
        cast.plan.diagnosis,
        cast.patient.personnummer,
        cast.patient.personnummer_masked,
        cast.patient.last_name,
        str(cast.nurse),
        cast.unit.name,
    ):
        assert secret not in text
    assert reverse("notification_list") in text


def test_no_e_mail_for_a_notification_read_before_it_went_out(cast):
    [notification] = messaging.notify(
        recipients=[cast.patient_user], kind="other", dedupe_key="k4", email=False
    )
    messaging.notifications_mark_read(user=cast.patient_user)
    tasks.send_notification_email(notification_id=notification.pk)
    assert mail.outbox == []


# --- Plan changes go through the same mechanism ------------------------------------------------


def test_a_plan_change_notifies_the_patient_in_the_app_and_by_e_mail_once_a_day(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_record_change(plan=cast.plan, by=cast.nurse, what="Första")
        services.plan_record_change(plan=cast.plan, by=cast.nurse, what="Andra")

    notification = Notification.objects.get()
    assert notification.recipient == cast.patient_user
    assert notification.kind == Notification.Kind.PLAN_CHANGED
    assert notification.url == reverse("plan_detail", args=[cast.plan.pk])
    assert unread(cast.patient_user) == 1
    assert Outbox.objects.get().task == EMAIL_TASK
    assert len(mail.outbox) == 1
    assert cast.plan.diagnosis not in mail.outbox[0].body


def test_a_change_by_the_patient_notifies_no_one(cast):
    services.plan_record_change(plan=cast.plan, by=cast.patient_user, what="Min egen")
    assert not Notification.objects.exists()


def test_a_patient_message_notifies_the_patient_of_nothing(cast):
    start(cast)
    # The unit's staff are told now (issue 10); the patient who wrote it is not.
    assert not Notification.objects.filter(recipient=cast.patient_user).exists()
    assert set(Notification.objects.values_list("recipient", flat=True)) == {cast.nurse.pk}


# --- Escalation of unanswered threads ---------------------------------------------------------


def _waited(thread, hours: float) -> None:
    MessageThread.objects.filter(pk=thread.pk).update(
        awaiting_reply_since=timezone.now() - dt.timedelta(hours=hours)
    )


def test_a_thread_unanswered_past_the_setting_escalates_to_the_unit_once(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.CAREPLAN_MESSAGE_ESCALATE_AFTER_HOURS = 24
    colleague = f.StaffFactory(units=[cast.unit])
    thread = start(cast)
    _waited(thread, 23)
    assert tasks.escalate_unanswered_threads() == 0

    _waited(thread, 25)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.escalate_unanswered_threads() == 1
        assert tasks.escalate_unanswered_threads() == 0  # beat runs again: nothing new
        assert messaging.thread_escalate(thread_id=thread.pk) is False

    thread.refresh_from_db()
    assert thread.escalated_at is not None
    told = Notification.objects.filter(kind=Notification.Kind.ESCALATION)
    assert {n.recipient for n in told} == {cast.nurse, colleague}
    assert cast.other_nurse not in {n.recipient for n in told}
    assert told.first().url == reverse("admin:careplan_messagethread_change", args=[thread.pk])
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "Ont i magen" not in message.body and cast.patient.last_name not in message.body


def test_the_escalation_time_is_configurable(cast, settings):
    thread = start(cast)
    _waited(thread, 3)
    settings.CAREPLAN_MESSAGE_ESCALATE_AFTER_HOURS = 4
    assert tasks.escalate_unanswered_threads() == 0
    settings.CAREPLAN_MESSAGE_ESCALATE_AFTER_HOURS = 2
    assert tasks.escalate_unanswered_threads() == 1


def test_answered_or_handled_threads_never_escalate(cast):
    answered = start(cast, subject="A")
    messaging.message_send(by=cast.nurse, thread=answered, body="Svar")
    handled = start(cast, subject="B")
    messaging.thread_mark_handled(thread=handled, by=cast.nurse)
    MessageThread.objects.update(last_message_at=timezone.now() - dt.timedelta(days=9))
    assert tasks.escalate_unanswered_threads() == 0


def test_a_new_wait_after_an_answer_may_escalate_again_once(cast):
    thread = start(cast)
    _waited(thread, 48)
    assert tasks.escalate_unanswered_threads() == 1
    messaging.message_send(by=cast.nurse, thread=thread, body="Svar")
    messaging.message_send(by=cast.patient_user, thread=thread, body="Ny fråga")
    _waited(thread, 48)
    assert tasks.escalate_unanswered_threads() == 1
    assert tasks.escalate_unanswered_threads() == 0
    assert Notification.objects.filter(kind="escalation", recipient=cast.nurse).count() == 2


def test_escalation_goes_to_the_unit_responsible_now(cast):
    from tests.careplan.test_messages import move_responsibility

    thread = start(cast)
    move_responsibility(cast, cast.other_unit)
    _waited(thread, 48)
    assert tasks.escalate_unanswered_threads() == 1
    told = {n.recipient for n in Notification.objects.filter(kind="escalation")}
    assert told == {cast.other_nurse}


def test_the_escalation_job_is_scheduled_by_beat(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["message-escalation"]
    assert schedule["task"] == "careplan.tasks.escalate_unanswered_threads"


# --- The web: list, header count, open, mark read ------------------------------------------------


def _english(client):
    client.cookies["django_language"] = "en"
    return client


def test_the_header_shows_the_unread_count_and_the_list_shows_the_news(cast):
    thread = start(cast)
    messaging.message_send(by=cast.nurse, thread=thread, body="Svar")
    services.plan_record_change(plan=cast.plan, by=cast.nurse, what="Nytt")
    client = _english(cast.client("patient"))

    body = client.get(reverse("notification_list")).content.decode()

    assert '<span class="badge">2<span class="visually-hidden"> unread</span>' in body
    assert "New message from your care team" in body
    assert "Your care plan has changed" in body
    assert "Svar" not in body.split("<main")[1].split("</main>")[0]  # no message text


def test_opening_a_notification_reads_it_and_follows_its_link(cast):
    thread = start(cast)
    messaging.message_send(by=cast.nurse, thread=thread, body="Svar")
    notification = Notification.objects.get(recipient=cast.patient_user)
    client = cast.client("patient")

    response = client.get(reverse("notification_open", args=[notification.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("message_thread", args=[thread.pk])
    assert unread(cast.patient_user) == 0


@pytest.mark.parametrize("who", ["nurse", "other_nurse", "relative", "stranger_relative"])
def test_no_one_else_opens_a_patients_notification(cast, who):
    [notification] = messaging.notify(
        recipients=[cast.patient_user], kind="other", dedupe_key="k5", url="/"
    )
    response = cast.client(who).get(reverse("notification_open", args=[notification.pk]))
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_an_outside_link_is_never_followed(cast):
    [notification] = messaging.notify(
        recipients=[cast.patient_user], kind="other", dedupe_key="k6", url="https://evil.test/"
    )
    response = cast.client("patient").get(reverse("notification_open", args=[notification.pk]))
    assert response["Location"] == reverse("notification_list")


def test_mark_all_read(cast):
    for key in ("a", "b"):
        messaging.notify(recipients=[cast.patient_user], kind="other", dedupe_key=key)
    client = cast.client("patient")
    assert client.get(reverse("notifications_read")).status_code == 405
    response = client.post(reverse("notifications_read"))
    assert response.status_code == 302
    assert unread(cast.patient_user) == 0
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_anonymous_is_sent_to_log_in(cast):
    response = cast.client("anonymous").get(reverse("notification_list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# The notification list:
#   1 session, 2 user, 3 COUNT (paginator), 4 the page
@pytest.mark.parametrize("n", [1, 3])
def test_the_notification_list_query_count_is_pinned(cast, django_assert_num_queries, n):
    client = cast.client("patient")
    client.get(reverse("notification_list"))
    for i in range(n):
        messaging.notify(recipients=[cast.patient_user], kind="other", dedupe_key=f"q{i}")
    with django_assert_num_queries(4):
        response = client.get(reverse("notification_list"))
    assert response.content.decode().count('<li class="notification') == n


@pytest.mark.parametrize(
    "kind",
    [
        Notification.Kind.QUESTIONNAIRE,
        Notification.Kind.ALERT,
        Notification.Kind.HANDOVER,
        Notification.Kind.OTHER,
    ],
)
def test_other_apps_notify_through_the_same_mechanism(
    cast, kind, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = messaging.notify(
            recipients=[cast.patient_user], kind=kind, dedupe_key=f"other-app:{kind}", url="/"
        )
    assert notification.label == str(notification.get_kind_display())
    assert unread(cast.patient_user) == 1
    assert len(mail.outbox) == 1
