"""The access log, partitioned by month in PostgreSQL.

The access log gains a row for every staff read (tens of millions over the years). On
PostgreSQL ``careplan_accesslog`` is a declaratively partitioned table, ``PARTITION BY
RANGE (at)``, one partition a month (``careplan_accesslog_y2026m11``) and a default
partition that catches anything outside them (an insert never fails for want of a
partition; the beat task keeps it empty by creating partitions ahead). The primary key is
``(id, at)``: PostgreSQL requires the partition key in it; ``id`` still comes from one
sequence, and Django keeps ``id`` as the model's key.

- :func:`ensure` creates this month's partition and the next ``months_ahead``
  (Celery beat ``careplan.tasks.accesslog_partitions``, daily; ``manage.py
  accesslog_partitions``);
- :func:`drop_expired` drops whole months older than ``keep_years`` (five by default,
  ``CAREPLAN_ACCESS_LOG_KEEP_YEARS``): dropping a partition is instant and leaves no
  bloat, unlike deleting rows.

SQLite keeps a plain table; every function here is a no-op there.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection, transaction
from django.utils import timezone

TABLE = "careplan_accesslog"
DEFAULT = f"{TABLE}_default"
_NAME = re.compile(rf"^{TABLE}_y(\d{{4}})m(\d{{2}})$")


def supported() -> bool:
    return connection.vendor == "postgresql"


def _month(day: dt.date, add: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + add
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def _bound(month: dt.date) -> str:
    """A month's start in Stockholm time, as a timestamptz literal."""
    start = timezone.make_aware(dt.datetime(month.year, month.month, 1))
    return start.isoformat()


def is_partitioned() -> bool:
    if not supported():
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)",
            [TABLE],
        )
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def partitions() -> list[str]:
    """The monthly partitions, oldest first (the default partition not included)."""
    if not supported():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    return sorted(n for n in names if _NAME.match(n))


def create_sql(month: dt.date) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(month)} PARTITION OF {TABLE} "
        f"FOR VALUES FROM ('{_bound(month)}') TO ('{_bound(_month(month, 1))}')"
    )


def ensure(*, months_ahead: int = 3, today: dt.date | None = None) -> list[str]:
    """Create this month's partition and the next ``months_ahead``; return the new ones."""
    if not is_partitioned():
        return []
    today = today or timezone.localdate()
    have = set(partitions())
    made = []
    for add in range(months_ahead + 1):
        month = _month(today, add)
        name = partition_name(month)
        if name in have:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(create_sql(month))
        made.append(name)
    return made


def drop_expired(*, keep_years: int = 5, today: dt.date | None = None) -> list[str]:
    """Drop every monthly partition that ended more than ``keep_years`` ago."""
    if not is_partitioned():
        return []
    today = today or timezone.localdate()
    oldest_kept = _month(today, -12 * keep_years)
    dropped = []
    for name in partitions():
        year, month = map(int, _NAME.match(name).groups())
        if dt.date(year, month, 1) < oldest_kept:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {name}")
            dropped.append(name)
    return dropped


# --- The migration (careplan/migrations/0016_accesslog_partitioned_by_month.py) ------------


def _rebuild(schema_editor, *, partitioned: bool) -> None:
    """Rebuild ``careplan_accesslog`` with the same columns, constraints, indexes and rows,
    partitioned by month (or back to a plain table). PostgreSQL only."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
            [TABLE, f"{TABLE}_pkey"],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(%s) AND contype = 'f'",
            [TABLE],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(f"SELECT min(at), coalesce(max(id), 0) FROM {TABLE}")  # noqa: S608
        oldest, last_id = cursor.fetchone()
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_old")
        by = " PARTITION BY RANGE (at)" if partitioned else ""
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {TABLE}_old INCLUDING DEFAULTS INCLUDING CONSTRAINTS){by}"
        )
        if partitioned:
            today = timezone.localdate()
            first = _month(timezone.localtime(oldest).date()) if oldest else _month(today)
            month = first
            while month <= _month(today, 3):
                cursor.execute(create_sql(month))
                month = _month(month, 1)
            cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {TABLE}_old")  # noqa: S608
        # ids go on from one sequence of the new table's own (the old one, an identity or
        # a sequence owned by the old column, is dropped with the old table)
        cursor.execute(
            f"CREATE SEQUENCE {TABLE}_id_seq_new START WITH {int(last_id) + 1} OWNED BY {TABLE}.id"
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq_new')"
        )
        cursor.execute(f"DROP TABLE {TABLE}_old")
        cursor.execute(f"ALTER SEQUENCE {TABLE}_id_seq_new RENAME TO {TABLE}_id_seq")
        key = "(id, at)" if partitioned else "(id)"
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY {key}")
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")


def partition_table(apps, schema_editor) -> None:
    _rebuild(schema_editor, partitioned=True)


def unpartition_table(apps, schema_editor) -> None:
    _rebuild(schema_editor, partitioned=False)
