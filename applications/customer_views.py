"""The customer's progress page: public, read-only but for two requests, in Chinese.

Reached only through a signed link (``customer_links``); no sign-in, no search engine
(``noindex``), no cache, no referrer to other sites; every address limited to ``CUSTOMER_PAGE_RATE``
requests a minute; every opening logged.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_POST

from accounts.network import client_address
from yekuo.cache import hit, warn_rate_limited
from yekuo.errors import DomainError

from . import customer_links

CUSTOMER_LANGUAGE = "zh-hans"


def _private(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    # Not "no-referrer": the browser would then send "Origin: null" with the page's own
    # form, which the CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


def _too_many(request) -> bool:
    window = int(timezone.now().timestamp() // 60)
    key = f"customer-page:{client_address(request)}:{window}"
    try:
        return hit(cache, key, 60) > settings.CUSTOMER_PAGE_RATE
    except Exception as exc:  # noqa: BLE001 - fail open: the cache must not take the page down
        warn_rate_limited("customer-page", "customer page not limited, the cache failed: %r", exc)
        return False


def _answer(request, template, context, status=200):
    with translation.override(CUSTOMER_LANGUAGE):
        return _private(render(request, template, context, status=status))


def _unusable(request, exc: customer_links.LinkNotUsable):
    return _answer(
        request,
        "applications/customer/unusable.html",
        {"reason": exc.reason},
        status=404 if exc.reason == "invalid" else 410,
    )


def _page(request, token, link, *, error="", status=200):
    return _answer(
        request,
        "applications/customer/progress.html",
        {
            "view": customer_links.customer_view(link),
            "token": token,
            "sent": request.GET.get("sent", ""),
            "error": error,
        },
        status=status,
    )


@login_not_required
@require_GET
def customer_progress(request, token: str):
    if _too_many(request):
        return _answer(request, "applications/customer/unusable.html", {"reason": "busy"}, 429)
    try:
        link = customer_links.customer_link_open(
            token=token,
            ip=client_address(request),
            agent=request.headers.get("User-Agent", ""),
        )
    except customer_links.LinkNotUsable as exc:
        return _unusable(request, exc)
    return _page(request, token, link)


@login_not_required
@require_POST
def customer_request(request, token: str):
    if _too_many(request):
        return _answer(request, "applications/customer/unusable.html", {"reason": "busy"}, 429)
    kind = request.POST.get("kind", "")
    try:
        with translation.override(CUSTOMER_LANGUAGE):
            customer_links.customer_request(
                token=token,
                kind=kind,
                note=request.POST.get("note", ""),
                ip=client_address(request),
                agent=request.headers.get("User-Agent", ""),
            )
    except customer_links.LinkNotUsable as exc:
        return _unusable(request, exc)
    except DomainError as exc:
        link = customer_links.customer_link_open(
            token=token, ip=client_address(request), agent=request.headers.get("User-Agent", "")
        )
        return _page(request, token, link, error=exc.message, status=400)
    return _private(redirect(f"{request.path.removesuffix('request/')}?sent={kind}"))
