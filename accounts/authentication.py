"""API authentication by named, expiring, hashed tokens (``Authorization: Token <key>``)."""

import hmac

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from . import services
from .models import ApiToken, TokenScope


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Find the token by its key's prefix and compare digests in constant time.

    ``Bearer`` is accepted as a synonym of ``Token``. A revoked or expired token, or one
    whose user may no longer sign in, is refused with 401 and says which.
    """

    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="replace") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as: Token <key>."))
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from exc
        token = (
            ApiToken.objects.select_related("user")
            .filter(prefix=services.api_token_prefix(key))
            .first()
        )
        if token is None or not hmac.compare_digest(token.digest, services.api_token_digest(key)):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(_("This token has expired; ask for a new one."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token's user may no longer sign in."))
        services.api_token_used(token, now=now)
        return token.user, token

    def authenticate_header(self, request):
        return "Token"


class TokenScopePermission(permissions.BasePermission):
    """A read-only token reads, and asks for computations that change nothing.

    Views whose POST only computes (the what-if endpoints) say so with
    ``changes_nothing = True``.
    """

    message = _("This token may only read: ask for a token with the write scope.")

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken) or token.scope == TokenScope.WRITE:
            return True
        return request.method in permissions.SAFE_METHODS or getattr(view, "changes_nothing", False)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token in the OpenAPI schema as ``tokenAuth``."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _(
                    "Token-based authentication: `Authorization: Token <key>`. A token is "
                    "named, expires, and is read-only or read-write."
                )
            ),
        }
