"""Throttling per API token (per signed-in user for browser sessions).

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` when the request arrives,
so settings changed at run time (and in tests) take effect.

A fixed window: one counter per client and window, incremented and given its expiry in
one atomic round trip to Redis (:func:`yekuo.cache.hit`). DRF's own throttle reads a
history, appends and writes it back, so parallel requests read the same history and all
pass; a counter cannot be overtaken that way. Across a window's edge a client may send
its rate twice within less than a window, no more.

When the cache fails, the request passes (the failure is logged): a throttle protects
the service and must not be the thing that takes it down.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from yekuo.cache import hit, warn_rate_limited


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"
    cache_format = "throttle:%(scope)s:%(ident)s"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        prefix = getattr(request.auth, "prefix", None)
        if prefix:
            # Each token has its own budget, named by its key's public prefix.
            ident = f"token-{prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = "anon-" + (self.get_ident(request) or "")
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        try:
            count = hit(self.cache, f"{key}:{window}", self.duration)
        except Exception as exc:  # noqa: BLE001 - fail open: any cache failure
            warn_rate_limited("throttle", "API throttle not applied, the cache failed: %r", exc)
            return True
        return count <= self.num_requests

    def wait(self):
        """Return the seconds until the current window ends."""
        return max(self.window_ends - self.now, 0)
