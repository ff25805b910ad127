"""Querysets compiled to SQL once per process, for the busiest pages' fixed queries.

Building and compiling a queryset costs more Python than running it: about 0.5 ms of
the 0.85 ms an ORM ``first()`` takes on this machine, where the database round trip
itself is 0.2 ms. A page of twenty small queries (the nurse's patient overview) spends
half its CPU compiling SQL that is the same on every request but for an id.

``prepared`` compiles a queryset once per database alias, then runs the same SQL with
new values through Django's own compiler, so rows come back exactly as the ORM makes
them (model instances, ``select_related`` objects, ``values()`` dicts, converters)::

    _plan = prepared(
        lambda patient_id: CarePlan.objects.filter(patient_id=patient_id).order_by("-id")[:1]
    )
    plan = next(iter(_plan(patient_id=7)), None)  # a list of rows

The values are integers (ids), strings (a session key) or tuples of either
(``unit_id__in``, ``key__in``), given as keyword arguments. The rows come as a list
(nothing can be chained onto compiled SQL); reads go where the database router sends
them, as the ORM's do. Everything else in the
queryset must be fixed: the builder is run twice on first use and must give the same
SQL and the same parameters both times, and each value must appear in the parameters,
or ``ImproperlyConfigured`` is raised. A query that reads the clock or the user's units
(``timezone.now()``, ``staff_unit_ids``) cannot be prepared this way: the check stops
it before it could run with a value of another request.

``together`` runs several prepared reads in one round trip (PostgreSQL with psycopg 3's
client-side binding: one ``execute`` of statements separated by ``;``, each result set
read in turn), for a page that reads a few independent things once it knows whose they
are::

    card, sections = together(
        _contact_card.bind(patient_id=7), _section_titles.bind(plan_id=3)
    )

Each call into the driver costs about 100 µs of CPU whatever the rows; elsewhere
(SQLite) the reads run one after the other, with the same rows.

On PostgreSQL each compiled query is also a server-side prepared statement (``PREPARE``
once per database connection, then ``EXECUTE name(values)``): planning the same SQL
again on every request cost the database more than running it (the plan page's reads:
1.6 ms of planning and running, 0.35 ms prepared; the patient overview's: 4.0 and 0.8).
The values are the only parameters (``$1``; an int as ``$1::int8``, as its literal would
be typed); every other constant of the query stays a literal in the statement, so the
rows are the same as the plain SQL's. Where a query's SQL is being looked at (``DEBUG``,
a test capturing queries) the plain SQL runs instead, so the SQL can be read and the
query counts are the same either way. ``DATABASE_PREPARED_STATEMENTS=0`` turns it off
(a pooler in transaction mode cannot keep them); should the database lose a statement
anyway, the process goes on with the plain SQL and says so in the log. Each statement's
name is unique (a UUID), so another process's statement is never run in its place.
"""

from __future__ import annotations

import copy
import logging
import operator
import re
import threading
import uuid
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import ProgrammingError, connections, router, transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)

logger = logging.getLogger(__name__)

# Stand-ins for the values while compiling: no id or constant of a query looks like this.
_SENTINEL_BASE = -7_340_021_000_000


Value = int | str | tuple[int, ...] | tuple[str, ...]
# A compiled query: the queryset, its compiler, the SQL, the parameters, where each value
# goes in them, what makes the rows (None: the ORM's own way) and its prepared statement
# (None where the database has none: not PostgreSQL, or turned off).
Entry = tuple[QuerySet, Any, str, tuple, dict[int, tuple], Any, "Statement | None"]


class Prepared:
    """A queryset builder whose SQL is compiled once per database alias and shape (the
    kind of each value and the length of each tuple: ``unit_id__in=units`` is one SQL per
    number of units)."""

    def __init__(self, build: Callable[..., QuerySet], names: tuple[str, ...]):
        self.build = build
        self.names = names
        self._compiled: dict[tuple, Entry] = {}
        self._lock = threading.Lock()
        self._model_cls: Any = None

    def _sentinels(self, shape: tuple) -> tuple[dict[str, Value], dict[Any, tuple]]:
        """Stand-in values of this shape, one (kind, length) per name: kind "int" or
        "str", length None for one value or n for a tuple of n; and where each stand-in
        belongs: stand-in -> (name, index in the tuple or None)."""
        values: dict[str, Value] = {}
        where: dict[Any, tuple] = {}
        for i, (name, (kind, length)) in enumerate(zip(self.names, shape, strict=True)):
            base = _SENTINEL_BASE - 1000 * i
            made: list[Any] = [base - 1 - k for k in range(length or 1)]
            if kind == "str":
                made = [f"prepared-stand-in{m}" for m in made]
            if length is None:
                values[name] = made[0]
                where[made[0]] = (name, None)
            else:
                values[name] = tuple(made)
                where.update({m: (name, k) for k, m in enumerate(made)})
        return values, where

    def _compile(self, alias: str, shape: tuple):
        stand_ins, where = self._sentinels(shape)
        first = self.build(**stand_ins)
        second = self.build(**stand_ins)
        compiled = []
        for qs in (first, second):
            compiler = qs.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            compiled.append((qs, compiler, sql, tuple(params)))
        (qs, compiler, sql, params), (_q2, _c2, sql2, params2) = compiled
        if sql != sql2 or params != params2:
            raise ImproperlyConfigured(
                "prepared(): the queryset changes between two builds (does it read the "
                "clock, the user or a setting?); only the named values may vary"
            )
        positions = {
            i: where[value]
            for i, value in enumerate(params)
            if isinstance(value, (int, str)) and value in where
        }
        missing = set(where.values()) - set(positions.values())
        if missing:
            names = sorted({name for name, _k in missing})
            raise ImproperlyConfigured(f"prepared(): {names} not in the query's parameters")
        statement = Statement.make(alias, sql, params, where) if positions else None
        return qs, compiler, sql, params, positions, _rows_maker(qs, compiler, alias), statement

    def __call__(self, *, using: str | None = None, **values: Value) -> list:
        """The rows for these values (a list: the compiled SQL cannot take more filters,
        so no queryset is handed out to chain them onto)."""
        ready = self._ready(using, values)
        if isinstance(ready, list):
            return ready
        alias, entry, filled = ready
        qs, compiler, sql, _params, _positions, make_rows, statement = entry
        if make_rows is not None:
            with connections[alias].cursor() as cursor:
                execute(cursor, statement, values, sql, filled)
                return _finish(qs, make_rows, cursor.fetchall())
        run = copy.copy(compiler)
        run.connection = connections[alias]  # this thread's connection
        run.as_sql = lambda *args, **kwargs: (sql, filled)
        query = qs.query.clone()
        query.get_compiler = lambda *args, **kwargs: run  # type: ignore[method-assign]
        result: Any = qs._chain()  # type: ignore[attr-defined]  # a QuerySet's own API
        result._query = query  # not the ``query`` setter: it resets a values_list's rows
        return list(result)

    def count(self, *, using: str | None = None, **values: Value) -> int:
        """How many rows these values give, as the ORM counts a sliced queryset (its SQL in
        ``SELECT COUNT(*) FROM (...)``): a capped count, ``qs.values("pk")[:1001]``."""
        ready = self._ready(using, values)
        if isinstance(ready, list):
            return len(ready)
        alias, entry, filled = ready
        sql = f"SELECT COUNT(*) FROM ({entry[2]}) subquery"  # noqa: S608 - the ORM's SQL
        statement = entry[6] and entry[6].counting()
        with connections[alias].cursor() as cursor:
            execute(cursor, statement, values, sql, filled)
            return cursor.fetchone()[0]

    def bind(self, *, using: str | None = None, **values: Value) -> Bound:
        """This query with these values, to run with others in one round trip
        (``together``)."""
        return Bound(self, values, using)

    def _ready(self, using: str | None, values: dict[str, Value]) -> list | tuple[str, Entry, list]:
        """The database alias, the compiled entry and the parameters filled in for these
        values; or the rows themselves, when the values compile to no SQL."""
        if set(values) != set(self.names):
            raise TypeError(f"prepared(): give exactly {self.names}, got {sorted(values)}")
        shape: list[tuple[str, int | None]] = []
        for name in self.names:
            value = values[name]
            items = value if isinstance(value, tuple) else (value,)
            if all(isinstance(v, str) for v in items) and items:
                kind = "str"
            elif all(isinstance(v, int) and not isinstance(v, bool) for v in items):
                kind = "int"
            else:
                raise TypeError(
                    f"prepared(): {name} must be an int, a str or a tuple of ints or of strs"
                )
            shape.append((kind, len(value) if isinstance(value, tuple) else None))
        if any(length == 0 for _kind, length in shape):
            return list(self.build(**values))  # ``x__in=()`` compiles to no SQL: the ORM's
        if self._model_cls is None:
            self._model_cls = self.build(**self._sentinels(tuple(shape))[0]).model
        alias = using or router.db_for_read(self._model_cls)
        key = (alias, *shape)
        entry = self._compiled.get(key)
        if entry is None:
            with self._lock:
                entry = self._compiled.get(key) or self._compile(alias, tuple(shape))
                self._compiled[key] = entry
        params, positions = entry[3], entry[4]
        filled = list(params)
        for i, (name, k) in positions.items():
            filled[i] = values[name] if k is None else values[name][k]  # type: ignore[index]
        return alias, entry, filled


class Bound(NamedTuple):
    """A prepared query with its values (``Prepared.bind``)."""

    query: Prepared
    values: dict[str, Value]
    using: str | None


class Statement:
    """A compiled query as a server-side prepared statement on PostgreSQL: its ``PREPARE``
    (the SQL with each value as ``$n`` and every other constant as the literal the plain
    SQL has) and its ``EXECUTE``, prepared on each database connection the first time that
    connection runs it."""

    def __init__(self, alias: str, body: str, order: list[tuple[str, int | None]]):
        self.alias = alias
        self.body = body  # final SQL, no %-placeholders left
        self.order = order  # the value of each $n
        # A name no other statement has, in any process: behind a pooler a connection
        # may hold another process's statements, and one of the same name must never
        # run in place of this one.
        self.name = f"careplan_{uuid.uuid4().hex}"
        args = ", ".join(["%s"] * len(order))
        self.execute = f"EXECUTE {self.name}({args})"
        # Connections (psycopg's) this statement is prepared on; ``_broken``: the database
        # refused it (the plain SQL runs).
        self._on: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._broken = False
        self._count: Statement | None = None

    @classmethod
    def make(cls, alias: str, sql: str, params: tuple, where: dict) -> Statement | None:
        connection = connections[alias]
        if connection.vendor != "postgresql" or not _takes_statements_together(connection):
            return None
        if not getattr(settings, "CAREPLAN_PREPARED_STATEMENTS", True):
            return None
        # The SQL with every parameter as the literal psycopg sends (the values' stand-ins
        # too), then each stand-in's literal replaced by its $n.
        compose = connection.ops.compose_sql  # type: ignore[attr-defined]  # PostgreSQL's
        body: str = compose(sql, params)
        order: list[tuple[str, int | None]] = []
        for stand_in, (name, k) in where.items():
            literal = compose("%s", [stand_in]).strip()
            pattern = re.compile(r"(?<![\w'.-])" + re.escape(literal) + r"(?![\w'])")
            if not pattern.search(body):
                continue
            order.append((name, k))
            typed = f"${len(order)}::int8" if isinstance(stand_in, int) else f"${len(order)}"
            body = pattern.sub(typed, body)  # "$1::int8": nothing re.sub reads as an escape
        if len(order) != len(where):
            return None
        return cls(alias, body, order)

    def values(self, values: dict[str, Value]) -> list:
        return [
            values[name] if k is None else values[name][k]  # type: ignore[index]
            for name, k in self.order
        ]

    def counting(self) -> Statement:
        """The same rows counted, as ``Prepared.count`` counts them."""
        if self._count is None:
            self._count = Statement(
                self.alias,
                f"SELECT COUNT(*) FROM ({self.body}) subquery",  # noqa: S608 - the ORM's SQL
                self.order,
            )
        return self._count

    def ready_on(self, connection, cursor) -> bool:
        """Whether to ``EXECUTE`` on this connection: prepared there now if it was not
        (once per connection); False where the SQL is being logged, or where the database
        refused the statement (then the plain SQL runs, as before)."""
        if self._broken or _statements_lost or connection.queries_logged:
            return False
        raw = connection.connection
        if raw in self._on:
            return True
        try:
            # In a transaction, a refused PREPARE must not abort it: a savepoint.
            with transaction.atomic(using=connection.alias, savepoint=True):
                cursor.execute(f"PREPARE {self.name} AS {self.body}")
        except ProgrammingError:
            # The statement itself is refused (a value's type the database cannot tell):
            # never tried again. Any other error (the connection, an aborted transaction)
            # is the caller's, as the plain SQL's would be.
            self._broken = True
            return False
        self._on[raw] = True
        return True


def execute(cursor, statement: Statement | None, values: dict, sql: str, params: list) -> None:
    """Run a compiled query on ``cursor`` (a Django cursor): its prepared statement with
    the ``values`` where it is ready on the cursor's connection, else ``sql`` with
    ``params`` (every parameter of the plain SQL)."""
    if statement is not None and statement.ready_on(cursor.db, cursor):
        try:
            cursor.execute(statement.execute, statement.values(values))
            return
        except ProgrammingError as exc:
            if not _lost(exc) or cursor.db.in_atomic_block:
                raise
    cursor.execute(sql, params)  # outside a transaction a lost statement changed nothing


# Set once the database has lost a statement this process prepared: from then on the
# process runs the plain SQL.
_statements_lost = False


def _lost(exc: Exception) -> bool:
    """Whether ``exc`` says the connection has no statement of that name: a pooler in
    transaction mode gave this process another server connection, or something ran
    ``DEALLOCATE``. Prepared statements are then off for this process (said once in the
    log). The read that found out is run again as plain SQL where no transaction is open;
    in one, it fails as any database error would (the transaction cannot go on)."""
    global _statements_lost
    from psycopg import errors

    if not isinstance(exc.__cause__, errors.InvalidSqlStatementName):
        return False
    if not _statements_lost:
        _statements_lost = True
        logger.warning(
            "The database lost a prepared statement (a pooler in transaction mode?): "
            "this process runs the plain SQL from now on. Set "
            "DATABASE_PREPARED_STATEMENTS=0 behind such a pooler."
        )
    return True


def _finish(qs: QuerySet, make_rows: Callable[[list], list], fetched: list) -> list:
    rows = make_rows(fetched)
    lookups = qs._prefetch_related_lookups  # type: ignore[attr-defined]
    if lookups:
        prefetch_related_objects(rows, *lookups)
    return rows


def _takes_statements_together(connection) -> bool:
    """Whether one ``execute`` may carry several statements with parameters and give a
    result set for each: PostgreSQL through psycopg 3 with client-side binding (Django's
    default); not server-side binding (a prepared statement is one statement), psycopg 2
    (the last result only) or SQLite (one statement per call)."""
    if connection.vendor != "postgresql":
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    options = connection.settings_dict.get("OPTIONS") or {}
    return is_psycopg3 and options.get("server_side_binding") is not True


def together(*calls: Bound) -> list[list]:
    """The rows of several prepared reads (``query.bind(**values)``), in order, read in
    one round trip to the database: their SQL sent as one ``execute`` of statements
    separated by ``;``, each result set read in turn (rows made as ``Prepared`` makes
    them). A page of eight small reads pays for one call into the driver instead of
    eight. Where the database cannot take statements together (``SQLite``), or a read
    takes the ORM's own way, each runs on its own, with the same rows."""
    results: list[list | None] = [None] * len(calls)
    batches: dict[str, list[tuple[int, Any, list]]] = {}
    for i, call in enumerate(calls):
        ready = call.query._ready(call.using, call.values)
        if isinstance(ready, list):
            results[i] = ready
            continue
        alias, entry, filled = ready
        if entry[5] is None or not _takes_statements_together(connections[alias]):
            results[i] = call.query(using=call.using, **call.values)
            continue
        batches.setdefault(alias, []).append((i, entry, filled))
    for alias, batch in batches.items():
        connection = connections[alias]
        with connection.cursor() as cursor:
            try:
                cursor.execute(*_statements(cursor, batch, calls))
            except ProgrammingError as exc:
                if not _lost(exc) or connection.in_atomic_block:
                    raise
                cursor.execute(*_statements(cursor, batch, calls))  # now the plain SQL
            for n, (i, entry, _filled) in enumerate(batch):
                if n:
                    cursor.nextset()
                results[i] = _finish(entry[0], entry[5], cursor.fetchall())
    return results  # type: ignore[return-value]  # every call has its rows now


def _statements(cursor, batch: list[tuple[int, Any, list]], calls) -> tuple[str, list]:
    """``together``'s one execute: each read's EXECUTE where its prepared statement is
    ready on this connection, else its SQL; and their parameters."""
    statements = []
    params = []
    for i, entry, filled in batch:
        statement = entry[6]
        if statement is not None and statement.ready_on(cursor.db, cursor):
            statements.append(statement.execute)
            params.extend(statement.values(calls[i].values))
        else:
            statements.append(entry[2])
            params.extend(filled)
    return "; ".join(statements), params


def _rows_maker(qs: QuerySet, compiler, alias: str) -> Callable[[list], list] | None:
    """What the ORM's iterable does with the fetched rows, worked out once: converters,
    model instances with their ``select_related`` objects and annotations, ``values()``
    dicts, ``values_list()`` tuples. None for anything else (it takes the ORM's own way).
    The compiler has compiled the query, so its ``select`` and ``klass_info`` are set."""
    iterable = qs._iterable_class
    query = qs.query
    if qs._known_related_objects or query.combinator:  # type: ignore[attr-defined]
        return None
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    if compiler.has_composite_fields(fields):
        return None
    converters = list(compiler.get_converters(fields).items())
    trim = compiler.col_count if compiler.has_extra_select else None

    def converted(rows: list) -> list:
        connection = connections[alias]  # this thread's
        if trim is not None:
            rows = [row[:trim] for row in rows]
        if not converters:
            return rows
        out = []
        for row in map(list, rows):
            for pos, (convs, expression) in converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
            out.append(row)
        return out

    if iterable is ModelIterable:
        klass_info = compiler.klass_info
        if klass_info is None:
            return None
        model_cls = klass_info["model"]
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        init_list = [f[0].target.attname for f in compiler.select[start:end]]
        # Django 5.2's signature (the stubs describe a later one)
        populators = get_related_populators(klass_info, compiler.select, alias)  # type: ignore[call-arg]
        annotations = list(compiler.annotation_col_map.items())
        from_db = model_cls.from_db

        def models(rows: list) -> list:
            objs = []
            for row in converted(rows):
                obj = from_db(alias, init_list, row[start:end])
                for populator in populators:
                    populator.populate(row, obj)
                for name, pos in annotations:
                    setattr(obj, name, row[pos])
                objs.append(obj)
            return objs

        return models
    if iterable is ValuesListIterable:
        return lambda rows: [tuple(row) for row in converted(rows)]
    if iterable is FlatValuesListIterable:
        first = operator.itemgetter(0)
        return lambda rows: [first(row) for row in converted(rows)]
    if iterable is ValuesIterable:
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        return lambda rows: [dict(zip(names, row, strict=False)) for row in converted(rows)]
    return None


def prepared(build: Callable[..., QuerySet]) -> Prepared:
    """Decorator or wrapper: ``prepared(lambda patient_id: Model.objects.filter(...))``;
    the builder's parameter names are the values each call gives."""
    code = build.__code__
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return Prepared(build, tuple(names))
