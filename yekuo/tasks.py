"""Process-wide tasks that belong to no app."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from yekuo.cache import HEARTBEAT_CACHE_KEY

__all__ = ["HEARTBEAT_CACHE_KEY", "heartbeat"]


@shared_task(name="yekuo.tasks.heartbeat")
def heartbeat() -> str:
    """Record that a worker ran a task from the beat schedule; return the time."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=None)
    return now
