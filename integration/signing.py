"""The signature of a delivery, by the Standard Webhooks specification.

``webhook-id`` is the event's id, ``webhook-timestamp`` the moment of sending in whole
seconds, and ``webhook-signature`` one ``v1,<base64 HMAC-SHA256>`` per secret in use,
separated by spaces: during a rotation's overlap both the new and the previous secret sign,
so a receiver holding either accepts the message.
"""

from __future__ import annotations

import base64
import secrets as random_secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def secret_new() -> str:
    """Return a new signing secret: 32 random bytes, base64, with the usual prefix."""
    return SECRET_PREFIX + base64.b64encode(random_secrets.token_bytes(32)).decode()


def is_secret(value: str) -> bool:
    """Return whether ``value`` is a signing secret: the prefix and non-empty base64."""
    if not value.startswith(SECRET_PREFIX):
        return False
    try:
        return bool(base64.b64decode(value[len(SECRET_PREFIX) :], validate=True))
    except ValueError:
        return False


def signature_headers(
    *, secrets: list[str], message_id: str, sent_at: datetime, body: bytes
) -> dict[str, str]:
    """Return the three headers that let a receiver check ``body`` came from here."""
    signatures = [
        Webhook(secret).sign(msg_id=message_id, timestamp=sent_at, data=body) for secret in secrets
    ]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
