"""The outbox: side effects (e-mails) stored with the change that caused them and run
after commit, with retries.

A row names its work by a registered task name (``@outbox_task("name")``), never by a
module path: the registry maps names to functions, so moving or renaming a function
keeps stored rows working as long as it is registered under the same name. The names
in use are those the rows have always stored (``"careplan.tasks.send_login_invitation"``
and so on); they are only names.

``outbox_enqueue`` stores a row (once per ``dedupe_key``) and hands it to the broker
after commit (``outbox_dispatch``); ``run_outbox`` (Celery) claims and runs it;
``relay_outbox`` (Celery beat) re-sends what the broker never got or what failed.

Imports run one way: models → access → outbox → messaging → services → tasks. The apps'
``tasks`` modules register their outbox tasks when imported; the registry imports them
(Django's ``autodiscover_modules``) the first time it meets a name it does not know.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from .mail import outbox_key
from .models import Outbox

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


# --- The registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxTask:
    """A function the outbox may run, under the name its rows store."""

    name: str
    func: Callable[..., Any]
    forget_kwargs_when_done: bool = False


TASKS: dict[str, OutboxTask] = {}


class UnknownOutboxTask(AttributeError):
    """A row names a task nobody registered: running it fails (retried, then parked as
    dead; ``check_consistency`` reports it). The row's error reads ``AttributeError``,
    as it did when rows named module paths."""

    def __str__(self) -> str:
        return f"no outbox task is registered as {self.args[0]!r}"


def outbox_task(name: str, *, forget_kwargs_when_done: bool = False) -> Callable[[F], F]:
    """Register ``func`` as the outbox task ``name`` (keyword arguments only, JSON-able).
    ``forget_kwargs_when_done`` empties the row's kwargs once it ran (a reset link)."""

    def register(func: F) -> F:
        known = TASKS.get(name)
        if known is not None and known.func is not func:
            raise ImproperlyConfigured(f"Two outbox tasks are named {name!r}.")
        TASKS[name] = OutboxTask(name, func, forget_kwargs_when_done)
        return func

    return register


_discovered = [False]


def task_named(name: str) -> OutboxTask:
    """The task registered as ``name``; ``UnknownOutboxTask`` (an ``AttributeError``) if
    there is none."""
    if name not in TASKS and not _discovered[0]:
        _discovered[0] = True
        autodiscover_modules("tasks")  # the apps' tasks modules register theirs on import
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownOutboxTask(name) from None


def is_registered(name: str) -> bool:
    try:
        task_named(name)
    except UnknownOutboxTask:
        return False
    return True


# --- Storing and handing to the broker -------------------------------------------------------


def outbox_enqueue(*, task: str, kwargs: dict, dedupe_key: str) -> Outbox | None:
    """Store a side effect with the change that caused it; send it after commit.

    ``task`` is a registered name (``outbox_task``). The same ``dedupe_key`` is stored
    once, so a retried request never sends twice. If the broker is down at commit,
    ``relay_outbox`` (Celery beat) sends it later.
    """
    try:
        with transaction.atomic():
            row = Outbox.objects.create(task=task, kwargs=kwargs, dedupe_key=dedupe_key)
    except IntegrityError:
        return None
    transaction.on_commit(lambda: outbox_dispatch(outbox_id=row.pk))
    return row


# Per process: until when (time.monotonic()) the broker counts as down.
_broker_down_until = [0.0]


def outbox_dispatch(*, outbox_id: int) -> bool:
    """Hand one row to the broker, once and briefly (short socket timeouts, no publish
    retry). False if the broker is down or hung: the row stays for ``relay_outbox``, and
    for ``CAREPLAN_BROKER_DOWN_SECONDS`` this process does not try again (a request must
    never wait on a hung broker more than once per window)."""
    if time.monotonic() < _broker_down_until[0]:
        return False
    try:
        run_outbox.delay(outbox_id)
    except Exception as exc:  # noqa: BLE001 - broker down: the relay picks it up later
        if not run_outbox.app.conf.task_always_eager:
            _broker_down_until[0] = time.monotonic() + settings.CAREPLAN_BROKER_DOWN_SECONDS
        log.warning(
            "outbox %s not handed to the broker (%s); the relay will retry",
            outbox_id,
            exc.__class__.__name__,
        )
        return False
    Outbox.objects.filter(pk=outbox_id, sent_at__isnull=True).update(sent_at=timezone.now())
    return True


def outbox_retry(*, rows) -> int:
    """Send parked (dead) or waiting rows again now, with a fresh count of attempts (the
    admin's "retry"). Returns how many rows were reset; they go to the broker after
    commit (or to the relay, if it is down)."""
    with transaction.atomic():
        ids = list(
            Outbox.objects.select_for_update()
            .filter(pk__in=[r.pk for r in rows])
            .filter(status__in=[Outbox.Status.DEAD, Outbox.Status.PENDING])
            .values_list("pk", flat=True)
        )
        Outbox.objects.filter(pk__in=ids).update(
            status=Outbox.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        for outbox_id in ids:
            transaction.on_commit(functools.partial(outbox_dispatch, outbox_id=outbox_id))
    return len(ids)


# --- Running a row (Celery) -----------------------------------------------------------------
# The Celery names stay "careplan.tasks.*": messages already queued and the beat schedule
# name them so.


@shared_task(name="careplan.tasks.run_outbox", acks_late=True)
def run_outbox(outbox_id: int) -> str:
    """Run one outbox row: claim, do the work outside any transaction, record the result.

    1. Claim (committed at once): a waiting row, or one ``sending`` whose lease lapsed
       (its worker died), becomes ``sending`` with a lease of
       ``CAREPLAN_OUTBOX_LEASE_SECONDS``. A row locked by another worker, done, dead or
       within a live lease is skipped, so duplicate deliveries of the task do nothing.
    2. The work (an e-mail, with a Message-ID from the row's key) runs with no database
       transaction open and no row lock held: a hung mail server holds only this worker
       (``EMAIL_TIMEOUT``, the task time limits).
    3. The row is marked ``done`` before the task returns (before Celery acknowledges).
       A failure backs off exponentially; after ``CAREPLAN_OUTBOX_MAX_ATTEMPTS`` the row
       is parked as ``dead`` with its error for the admin.
    """
    row = _outbox_claim(outbox_id)
    if row is None:
        return "skipped"
    try:
        task = task_named(row.task)
        with outbox_key(row.dedupe_key):
            task.func(**row.kwargs)
    except Exception as exc:  # noqa: BLE001 - recorded on the row, retried with back-off
        return _outbox_failed(row, exc)
    done = {"status": Outbox.Status.DONE, "done_at": timezone.now(), "last_error": ""}
    if task.forget_kwargs_when_done:
        done["kwargs"] = {}
    finished = Outbox.objects.filter(pk=row.pk, status=Outbox.Status.SENDING).update(**done)
    if not finished:  # the lease lapsed and another worker took the row over
        log.warning("outbox %s finished after its lease lapsed", row.pk)
    return "done"


def _outbox_claim(outbox_id: int) -> Outbox | None:
    now = timezone.now()
    with transaction.atomic():
        row = (
            Outbox.objects.select_for_update(skip_locked=True)
            .filter(pk=outbox_id, done_at__isnull=True)
            .filter(
                Q(status=Outbox.Status.PENDING)
                | Q(status=Outbox.Status.SENDING, next_attempt_at__lte=now)
            )
            .first()
        )
        if row is None:
            return None
        row.status = Outbox.Status.SENDING
        row.attempts += 1
        row.next_attempt_at = now + dt.timedelta(seconds=settings.CAREPLAN_OUTBOX_LEASE_SECONDS)
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
    return row


def outbox_backoff(attempts: int) -> dt.timedelta:
    """How long a row waits after its ``attempts``-th failure: 1, 2, 4, ... minutes,
    at most six hours."""
    base = settings.CAREPLAN_OUTBOX_BACKOFF_SECONDS
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def _outbox_failed(row: Outbox, exc: BaseException) -> str:
    kind = "AttributeError" if isinstance(exc, UnknownOutboxTask) else exc.__class__.__name__
    error = f"{kind}: {exc}"[:2000]
    dead = row.attempts >= settings.CAREPLAN_OUTBOX_MAX_ATTEMPTS
    log.warning(
        "outbox %s (%s) failed, attempt %s%s: %s",
        row.pk,
        row.task,
        row.attempts,
        ", parked as dead" if dead else "",
        error,
    )
    Outbox.objects.filter(pk=row.pk, status=Outbox.Status.SENDING).update(
        status=Outbox.Status.DEAD if dead else Outbox.Status.PENDING,
        next_attempt_at=timezone.now() + outbox_backoff(row.attempts),
        last_error=error,
    )
    return "dead" if dead else "failed"


@shared_task(name="careplan.tasks.relay_outbox")
def relay_outbox(older_than_seconds: int = 60) -> int:
    """Beat: re-send rows the broker never got, a worker never finished (lapsed lease)
    or that failed and whose back-off is over. Ready rows only, the most overdue first,
    so rows that keep failing wait their turn and the rest flow."""
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        Outbox.objects.filter(
            status__in=[Outbox.Status.PENDING, Outbox.Status.SENDING],
            next_attempt_at__lte=now,
            created_at__lt=cutoff,
            done_at__isnull=True,
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[: settings.CAREPLAN_OUTBOX_RELAY_BATCH]
    )
    for outbox_id in ids:
        if not outbox_dispatch(outbox_id=outbox_id):
            break  # the broker is down: the next run tries again
    return len(ids)
