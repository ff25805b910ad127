"""Invariant 1: a patient with an active plan has exactly one responsible care unit and one
named contact nurse at any time, kept by the database, not only by code.

"At most one" is the partial unique indexes (every database). "At least one" is the
PostgreSQL constraint triggers of migration 0002, checked at COMMIT; those tests run with
``transaction=True`` so that commits really happen, and are skipped on other vendors (CI
runs PostgreSQL).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from careplan import services
from careplan.models import (
    CalendarEvent,
    CarePlan,
    CareRelation,
    ContactNurseAssignment,
    PlanSection,
)
from tests import factories as f

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="constraint triggers exist on PostgreSQL only (CI runs PostgreSQL)",
)


def _covered_patient(unit=None, nurse=None):
    """A patient with a responsible unit and a named contact nurse (committed)."""
    unit = unit or f.CareUnitFactory()
    nurse = nurse or f.StaffFactory(units=[unit])
    patient = f.PatientFactory()
    relation = f.CareRelationFactory(patient=patient, unit=unit)
    assignment = f.ContactNurseAssignmentFactory(patient=patient, unit=unit, nurse=nurse)
    return patient, relation, assignment


# --- "At most one": partial unique indexes (every vendor) -----------------------------


@pytest.mark.django_db
def test_it_refuses_a_second_active_care_relation():
    patient, relation, _ = _covered_patient()
    with pytest.raises(IntegrityError), transaction.atomic():
        f.CareRelationFactory(patient=patient, unit=f.CareUnitFactory())
    assert CareRelation.objects.filter(patient=patient, ended_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_it_allows_a_new_care_relation_once_the_old_one_ended():
    patient, relation, _ = _covered_patient()
    relation.ended_at = timezone.now()
    relation.save()
    f.CareRelationFactory(patient=patient, unit=f.CareUnitFactory())
    assert CareRelation.objects.filter(patient=patient).count() == 2
    assert CareRelation.objects.filter(patient=patient, ended_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_it_refuses_a_second_active_contact_nurse():
    patient, relation, _ = _covered_patient()
    with pytest.raises(IntegrityError), transaction.atomic():
        f.ContactNurseAssignmentFactory(
            patient=patient, unit=relation.unit, nurse=f.StaffFactory(units=[relation.unit])
        )
    assert (
        ContactNurseAssignment.objects.filter(patient=patient, ended_on__isnull=True).count() == 1
    )


@pytest.mark.django_db
def test_it_refuses_a_care_relation_that_ends_before_it_starts():
    patient, relation, _ = _covered_patient()
    relation.ended_at = relation.started_at - dt.timedelta(days=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        relation.save()


@pytest.mark.django_db
def test_it_refuses_a_contact_nurse_assignment_that_ends_before_it_starts():
    _, _, assignment = _covered_patient()
    assignment.ended_on = assignment.started_on - dt.timedelta(days=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        assignment.save()


# --- Care plan check constraints ---------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_an_established_plan_without_an_established_date():
    patient, _, _ = _covered_patient()
    with pytest.raises(IntegrityError), transaction.atomic():
        f.CarePlanFactory(patient=patient, status=CarePlan.Status.ACTIVE, established_on=None)
    assert not CarePlan.objects.filter(patient=patient).exists()


@pytest.mark.django_db
def test_it_refuses_a_second_open_plan_for_one_patient():
    patient, _, _ = _covered_patient()
    f.CarePlanFactory(patient=patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        f.CarePlanFactory(patient=patient, status=CarePlan.Status.DRAFT, established_on=None)
    assert CarePlan.objects.filter(patient=patient).count() == 1


@pytest.mark.django_db
def test_it_keeps_any_number_of_closed_plans_beside_the_open_one():
    patient, _, _ = _covered_patient()
    f.CarePlanFactory(patient=patient, status=CarePlan.Status.CLOSED)
    f.CarePlanFactory(patient=patient, status=CarePlan.Status.CLOSED)
    f.CarePlanFactory(patient=patient)
    assert CarePlan.objects.filter(patient=patient).count() == 3


@pytest.mark.django_db
def test_it_refuses_a_calendar_event_that_ends_before_it_starts():
    patient, _, _ = _covered_patient()
    plan = f.CarePlanFactory(patient=patient)
    start = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarEvent.objects.create(
            plan=plan,
            title="Cytostatika",
            starts_at=start,
            ends_at=start - dt.timedelta(hours=1),
            created_by=patient.user,
        )


# --- "At least one": constraint triggers at COMMIT (PostgreSQL) -----------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_an_active_plan_for_a_patient_without_a_responsible_unit():
    unit = f.CareUnitFactory()
    patient = f.PatientFactory()
    f.ContactNurseAssignmentFactory(patient=patient, unit=unit)
    template = f.PlanTemplateFactory()
    with pytest.raises(IntegrityError, match="no responsible care unit"), transaction.atomic():
        f.CarePlanFactory(patient=patient, template=template)
    assert not CarePlan.objects.filter(patient=patient).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_an_active_plan_for_a_patient_without_a_contact_nurse():
    patient = f.PatientFactory()
    f.CareRelationFactory(patient=patient)
    template = f.PlanTemplateFactory()
    with pytest.raises(IntegrityError, match="no named contact nurse"), transaction.atomic():
        f.CarePlanFactory(patient=patient, template=template)
    assert not CarePlan.objects.filter(patient=patient).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_establishing_a_draft_plan_of_an_uncovered_patient():
    patient = f.PatientFactory()
    f.CareRelationFactory(patient=patient)
    plan = f.CarePlanFactory(patient=patient, status=CarePlan.Status.DRAFT, established_on=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        CarePlan.objects.filter(pk=plan.pk).update(
            status=CarePlan.Status.ACTIVE, established_on=timezone.localdate()
        )
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.DRAFT


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_checks_at_commit_so_the_nurse_may_be_named_later_in_the_same_transaction():
    unit = f.CareUnitFactory()
    nurse = f.StaffFactory(units=[unit])
    patient = f.PatientFactory()
    template = f.PlanTemplateFactory()
    with transaction.atomic():
        plan = f.CarePlanFactory(patient=patient, template=template)
        f.CareRelationFactory(patient=patient, unit=unit)
        f.ContactNurseAssignmentFactory(patient=patient, unit=unit, nurse=nurse)
    assert CarePlan.objects.get(pk=plan.pk).status == CarePlan.Status.ACTIVE


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_ending_the_last_care_relation_of_a_patient_with_an_active_plan():
    patient, relation, _ = _covered_patient()
    f.CarePlanFactory(patient=patient)
    with pytest.raises(IntegrityError, match="no responsible care unit"), transaction.atomic():
        CareRelation.objects.filter(pk=relation.pk).update(ended_at=timezone.now())
    relation.refresh_from_db()
    assert relation.ended_at is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_deleting_the_last_care_relation_of_a_patient_with_an_active_plan():
    patient, relation, _ = _covered_patient()
    f.CarePlanFactory(patient=patient)
    pk = relation.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        relation.delete()
    assert CareRelation.objects.filter(pk=pk, ended_at__isnull=True).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_ending_the_last_contact_nurse_of_a_patient_with_an_active_plan():
    patient, _, assignment = _covered_patient()
    f.CarePlanFactory(patient=patient)
    with pytest.raises(IntegrityError, match="no named contact nurse"), transaction.atomic():
        assignment.ended_on = timezone.localdate()
        assignment.save()
    assignment.refresh_from_db()
    assert assignment.ended_on is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_deleting_the_last_contact_nurse_of_a_patient_with_an_active_plan():
    patient, _, assignment = _covered_patient()
    f.CarePlanFactory(patient=patient)
    pk = assignment.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        assignment.delete()
    assert ContactNurseAssignment.objects.filter(pk=pk).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_in_autocommit_too():
    patient, relation, _ = _covered_patient()
    f.CarePlanFactory(patient=patient)
    with pytest.raises(IntegrityError):
        CareRelation.objects.filter(pk=relation.pk).update(ended_at=timezone.now())
    assert CareRelation.objects.filter(patient=patient, ended_at__isnull=True).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_accepts_a_handover_that_ends_the_old_and_creates_the_new_in_one_transaction():
    patient, relation, assignment = _covered_patient()
    plan = f.CarePlanFactory(patient=patient)
    receiving = f.CareUnitFactory(name="Vårdcentralen Exempelby")
    receiving_nurse = f.StaffFactory(units=[receiving])
    with transaction.atomic():
        CareRelation.objects.filter(pk=relation.pk).update(ended_at=timezone.now())
        ContactNurseAssignment.objects.filter(pk=assignment.pk).update(
            ended_on=timezone.localdate()
        )
        f.CareRelationFactory(patient=patient, unit=receiving)
        f.ContactNurseAssignmentFactory(patient=patient, unit=receiving, nurse=receiving_nurse)
    assert patient.responsible_relation().unit == receiving
    assert patient.contact_nurse_assignment().nurse == receiving_nurse
    assert CarePlan.objects.get(pk=plan.pk).status == CarePlan.Status.ACTIVE


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_lets_a_patient_without_an_active_plan_leave_the_unit():
    patient, relation, assignment = _covered_patient()
    f.CarePlanFactory(patient=patient, status=CarePlan.Status.CLOSED)
    f.CarePlanFactory(patient=patient, status=CarePlan.Status.DRAFT, established_on=None)
    with transaction.atomic():
        ContactNurseAssignment.objects.filter(pk=assignment.pk).update(
            ended_on=timezone.localdate()
        )
        CareRelation.objects.filter(pk=relation.pk).update(ended_at=timezone.now())
    assert patient.responsible_relation() is None
    assert patient.contact_nurse_assignment() is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_lets_a_plan_be_closed_and_then_the_relation_ended():
    patient, relation, _ = _covered_patient()
    plan = f.CarePlanFactory(patient=patient)
    with transaction.atomic():
        CarePlan.objects.filter(pk=plan.pk).update(status=CarePlan.Status.CLOSED)
        CareRelation.objects.filter(pk=relation.pk).update(ended_at=timezone.now())
    assert patient.responsible_relation() is None


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_a_contact_nurse_who_does_not_work_in_the_responsible_unit():
    patient, _relation, assignment = _covered_patient()
    f.CarePlanFactory(patient=patient)
    outsider = f.StaffFactory(units=[f.CareUnitFactory()])
    refused = pytest.raises(IntegrityError, match="does not work in the responsible unit")
    with refused, transaction.atomic():
        ContactNurseAssignment.objects.filter(pk=assignment.pk).update(
            ended_on=timezone.localdate()
        )
        f.ContactNurseAssignmentFactory(patient=patient, unit=assignment.unit, nurse=outsider)
    assert patient.contact_nurse_assignment().nurse == assignment.nurse


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_a_handover_that_leaves_the_old_units_nurse_in_charge():
    patient, relation, assignment = _covered_patient()
    f.CarePlanFactory(patient=patient)
    receiving = f.CareUnitFactory(name="Vårdcentralen Exempelby")
    refused = pytest.raises(IntegrityError, match="does not work in the responsible unit")
    with refused, transaction.atomic():
        CareRelation.objects.filter(pk=relation.pk).update(ended_at=timezone.now())
        f.CareRelationFactory(patient=patient, unit=receiving)
    assert patient.responsible_relation().unit == relation.unit


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_refuses_moving_the_relation_to_a_unit_the_nurse_does_not_work_in():
    patient, relation, _assignment = _covered_patient()
    f.CarePlanFactory(patient=patient)
    with pytest.raises(IntegrityError, match="does not work in the responsible unit"):
        CareRelation.objects.filter(pk=relation.pk).update(unit=f.CareUnitFactory())
    assert CareRelation.objects.get(pk=relation.pk).unit == relation.unit


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_db_triggers_are_deferrable_and_initially_deferred():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgdeferrable, tginitdeferred FROM pg_trigger "
            "WHERE tgname LIKE 'careplan\\_%%responsibility%%' ORDER BY tgname"
        )
        rows = cursor.fetchall()
    assert [name for name, _, _ in rows] == [
        "careplan_careplan_responsibility",
        "careplan_carerelation_responsibility_delete",
        "careplan_carerelation_responsibility_end",
        "careplan_carerelation_responsibility_start",
        "careplan_contactnurse_responsibility_delete",
        "careplan_contactnurse_responsibility_end",
        "careplan_contactnurse_responsibility_start",
    ]
    assert all(deferrable and deferred for _, deferrable, deferred in rows)


# --- Services keep the invariant ------------------------------------------------------------


@pytest.mark.django_db
def test_contact_nurse_assign_ends_the_previous_assignment():
    unit = f.CareUnitFactory()
    first, second = f.StaffFactory(units=[unit]), f.StaffFactory(units=[unit])
    patient = f.PatientFactory()
    f.CareRelationFactory(patient=patient, unit=unit)
    old = services.contact_nurse_assign(
        patient=patient, nurse=first, by=first, started_on=timezone.localdate()
    )
    f.CarePlanFactory(patient=patient)
    new = services.contact_nurse_assign(patient=patient, nurse=second, by=first)
    old.refresh_from_db()
    assert old.ended_on is not None
    assert new.ended_on is None
    active = ContactNurseAssignment.objects.filter(patient=patient, ended_on__isnull=True)
    assert list(active) == [new]
    assert patient.contact_nurse_assignment().nurse == second


@pytest.mark.django_db
def test_contact_nurse_assign_keeps_one_row_when_the_same_nurse_is_named_again():
    patient, relation, assignment = _covered_patient()
    again = services.contact_nurse_assign(
        patient=patient, nurse=assignment.nurse, by=assignment.nurse, direct_phone="010-1"
    )
    assert again.pk == assignment.pk
    assert again.direct_phone == "010-1"
    assert ContactNurseAssignment.objects.filter(patient=patient).count() == 1


@pytest.mark.django_db
def test_contact_nurse_assign_refuses_a_nurse_of_another_unit():
    patient, relation, assignment = _covered_patient()
    outsider = f.StaffFactory(units=[f.CareUnitFactory()])
    with pytest.raises(ValidationError) as exc:
        services.contact_nurse_assign(patient=patient, nurse=outsider, by=assignment.nurse)
    assert "måste arbeta på den ansvariga vårdenheten" in str(exc.value)
    assert patient.contact_nurse_assignment() == assignment


@pytest.mark.django_db
def test_plan_establish_refuses_without_a_contact_nurse():
    unit = f.CareUnitFactory()
    nurse = f.StaffFactory(units=[unit])
    patient = f.PatientFactory()
    f.CareRelationFactory(patient=patient, unit=unit)
    plan = services.plan_create_from_template(
        patient=patient, template=f.PlanTemplateFactory(), by=nurse
    )
    with pytest.raises(ValidationError) as exc:
        services.plan_establish(plan=plan, by=nurse)
    assert "Utse en kontaktsjuksköterska" in str(exc.value)
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.DRAFT
    assert plan.established_on is None
    assert not plan.changes.exists()


@pytest.mark.django_db
def test_plan_establish_works_once_a_contact_nurse_is_named():
    unit = f.CareUnitFactory()
    nurse = f.StaffFactory(units=[unit])
    patient = f.PatientFactory()
    f.CareRelationFactory(patient=patient, unit=unit)
    plan = services.plan_create_from_template(
        patient=patient, template=f.PlanTemplateFactory(), by=nurse
    )
    services.contact_nurse_assign(patient=patient, nurse=nurse, by=nurse)
    services.plan_establish(plan=plan, by=nurse)
    plan.refresh_from_db()
    assert plan.status == CarePlan.Status.ACTIVE
    assert plan.established_on == timezone.localdate()
    assert plan.contact_nurse_offered_on == timezone.localdate()


@pytest.mark.django_db
def test_plan_create_from_template_refuses_a_patient_of_another_unit_and_saves_nothing():
    own_unit, other_unit = f.CareUnitFactory(), f.CareUnitFactory()
    nurse = f.StaffFactory(units=[own_unit])
    patient = f.PatientFactory()
    f.CareRelationFactory(patient=patient, unit=other_unit)
    with pytest.raises(PermissionDenied) as exc:
        services.plan_create_from_template(
            patient=patient, template=f.PlanTemplateFactory(), by=nurse
        )
    assert "tillhör en annan vårdenhet" in str(exc.value)
    assert not CarePlan.objects.filter(patient=patient).exists()
    assert not PlanSection.objects.filter(plan__patient=patient).exists()


@pytest.mark.django_db
def test_plan_create_from_template_refuses_a_second_open_plan_and_saves_nothing():
    patient, relation, assignment = _covered_patient()
    f.CarePlanFactory(patient=patient)
    with pytest.raises(ValidationError) as exc:
        services.plan_create_from_template(
            patient=patient, template=f.PlanTemplateFactory(), by=assignment.nurse
        )
    assert "har redan en öppen vårdplan" in str(exc.value)
    assert CarePlan.objects.filter(patient=patient).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_services_build_an_established_plan_the_database_accepts():
    unit = f.CareUnitFactory()
    nurse = f.StaffFactory(units=[unit])
    patient = services.patient_register(
        unit=unit,
        by=nurse,
        first_name="Eva",
        last_name="Exempel",
        personnummer=f.synthetic_personnummer(),
    )
    plan = services.plan_create_from_template(
        patient=patient, template=f.PlanTemplateFactory(), by=nurse
    )
    services.contact_nurse_assign(patient=patient, nurse=nurse, by=nurse)
    services.plan_establish(plan=plan, by=nurse)
    second = f.StaffFactory(units=[unit])
    services.contact_nurse_assign(patient=patient, nurse=second, by=nurse)
    assert patient.contact_nurse_assignment().nurse == second
    assert CarePlan.objects.get(pk=plan.pk).status == CarePlan.Status.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_the_covered_plan_factory_builds_what_the_database_accepts():
    unit = f.CareUnitFactory()
    plan = f.covered_plan(unit)
    assert plan.status == CarePlan.Status.ACTIVE
    assert plan.patient.responsible_relation().unit == unit
    assert plan.patient.contact_nurse_assignment().unit == unit
