"""The cache keeps answering when Redis does not."""

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import need_service
from yekuo.cache import UNREACHABLE, FailoverRedisCache, hit

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "redis://127.0.0.1:6390/0"


def _cache(location: str, **options) -> FailoverRedisCache:
    return FailoverRedisCache(
        location,
        {
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2, **options},
        },
    )


def test_with_redis_down_the_cache_serves_from_local_memory_and_says_so(caplog, monkeypatch):
    # Forget earlier tests' outages and warnings.
    monkeypatch.setattr("yekuo.cache._warned_at", {})
    monkeypatch.setattr("yekuo.cache._down_until", {})
    cache = _cache(CLOSED)
    with caplog.at_level(logging.WARNING, logger="yekuo.cache"):
        cache.set("figures", {"open": 3}, 60)
        assert cache.get("figures") == {"open": 3}
        assert cache.get_or_set("calendar", 7) == 7
        with pytest.raises(ValueError):
            cache.incr("missing")
        assert hit(cache, "counter", 60) == 1
        assert hit(cache, "counter", 60) == 2
    warnings = [r for r in caplog.records if "Redis cache unreachable" in r.getMessage()]
    # One warning for the outage, not one per call.
    assert len(warnings) == 1
    with pytest.raises(UNREACHABLE):
        cache.check()


def test_the_cache_goes_back_to_redis_once_it_answers(settings):
    url = os.environ.get("REDIS_URL", "")
    need_service("Redis", bool(url), "the cache must find Redis again after an outage")
    cache = _cache(url, RETRY_SECONDS=0)
    cache._redis_failed(ConnectionError("simulated"))
    cache.set("k", "v", 60)
    other = FailoverRedisCache(url, {"KEY_PREFIX": cache.key_prefix})
    assert other.get("k") == "v"  # written to Redis, visible to every process
    cache.delete("k")


def test_the_counter_is_one_atomic_round_trip_on_redis():
    url = os.environ.get("REDIS_URL", "")
    need_service("Redis", bool(url), "the throttle counts in Redis")
    cache = _cache(url)
    assert [hit(cache, "c", 60) for _ in range(3)] == [1, 2, 3]
    client = cache._cache.get_client(write=False)
    assert 0 < client.ttl(cache.make_key("c")) <= 60
    cache.delete("c")


def test_with_redis_url_at_a_stopped_redis_the_site_cache_still_answers():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "YEKUO_PROFILE"}}
    env["REDIS_URL"] = CLOSED
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.core.cache import cache; cache.set('k', 41); print(cache.incr('k'))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "42"
    assert "Redis cache unreachable" in result.stderr
