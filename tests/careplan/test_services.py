"""careplan.services and the outbox (invariant 6: queued after commit, survives a broker
outage, idempotent). The invariant-1 services are in test_invariants.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from careplan import services, tasks
from careplan.models import (
    CalendarEvent,
    CarePlan,
    CareRelation,
    Outbox,
    Patient,
    PlanChange,
)
from careplan.outbox import outbox_task
from tests import factories as f

CALLS: list[dict] = []


@outbox_task("tests.careplan.test_services.record_call")
def record_call(**kwargs) -> None:
    """An outbox target for these tests: remembers each run."""
    CALLS.append(kwargs)


@pytest.fixture(autouse=True)
def _no_calls():
    CALLS.clear()
    yield
    CALLS.clear()


TARGET = "tests.careplan.test_services.record_call"


# --- Outbox -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_dedupe_key_is_stored_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.outbox_enqueue(task=TARGET, kwargs={"n": 1}, dedupe_key="k-1")
        second = services.outbox_enqueue(task=TARGET, kwargs={"n": 2}, dedupe_key="k-1")
    assert first is not None
    assert second is None
    assert Outbox.objects.filter(dedupe_key="k-1").count() == 1
    assert CALLS == [{"n": 1}]


@pytest.mark.django_db
def test_a_duplicate_key_does_not_break_the_surrounding_transaction():
    with transaction.atomic():
        services.outbox_enqueue(task=TARGET, kwargs={}, dedupe_key="k-2")
        services.outbox_enqueue(task=TARGET, kwargs={}, dedupe_key="k-2")
        # The transaction is still usable after the swallowed IntegrityError.
        assert Outbox.objects.count() == 1


@pytest.mark.django_db
def test_work_is_queued_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = services.outbox_enqueue(task=TARGET, kwargs={"n": 1}, dedupe_key="k-3")
        assert CALLS == []
    assert len(callbacks) == 1
    row.refresh_from_db()
    assert row.sent_at is None and row.done_at is None
    callbacks[0]()  # the commit
    row.refresh_from_db()
    assert CALLS == [{"n": 1}]
    assert row.sent_at is not None and row.done_at is not None


@pytest.mark.django_db
def test_a_rolled_back_change_queues_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.outbox_enqueue(task=TARGET, kwargs={}, dedupe_key="k-4")
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert not Outbox.objects.exists()
    assert CALLS == []


@pytest.mark.django_db
def test_run_outbox_twice_runs_the_work_once():
    row = Outbox.objects.create(task=TARGET, kwargs={"n": 7}, dedupe_key="k-5")
    assert tasks.run_outbox(row.pk) == "done"
    assert tasks.run_outbox(row.pk) == "skipped"
    assert CALLS == [{"n": 7}]
    row.refresh_from_db()
    assert row.done_at is not None


@pytest.mark.django_db
def test_run_outbox_skips_a_row_that_is_gone():
    assert tasks.run_outbox(987654) == "skipped"
    assert CALLS == []


@pytest.mark.django_db
def test_a_failing_task_leaves_its_row_undone_for_the_relay():
    row = Outbox.objects.create(
        task="tests.careplan.test_services.no_such_function", kwargs={}, dedupe_key="k-6"
    )
    # The failure is recorded on the row (issue 12: back off, keep the error), not raised.
    assert tasks.run_outbox(row.pk) == "failed"
    row.refresh_from_db()
    assert row.done_at is None
    assert row.status == Outbox.Status.PENDING
    assert row.attempts == 1
    assert row.last_error.startswith("AttributeError")


def _age(row: Outbox, seconds: int) -> None:
    Outbox.objects.filter(pk=row.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


@pytest.mark.django_db
def test_relay_outbox_re_sends_an_old_undone_row():
    old = Outbox.objects.create(task=TARGET, kwargs={"n": 1}, dedupe_key="old")
    _age(old, 600)
    assert tasks.relay_outbox() == 1
    old.refresh_from_db()
    assert old.done_at is not None and old.sent_at is not None
    assert CALLS == [{"n": 1}]
    assert tasks.relay_outbox() == 0  # done rows are not sent again
    assert CALLS == [{"n": 1}]


@pytest.mark.django_db
def test_relay_outbox_leaves_young_and_done_rows_alone():
    young = Outbox.objects.create(task=TARGET, kwargs={"n": 1}, dedupe_key="young")
    done = Outbox.objects.create(
        task=TARGET, kwargs={"n": 2}, dedupe_key="done", done_at=timezone.now()
    )
    _age(done, 600)
    assert tasks.relay_outbox() == 0
    young.refresh_from_db()
    assert young.done_at is None
    assert CALLS == []


@pytest.mark.django_db
def test_a_broker_outage_at_commit_loses_nothing(monkeypatch, django_capture_on_commit_callbacks):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.run_outbox, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        row = services.outbox_enqueue(task=TARGET, kwargs={"n": 1}, dedupe_key="k-7")
    row.refresh_from_db()
    assert row.sent_at is None and row.done_at is None
    assert CALLS == []

    monkeypatch.undo()  # the broker is back; beat runs the relay
    _age(row, 120)
    assert tasks.relay_outbox() == 1
    row.refresh_from_db()
    assert row.done_at is not None
    assert CALLS == [{"n": 1}]


# --- Notifications ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_plan_changed_e_mail_carries_no_health_data(cast):
    cast.plan.diagnosis = "Bröstcancer"
    # The factory's title, "Min vårdplan", is also the site's name (CAREPLAN_SITE_NAME),
    # which the e-mail rightly says: give the plan a title of its own.
    cast.plan.title = "Bröstcancer – behandling"
    cast.plan.save()
    tasks.notify_plan_changed(plan_id=cast.plan.pk)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [cast.patient_user.email]
    text = message.subject + message.body
    for secret in (
        "Bröstcancer",
        cast.plan.title,
        cast.patient.personnummer,
        cast.patient.personnummer_masked,
        cast.patient.last_name,
        str(cast.nurse),
    ):
        assert secret not in text


@pytest.mark.django_db
def test_a_plan_change_by_the_nurse_mails_the_patient_once_a_day(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_record_change(plan=cast.plan, by=cast.nurse, what="First")
        services.plan_record_change(plan=cast.plan, by=cast.nurse, what="Second")
    assert cast.plan.changes.count() == 2
    assert Outbox.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_change_by_the_patient_is_history_only(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        change = services.plan_record_change(plan=cast.plan, by=cast.patient_user, what="Mine")
    assert change.by == cast.patient_user
    assert not Outbox.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_draft_plan_does_not_mail_the_patient(cast, django_capture_on_commit_callbacks):
    CarePlan.objects.filter(pk=cast.plan.pk).update(status=CarePlan.Status.DRAFT)
    cast.plan.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_record_change(plan=cast.plan, by=cast.nurse, what="Draft work")
    assert not Outbox.objects.exists()


# --- Bad input: a clear message and nothing half-saved ------------------------------------


@pytest.mark.django_db
def test_patient_register_refuses_a_wrong_check_digit_and_saves_nothing():
    unit = f.CareUnitFactory()
    nurse = f.StaffFactory(units=[unit])
    good = f.synthetic_personnummer()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(ValidationError) as exc:
        services.patient_register(
            unit=unit, by=nurse, first_name="Eva", last_name="Exempel", personnummer=bad
        )
    assert "Kontrollsiffran" in str(exc.value)
    assert not Patient.objects.exists()
    assert not CareRelation.objects.exists()


@pytest.mark.django_db
def test_patient_register_stores_twelve_digits_and_the_responsible_unit():
    unit = f.CareUnitFactory()
    nurse = f.StaffFactory(units=[unit])
    pnr = f.synthetic_personnummer()
    patient = services.patient_register(
        unit=unit,
        by=nurse,
        first_name="Eva",
        last_name="Exempel",
        personnummer=f"{pnr[2:8]}-{pnr[8:]}",
    )
    assert patient.personnummer == pnr
    assert patient.responsible_relation().unit == unit


@pytest.mark.django_db
def test_section_update_by_a_nurse_of_another_unit_is_refused_and_changes_nothing(cast):
    section = cast.plan.sections.first()
    before = section.personal_note
    with pytest.raises(PermissionDenied):
        services.section_update(
            section=section, by=cast.other_nurse, fields={"personal_note": "Not mine"}
        )
    section.refresh_from_db()
    assert section.personal_note == before
    assert not cast.plan.changes.exists()


@pytest.mark.django_db
def test_section_update_notes_the_change_for_the_patient(cast):
    section = cast.plan.sections.first()
    services.section_update(section=section, by=cast.nurse, fields={"personal_note": "Hej!"})
    change = PlanChange.objects.get(plan=cast.plan)
    assert change.section_key == section.key
    assert change.by == cast.nurse


@pytest.mark.django_db
def test_event_create_refuses_an_event_that_ends_before_it_starts_and_saves_nothing(cast):
    start = timezone.now() + dt.timedelta(days=1)
    event = CalendarEvent(
        plan=cast.plan, title="Strålning", starts_at=start, ends_at=start - dt.timedelta(hours=1)
    )
    with pytest.raises(ValidationError) as exc:
        services.event_create(event=event, by=cast.patient_user)
    assert "ends_at" in exc.value.message_dict
    assert not CalendarEvent.objects.exists()
    assert not PlanChange.objects.exists()


@pytest.mark.django_db
def test_event_create_update_and_delete_leave_history(cast):
    event = CalendarEvent(
        plan=cast.plan, title="Provtagning", starts_at=timezone.now() + dt.timedelta(days=2)
    )
    services.event_create(event=event, by=cast.patient_user)
    assert event.created_by == cast.patient_user
    services.event_update(event=event, by=cast.nurse)
    assert event.updated_by == cast.nurse
    services.event_delete(event=event, by=cast.nurse)
    assert not CalendarEvent.objects.exists()
    whats = list(cast.plan.changes.order_by("id").values_list("what", flat=True))
    assert len(whats) == 3
    assert all("Provtagning" in what for what in whats)
