"""``/healthz``: each dependency checked in parallel, the whole answer within a second.

A hung dependency (it accepts the connection and never answers) shows as ``timeout``;
the check's thread ends by itself when its socket timeout runs out. Only the database
is essential: without it the answer is 503 ``error``; without Redis (cache or broker)
the site still works (the cache falls back to the database, the outbox waits for the
relay), so the answer is 200 ``degraded`` and the load balancer keeps the node.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.db import connections

from . import celery_app
from .cache import FallbackRedisCache

DEADLINE_SECONDS = 0.9
PROBE_TIMEOUT_SECONDS = 0.5


def _database() -> dict:
    connection = connections["default"]  # this thread's own connection
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()
    return {}


def _cache() -> dict:
    if not settings.REDIS_URL:
        return {"backend": "file"}
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()
    from django.core.cache import caches

    cache = caches["default"]
    if isinstance(cache, FallbackRedisCache) and cache.in_fallback():
        # Redis answers again; this process returns to it when its window ends.
        return {"backend": "redis", "fallback": "database"}
    return {"backend": "redis"}


def _broker() -> dict:
    if celery_app.conf.task_always_eager:
        return {"skipped": "no broker: tasks run in-process"}
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=0, timeout=PROBE_TIMEOUT_SECONDS)
        conn.default_channel.client.ping()
    return {}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
}
ESSENTIAL = {"database"}


def _timed(check: Callable[[], dict]) -> dict:
    started = time.monotonic()
    try:
        result = {"status": "ok", **check()}
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        result = {"status": "error", "error": exc.__class__.__name__}
    result["ms"] = round((time.monotonic() - started) * 1000)
    if result.pop("skipped", None):
        result["status"] = "skipped"
    return result


def health_report() -> tuple[str, dict[str, dict]]:
    """("ok" | "degraded" | "error", {dependency: {"status": ..., "ms": ...}})."""
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="healthz")
    try:
        futures = {name: pool.submit(_timed, check) for name, check in CHECKS.items()}
        wait(futures.values(), timeout=DEADLINE_SECONDS)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    checks = {
        name: future.result()
        if future.done()
        else {"status": "timeout", "ms": round(DEADLINE_SECONDS * 1000)}
        for name, future in futures.items()
    }
    failing = {name for name, c in checks.items() if c["status"] in ("error", "timeout")}
    if failing & ESSENTIAL:
        return "error", checks
    return ("degraded" if failing else "ok"), checks
