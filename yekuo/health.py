"""Liveness and readiness probes for the orchestrator and the load balancer.

``/readyz`` checks each dependency and answers:

- 200 ``ready``: the database, the broker and the cache answer, and a worker recorded
  its heartbeat within ``WORKER_STALE_SECONDS``;
- 200 ``degraded``: only the worker is stale (or has never been seen). Requests are
  served; background work (assignment, the sweep, mail) waits for a worker, so this is
  for an alert, not for taking the web server out of rotation;
- 503 ``degraded``: the broker or the cache (Redis) is unreachable. Pages and the API
  still work (the cache falls back to local memory, tasks are left to the sweeps), but
  this instance is not whole;
- 503 ``unavailable``: the database does not answer; nothing works.

Each component reads ``ok``, ``down`` or ``stale``. The error text and the time of the
last heartbeat are shown only to staff and to requests from the machine itself (not
through a proxy), since connection errors name hosts and ports.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import caches
from django.db import connections
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from yekuo import cache as yekuo_cache
from yekuo.cache import HEARTBEAT_CACHE_KEY


class WorkerStale(Exception):
    """No worker recorded a heartbeat recently."""


def check_database() -> None:
    """Raise when the default database does not answer a trivial query."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    """Raise when the message broker cannot be connected to."""
    timeout = settings.READINESS_TIMEOUT_SECONDS
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=timeout,
        transport_options={
            **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
            "socket_timeout": timeout,
            "max_retries": 0,
        },
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)


def check_cache() -> None:
    """Raise when the shared cache cannot be reached (not its local stand-in)."""
    yekuo_cache.check(caches["default"])


def check_worker(now: datetime | None = None) -> None:
    """Raise :class:`WorkerStale` when the last heartbeat is older than the threshold."""
    now = now or timezone.now()
    stamp = caches["default"].get(HEARTBEAT_CACHE_KEY)
    if not stamp:
        raise WorkerStale("no heartbeat recorded")
    seen = datetime.fromisoformat(stamp)
    age = now - seen
    if age > timedelta(seconds=settings.WORKER_STALE_SECONDS):
        raise WorkerStale(f"last heartbeat {seen.isoformat()}, {int(age.total_seconds())} s ago")


# A failure of these makes the instance not ready (503); of the others, degraded (200).
REQUIRED = {"database": check_database, "broker": check_broker, "cache": check_cache}
OPTIONAL = {"worker": check_worker}
CHECKS = {**REQUIRED, **OPTIONAL}

_LOOPBACK = {"127.0.0.1", "::1"}


def may_see_details(request) -> bool:
    """Return whether the request may read error texts: staff, or this machine itself.

    A request relayed by a proxy on this machine carries a forwarding header: it comes
    from elsewhere and is not trusted as local.
    """
    forwarded = request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded")
    if request.META.get("REMOTE_ADDR") in _LOOPBACK and not forwarded:
        return True
    try:
        return bool(request.user.is_staff)
    except Exception:  # noqa: BLE001 - the session needs the database, which may be down
        return False


@never_cache
@require_GET
@login_not_required
def healthz(request):
    """Answer 200 while the process can serve requests; touch no dependency."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
@login_not_required
def readyz(request):
    """Answer 200 when every dependency answers (or only the worker is stale), else 503."""
    checks: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except WorkerStale as exc:
            checks[name] = "stale"
            errors[name] = str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure means "down"
            checks[name] = "down"
            errors[name] = f"{type(exc).__name__}: {exc}"
        else:
            checks[name] = "ok"
    failed = [name for name in REQUIRED if checks[name] != "ok"]
    degraded = [name for name in CHECKS if checks[name] != "ok"]
    if checks["database"] != "ok":
        status, code = "unavailable", 503
    elif failed:
        status, code = "degraded", 503
    elif degraded:
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    body = {"status": status, "checks": checks}
    if degraded:
        body["degraded"] = degraded
    if failed:
        body["detail"] = f"unreachable: {', '.join(failed)}"
    if errors and may_see_details(request):
        body["errors"] = errors
    return JsonResponse(body, status=code)
