"""The address a request came from, as far as this server can trust it."""

from django.conf import settings


def client_address(request) -> str | None:
    """Return the client's IP address: ``REMOTE_ADDR``, or ``X-Forwarded-For`` behind proxies.

    ``X-Forwarded-For`` is written by whoever sends the request, so it is read only when
    ``TRUSTED_PROXY_COUNT`` says that many proxies of our own stand in front: each appends
    the address it received the request from, so the client is the entry that many places
    from the right. Entries further left are the client's own claims and are ignored.
    """
    if request is None:
        return None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None
