"""A Redis cache that keeps the site up when Redis is not.

Every cache read and write in yekuo is an optimisation or a counter that may be
approximate for a while (the dashboard's figures, the calendar's version, the API
throttle, the worker's heartbeat). When Redis cannot be reached,
:class:`FailoverRedisCache` answers from a cache in the process's own memory instead of
failing the request, logs a warning (at most once per retry interval), and tries Redis
again after that interval. Meanwhile each process counts and caches on its own: the
throttle limits per process, a calendar change reaches the other processes when Redis is
back (or when they restart).

:func:`hit` is the throttle's counter: one atomic round trip on Redis, so parallel
clients cannot read the same count and all pass.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Where a worker records the time it last ran the heartbeat task (read by /readyz).
HEARTBEAT_CACHE_KEY = "celery:heartbeat"

# Connection refused, reset, timed out, DNS failure: Redis is unreachable. Errors in a
# command (a wrong type, say) are bugs and still raise.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

_warned_at: dict[str, float] = {}
_down_until: dict[str, float] = {}
_warned_lock = threading.Lock()


def warn_rate_limited(key: str, message: str, *args, interval: float = 60.0) -> None:
    """Log a warning under ``key`` at most once per ``interval`` seconds per process."""
    now = time.monotonic()
    with _warned_lock:
        last = _warned_at.get(key)
        if last is not None and now - last < interval:
            return
        _warned_at[key] = now
    logger.warning(message, *args)


def _failover(name: str):
    def method(self, *args, **kwargs):
        if self._redis_usable():
            try:
                return getattr(super(FailoverRedisCache, self), name)(*args, **kwargs)
            except UNREACHABLE as exc:
                self._redis_failed(exc)
        return getattr(self._local, name)(*args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``{name}`` on Redis, or on the local cache while Redis is unreachable."
    return method


class FailoverRedisCache(RedisCache):
    """Django's Redis cache, falling back to local memory while Redis is unreachable.

    ``OPTIONS["RETRY_SECONDS"]`` (default 10) is how long the local cache serves before
    Redis is tried again; short socket timeouts in ``OPTIONS`` keep a dead Redis from
    holding a request.
    """

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_seconds = float(options.pop("RETRY_SECONDS", 10))
        super().__init__(server, {**params, "OPTIONS": options})
        local_params = {k: v for k, v in params.items() if k != "OPTIONS"}
        self._local = LocMemCache(f"failover-{server}", local_params)
        self._server = str(server)

    def _redis_usable(self) -> bool:
        return time.monotonic() >= _down_until.get(self._server, 0.0)

    def _redis_failed(self, exc: BaseException) -> None:
        # Shared by the process's threads (each has its own cache object): one failed
        # connection spares the others the wait.
        _down_until[self._server] = time.monotonic() + self.retry_seconds
        warn_rate_limited(
            "cache",
            "Redis cache unreachable (%s: %s); serving from local memory for %.0f s",
            type(exc).__name__,
            exc,
            self.retry_seconds,
            interval=self.retry_seconds,
        )

    add = _failover("add")
    get = _failover("get")
    set = _failover("set")
    touch = _failover("touch")
    delete = _failover("delete")
    get_many = _failover("get_many")
    has_key = _failover("has_key")
    incr = _failover("incr")
    set_many = _failover("set_many")
    delete_many = _failover("delete_many")
    clear = _failover("clear")

    def check(self) -> None:
        """Raise when Redis does not answer a PING (for the readiness probe)."""
        self._cache.get_client(write=False).ping()

    def hit(self, key: str, timeout: int) -> int:
        """Add one to the counter ``key`` (expiring ``timeout`` s after its last hit)
        and return its new value, in one MULTI/EXEC round trip."""
        if self._redis_usable():
            redis_key = self.make_and_validate_key(key)
            try:
                client = self._cache.get_client(redis_key, write=True)
                with client.pipeline(transaction=True) as pipe:
                    pipe.incr(redis_key)
                    pipe.expire(redis_key, timeout)
                    count, _expire_set = pipe.execute()
                return int(count)
            except UNREACHABLE as exc:
                self._redis_failed(exc)
        return _hit_generic(self._local, key, timeout)


def _hit_generic(backend: BaseCache, key: str, timeout: int) -> int:
    # add() then incr(): atomic on the local-memory cache (one lock), close enough on the
    # file cache of the embedded mode (one process serves there).
    backend.add(key, 0, timeout)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add() and incr()
        backend.set(key, 1, timeout)
        return 1


def hit(backend: BaseCache, key: str, timeout: int) -> int:
    """Count one hit on ``key`` in ``backend``; return the count within its lifetime."""
    if isinstance(backend, FailoverRedisCache):
        return backend.hit(key, timeout)
    return _hit_generic(backend, key, timeout)


def check(backend: BaseCache) -> None:
    """Raise when ``backend`` cannot store and read back a value."""
    if isinstance(backend, FailoverRedisCache):
        backend.check()
        return
    backend.set("readyz:probe", 1, 10)
    if backend.get("readyz:probe") != 1:
        raise RuntimeError("the cache did not keep a value")
