"""Liveness and readiness probes for the orchestrator and the load balancer."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection


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


CHECKS = {"database": check_database, "broker": check_broker}


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
    """Answer 200 when the database and the broker are reachable, else 503 naming them."""
    checks = {}
    failed = []
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            failed.append(name)
        else:
            checks[name] = {"ok": True}
    if failed:
        return JsonResponse(
            {
                "status": "unavailable",
                "detail": f"unreachable: {', '.join(failed)}",
                "failed": failed,
                "checks": checks,
            },
            status=503,
        )
    return JsonResponse({"status": "ready", "checks": checks})
