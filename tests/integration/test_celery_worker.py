"""A real Celery worker against a real Redis and the test database (invariant 6).

Starts ``celery -A careplan worker`` (solo pool, one process) on its own queue, queues a
real task through ``careplan.services.outbox_enqueue`` after a real commit, and waits for
the worker to run it: the outbox row gets ``done_at`` and the e-mail is written.

Needs ``REDIS_URL`` with a Redis that answers, and a database another process can open
(PostgreSQL; SQLite's in-memory test database cannot be shared). CI has both; elsewhere
the test skips with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from careplan import celery_app, services
from careplan.models import Outbox

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WORKER_START_SECONDS = 90
TASK_DONE_SECONDS = 30


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL") or settings.REDIS_URL
    if not url:
        _skip_or_fail("REDIS_URL is not set: no broker for a real worker")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _skip_or_fail(f"no Redis answers at REDIS_URL ({exc})")
    return url


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the worker test", pytrace=False)
    pytest.skip(reason)


def _test_database_url() -> str:
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip(
            f"the worker needs a database another process can open; the {connection.vendor} "
            "test database is private to this process (CI runs PostgreSQL)"
        )
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "localhost"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A worker on a queue of its own, stopped before the test database is flushed."""
    redis_url = _redis_url()
    database_url = _test_database_url()
    queue = f"careplan-test-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "careplan.settings",
        "CAREPLAN_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"filemail:///{mail_dir}",  # four slashes: an absolute path
        "CAREPLAN_SITE_URL": "https://careplan.example.org",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "careplan", "worker",
        "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO",
        "--queues", queue, "--hostname", f"{queue}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while "ready." not in log_path.read_text():
            if process.poll() is not None:
                pytest.fail(f"the worker exited ({process.returncode}):\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield {"queue": queue, "mail_dir": mail_dir, "log": log_path}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        connection.close()


@pytest.fixture
def to_worker(worker):
    """This process sends tasks to the broker (not eagerly), on the worker's queue."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    conf.task_always_eager = False
    conf.task_default_queue = worker["queue"]
    yield worker
    conf.task_always_eager, conf.task_default_queue = saved


def _wait_until_done(row_id: int) -> Outbox:
    deadline = time.monotonic() + TASK_DONE_SECONDS
    while True:
        row = Outbox.objects.get(pk=row_id)
        if row.done_at is not None or time.monotonic() > deadline:
            return row
        time.sleep(0.25)


def test_a_real_worker_runs_an_outbox_task_queued_after_commit(cast, to_worker):
    key = f"integration:{uuid.uuid4().hex}"
    with transaction.atomic():
        row = services.outbox_enqueue(
            task="careplan.tasks.notify_plan_changed",
            kwargs={"plan_id": cast.plan.pk},
            dedupe_key=key,
        )
        assert row is not None
    # Committed: the row was handed to the broker, and the worker runs it.
    row = _wait_until_done(row.pk)
    assert row.done_at is not None, to_worker["log"].read_text()
    assert row.sent_at is not None

    mails = list(to_worker["mail_dir"].iterdir())
    assert len(mails) == 1, to_worker["log"].read_text()
    text = mails[0].read_text()
    assert cast.patient_user.email in text
    assert "https://careplan.example.org/" in text
    assert cast.plan.diagnosis not in text  # no health data in e-mail
    assert "succeeded" in to_worker["log"].read_text()


def test_the_worker_runs_a_row_the_relay_re_sends_once(cast, to_worker):
    # A row the broker never got (it was down at commit): stored, never sent.
    row = Outbox.objects.create(
        task="careplan.tasks.notify_plan_changed",
        kwargs={"plan_id": cast.plan.pk},
        dedupe_key=f"integration:{uuid.uuid4().hex}",
    )
    from careplan.tasks import relay_outbox

    assert relay_outbox.apply(kwargs={"older_than_seconds": 0}).get() == 1
    row = _wait_until_done(row.pk)
    assert row.done_at is not None, to_worker["log"].read_text()
    # Sent again (a duplicate delivery): the worker skips a row that is done.
    from careplan.tasks import run_outbox

    run_outbox.delay(row.pk)
    deadline = time.monotonic() + TASK_DONE_SECONDS
    while "'skipped'" not in to_worker["log"].read_text() and time.monotonic() < deadline:
        time.sleep(0.25)
    assert "'skipped'" in to_worker["log"].read_text()
    assert len(list(to_worker["mail_dir"].iterdir())) == 1
