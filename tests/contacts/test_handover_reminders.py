"""Handovers not accepted in time: reminders (Celery beat, once per step) and the
admin worklist (inbox and stale handovers)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from careplan.models import AccessLog, CareUnit, Notification, Outbox
from careplan.selectors import WORKLIST_SOURCES, worklist
from contacts import tasks
from contacts.handover import services
from contacts.selectors import handover_items

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _sent(cast, patient=None):
    cast.other_unit.kind = CareUnit.Kind.PRIMARY
    cast.other_unit.save(update_fields=["kind"])
    h = services.handover_create(
        patient=patient or cast.patient,
        by=cast.nurse,
        to_unit=cast.other_unit,
        situation="s",
        recommendation="r",
    )
    return services.handover_send(handover=h, by=cast.nurse)


def _overdue(handover, hours=100):
    type(handover).objects.filter(pk=handover.pk).update(
        sent_at=timezone.now() - dt.timedelta(hours=hours)
    )


def _reminders(user):
    return Notification.objects.filter(recipient=user, dedupe_key__contains=":overdue:")


def test_a_handover_not_accepted_in_time_reminds_receiver_and_alerts_sender_once(
    cast, django_capture_on_commit_callbacks
):
    handover = _sent(cast)
    cast.nurse.language = "en"  # each nurse is told in their own language
    cast.nurse.save(update_fields=["language"])
    assert tasks.remind_overdue_handovers() == 0  # not yet due
    _overdue(handover)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_overdue_handovers() == 1
    assert _reminders(cast.other_nurse).count() == 1
    assert _reminders(cast.nurse).count() == 1
    assert "not been accepted in time" in _reminders(cast.nurse).get().text
    assert _reminders(cast.other_nurse).get().text == (
        "En överlämning till din enhet väntar på att tas emot"
    )
    emails = Outbox.objects.filter(dedupe_key__startswith="notification-email:").count()
    # Running again (or after a broker outage, when beat retries) tells nobody twice.
    assert tasks.remind_overdue_handovers() == 0
    assert _reminders(cast.other_nurse).count() == 1
    assert Outbox.objects.filter(dedupe_key__startswith="notification-email:").count() == emails


def test_accepted_or_declined_handovers_are_not_reminded(cast):
    handover = _sent(cast)
    _overdue(handover)
    services.handover_decline(handover=handover, by=cast.other_nurse, reason="No")
    assert services.handovers_remind_overdue() == 0
    assert not _reminders(cast.nurse).exists()


def test_the_reminder_window_is_a_setting(cast, settings):
    settings.CAREPLAN_HANDOVER_ACCEPT_WITHIN_HOURS = 1
    handover = _sent(cast)
    _overdue(handover, hours=2)
    assert services.handovers_remind_overdue() == 1


def test_the_reminder_job_is_on_the_beat_schedule(settings):
    tasks_scheduled = {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "contacts.tasks.remind_overdue_handovers" in tasks_scheduled


def _handovers_on_worklist(user) -> list:
    return [(i.obj, i.kind_label) for i in worklist(user) or [] if i.kind == "handover"]


def test_the_senders_worklist_shows_stale_handovers_and_the_receivers_the_inbox(cast):
    fresh = _sent(cast)
    assert _handovers_on_worklist(cast.nurse) == []
    _overdue(fresh)
    assert _handovers_on_worklist(cast.nurse) == [(fresh, "Handover not accepted in time")]
    assert _handovers_on_worklist(cast.other_nurse) == [(fresh, "Handover waiting for acceptance")]
    row = AccessLog.objects.filter(user=cast.other_nurse, object_type="Handover").get()
    assert (row.action, row.basis, row.acting_unit) == ("list", "handover", cast.other_unit)


def test_the_worklist_is_on_the_admin_index(cast):
    handover = _sent(cast)
    _overdue(handover)
    client = cast.client("nurse")
    client.cookies["django_language"] = "en"
    body = client.get(reverse("admin:index")).content.decode()
    assert "Handover not accepted in time" in body
    assert reverse("admin:contacts_handover_change", args=[handover.pk]) in body


def test_the_worklist_is_nothing_for_others(cast):
    assert worklist(cast.patient_user) is None
    assert worklist(cast.relative) is None


@pytest.mark.parametrize("rows", [1, 3])
def test_the_handover_source_costs_one_query_and_its_log_one_for_one_or_three(
    cast, rows, django_assert_num_queries
):
    for i in range(rows):
        patient = cast.patient if i == 0 else f.covered_plan(cast.unit, nurse=cast.nurse).patient
        _overdue(_sent(cast, patient))
    cast.nurse._careplan_unit_ids = frozenset([cast.unit.pk])
    with django_assert_num_queries(1):  # the handovers (scope, acting unit, both units)
        items = handover_items(cast.nurse, limit=25)
    assert len(items) == rows
    with django_assert_num_queries(1):  # INSERT the access-log rows
        WORKLIST_SOURCES["handover"].log(cast.nurse, items)


def test_a_broker_outage_loses_no_reminder_and_the_relay_sends_it_once(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core import mail

    from careplan import tasks as careplan_tasks

    handover = _sent(cast)
    _overdue(handover)
    mail.outbox.clear()

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(careplan_tasks.run_outbox, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_overdue_handovers() == 1
    reminder_ids = Notification.objects.filter(dedupe_key__contains=":overdue:").values_list(
        "pk", flat=True
    )
    keys = [f"notification-email:{pk}" for pk in reminder_ids]
    waiting = Outbox.objects.filter(dedupe_key__in=keys, done_at__isnull=True)
    assert waiting.count() == 2 and mail.outbox == []  # receiver and sender, stored
    monkeypatch.undo()
    Outbox.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
    careplan_tasks.relay_outbox()
    assert not Outbox.objects.filter(dedupe_key__in=keys, done_at__isnull=True).exists()
    sent = len(mail.outbox)
    assert {m.to[0] for m in mail.outbox} >= {cast.nurse.email, cast.other_nurse.email}
    assert tasks.remind_overdue_handovers() == 0  # the next beat run tells nobody again
    careplan_tasks.relay_outbox()
    assert len(mail.outbox) == sent
