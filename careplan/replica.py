"""Reads that may go to a PostgreSQL streaming replica (``DATABASE_REPLICA_URL``).

A replica lags the primary by a moment, so nothing reads there by default: only code
inside :func:`reading_replica` does, and only when a replica is configured. Use it for
reads that never need to see this request's own writes: unit reports, FHIR bulk exports,
the worklist's heavy counts. Writes always go to the primary (``default``), and so do
reads outside the block (a page that shows what was just saved).

    from careplan.replica import reading_replica

    with reading_replica():
        figures = unit_report(...)

    @reading_replica()
    def unit_report(...): ...
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
_reading: contextvars.ContextVar[bool] = contextvars.ContextVar("careplan_replica", default=False)


def configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def reading_replica() -> Iterator[None]:
    """Inside this block (or a function decorated with it) reads use the replica."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        if _reading.get() and configured():
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db != REPLICA  # it follows the primary's migrations by replication
