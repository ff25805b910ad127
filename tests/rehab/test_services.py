"""Rehab services: assessments and their KVÅ codes, due reassessments, the suggested
level, referrals, the plan's agreement and history, follow-up reminders, reports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from careplan.models import CarePlan, CareRelation, Outbox, PlanChange
from rehab import services
from rehab.models import (
    AssessmentReason,
    FollowUp,
    Goal,
    Intervention,
    Level,
    NeedsAssessment,
    Referral,
    RehabPlan,
)
from tests import factories as f

from .conftest import add_goal, add_intervention

pytestmark = pytest.mark.django_db


def assess(cast, level=Level.GRUNDLAGGANDE, **kw) -> NeedsAssessment:
    return services.assessment_record(
        patient=cast.patient,
        by=kw.pop("by", cast.nurse),
        level=level,
        summary=kw.pop("summary", "Trötthet, vill orka arbeta."),
        needs=kw.pop("needs", {"fysiska": "Trötthet", "psykiska": "Oro"}),
        **kw,
    )


def due(cast) -> list:
    from careplan.access import patients_for

    return list(services.due_reassessments(patients_for(cast.nurse)))


# --- Assessment ------------------------------------------------------------------------------


def test_a_basic_assessment_is_coded_au010(cast):
    a = assess(cast)
    assert a.kva.code == "AU010"
    assert a.unit == cast.unit and a.plan == cast.plan and a.plan_phase == cast.plan.phase
    assert a.needs_physical == "Trötthet" and a.needs_psychological == "Oro"


@pytest.mark.parametrize("level", [Level.SARSKILD, Level.AVANCERAD])
def test_particular_and_advanced_assessments_are_coded_aw019(cast, level):
    assert assess(cast, level).kva.code == "AW019"


@pytest.mark.parametrize("level", ["", "hög", "GRUNDLAGGANDE"])
def test_a_level_outside_the_three_is_refused_and_nothing_saved(cast, level):
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            assess(cast, level)
        assert "one of the three levels" in exc.value.message_dict["level"][0]
    assert not NeedsAssessment.objects.exists()


def test_an_assessment_without_summary_is_refused(cast):
    with pytest.raises(ValidationError) as exc:
        assess(cast, summary="  ")
    assert "summary" in exc.value.message_dict
    assert not NeedsAssessment.objects.exists()


def test_a_nurse_of_another_unit_cannot_assess(cast):
    with pytest.raises(PermissionDenied):
        assess(cast, by=cast.other_nurse)
    assert not NeedsAssessment.objects.exists()


def test_a_retired_assessment_code_is_refused_clearly(cast):
    from rehab.models import KvaCode

    KvaCode.objects.filter(code="AU010").update(valid_to=dt.date(2020, 1, 1))
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        assess(cast)
    assert "AU010 was retired" in exc.value.message_dict["level"][0]


# --- Due reassessments ------------------------------------------------------------------------


def test_a_patient_with_an_open_plan_and_no_assessment_is_due(cast):
    rows = due(cast)
    assert [p.pk for p in rows] == [cast.patient.pk]
    with translation.override("en"):
        assert services.due_reasons(rows[0]) == ["Not yet assessed"]


def test_an_assessed_patient_is_not_due(cast):
    assess(cast)
    assert due(cast) == []


def test_a_phase_change_makes_a_reassessment_due(cast):
    assess(cast)
    CarePlan.objects.filter(pk=cast.plan.pk).update(phase=CarePlan.Phase.UPPFOLJNING)
    rows = due(cast)
    with translation.override("en"):
        assert services.due_reasons(rows[0]) == ["Phase changed to Follow-up"]


def test_a_handover_makes_a_reassessment_due(cast):
    assess(cast)
    new_unit = f.CareUnitFactory()
    cast.nurse.care_units.add(new_unit)
    cast.nurse._careplan_unit_ids = None
    now = timezone.now()
    CareRelation.objects.filter(patient=cast.patient).update(ended_at=now)
    CareRelation.objects.create(patient=cast.patient, unit=new_unit, started_at=now)
    rows = due(cast)
    with translation.override("en"):
        assert services.due_reasons(rows[0]) == ["Handover to a new responsible unit"]


def test_an_alert_request_makes_a_reassessment_due_once_until_assessed(cast):
    assess(cast)
    first = services.reassessment_request(patient=cast.patient, reason=AssessmentReason.ALERT)
    again = services.reassessment_request(patient=cast.patient, reason=AssessmentReason.ALERT)
    assert first is not None and again is None
    with translation.override("en"):
        assert services.due_reasons(due(cast)[0]) == ["After an alert"]

    a = assess(cast, reason=AssessmentReason.ALERT)

    first.refresh_from_db()
    assert first.resolved_by == a
    assert due(cast) == []


# --- Suggested level ---------------------------------------------------------------------------


def test_without_screening_results_the_suggestion_is_basic(cast):
    assert services.latest_screening(cast.patient) == []
    with translation.override("en"):
        s = services.suggest_level([])
        assert s.level == Level.GRUNDLAGGANDE
        assert "No screening results" in s.reasons[0]


def test_screening_above_threshold_suggests_particular_or_advanced():
    one = services.Screening("Distress thermometer", None, 6, flagged=True, areas=("psykiska",))
    many = services.Screening("ESAS-r", None, 8, flagged=True, areas=("fysiska", "sociala"))
    low = services.Screening("ESAS-r", None, 1)
    with translation.override("en"):
        assert services.suggest_level([low]).level == Level.GRUNDLAGGANDE
        s = services.suggest_level([one, low])
        assert s.level == Level.SARSKILD
        assert s.reasons == ["Distress thermometer is above its threshold (6)."]
        assert services.suggest_level([one, many]).level == Level.AVANCERAD


def test_the_screening_hook_reads_selfmonitor_when_it_offers_results(cast, monkeypatch):
    from selfmonitor import services as sm

    def fake(patient):
        assert patient == cast.patient
        return {
            "submitted_at": timezone.now(),
            "areas": {
                "physical": {"score": 7, "need": True, "wants_support": False},
                "psychological": {"score": 2, "need": False, "wants_support": False},
                "social": {"score": None, "need": True, "wants_support": True},
                "existential": {"score": 1, "need": False, "wants_support": False},
            },
        }

    monkeypatch.setattr(sm, "latest_screening", fake)
    with translation.override("en"):
        results = services.latest_screening(cast.patient)
        assert [(r.title, r.score, r.flagged) for r in results] == [
            ("Physical", 7, True),
            ("Psychological", 2, False),
            ("Social", None, True),
            ("Existential", 1, False),
        ]
        assert services.suggest_level(results).level == Level.SARSKILD


def test_no_screening_answered_gives_no_results(cast, monkeypatch):
    from selfmonitor import services as sm

    monkeypatch.setattr(sm, "latest_screening", lambda patient: None)
    assert services.latest_screening(cast.patient) == []


# --- Referral --------------------------------------------------------------------------------


def test_advanced_needs_are_referred_and_the_rehab_unit_decides(cast, rehab_unit, rehab_nurse):
    a = assess(cast, Level.AVANCERAD)
    r = services.referral_send(assessment=a, to_unit=rehab_unit, by=cast.nurse, reason="Behov")
    assert r.status == Referral.Status.SENT and r.from_unit == cast.unit

    with pytest.raises(PermissionDenied):
        services.referral_decide(referral=r, by=cast.nurse, accept=True, reason="")
    services.referral_decide(referral=r, by=rehab_nurse, accept=True, reason="")

    r.refresh_from_db()
    assert r.status == Referral.Status.ACCEPTED and r.decided_by == rehab_nurse
    assert PlanChange.objects.filter(plan=cast.plan, what__contains=rehab_unit.name).exists()
    with pytest.raises(ValidationError):
        services.referral_decide(referral=r, by=rehab_nurse, accept=False, reason="x")


def test_declining_a_referral_needs_a_reason(cast, rehab_unit, rehab_nurse):
    a = assess(cast, Level.AVANCERAD)
    r = services.referral_send(assessment=a, to_unit=rehab_unit, by=cast.nurse, reason="Behov")
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.referral_decide(referral=r, by=rehab_nurse, accept=False, reason=" ")
    assert "why the referral is declined" in exc.value.message_dict["decision_reason"][0]
    r.refresh_from_db()
    assert r.status == Referral.Status.SENT


def test_a_referral_goes_only_to_a_rehabilitation_unit(cast):
    a = assess(cast, Level.AVANCERAD)
    with pytest.raises(ValidationError) as exc:
        services.referral_send(assessment=a, to_unit=cast.other_unit, by=cast.nurse, reason="x")
    assert "to_unit" in exc.value.message_dict


# --- The plan ---------------------------------------------------------------------------------


def test_creating_a_plan_notes_history_and_tells_the_patient(cast):
    rehab = services.rehab_plan_create(care_plan=cast.plan, by=cast.nurse, summary_assessment="S")
    assert rehab.patient == cast.patient
    assert rehab.history.count() == 1
    assert PlanChange.objects.filter(plan=cast.plan).exists()
    with pytest.raises(ValidationError):
        services.rehab_plan_create(care_plan=cast.plan, by=cast.nurse)


def test_a_plan_without_goals_cannot_be_agreed(cast):
    rehab = RehabPlan.objects.create(care_plan=cast.plan, patient=cast.patient)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.rehab_plan_agree(rehab_plan=rehab, by=cast.patient_user)
    assert "no goals yet" in exc.value.messages[0]
    rehab.refresh_from_db()
    assert rehab.agreed_at is None


def test_the_patient_agrees_once_and_a_later_change_asks_again(cast, rehab):
    with pytest.raises(PermissionDenied):
        services.rehab_plan_agree(rehab_plan=rehab, by=cast.nurse)
    services.rehab_plan_agree(rehab_plan=rehab, by=cast.patient_user)
    services.rehab_plan_agree(rehab_plan=rehab, by=cast.patient_user)
    assert rehab.agreed_at is not None
    assert rehab.history.filter(what="Agreed by the patient").count() <= 1
    assert rehab.history.count() == 1

    rehab.timetable = "Ny tidplan"
    services.rehab_plan_update(rehab_plan=rehab, by=cast.nurse)

    rehab.refresh_from_db()
    assert rehab.agreed_at is None
    latest = rehab.history.first()
    assert latest.snapshot["timetable"] == "Ny tidplan"
    assert latest.snapshot["goals"][0]["text"] == "Orka gå till affären själv"
    assert latest.snapshot["interventions"][0]["kva"] == "AU010"


def test_an_intervention_with_an_expired_code_is_refused(cast, rehab, retired_code):
    item = Intervention(
        rehab_plan=rehab,
        area="fysiska",
        kva=retired_code,
        description="Test",
        profession="physiotherapist",
        unit=cast.unit,
        starts_on=timezone.localdate(),
    )
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.intervention_save(intervention=item, by=cast.nurse, creating=True)
    assert "ZZ999 was retired on 2020-12-31" in exc.value.message_dict["kva"][0]
    assert rehab.interventions.count() == 1


def test_an_intervention_ending_before_it_starts_is_refused(cast, rehab):
    item = rehab.interventions.get()
    item.ends_on = item.starts_on - dt.timedelta(days=1)
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            services.intervention_save(intervention=item, by=cast.nurse, creating=False)
        assert exc.value.message_dict["ends_on"] == [
            "The intervention cannot end before it starts."
        ]
    item.refresh_from_db()
    assert item.ends_on is None


def test_an_old_intervention_keeps_its_code_after_the_code_is_retired(cast, rehab):
    item = rehab.interventions.get()
    item.kva.valid_to = timezone.localdate() - dt.timedelta(days=1)
    item.kva.valid_from = None
    item.kva.save()
    item.status = Intervention.Status.DONE
    services.intervention_save(intervention=item, by=cast.nurse, creating=False)
    item.refresh_from_db()
    assert item.status == Intervention.Status.DONE


def test_goals_are_evaluated_reached_partly_or_not(cast, rehab):
    goal = rehab.goals.get()
    services.goal_evaluate(
        goal=goal, by=cast.nurse, evaluation=Goal.Evaluation.PARTLY, note="Bättre"
    )
    goal.refresh_from_db()
    assert goal.evaluation == "partly" and goal.evaluated_on == timezone.localdate()
    with pytest.raises(ValidationError):
        services.goal_evaluate(goal=goal, by=cast.nurse, evaluation="maybe")


# --- Follow-up reminders ---------------------------------------------------------------------


def test_follow_up_reminders_are_queued_once_and_hold_no_health_data(
    cast, rehab, django_capture_on_commit_callbacks
):
    far = FollowUp.objects.create(
        rehab_plan=rehab, due_on=timezone.localdate() + dt.timedelta(days=30)
    )
    mail.outbox.clear()

    from rehab.tasks import queue_followup_reminders

    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        first = queue_followup_reminders()
        second = queue_followup_reminders()

    assert (first, second) == (1, 0)
    assert Outbox.objects.filter(task="rehab.tasks.send_followup_reminder").count() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [cast.patient_user.email]
    assert f"/plan/{cast.plan.pk}/rehab/" in message.body
    for secret in ("Trötthet", "Fysioterapeutisk", cast.patient.personnummer, "Uppföljning"):
        assert secret not in message.body and secret not in message.subject
    far.refresh_from_db()
    assert far.reminder_queued_at is None


def test_a_moved_follow_up_date_is_reminded_again(cast, rehab):
    fu = rehab.follow_ups.get()
    services.followup_reminders_queue()
    fu.due_on += dt.timedelta(days=1)
    fu.save()
    assert services.followup_reminders_queue() == 1


# --- Reports ---------------------------------------------------------------------------------


def test_the_report_counts_assessed_patients_interventions_and_referrals(cast, rehab, rehab_unit):
    other = f.covered_plan(cast.unit)
    f.covered_plan(cast.other_unit)  # another unit's patient: not counted
    assess(cast, Level.SARSKILD)
    a = assess(cast, Level.AVANCERAD)
    services.referral_send(assessment=a, to_unit=rehab_unit, by=cast.nurse, reason="x")
    add_intervention(rehab, cast.unit, code="DV111")
    add_intervention(rehab, cast.unit, code="DV111", status=Intervention.Status.CANCELLED)
    add_goal(rehab)
    today = timezone.localdate()

    report = services.unit_report(unit=cast.unit, start=today.replace(day=1), end=today)

    assert report.patients_with_plan == 2
    assert report.assessed == 1
    assert report.by_level == {Level.AVANCERAD: 1}
    assert report.share_assessed == 0.5
    assert [(c, n) for c, _t, n in report.interventions_by_code] == [("AU010", 1), ("DV111", 1)]
    assert report.referrals == {"sent": 1}
    assert sorted(report.patient_ids) == sorted([cast.patient.pk, other.patient_id])
    rows = report.csv_rows()
    assert rows[0] == ["unit_hsa_id", "period_start", "period_end", "measure", "key", "value"]
    assert [
        cast.unit.hsa_id,
        str(today.replace(day=1)),
        str(today),
        "share_assessed",
        "",
        "0.500",
    ] in rows


def test_a_report_period_ending_before_it_starts_is_refused(cast):
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        services.unit_report(unit=cast.unit, start=today, end=today - dt.timedelta(days=1))


def test_the_patient_is_notified_of_a_rehab_plan_to_look_at_once_per_version(cast):
    from careplan.models import Notification

    rehab = services.rehab_plan_create(care_plan=cast.plan, by=cast.nurse, timetable="Vecka 1")
    notes = Notification.objects.filter(recipient=cast.patient_user, kind="other")
    assert notes.count() == 1
    assert notes.get().url == f"/plan/{cast.plan.pk}/rehab/"
    services.rehab_plan_update(rehab_plan=rehab, by=cast.nurse, content_changed=False)
    assert notes.count() == 1
    services.rehab_plan_update(rehab_plan=rehab, by=cast.nurse)
    assert notes.count() == 2
