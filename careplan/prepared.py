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

The values are integers (ids) or tuples of integers (``unit_id__in``), given as
keyword arguments. The rows come as a list
(nothing can be chained onto compiled SQL); reads go where the database router sends
them, as the ORM's do. Everything else in the
queryset must be fixed: the builder is run twice on first use and must give the same
SQL and the same parameters both times, and each value must appear in the parameters,
or ``ImproperlyConfigured`` is raised. A query that reads the clock or the user's units
(``timezone.now()``, ``staff_unit_ids``) cannot be prepared this way: the check stops
it before it could run with a value of another request.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import QuerySet

# Stand-ins for the values while compiling: no id or constant of a query looks like this.
_SENTINEL_BASE = -7_340_021_000_000


Value = int | tuple[int, ...]


class Prepared:
    """A queryset builder whose SQL is compiled once per database alias (and per length
    of each tuple value: ``unit_id__in=units`` is one SQL per number of units)."""

    def __init__(self, build: Callable[..., QuerySet], names: tuple[str, ...]):
        self.build = build
        self.names = names
        self._compiled: dict[tuple, tuple[QuerySet, Any, str, tuple, dict[int, tuple]]] = {}
        self._lock = threading.Lock()
        self._model_cls: Any = None

    def _sentinels(self, shape: tuple) -> tuple[dict[str, Value], dict[int, tuple]]:
        """Stand-in values of this shape (None: an int; n: a tuple of n ints), and where
        each stand-in belongs: sentinel -> (name, index in the tuple or None)."""
        values: dict[str, Value] = {}
        where: dict[int, tuple] = {}
        for i, (name, length) in enumerate(zip(self.names, shape, strict=True)):
            base = _SENTINEL_BASE - 1000 * i
            if length is None:
                values[name] = base
                where[base] = (name, None)
            else:
                values[name] = tuple(base - 1 - k for k in range(length))
                where.update({base - 1 - k: (name, k) for k in range(length)})
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
            if isinstance(value, int) and value in where
        }
        missing = set(where.values()) - set(positions.values())
        if missing:
            names = sorted({name for name, _k in missing})
            raise ImproperlyConfigured(f"prepared(): {names} not in the query's parameters")
        return qs, compiler, sql, params, positions

    def __call__(self, *, using: str | None = None, **values: Value) -> list:
        """The rows for these values (a list: the compiled SQL cannot take more filters,
        so no queryset is handed out to chain them onto)."""
        if set(values) != set(self.names):
            raise TypeError(f"prepared(): give exactly {self.names}, got {sorted(values)}")
        shape = []
        for name in self.names:
            value = values[name]
            items = value if isinstance(value, tuple) else (value,)
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
                raise TypeError(f"prepared(): {name} must be an int or a tuple of ints")
            shape.append(len(value) if isinstance(value, tuple) else None)
        if 0 in shape:  # ``x__in=()`` compiles to no SQL at all: the ORM answers it
            return list(self.build(**values))
        if self._model_cls is None:
            self._model_cls = self.build(**self._sentinels(tuple(shape))[0]).model
        alias = using or router.db_for_read(self._model_cls)
        key = (alias, *shape)
        entry = self._compiled.get(key)
        if entry is None:
            with self._lock:
                entry = self._compiled.get(key) or self._compile(alias, tuple(shape))
                self._compiled[key] = entry
        qs, compiler, sql, params, positions = entry
        filled = list(params)
        for i, (name, k) in positions.items():
            filled[i] = values[name] if k is None else values[name][k]  # type: ignore[index]
        run = copy.copy(compiler)
        run.connection = connections[alias]  # this thread's connection
        run.as_sql = lambda *args, **kwargs: (sql, filled)
        query = qs.query.clone()
        query.get_compiler = lambda *args, **kwargs: run  # type: ignore[method-assign]
        result: Any = qs._chain()  # type: ignore[union-attr]  # a QuerySet's own API
        result._query = query  # not the ``query`` setter: it resets a values_list's rows
        return list(result)


def prepared(build: Callable[..., QuerySet]) -> Prepared:
    """Decorator or wrapper: ``prepared(lambda patient_id: Model.objects.filter(...))``;
    the builder's parameter names are the values each call gives."""
    code = build.__code__
    names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return Prepared(build, tuple(names))
