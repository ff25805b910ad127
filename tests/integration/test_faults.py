"""Faults against a real Celery worker, a real Redis broker and the PostgreSQL test
database (issue 12): a worker killed mid-send, a hung mail server, a mail server that
trickles (only the task time limit ends it).

Each test starts its own worker processes (``celery -A careplan worker`` on a queue of
its own) with its own mail server on a free port; the shared Redis is used as the broker
only on that queue. Figures are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from careplan import celery_app
from careplan.models import Outbox
from careplan.tasks import relay_outbox, run_outbox
from tests.faults import RecordingSmtp, hung_server

from .test_celery_worker import _redis_url, _test_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 60
TASK = "careplan.tasks.notify_plan_changed"


class Worker:
    def __init__(self, *, queue: str, env: dict, log_path: Path, pool: str = "solo") -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "careplan", "worker",
            "--pool", pool, "--concurrency", "1", "--loglevel", "INFO",
            "--queues", queue, "--hostname", f"{queue}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        self.log_path = log_path
        with log_path.open("a") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes the pool too
            )
        _wait(lambda: "ready." in self.log(), "the worker did not start", self)

    def log(self) -> str:
        return self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL, as an OOM killer or a lost machine would: no clean-up at all."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _wait(condition, message: str, worker: Worker | None = None) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if worker is not None and worker.process.poll() is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}):\n{worker.log()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{message}\n{worker.log() if worker else ''}")
        time.sleep(0.2)


@pytest.fixture
def workers(tmp_path):
    """``start(**env)`` starts a worker on this test's queue; all are stopped at the end,
    before the test database is flushed. Tasks sent from this process go to the queue."""
    redis_url = _redis_url()
    database_url = _test_database_url()
    queue = f"careplan-fault-{uuid.uuid4().hex[:12]}"
    started: list[Worker] = []
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "careplan.settings",
        "CAREPLAN_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CAREPLAN_SITE_URL": "https://careplan.example.org",
    }

    def start(pool: str = "solo", **env: str) -> Worker:
        worker = Worker(
            queue=queue,
            env={**base_env, **env},
            log_path=tmp_path / f"worker-{len(started)}.log",
            pool=pool,
        )
        started.append(worker)
        return worker

    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    conf.task_always_eager = False
    conf.task_default_queue = queue
    try:
        yield start
    finally:
        conf.task_always_eager, conf.task_default_queue = saved
        for worker in started:
            worker.stop()
        connection.close()


def _rows(cast, n: int, prefix: str) -> list[Outbox]:
    return [
        Outbox.objects.create(
            task=TASK, kwargs={"plan_id": cast.plan.pk}, dedupe_key=f"{prefix}:{i}:{uuid.uuid4()}"
        )
        for i in range(n)
    ]


def _status(row: Outbox) -> str:
    return Outbox.objects.get(pk=row.pk).status


@contextmanager
def _smtp(**kwargs):
    server = RecordingSmtp(**kwargs)
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize("when", ["after_the_server_accepted", "before_the_server_accepted"])
def test_a_worker_killed_mid_send_three_times(cast, workers, when):
    """Three kills, one per row. The row stays ``sending``; after its lease lapses the
    relay hands it to a new worker, which sends it and marks it done. A kill after the
    mail server accepted the message (and before the row was marked done) duplicates it,
    with the same Message-ID; a kill before that duplicates nothing."""
    accepted_first = when == "after_the_server_accepted"
    with _smtp(reply_delay=30) as smtp, hung_server() as hung:
        rows = _rows(cast, 3, "kill")
        # Before acceptance: the worker hangs in the SMTP greeting (a hung server).
        first_url = smtp.url if accepted_first else f"smtp://127.0.0.1:{hung.port}"
        for n, row in enumerate(rows):
            worker = workers(EMAIL_URL=first_url, EMAIL_TIMEOUT="120")
            run_outbox.delay(row.pk)
            if accepted_first:
                _wait(lambda n=n: len(smtp.messages) == n + 1, "no message reached SMTP", worker)
            else:
                _wait(lambda n=n: len(hung.accepted) == n + 1, "no SMTP connection", worker)
            assert _status(row) == Outbox.Status.SENDING
            worker.kill()
        # Time passes until the leases lapse (moved here, not waited for); the relay re-sends.
        smtp.reply_delay = 0
        Outbox.objects.filter(pk__in=[r.pk for r in rows]).update(next_attempt_at=timezone.now())
        worker = workers(EMAIL_URL=smtp.url, EMAIL_TIMEOUT="10")
        assert relay_outbox.apply(kwargs={"older_than_seconds": 0}).get() == 3
        _wait(
            lambda: all(_status(r) == Outbox.Status.DONE for r in rows),
            "the rows were not sent after the kills",
            worker,
        )
        # The relay again, and stray deliveries of the task: nothing more is sent.
        assert relay_outbox.apply(kwargs={"older_than_seconds": 0}).get() == 0
        for row in rows:
            run_outbox.delay(row.pk)
        _wait(lambda: worker.log().count("'skipped'") >= 3, "stray tasks not skipped", worker)

        ids = smtp.message_ids()
        expected = 3
        delivered = len(ids)
        duplicated = delivered - len(set(ids))
        print(f"\nkill {when}: faults=3 kills, expected={expected}, delivered={delivered}, "
              f"duplicated={duplicated}, distinct Message-IDs={len(set(ids))}")  # fmt: skip
        assert len(set(ids)) == expected  # every row delivered, each with one Message-ID
        assert all(i.startswith("<outbox.") for i in ids)
        for row in rows:
            row.refresh_from_db()
            assert row.attempts == 2  # the killed attempt and the one that finished
        if accepted_first:
            # Honest at-least-once: what the server accepted before the kill comes again,
            # with the same Message-ID, so the receiving side can drop it.
            assert duplicated == 3
        else:
            assert duplicated == 0


def test_a_hung_mail_server_holds_no_transaction_or_lock_and_frees_the_worker(cast, workers):
    with hung_server() as hung:
        hung_row, next_row = _rows(cast, 2, "hung")
        worker = workers(EMAIL_URL=f"smtp://127.0.0.1:{hung.port}", EMAIL_TIMEOUT="3")
        run_outbox.delay(hung_row.pk)
        _wait(lambda: len(hung.accepted) == 1, "no SMTP connection", worker)
        # While the worker waits on the mail server: no transaction open, no row locked.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
            )
            assert cursor.fetchone()[0] == 0
        with transaction.atomic():
            locked = Outbox.objects.select_for_update(nowait=True).get(pk=hung_row.pk)
            assert locked.status == Outbox.Status.SENDING
        # EMAIL_TIMEOUT ends the wait: the failure is recorded and the row backs off.
        _wait(lambda: _status(hung_row) == Outbox.Status.PENDING, "still hung", worker)
        hung_row.refresh_from_db()
        assert "timed out" in hung_row.last_error
        assert hung_row.attempts == 1
        assert hung_row.next_attempt_at > timezone.now()
        # The worker is free for the next row (a plan that is gone: nothing to mail).
        Outbox.objects.filter(pk=next_row.pk).update(kwargs={"plan_id": 0})
        run_outbox.delay(next_row.pk)
        _wait(lambda: _status(next_row) == Outbox.Status.DONE, "the worker stayed stuck", worker)
        print(f"\nhung SMTP: faults=1, the row failed after EMAIL_TIMEOUT: {hung_row.last_error}")


def test_a_trickling_mail_server_is_ended_by_the_soft_time_limit(cast, workers):
    """The server sends a byte every half second, so no socket timeout fires: only the
    task's soft time limit ends it (prefork pool, as in production)."""
    with _smtp(trickle=True) as smtp:
        (row,) = _rows(cast, 1, "trickle")
        worker = workers(
            pool="prefork",
            EMAIL_URL=smtp.url,
            EMAIL_TIMEOUT="60",
            CELERY_TASK_SOFT_TIME_LIMIT="3",
            CELERY_TASK_TIME_LIMIT="10",
        )
        # The sender stamps its limits on the task message (this process has the default
        # settings): the same limits as the worker's.
        run_outbox.apply_async((row.pk,), soft_time_limit=3, time_limit=10)
        _wait(
            lambda: Outbox.objects.filter(pk=row.pk).exclude(last_error="").exists(),
            "the soft time limit did not end the task",
            worker,
        )
        row.refresh_from_db()
        assert row.last_error.startswith("SoftTimeLimitExceeded")
        print(f"\ntrickling SMTP: faults=1, ended by the soft time limit: {row.last_error}")
