"""careplan.prepared: compiled once, the same rows as the ORM, and nothing fixed at
compile time that should vary per call (the clock, a list of units)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.utils import timezone

from careplan.models import CarePlan, CareRelation, Patient
from careplan.prepared import prepared
from tests import factories as f

pytestmark = pytest.mark.django_db

_relation = prepared(
    lambda patient_id: CareRelation.objects.filter(
        patient_id=patient_id, ended_at__isnull=True
    ).select_related("patient", "unit")[:1]
)
_names = prepared(
    lambda unit_id: (
        Patient.objects.filter(
            care_relations__unit_id=unit_id, care_relations__ended_at__isnull=True
        )
        .order_by("last_name", "id")
        .values_list("last_name", flat=True)
    )
)


def test_the_rows_are_the_orms_with_related_objects_for_each_value(cast, django_assert_num_queries):
    other = f.covered_plan(cast.other_unit).patient
    for patient in (cast.patient, other):
        with django_assert_num_queries(1):
            (row,) = _relation(patient_id=patient.pk)
            assert (row.patient, row.unit.name) == (patient, row.unit.name)  # no more queries
        expected = CareRelation.objects.get(patient=patient, ended_at__isnull=True)
        assert row.pk == expected.pk and row.unit == expected.unit
    assert _relation(patient_id=0) == []


def test_values_lists_and_ordering_come_through(cast):
    f.covered_plan(cast.unit, patient=f.PatientFactory(last_name="Åberg"))
    f.covered_plan(cast.unit, patient=f.PatientFactory(last_name="Berg"))
    expected = list(
        Patient.objects.filter(
            care_relations__unit=cast.unit, care_relations__ended_at__isnull=True
        )
        .order_by("last_name", "id")
        .values_list("last_name", flat=True)
    )
    assert _names(unit_id=cast.unit.pk) == expected and len(expected) >= 3
    assert _names(unit_id=cast.other_unit.pk) != expected


def test_a_query_that_reads_the_clock_is_refused():
    clocked = prepared(
        lambda patient_id: CarePlan.objects.filter(
            patient_id=patient_id, created_at__lte=timezone.now()
        )
    )
    with pytest.raises(ImproperlyConfigured, match="changes between two builds"):
        clocked(patient_id=1)


def test_a_value_the_query_does_not_use_is_refused():
    ignored = prepared(lambda patient_id: CarePlan.objects.filter(pk=F("id")))
    with pytest.raises(ImproperlyConfigured, match="patient_id"):
        ignored(patient_id=1)


def test_values_must_be_the_named_ints_strs_or_tuples_of_ints():
    with pytest.raises(ValueError):  # a str where the query compares an id: Django refuses
        _relation(patient_id="1")
    with pytest.raises(TypeError):
        _relation(patient_id=1.5)
    with pytest.raises(TypeError):
        _relation(patient=1)
    with pytest.raises(TypeError):
        _relation(patient_id=True)


_in_units = prepared(
    lambda units: (
        CareRelation.objects.filter(unit_id__in=units, ended_at__isnull=True)
        .order_by("id")
        .values_list("patient_id", flat=True)
    )
)


def test_a_tuple_is_compiled_once_per_length_and_an_empty_one_finds_nothing(cast):
    f.covered_plan(cast.other_unit)
    both = (cast.unit.pk, cast.other_unit.pk)

    def orm(units):
        return list(
            CareRelation.objects.filter(unit_id__in=units, ended_at__isnull=True)
            .order_by("id")
            .values_list("patient_id", flat=True)
        )

    assert _in_units(units=(cast.unit.pk,)) == orm([cast.unit.pk])
    assert _in_units(units=(cast.other_unit.pk,)) == orm([cast.other_unit.pk])
    assert _in_units(units=both) == orm(both) and len(orm(both)) >= 2
    assert _in_units(units=()) == []
    last_names = prepared(
        lambda names: Patient.objects.filter(last_name__in=names).values_list("pk", flat=True)
    )
    name = cast.patient.last_name
    assert list(last_names(names=(name,))) == list(
        Patient.objects.filter(last_name=name).values_list("pk", flat=True)
    )
    assert last_names(names=("Ingen", "Sådan")) == []
    with pytest.raises(TypeError):
        _in_units(units=[cast.unit.pk])  # a list is not a shape


def test_every_kind_of_row_is_the_orms(cast, django_assert_num_queries):
    """The rows are made without the ORM's iterables (converters, instances, related
    objects, annotations, dicts, tuples worked out once): each kind equals the ORM's."""
    from django.db.models import Count

    from careplan.models import RelativeGrant

    f.RelativeGrantFactory(patient=cast.patient)
    builds = {
        "models with annotations": lambda unit_id: (
            Patient.objects.filter(care_relations__unit_id=unit_id)
            .annotate(plan_count=Count("plans"), upper=F("last_name"))
            .order_by("id")
        ),
        "dicts": lambda unit_id: (
            CareRelation.objects.filter(unit_id=unit_id)
            .values("patient_id", "unit__name", "started_at")
            .order_by("id")
        ),
        "tuples": lambda unit_id: (
            CarePlan.objects.filter(patient__care_relations__unit_id=unit_id)
            .values_list("id", "status", "updated_at")
            .order_by("id")
        ),
        "a JSON field, converted": lambda unit_id: (
            RelativeGrant.objects.filter(patient__care_relations__unit_id=unit_id)
            .values_list("scopes", flat=True)
            .order_by("id")
        ),
    }
    for label, build in builds.items():
        compiled = prepared(build)
        for unit in (cast.unit, cast.other_unit):
            expected = list(build(unit.pk))
            with django_assert_num_queries(1):
                rows = compiled(unit_id=unit.pk)
            assert rows == expected, label
            if expected and hasattr(expected[0], "_meta"):
                assert [(r.plan_count, r.upper, r._state.adding, r._state.db) for r in rows] == [
                    (e.plan_count, e.upper, False, e._state.db) for e in expected
                ], label
    assert isinstance(prepared(builds["a JSON field, converted"])(unit_id=cast.unit.pk)[0], list)


def test_prefetched_rows_are_the_orms(cast, django_assert_num_queries):
    compiled = prepared(
        lambda patient_id: Patient.objects.filter(pk=patient_id).prefetch_related("care_relations")
    )
    with django_assert_num_queries(2):
        (patient,) = compiled(patient_id=cast.patient.pk)
        relations = list(patient.care_relations.all())
    assert relations == list(CareRelation.objects.filter(patient=cast.patient)) and relations


def test_reads_together_are_one_round_trip_with_each_reads_rows(cast, django_assert_num_queries):
    """``together``: several prepared reads in one execute on PostgreSQL (each result set
    read in turn), the same rows as each run on its own, in the order given; an empty
    tuple (no SQL) and a read that takes the ORM's own way (a union) still come back."""
    from django.db import connection

    from careplan.prepared import together

    f.covered_plan(cast.other_unit)
    union = prepared(
        lambda unit_id: (
            CareRelation.objects.filter(unit_id=unit_id)
            .order_by()
            .values_list("id", flat=True)
            .union(
                CareRelation.objects.filter(unit_id=unit_id).order_by().values_list("id", flat=True)
            )
        )
    )
    calls = [
        _relation.bind(patient_id=cast.patient.pk),
        _names.bind(unit_id=cast.unit.pk),
        _in_units.bind(units=()),
        _relation.bind(patient_id=0),
        _names.bind(unit_id=cast.other_unit.pk),
    ]
    expected = [call.query(**call.values) for call in calls]
    one_trip = connection.vendor == "postgresql"
    with django_assert_num_queries(1 if one_trip else 4) as captured:
        rows = together(*calls)
    assert rows == expected and rows[0] and rows[1] and rows[4] and rows[3] == []
    assert rows[0][0].unit.name == expected[0][0].unit.name  # related objects came along
    if one_trip:
        assert captured.captured_queries[0]["sql"].count("; SELECT ") == 3
    with django_assert_num_queries(2 if one_trip else 3):
        mixed = together(union.bind(unit_id=cast.unit.pk), *calls[:2])
    assert mixed[1:] == expected[:2]
    assert sorted(mixed[0]) == sorted(
        CareRelation.objects.filter(unit_id=cast.unit.pk).values_list("id", flat=True)
    )
    assert together() == []


_capped_units = prepared(
    lambda units: Patient.objects.filter(
        care_relations__unit_id__in=units, care_relations__ended_at__isnull=True
    ).values("pk")[:3]
)


def test_a_count_is_the_orms_count_of_the_sliced_rows(cast, django_assert_num_queries):
    for _more in range(4):
        f.covered_plan(cast.unit)
    f.covered_plan(cast.other_unit)
    for units in ((cast.unit.pk,), (cast.other_unit.pk,), (cast.unit.pk, cast.other_unit.pk), ()):
        expected = Patient.objects.filter(
            care_relations__unit_id__in=units, care_relations__ended_at__isnull=True
        ).values("pk")[:3]
        with django_assert_num_queries(1 if units else 0):
            n = _capped_units.count(units=units)
        assert n == expected.count() == len(_capped_units(units=units))
    assert _capped_units.count(units=(cast.other_unit.pk,)) < 3


# --- Server-side prepared statements (PostgreSQL) ------------------------------------------


def _sent(connection):
    """A recorder of the SQL each execute sends (an execute wrapper sees it whether or not
    queries are being logged, which decides between EXECUTE and the plain SQL)."""
    sent: list[str] = []

    def wrapper(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    return sent, connection.execute_wrapper(wrapper)


def _prepared_names(connection) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


@pytest.fixture
def postgres():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    return connection


def test_on_postgresql_a_read_is_prepared_once_per_connection_then_executed(cast, postgres):
    """The first call prepares the statement on this connection (its values as $n, the
    rest of the SQL as it was), every later call sends only ``EXECUTE name(values)``;
    the rows are the ORM's throughout, for each value."""
    compiled = prepared(
        lambda patient_id: CareRelation.objects.filter(
            patient_id=patient_id, ended_at__isnull=True
        ).select_related("patient", "unit")[:1]
    )
    other = f.covered_plan(cast.other_unit).patient
    sent, recording = _sent(postgres)
    with recording:
        rows = [compiled(patient_id=p.pk) for p in (cast.patient, other, cast.patient)]
    statement = next(iter(compiled._compiled.values()))[6]
    assert statement.name in _prepared_names(postgres)
    assert [s.split(" AS ")[0] for s in sent if s.startswith("PREPARE")] == [
        f"PREPARE {statement.name}"
    ]
    assert [s for s in sent if not s.startswith(("PREPARE", "SAVEPOINT", "RELEASE"))] == [
        f"EXECUTE {statement.name}(%s)"
    ] * 3
    assert "$1::int8" in statement.body and "%s" not in statement.body
    for patient, (row,) in zip((cast.patient, other, cast.patient), rows, strict=True):
        expected = CareRelation.objects.get(patient=patient, ended_at__isnull=True)
        assert (row.pk, row.patient, row.unit.name) == (expected.pk, patient, expected.unit.name)
    assert compiled(patient_id=0) == []


def test_prepared_strings_tuples_counts_and_reads_together_are_the_orms(cast, postgres):
    from careplan.prepared import together

    for _more in range(4):
        f.covered_plan(cast.unit)
    by_name = prepared(
        lambda last_name, units: Patient.objects.filter(
            last_name=last_name, care_relations__unit_id__in=units
        ).values_list("pk", flat=True)
    )
    units = (cast.unit.pk, cast.other_unit.pk)
    sent, recording = _sent(postgres)
    with recording:
        for _twice in range(2):
            found = by_name(last_name=cast.patient.last_name, units=units)
            none = by_name(last_name="O'Brien; DROP", units=units)
            n = _capped_units.count(units=(cast.unit.pk,))
            names, relation = together(
                _names.bind(unit_id=cast.unit.pk), _relation.bind(patient_id=cast.patient.pk)
            )
    assert found == [cast.patient.pk] and none == []
    assert (
        n
        == 3
        == Patient.objects.filter(
            care_relations__unit=cast.unit, care_relations__ended_at__isnull=True
        )
        .values("pk")[:3]
        .count()
    )
    assert names == list(
        Patient.objects.filter(
            care_relations__unit=cast.unit, care_relations__ended_at__isnull=True
        )
        .order_by("last_name", "id")
        .values_list("last_name", flat=True)
    )
    assert relation[0].patient == cast.patient
    last = sent[-4:]  # the second time round: nothing but EXECUTEs
    assert all(s.startswith("EXECUTE ") for s in last[:3]), last
    assert last[3].count("EXECUTE ") == 2 and "; " in last[3]


def test_a_statement_the_database_refuses_falls_back_to_the_sql_inside_a_transaction(
    cast, postgres
):
    """A statement PostgreSQL will not prepare is not tried again, and the transaction it
    was tried in goes on (a savepoint took the error); the plain SQL runs instead."""
    from django.db import transaction

    from careplan.prepared import Statement

    broken = Statement("default", "SELECT no_such_column FROM careplan_patient", [])
    with transaction.atomic():
        with postgres.cursor() as cursor:
            assert broken.ready_on(postgres, cursor) is False
            cursor.execute("SELECT 1")  # the transaction is still usable
            assert cursor.fetchone() == (1,)
        assert _relation(patient_id=cast.patient.pk)[0].patient == cast.patient
    with postgres.cursor() as cursor:
        assert broken.ready_on(postgres, cursor) is False
    assert broken.name not in _prepared_names(postgres)


def test_an_aborted_transaction_is_the_callers_error_and_the_statement_stays(cast, postgres):
    """A PREPARE that fails because the transaction failed before it is not the
    statement's fault: the error is the caller's (as the plain SQL's would be) and the
    statement is prepared on the next call."""
    from django.db import DatabaseError, ProgrammingError, transaction

    fresh = prepared(lambda patient_id: Patient.objects.filter(pk=patient_id).values_list("pk"))
    with transaction.atomic():
        with pytest.raises(DatabaseError), postgres.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM careplan_patient")
        with pytest.raises(DatabaseError) as refused:
            fresh(patient_id=cast.patient.pk)
        assert not isinstance(refused.value, ProgrammingError)  # "transaction is aborted"
        transaction.set_rollback(True)
    assert fresh(patient_id=cast.patient.pk) == [(cast.patient.pk,)]
    statement = next(iter(fresh._compiled.values()))[6]
    assert statement.name in _prepared_names(postgres) and not statement._broken


def test_where_sql_is_being_looked_at_or_prepared_statements_are_off_the_plain_sql_runs(
    cast, postgres, settings, django_assert_num_queries
):
    fresh = prepared(lambda plan_id: CarePlan.objects.filter(pk=plan_id).values_list("pk"))
    with django_assert_num_queries(1) as captured:
        assert fresh(plan_id=cast.plan.pk) == [(cast.plan.pk,)]
    assert captured.captured_queries[0]["sql"].startswith("SELECT ")
    settings.CAREPLAN_PREPARED_STATEMENTS = False
    off = prepared(lambda plan_id: CarePlan.objects.filter(pk=plan_id).values_list("id"))
    sent, recording = _sent(postgres)
    with recording:
        assert off(plan_id=cast.plan.pk) == [(cast.plan.pk,)]
    assert len(sent) == 1 and sent[0].startswith("SELECT ")


@pytest.mark.django_db(transaction=True)
def test_statements_the_database_lost_turn_preparing_off_and_the_read_still_answers(
    postgres, monkeypatch, caplog
):
    """Behind a pooler in transaction mode a statement prepared on one server connection
    is missing on the next (here: ``DEALLOCATE ALL``). Outside a transaction the read is
    run again as plain SQL and gives its rows; from then on the process runs plain SQL,
    and the log says why once."""
    from careplan import prepared as module
    from careplan.prepared import together

    monkeypatch.setattr(module, "_statements_lost", False)
    patient = f.PatientFactory()
    one = prepared(lambda pk: Patient.objects.filter(pk=pk).values_list("pk", flat=True))
    other = prepared(lambda pk: Patient.objects.filter(pk=pk).values_list("last_name", flat=True))
    assert one(pk=patient.pk) == [patient.pk]  # prepared and executed
    with postgres.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    sent, recording = _sent(postgres)
    with recording, caplog.at_level("WARNING", logger="careplan.prepared"):
        assert one(pk=patient.pk) == [patient.pk]
        assert one(pk=patient.pk) == [patient.pk]
    assert module._statements_lost
    assert sent[0].startswith("EXECUTE ") and all(s.startswith("SELECT ") for s in sent[1:])
    assert len(sent) == 3 and caplog.text.count("DATABASE_PREPARED_STATEMENTS=0") == 1

    # together(): the same, for its one round trip of several reads (new statements: the
    # ones above are still taken for prepared on this connection).
    monkeypatch.setattr(module, "_statements_lost", False)
    one = prepared(lambda pk: Patient.objects.filter(pk=pk).values_list("id", flat=True))
    reads = [one.bind(pk=patient.pk), other.bind(pk=patient.pk)]
    assert together(*reads) == [[patient.pk], [patient.last_name]]
    with postgres.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    sent, recording = _sent(postgres)
    with recording:
        rows = together(*reads)
    assert rows == [[patient.pk], [patient.last_name]] and module._statements_lost
    assert sent[0].count("EXECUTE ") == 2 and sent[1].count("SELECT ") == 2
