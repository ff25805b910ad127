"""Schedules per plan template and per patient; Celery beat dispatches due sendings
exactly once and reminds before and after the due date; expiry."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import mail
from django.utils import timezone

from careplan.models import CarePlan, CareRelation, ContactNurseAssignment, Outbox
from selfmonitor import services, tasks
from selfmonitor.models import Assignment, Schedule
from tests import factories as f


def _template_schedule(cast, trigger, **kwargs):
    return Schedule.objects.create(
        instrument_key="distress-thermometer",
        template=cast.plan.template,
        trigger=trigger,
        **kwargs,
    )


def test_beat_has_the_three_selfmonitor_jobs():
    tasks_ = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "selfmonitor.tasks.dispatch_questionnaires",
        "selfmonitor.tasks.remind_questionnaires",
        "selfmonitor.tasks.escalate_alerts",
    } <= tasks_


def test_plan_start_schedule_is_dispatched_exactly_once(
    cast, instruments, django_capture_on_commit_callbacks
):
    # Sent at eight in the morning of the start day: the plan started yesterday.
    CarePlan.objects.filter(pk=cast.plan.pk).update(
        established_on=timezone.localdate() - dt.timedelta(days=1)
    )
    _template_schedule(cast, Schedule.Trigger.PLAN_START)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch_questionnaires() == 1
        assert tasks.dispatch_questionnaires() == 0
        assert services.dispatch_due() == 0
    assignment = Assignment.objects.get()
    assert assignment.status == Assignment.Status.OPEN
    assert assignment.patient == cast.patient
    assert assignment.unit == cast.unit
    assert assignment.occurrence == f"start:{cast.plan.pk}"
    assert Outbox.objects.filter(dedupe_key__startswith="selfmonitor:new:").count() == 1
    assert len(mail.outbox) == 1
    assert cast.patient_user.email in mail.outbox[0].to
    assert "istress" not in mail.outbox[0].body and "belast" not in mail.outbox[0].body


def test_a_second_dispatch_of_the_same_assignment_does_nothing(cast, send):
    assignment = send()
    assert not services.assignment_dispatch(assignment_id=assignment.pk)


def test_every_n_days_makes_one_sending_per_period(cast, instruments):
    _template_schedule(cast, Schedule.Trigger.EVERY, every_days=14)
    start = cast.plan.established_on
    assert services.schedules_materialise(today=start) == 1
    assert services.schedules_materialise(today=start + dt.timedelta(days=13)) == 0
    assert services.schedules_materialise(today=start + dt.timedelta(days=14)) == 1
    assert services.schedules_materialise(today=start + dt.timedelta(days=15)) == 0
    assert sorted(Assignment.objects.values_list("occurrence", flat=True)) == [
        f"every:{cast.plan.pk}:0",
        f"every:{cast.plan.pk}:1",
    ]


def test_a_phase_change_sends_once_per_phase(cast, instruments):
    _template_schedule(cast, Schedule.Trigger.PHASE_CHANGE)
    assert services.schedules_materialise() == 1
    CarePlan.objects.filter(pk=cast.plan.pk).update(phase=CarePlan.Phase.UPPFOLJNING)
    assert services.schedules_materialise() == 1
    assert services.schedules_materialise() == 0


def test_a_handover_sends_once_and_a_first_unit_does_not(cast, instruments):
    _template_schedule(cast, Schedule.Trigger.HANDOVER)
    assert services.schedules_materialise() == 0
    CareRelation.objects.filter(patient=cast.patient).update(ended_at=timezone.now())
    f.CareRelationFactory(patient=cast.patient, unit=cast.other_unit)
    # As a handover does: the contact nurse moves too (invariant 1, checked at commit).
    ContactNurseAssignment.objects.filter(patient=cast.patient).update(
        ended_on=timezone.localdate()
    )
    f.ContactNurseAssignmentFactory(
        patient=cast.patient, unit=cast.other_unit, nurse=cast.other_nurse
    )
    assert services.schedules_materialise() == 1
    assert services.schedules_materialise() == 0
    assert Assignment.objects.get().unit == cast.other_unit


def test_a_patient_schedule_applies_to_that_patient_only(cast, instruments):
    other = f.covered_plan(cast.unit, template=cast.plan.template)
    Schedule.objects.create(
        instrument_key="symptom-scale", patient=cast.patient, trigger=Schedule.Trigger.PLAN_START
    )
    assert services.schedules_materialise() == 1
    assert Assignment.objects.get().patient == cast.patient
    assert not Assignment.objects.filter(patient=other.patient).exists()


def test_inactive_schedules_and_closed_plans_send_nothing(cast, instruments):
    _template_schedule(cast, Schedule.Trigger.PLAN_START, active=False)
    assert services.schedules_materialise() == 0


def test_reminders_go_once_before_and_once_after_the_due_date(
    cast, send, django_capture_on_commit_callbacks
):
    assignment = send(due_days=2, expire_days=10)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(now=now) == 0  # due in two days
        assert services.reminders_send(now=now + dt.timedelta(days=1, hours=1)) == 1
        assert services.reminders_send(now=now + dt.timedelta(days=1, hours=2)) == 0
        assert services.reminders_send(now=now + dt.timedelta(days=3)) == 1
        assert services.reminders_send(now=now + dt.timedelta(days=4)) == 0
    assignment.refresh_from_db()
    assert assignment.reminded_before_at and assignment.reminded_after_at


def test_remind_later_holds_reminders_until_then_and_sends_one(cast, send):
    assignment = send(due_days=1, expire_days=10)
    services.assignment_remind_later(assignment=assignment, by=cast.patient_user)
    now = timezone.now()
    assert services.reminders_send(now=now + dt.timedelta(hours=2)) == 0
    # The day has passed: the before-the-due-date reminder is now after it; one "after"
    # reminder and the "later" one fall due together: the later one is cleared with it.
    sent = services.reminders_send(now=now + dt.timedelta(days=1, hours=1))
    assert sent >= 1
    assert services.reminders_send(now=now + dt.timedelta(days=1, hours=2)) == 0


def test_no_reminder_for_an_answered_questionnaire(cast, send):
    assignment = send(due_days=1)
    services.response_submit(
        assignment=assignment,
        by=cast.patient_user,
        raw={"distress": ["1"], "wants_contact": ["no"]},
    )
    assert services.reminders_send(now=timezone.now() + dt.timedelta(days=2)) == 0


def test_open_assignments_expire_after_their_date(cast, send):
    assignment = send(due_days=1, expire_days=2)
    assert services.assignments_expire(now=timezone.now() + dt.timedelta(days=1)) == 0
    assert services.assignments_expire(now=timezone.now() + dt.timedelta(days=3)) == 1
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.EXPIRED
    assert tasks.remind_questionnaires() == 0
