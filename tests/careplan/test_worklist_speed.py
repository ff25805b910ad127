"""The admin start page at 100 000 patients: no query of the worklist or the unit's
planning list reads every patient of a unit. Asserted on the SQL (never on time): the
"patients without a contact nurse" list reads the care relation's maintained flag, not
an anti-join of the unit's patients against the assignments; no COUNT; pinned query
counts. The flag is kept by the services (``contact_nurse_flag_sync``)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplan import messaging, selectors, services
from careplan.models import CareRelation, Role
from contacts.handover import services as handover_services
from tests import factories as f

pytestmark = pytest.mark.django_db


def _flag(patient) -> bool:
    return CareRelation.objects.get(patient=patient, ended_at__isnull=True).needs_contact_nurse


def test_the_services_keep_the_contact_nurse_flag(cast):
    patient = services.patient_register(
        unit=cast.unit,
        by=cast.nurse,
        first_name="Nils",
        last_name="Nyström",
        personnummer=f.synthetic_personnummer(),
    )
    assert _flag(patient) is True
    assert [p.pk for p in selectors.patients_without_contact_nurse(cast.nurse)] == [patient.pk]
    services.contact_nurse_assign(patient=patient, nurse=cast.nurse, by=cast.nurse)
    assert _flag(patient) is False
    assert selectors.patients_without_contact_nurse(cast.nurse) == []
    assert _flag(cast.patient) is False  # the cast's patient has a nurse (factories sync)


def test_a_handover_moves_the_flag_to_the_new_relation(cast):
    other = f.StaffFactory(units=[cast.other_unit])
    handover = handover_services.handover_create(
        patient=cast.patient,
        to_unit=cast.other_unit,
        by=cast.nurse,
        situation="Flyttar",
        recommendation="Ring patienten",
    )
    handover_services.handover_send(handover=handover, by=cast.nurse)
    handover_services.handover_accept(
        handover=handover,
        by=other,
        contact_nurse=other,
        contact_made_on=timezone.localdate(),
        contact_how="Telefon",
    )
    relation = CareRelation.objects.get(patient=cast.patient, ended_at__isnull=True)
    assert relation.unit == cast.other_unit and relation.needs_contact_nurse is False


def _sql_of(func, *args, **kwargs) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        func(*args, **kwargs)
    return [q["sql"] for q in ctx.captured_queries]


def test_the_no_contact_nurse_list_reads_the_flag_not_the_whole_unit(cast):
    nurse = type(cast.nurse).objects.get(pk=cast.nurse.pk)
    selectors.patients_without_contact_nurse(nurse)  # the units, cached on the user
    (sql,) = _sql_of(selectors.patients_without_contact_nurse, nurse)
    assert '"needs_contact_nurse"' in sql
    assert "careplan_contactnurseassignment" not in sql  # no anti-join to the assignments
    assert "NOT" not in sql.upper().replace("IS NOT NULL", "")
    assert "COUNT(" not in sql.upper()


@pytest.mark.parametrize("n", [1, 3])
def test_the_worklist_costs_the_same_for_one_or_three_rows(cast, django_assert_num_queries, n):
    for i in range(n):
        f.CareRelationFactory(patient=f.PatientFactory(last_name=f"Utan{i}"), unit=cast.unit)
        f.CarePlanFactory(patient=f.PatientFactory(), status="draft")
    nurse = type(cast.nurse).objects.get(pk=cast.nurse.pk)
    # the user's units, one query per source, and one access-log insert for them all
    sources = len(selectors.WORKLIST_SOURCES)
    with django_assert_num_queries(1 + sources + 1):
        items = selectors.worklist(nurse)
    assert len([i for i in items if i.kind == "no_contact_nurse"]) == n


def test_a_source_whose_items_could_not_be_shown_is_not_asked(cast, monkeypatch):
    """Sources are asked most severe first; once ``limit`` more severe items are found, a
    planning source (low) is skipped: the list is the same, only cheaper."""
    asked: list[str] = []
    original = dict(selectors.WORKLIST_SOURCES)
    for key, source in original.items():

        def spy(user, *, limit, _key=key, _items=source.items):
            asked.append(_key)
            return _items(user, limit=limit)

        monkeypatch.setitem(
            selectors.WORKLIST_SOURCES,
            key,
            selectors.WorklistSource(key, spy, source.log, source.top),
        )
    f.CareRelationFactory(patient=f.PatientFactory(last_name="Utan"), unit=cast.unit)
    nurse = type(cast.nurse).objects.get(pk=cast.nurse.pk)
    low = {k for k, s in original.items() if s.top == selectors.LOW}
    items = selectors.worklist(nurse, limit=1)
    assert low <= set(asked)  # nothing more severe: every source asked
    assert [i.severity for i in items] == [selectors.LOW]
    asked.clear()
    messaging.message_send(patient=cast.patient, by=cast.patient_user, subject="Fråga", body="Hej")
    items = selectors.worklist(nurse, limit=1)
    assert [i.kind for i in items] == ["message"]
    assert "message" in asked and not low & set(asked)


def test_the_admin_start_page_counts_nothing_and_joins_no_unit_against_the_assignments(cast):
    client = cast.client("nurse")
    client.get(reverse("admin:index"))
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("admin:index")).status_code == 200
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert not [s for s in sqls if "COUNT(" in s.upper()]
    assert not [s for s in sqls if "careplan_contactnurseassignment" in s]
    assert cast.nurse.role == Role.STAFF
