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

The values are integers (ids), given as keyword arguments. The rows come as a list
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


class Prepared:
    """A queryset builder whose SQL is compiled once per database alias."""

    def __init__(self, build: Callable[..., QuerySet], names: tuple[str, ...]):
        self.build = build
        self.names = names
        self._compiled: dict[str, tuple[QuerySet, Any, str, tuple, dict[int, str]]] = {}
        self._lock = threading.Lock()

    def _model(self):
        model = getattr(self, "_model_cls", None)
        if model is None:
            model = self._model_cls = self.build(**self._sentinels(0)).model
        return model

    def _sentinels(self, offset: int) -> dict[str, int]:
        return {name: _SENTINEL_BASE - 1000 * offset - i for i, name in enumerate(self.names)}

    def _compile(self, alias: str):
        first = self.build(**self._sentinels(0))
        second = self.build(**self._sentinels(0))
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
        positions: dict[int, str] = {}
        sentinels = {v: k for k, v in self._sentinels(0).items()}
        for i, value in enumerate(params):
            if isinstance(value, int) and value in sentinels:
                positions[i] = sentinels[value]
        missing = set(self.names) - set(positions.values())
        if missing:
            raise ImproperlyConfigured(
                f"prepared(): {sorted(missing)} not in the query's parameters"
            )
        return qs, compiler, sql, params, positions

    def __call__(self, *, using: str | None = None, **values: int) -> list:
        """The rows for these values (a list: the compiled SQL cannot take more filters,
        so no queryset is handed out to chain them onto)."""
        if set(values) != set(self.names):
            raise TypeError(f"prepared(): give exactly {self.names}, got {sorted(values)}")
        for name, value in values.items():
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"prepared(): {name} must be an int, got {type(value).__name__}")
        alias = using or router.db_for_read(self._model())
        entry = self._compiled.get(alias)
        if entry is None:
            with self._lock:
                entry = self._compiled.get(alias) or self._compile(alias)
                self._compiled[alias] = entry
        qs, compiler, sql, params, positions = entry
        filled = list(params)
        for i, name in positions.items():
            filled[i] = values[name]
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
