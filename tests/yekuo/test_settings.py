import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env_overrides):
    unset = {"SECRET_KEY", "YEKUO_PROFILE", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_suite_runs_on_the_database_named_by_the_environment():
    url = os.environ.get("DATABASE_URL", "")
    if os.environ.get("REQUIRE_SERVICES") == "1":
        assert url.startswith(("postgres://", "postgresql://")), "CI must set DATABASE_URL"
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


def test_the_broker_is_redis_when_redis_url_is_set():
    url = os.environ.get("REDIS_URL", "")
    if os.environ.get("REQUIRE_SERVICES") == "1":
        assert url.startswith("redis://"), "CI must set REDIS_URL"
    if url:
        assert settings.CELERY_BROKER_URL == url
        assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"


def test_production_profile_refuses_to_start_without_a_secret_key():
    result = _manage("check", YEKUO_PROFILE="production", ALLOWED_HOSTS="yekuo.example.cn")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when YEKUO_PROFILE=production." in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        YEKUO_PROFILE="production",
        SECRET_KEY="p" * 20 + "-x7Qm2!vLr9#kT4zW8sYb6^Nd3@Hf5&Jc1",
        ALLOWED_HOSTS="yekuo.example.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_an_unknown_profile_is_refused_by_name():
    result = _manage("check", YEKUO_PROFILE="staging")
    assert result.returncode != 0
    assert "YEKUO_PROFILE must be 'development' or 'production', not 'staging'." in result.stderr


def test_debug_is_off_unless_asked_for_also_in_development():
    code = "from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)"
    result = _manage("shell", "-c", code)
    assert result.returncode == 0, result.stderr
    debug, hosts = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert debug == "False"
    assert "'localhost'" in hosts and "'127.0.0.1'" in hosts
    asked = _manage("shell", "-c", code, DEBUG="1")
    assert asked.stdout.strip().splitlines()[-1].split(" ", 1)[0] == "True"
