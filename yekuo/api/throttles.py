"""Throttling per API token (per signed-in user for browser sessions).

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` when the request arrives,
so settings changed at run time (and in tests) take effect.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

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
