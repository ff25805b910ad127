"""The access log partitioned by month on PostgreSQL (careplan/partitions.py): rows land in
their month, partitions are created ahead and dropped after five years, the migration keeps
every row, and the patient's own page reads one index per partition."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from careplan import partitions, tasks
from careplan.models import AccessLog

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite keeps a plain access-log table"
    ),
]


def _row(cast, at) -> AccessLog:
    return AccessLog.objects.create(
        at=at,
        user=cast.nurse,
        user_name="Karin Kontakt",
        role="staff",
        basis=AccessLog.Basis.CARE_RELATION,
        patient=cast.patient,
        object_type="careplan.careplan",
        object_id=str(cast.plan.pk),
        action=AccessLog.Action.VIEW,
        outcome=AccessLog.Outcome.ALLOWED,
        channel=AccessLog.Channel.WEB,
    )


def _partition_of(row: AccessLog) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM careplan_accesslog WHERE id = %s", [row.pk]
        )
        return cursor.fetchone()[0]


def test_the_table_is_partitioned_with_the_partition_key_in_the_primary_key():
    assert partitions.is_partitioned()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'careplan_accesslog'::regclass AND contype = 'p'"
        )
        assert cursor.fetchone()[0] == "PRIMARY KEY (id, at)"
    this_month = partitions.partition_name(timezone.localdate().replace(day=1))
    assert this_month in partitions.partitions()


def test_a_row_lands_in_its_month_and_a_row_outside_every_month_in_the_default(cast):
    now = _row(cast, timezone.now())
    assert _partition_of(now) == partitions.partition_name(timezone.localdate())
    ancient = _row(cast, timezone.now() - dt.timedelta(days=365 * 20))
    assert _partition_of(ancient) == partitions.DEFAULT
    # Django still reads and writes by id
    assert AccessLog.objects.get(pk=now.pk).at == now.at
    assert now.pk != ancient.pk


def test_partitions_are_made_ahead_idempotently_and_old_ones_dropped(cast, settings):
    today = timezone.localdate()
    made = partitions.ensure(months_ahead=6, today=today)
    assert partitions.ensure(months_ahead=6, today=today) == []  # idempotent
    names = partitions.partitions()
    for add in range(7):
        assert partitions.partition_name(partitions._month(today, add)) in names
    assert set(made) <= set(names)

    # A month six years ago, with a row in it: past retention.
    old_month = partitions._month(today, -72)
    partitions.ensure(months_ahead=0, today=old_month)
    old_row = _row(cast, timezone.make_aware(dt.datetime(old_month.year, old_month.month, 15)))
    assert _partition_of(old_row) == partitions.partition_name(old_month)
    kept_month = partitions._month(today, -59)  # within five years
    partitions.ensure(months_ahead=0, today=kept_month)
    kept_row = _row(cast, timezone.make_aware(dt.datetime(kept_month.year, kept_month.month, 15)))

    with connection.cursor() as cursor:  # the rows' deferred FK checks, as at a commit
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    result = tasks.accesslog_partitions()  # the beat job: ahead + retention from settings
    assert partitions.partition_name(old_month) in result["dropped"]
    assert partitions.partition_name(kept_month) not in result["dropped"]
    assert not AccessLog.objects.filter(pk=old_row.pk).exists()
    assert AccessLog.objects.filter(pk=kept_row.pk).exists()


def test_the_command_lists_and_maintains_the_partitions():
    out = StringIO()
    call_command("accesslog_partitions", "--list", stdout=out)
    assert partitions.partition_name(timezone.localdate()) in out.getvalue()


def test_the_patients_own_access_log_page_reads_the_index_of_each_partition(cast):
    for days in (0, 40, 80):
        _row(cast, timezone.now() - dt.timedelta(days=days))
    response = cast.client("patient").get(reverse("my_access_log"))
    assert response.status_code == 200
    assert response.content.decode().count("Karin Kontakt") >= 3
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = AccessLog.objects.filter(patient=cast.patient).order_by("-at", "-id")[:25].explain()
    # newest first merged from each month's (patient, at) index: no sort of the history
    assert "Merge Append" in plan and "patient_id_at_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_row_both_ways(cast):
    rows = [_row(cast, timezone.now() - dt.timedelta(days=d)) for d in (0, 35, 400)]
    executor = MigrationExecutor(connection)
    before = ("careplan", "0015_plan_document_and_plan_list_index")
    after = ("careplan", "0016_accesslog_partitioned_by_month")
    try:
        executor.migrate([before])
        assert not partitions.is_partitioned()
        assert set(AccessLog.objects.values_list("pk", flat=True)) == {r.pk for r in rows}
        executor.loader.build_graph()
        executor.migrate([after])
        assert partitions.is_partitioned()
        assert set(AccessLog.objects.values_list("pk", flat=True)) == {r.pk for r in rows}
        newer = _row(cast, timezone.now())
        assert newer.pk > max(r.pk for r in rows)  # the sequence carried on
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
