"""The shared cache: Redis, falling back to the database while Redis is dead or hung.

What the cache holds is small and short-lived (allauth's login rate limits, the TOTP
codes already used, cached pages of nobody), but a login touches it, so a Redis outage
must not break logins. Every Redis call has a short socket timeout (settings); when one
fails with a connection error or a timeout, this process uses the database cache
(``CACHES["db"]``, the ``careplan_cache`` table) for ``CAREPLAN_CACHE_FALLBACK_SECONDS``
and does not touch Redis in that window, so a hung Redis costs one timeout per window
and process instead of one per request. Rate limits and used TOTP codes therefore keep
holding across web nodes during the outage (fail to the database, not open). When the
window ends Redis is tried again; what was counted in the database meanwhile is not
carried back (a rate-limit window may restart once).
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)

# Django makes one cache object per thread: the "Redis is down" mark is per process.
_lock = threading.Lock()
_down_until: dict[str, float] = {}


def redis_down_until(location: str) -> float:
    return _down_until.get(location, 0.0)


def reset_fallback() -> None:
    """Forget every "Redis is down" mark (tests)."""
    with _lock:
        _down_until.clear()


class FallbackRedisCache(RedisCache):
    """``RedisCache`` that answers from ``CACHES["db"]`` while Redis fails (see module)."""

    fallback_alias = "db"

    def __init__(self, server, params):
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)

    @property
    def fallback(self):
        return caches[self.fallback_alias]

    def in_fallback(self) -> bool:
        return time.monotonic() < redis_down_until(self._location)

    def _call(self, name: str, *args, **kwargs):
        if self.in_fallback():
            return getattr(self.fallback, name)(*args, **kwargs)
        try:
            return getattr(super(), name)(*args, **kwargs)
        except REDIS_DOWN as exc:
            seconds = settings.CAREPLAN_CACHE_FALLBACK_SECONDS
            with _lock:
                _down_until[self._location] = time.monotonic() + seconds
            log.warning(
                "cache: Redis failed (%s); using the database cache for %ss",
                exc.__class__.__name__,
                seconds,
            )
            return getattr(self.fallback, name)(*args, **kwargs)

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def clear(self):
        return self._call("clear")
