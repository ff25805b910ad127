"""The outbox's delivery record (issue 12): a claim with a lease, no transaction around the
work, back-off per row, dead rows parked for the admin, ready rows first, Message-IDs from
the key. The real worker, killed mid-send, is in tests/integration/test_faults.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careplan import mail as careplan_mail
from careplan import services, tasks
from careplan.models import Outbox
from careplan.outbox import outbox_task
from careplan.testing import login
from tests import factories as f

CALLS: list[dict] = []
GOOD = "tests.careplan.test_outbox.record_call"
BAD = "tests.careplan.test_outbox.always_fails"
MAILER = "tests.careplan.test_outbox.send_two_mails"


@outbox_task(GOOD)
def record_call(**kwargs) -> None:
    CALLS.append(kwargs)


@outbox_task(BAD)
def always_fails(**kwargs) -> None:
    raise ConnectionRefusedError("mail server refused the connection")


@outbox_task(MAILER)
def send_two_mails(*, to: str) -> None:
    for n in range(2):
        careplan_mail.send_mail(subject=f"n{n}", message="Hej", recipient_list=[to])


@outbox_task("tests.careplan.test_outbox.in_transaction_probe")
def in_transaction_probe(**kwargs) -> None:
    CALLS.append({"in_atomic": connection.in_atomic_block})


@pytest.fixture(autouse=True)
def _no_calls():
    CALLS.clear()
    yield
    CALLS.clear()


def _row(task: str = GOOD, key: str = "k", **fields) -> Outbox:
    row = Outbox.objects.create(task=task, kwargs={}, dedupe_key=key, **fields)
    # Older than the relay's grace for rows just committed (their own dispatch runs them).
    Outbox.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    row.refresh_from_db()
    return row


@pytest.mark.django_db
def test_a_row_is_marked_done_with_its_attempt_recorded():
    row = _row()
    assert tasks.run_outbox(row.pk) == "done"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Outbox.Status.DONE, 1, "")
    assert row.done_at is not None
    assert tasks.run_outbox(row.pk) == "skipped"
    assert len(CALLS) == 1


@pytest.mark.django_db(transaction=True)
def test_the_work_runs_outside_any_transaction():
    row = Outbox.objects.create(
        task="tests.careplan.test_outbox.in_transaction_probe", kwargs={}, dedupe_key="probe"
    )
    assert tasks.run_outbox(row.pk) == "done"
    assert CALLS == [{"in_atomic": False}]


@pytest.mark.django_db
def test_a_row_being_sent_under_a_live_lease_is_not_sent_again():
    row = _row(
        status=Outbox.Status.SENDING, next_attempt_at=timezone.now() + dt.timedelta(minutes=3)
    )
    assert tasks.run_outbox(row.pk) == "skipped"
    assert tasks.relay_outbox() == 0
    assert CALLS == []


@pytest.mark.django_db
def test_a_row_whose_worker_died_is_sent_again_when_its_lease_lapses():
    row = _row(
        status=Outbox.Status.SENDING,
        attempts=1,
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1),
    )
    assert tasks.relay_outbox() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Outbox.Status.DONE, 2)
    assert len(CALLS) == 1


@pytest.mark.django_db
def test_a_failing_row_backs_off_exponentially_then_is_parked_as_dead(settings):
    settings.CAREPLAN_OUTBOX_MAX_ATTEMPTS = 4
    row = _row(BAD)
    waits = []
    for expected in ["failed", "failed", "failed", "dead"]:
        before = timezone.now()
        assert tasks.run_outbox(row.pk) == expected
        row.refresh_from_db()
        waits.append(round((row.next_attempt_at - before).total_seconds() / 60))
        # Due again: the next attempt is allowed.
        Outbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert waits[:3] == [1, 2, 4]
    row.refresh_from_db()
    assert row.status == Outbox.Status.DEAD
    assert row.attempts == 4
    assert row.last_error == "ConnectionRefusedError: mail server refused the connection"
    # Dead rows are not relayed, nor run by a stray task.
    assert tasks.relay_outbox() == 0
    assert tasks.run_outbox(row.pk) == "skipped"


def test_the_back_off_is_capped_at_six_hours():
    assert tasks.outbox_backoff(1) == dt.timedelta(minutes=1)
    assert tasks.outbox_backoff(5) == dt.timedelta(minutes=16)
    assert tasks.outbox_backoff(30) == dt.timedelta(hours=6)


@pytest.mark.django_db
def test_five_hundred_failing_rows_do_not_starve_the_rest(django_assert_max_num_queries):
    old = timezone.now() - dt.timedelta(days=1)
    Outbox.objects.bulk_create(
        Outbox(task=BAD, kwargs={}, dedupe_key=f"bad-{n}", next_attempt_at=old) for n in range(500)
    )
    Outbox.objects.update(created_at=old)
    good = _row(GOOD, "good")
    # The first run takes the 500 most overdue (all failing): each fails and backs off.
    assert tasks.relay_outbox() == 500
    assert CALLS == []
    assert set(Outbox.objects.filter(task=BAD).values_list("status", "attempts")) == {
        (Outbox.Status.PENDING, 1)
    }
    # The next run finds the failing rows waiting out their back-off: the good row goes.
    assert tasks.relay_outbox() == 1
    good.refresh_from_db()
    assert good.status == Outbox.Status.DONE
    assert len(CALLS) == 1
    assert tasks.relay_outbox() == 0


@pytest.mark.django_db
def test_the_relay_takes_ready_rows_not_the_oldest_failing_ones():
    later = timezone.now() + dt.timedelta(minutes=30)
    Outbox.objects.bulk_create(
        Outbox(task=BAD, kwargs={}, dedupe_key=f"bad-{n}", attempts=3, next_attempt_at=later)
        for n in range(500)
    )
    Outbox.objects.update(created_at=timezone.now() - dt.timedelta(days=1))
    good = _row(GOOD, "good")
    assert tasks.relay_outbox() == 1
    good.refresh_from_db()
    assert good.status == Outbox.Status.DONE


@pytest.mark.django_db
def test_each_e_mail_gets_a_message_id_from_the_outbox_key():
    row = Outbox.objects.create(task=MAILER, kwargs={"to": "a@example.org"}, dedupe_key="mail-1")
    assert tasks.run_outbox(row.pk) == "done"
    # Sent again (say the worker died after the mail server said yes): the same ids.
    Outbox.objects.filter(pk=row.pk).update(status=Outbox.Status.PENDING, done_at=None)
    assert tasks.run_outbox(row.pk) == "done"
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert ids[0] == ids[2] == careplan_mail.message_id_for("mail-1", 0)
    assert ids[1] == ids[3] == careplan_mail.message_id_for("mail-1", 1)
    assert ids[0] != ids[1]
    assert ids[0].endswith("@careplan.invalid>")
    assert "mail-1" not in ids[0]  # a hash of the key, not the key


# --- The admin: dead rows for operations, with "retry" ------------------------------------


def _ops_user(*perms: str):
    user = f.StaffFactory()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="careplan", codename__in=perms)
    )
    return user


@pytest.mark.django_db
def test_dead_rows_are_listed_with_their_error_for_operations():
    dead = _row(BAD, "dead-1", status=Outbox.Status.DEAD, attempts=8, last_error="SMTPError: 550")
    _row(GOOD, "done-1", status=Outbox.Status.DONE)
    client = login(Client(), _ops_user("view_outbox"))
    response = client.get(reverse("admin:careplan_outbox_changelist"))
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows == [dead]  # the dead ones by default
    assert "SMTPError: 550" in response.text
    all_rows = client.get(reverse("admin:careplan_outbox_changelist") + "?status=all")
    assert len(all_rows.context["cl"].result_list) == 2


@pytest.mark.django_db
def test_retry_sends_a_dead_row_again(django_capture_on_commit_callbacks):
    dead = _row(GOOD, "dead-2", status=Outbox.Status.DEAD, attempts=8, last_error="boom")
    client = login(Client(), _ops_user("view_outbox", "change_outbox"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:careplan_outbox_changelist"),
            {"action": "retry", "_selected_action": [dead.pk]},
            follow=True,
        )
    assert response.status_code == 200
    dead.refresh_from_db()
    assert dead.status == Outbox.Status.DONE
    assert dead.attempts == 1
    assert len(CALLS) == 1


@pytest.mark.django_db
def test_view_only_operations_cannot_retry():
    dead = _row(GOOD, "dead-3", status=Outbox.Status.DEAD)
    client = login(Client(), _ops_user("view_outbox"))
    response = client.get(reverse("admin:careplan_outbox_changelist"))
    assert response.context["action_form"] is None  # no action offered at all
    client.post(
        reverse("admin:careplan_outbox_changelist"),
        {"action": "retry", "_selected_action": [dead.pk]},
    )
    dead.refresh_from_db()
    assert dead.status == Outbox.Status.DEAD
    assert CALLS == []


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["nurse", "other_nurse", "patient", "relative", "anonymous"])
def test_the_care_team_and_everyone_else_do_not_see_the_outbox(cast, who):
    _row(BAD, "dead-4", status=Outbox.Status.DEAD)
    response = cast.client(who).get(reverse("admin:careplan_outbox_changelist"))
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "login" in response.url


@pytest.mark.django_db
def test_superusers_see_the_outbox():
    admin_user = f.StaffFactory(is_superuser=True)
    client = login(Client(), admin_user)
    assert client.get(reverse("admin:careplan_outbox_changelist")).status_code == 200


@pytest.mark.django_db
def test_retry_leaves_done_and_sending_rows_alone(django_capture_on_commit_callbacks):
    done = _row(GOOD, "done-2", status=Outbox.Status.DONE)
    sending = _row(GOOD, "sending-2", status=Outbox.Status.SENDING)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.outbox_retry(rows=[done, sending]) == 0
    assert CALLS == []


def test_no_task_and_no_mail_connection_waits_forever(settings):
    from django.core.mail import get_connection

    from careplan import celery_app

    assert settings.EMAIL_TIMEOUT and settings.EMAIL_TIMEOUT < settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert get_connection("django.core.mail.backends.smtp.EmailBackend").timeout == (
        settings.EMAIL_TIMEOUT
    )
    assert celery_app.conf.task_soft_time_limit < celery_app.conf.task_time_limit
    # Every task message carries the limits (tasks.run_outbox reads them at binding).
    assert tasks.run_outbox.soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert tasks.run_outbox.time_limit == settings.CELERY_TASK_TIME_LIMIT
    # A claimed row's lease outlives any run of its task.
    assert settings.CAREPLAN_OUTBOX_LEASE_SECONDS > settings.CELERY_TASK_TIME_LIMIT


# --- allauth's own e-mails go through the outbox too ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_password_reset_request_is_answered_without_the_mail_server_and_mailed_later():
    from tests.faults import broker_at, dead_url

    user = f.UserFactory(email="reset@example.test")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    with broker_at(dead_url()):
        response = Client().post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    row = Outbox.objects.get(task="careplan.tasks.send_rendered_email")
    assert row.kwargs["to"] == ["reset@example.test"]
    assert mail.outbox == []

    Outbox.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(minutes=2))
    assert tasks.relay_outbox() == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["reset@example.test"]
    assert "/accounts/password/reset/key/" in sent.body
    assert sent.extra_headers["Message-ID"] == careplan_mail.message_id_for(row.dedupe_key)
    row.refresh_from_db()
    # Sent: the row no longer holds the message with its reset link.
    assert (row.status, row.kwargs) == (Outbox.Status.DONE, {})


# The session, the user, the count of rows matching the filter, the page of rows, the
# task filter's distinct tasks. (No admin sidebar: its app list no longer asks for the
# user's care units; careplan.admin_site.)
OUTBOX_LIST_QUERIES = 5


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [1, 3])
def test_the_outbox_list_costs_the_same_for_1_and_3_rows(rows, django_assert_num_queries):
    for n in range(rows):
        _row(BAD, f"dead-q{n}", status=Outbox.Status.DEAD, last_error="boom")
    client = login(Client(), f.StaffFactory(is_superuser=True))
    client.get(reverse("admin:careplan_outbox_changelist"))
    with django_assert_num_queries(OUTBOX_LIST_QUERIES):
        response = client.get(reverse("admin:careplan_outbox_changelist"))
    assert len(response.context["cl"].result_list) == rows
