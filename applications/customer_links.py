"""The customer's own view of the application: a signed, expiring, revocable link to a
read-only page, and what the customer may ask for from it.

The token is the link's id and a random nonce, signed with the site's secret key: it
cannot be guessed or altered, and it is the same each time it is shown (the receipt's QR
code, the application page). Whether it still works is read from the row, so revoking a
link stops it at once. Every opening and request is logged with its address.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import notification_send
from integration.models import EventType
from scheduling import selectors as schedule_selectors
from scheduling.models import Activity
from yekuo.domain import DocumentKind, Party
from yekuo.errors import InvalidInput, NotPermitted, TransitionNotAllowed

from . import guards, outbound, selectors
from .models import Application, ApplicationState, CustomerLink, CustomerLinkVisit

SALT = "yekuo.customer-link"
Kind = CustomerLinkVisit.Kind
REQUESTS = CustomerLinkVisit.REQUEST_KINDS


class LinkNotUsable(Exception):
    """A link that was never made here (``reason`` "invalid"), or is expired or revoked."""

    def __init__(self, reason: str, link: CustomerLink | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.link = link


def link_token(link: CustomerLink) -> str:
    return signing.Signer(salt=SALT).sign(f"{link.pk}.{link.nonce}")


def link_path(link: CustomerLink) -> str:
    return reverse("customer_progress", args=[link_token(link)])


def _may_manage(application: Application, by) -> None:
    if not guards.manager_or_supervisor(application, by):
        raise NotPermitted(
            _("Only the account manager or a supervisor gives %(number)s's customer a link.")
            % {"number": application.number}
        )


@transaction.atomic
def customer_link_create(
    *, application_id: int, by, days: int | None = None, now: datetime | None = None
) -> CustomerLink:
    """Make a link for the customer of an application, valid ``days``
    (``CUSTOMER_LINK_DAYS``, at most a year)."""
    now = now or timezone.now()
    days = settings.CUSTOMER_LINK_DAYS if days is None else days
    application = Application.objects.select_related("account_manager").get(pk=application_id)
    if by is not None:
        _may_manage(application, by)
    if not 1 <= days <= 366:
        raise InvalidInput({"days": [_("A link lasts 1 to 366 days.")]})
    return link_new(application, by=by, days=days, now=now)


def link_new(application: Application, *, by, days: int, now: datetime) -> CustomerLink:
    """Store a new link (the caller has checked who asks): one insert."""
    return CustomerLink.objects.create(
        application=application,
        nonce=secrets.token_urlsafe(9)[:12],
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )


@dataclass(frozen=True)
class LinkRow:
    link: CustomerLink
    path: str
    usable: bool


@dataclass(frozen=True)
class LinksPage:
    links: list[LinkRow]
    current: LinkRow | None  # the newest usable link: the one to hand out
    waiting: list[CustomerLinkVisit]  # the customer's requests not yet confirmed
    visits: list[CustomerLinkVisit]  # the latest uses, newest first


def links_page(application_id: int, *, now: datetime | None = None) -> LinksPage:
    """What the staff's page of an application's customer links shows."""
    now = now or timezone.now()
    rows = [
        LinkRow(link=link, path=link_path(link), usable=link.is_usable(now))
        for link in CustomerLink.objects.filter(application_id=application_id).order_by(
            "-created_at", "-id"
        )
    ]
    visits = list(
        CustomerLinkVisit.objects.filter(application_id=application_id).order_by("-at", "-id")[:30]
    )
    waiting = list(_waiting_requests(application_id).order_by("at"))
    return LinksPage(
        links=rows,
        current=next((row for row in rows if row.usable), None),
        waiting=waiting,
        visits=visits,
    )


def current_link_path(application_id: int, *, now: datetime | None = None) -> str | None:
    """The address of the newest usable link of an application, if any (the receipt's)."""
    now = now or timezone.now()
    link = (
        CustomerLink.objects.filter(
            application_id=application_id, revoked_at__isnull=True, expires_at__gt=now
        )
        .order_by("-created_at", "-id")
        .first()
    )
    return link_path(link) if link else None


@transaction.atomic
def customer_link_revoke(
    *, link_id: int, by, application_id: int | None = None, now: datetime | None = None
) -> CustomerLink:
    """Stop a link at once; its visits stay on record."""
    link = (
        CustomerLink.objects.select_for_update()
        .select_related("application")
        .filter(pk=link_id)
        .first()
    )
    if link is None or (application_id is not None and link.application_id != application_id):
        raise InvalidInput({"link": [_("There is no such link.")]})
    _may_manage(link.application, by)
    if link.revoked_at is None:
        link.revoked_at = now or timezone.now()
        link.revoked_by = by
        link.save(update_fields=["revoked_at", "revoked_by"])
    return link


def _resolve(token: str, now: datetime) -> CustomerLink:
    try:
        value = signing.Signer(salt=SALT).unsign(token)
        pk, nonce = value.split(".", 1)
        link = CustomerLink.objects.select_related(
            "application__customer", "application__account_manager"
        ).get(pk=int(pk), nonce=nonce)
    except (signing.BadSignature, ValueError, CustomerLink.DoesNotExist):
        raise LinkNotUsable("invalid") from None
    if link.revoked_at is not None:
        raise LinkNotUsable("revoked", link)
    if link.expires_at <= now:
        raise LinkNotUsable("expired", link)
    return link


def _log(link, kind: str, *, ip: str | None, agent: str, now: datetime, note: str = ""):
    return CustomerLinkVisit.objects.create(
        link=link,
        application_id=link.application_id,
        kind=kind,
        at=now,
        ip_address=ip,
        user_agent=(agent or "")[:300],
        note=note[:300],
    )


def customer_link_open(
    *, token: str, ip: str | None, agent: str, now: datetime | None = None
) -> CustomerLink:
    """Return the link of ``token`` and log the opening; raise :class:`LinkNotUsable`
    (logged too, when the link exists) otherwise."""
    now = now or timezone.now()
    try:
        link = _resolve(token, now)
    except LinkNotUsable as exc:
        if exc.link is not None:
            _log(exc.link, Kind.REFUSED, ip=ip, agent=agent, now=now, note=exc.reason)
        raise
    _log(link, Kind.OPENED, ip=ip, agent=agent, now=now)
    return link


def _customer_activities(application: Application) -> list[Activity]:
    return [a for a in application.activities.all() if not a.is_dummy and a.party == Party.CUSTOMER]


def _waiting_requests(application_id: int, kinds=REQUESTS):
    """The customer's requests of these kinds not yet confirmed by the manager."""
    return CustomerLinkVisit.objects.filter(
        application_id=application_id, kind__in=kinds, handled_at__isnull=True
    )


@transaction.atomic
def customer_request(
    *,
    token: str,
    kind: str,
    ip: str | None,
    agent: str,
    note: str = "",
    now: datetime | None = None,
) -> CustomerLinkVisit:
    """Record what the customer says from the page (their construction finished, or the
    completion inspection asked for) and tell the account manager, who confirms it by
    recording the progress. Asked twice before it is confirmed, it is recorded once."""
    now = now or timezone.now()
    link = _resolve(token, now)
    application = link.application
    if kind not in REQUESTS:
        raise InvalidInput({"kind": [_("Choose what you want to tell the account manager.")]})
    if application.state != ApplicationState.CONSTRUCTION:
        raise TransitionNotAllowed(
            [
                _(
                    "This can be said once your construction stage has begun: call your "
                    "account manager."
                )
            ]
        )
    note = (note or "").strip()
    if len(note) > 300:
        raise InvalidInput({"note": [_("Write at most 300 characters.")]})
    existing = _waiting_requests(application.pk, [kind]).first()
    if existing is not None:
        return existing
    visit = _log(link, kind, ip=ip, agent=agent, now=now, note=note)
    text = {
        Kind.CONSTRUCTION_FINISHED: _(
            "%(number)s %(customer)s: the customer says its construction is finished. Check it "
            "and record the progress."
        ),
        Kind.INSPECTION_REQUESTED: _(
            "%(number)s %(customer)s: the customer asks for the completion inspection. Book it "
            "and record the progress."
        ),
    }[kind] % {"number": application.number, "customer": application.customer.name}
    if note:
        text += "\n" + _("The customer wrote: %(note)s") % {"note": note}
    outbound.told(
        EventType.CUSTOMER_REQUESTED,
        application,
        {"request": str(kind), "note": note, "at": now.isoformat()},
        now=now,
    )
    notification_send(
        recipients=[application.account_manager],
        kind="customer_request",
        text=text,
        application=application,
        dedupe_key=f"customer:{visit.pk}",
        by_mail=True,
    )
    return visit


@transaction.atomic
def customer_request_confirm(
    *, visit_id: int, by, application_id: int | None = None, now: datetime | None = None
) -> None:
    """The account manager has dealt with what the customer asked (it leaves the to-do)."""
    visit = CustomerLinkVisit.objects.select_related("application").filter(pk=visit_id).first()
    if visit is None or (application_id is not None and visit.application_id != application_id):
        raise InvalidInput({"visit": [_("There is no such request of the customer.")]})
    if not guards.manager_or_supervisor(visit.application, by):
        raise NotPermitted(_("Only the account manager confirms what the customer said."))
    if visit.kind in REQUESTS and visit.handled_at is None:
        visit.handled_at = now or timezone.now()
        visit.handled_by = by
        visit.save(update_fields=["handled_at", "handled_by"])


# --- What the page shows ------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerStep:
    label: str
    status: str  # done, current, todo


@dataclass(frozen=True)
class CustomerView:
    """Only what the customer deals with: no floats, no departments, nobody else."""

    number: str
    customer: str
    state_label: str
    steps: list[CustomerStep]
    committed: date | None
    forecast: date | None
    late_days: int  # working days the forecast is past the commitment; 0 when not
    documents_missing: list[str]
    own_work: list[str]  # the customer's activities that can go on now
    construction_open: bool
    may_request: bool
    asked: set[str]
    manager_name: str
    manager_phone: str
    expires_at: datetime


def customer_view(link: CustomerLink) -> CustomerView:
    # Read with the link (its customer and manager); the page needs its work and documents.
    application = link.application
    prefetch_related_objects([application], "activities", "documents")
    steps = [
        CustomerStep(label=step.label, status=step.status)
        for step in selectors.stage_steps(application)
    ]
    committed, forecast = application.committed_finish_date, application.forecast_finish_date
    late = 0
    if committed and forecast and forecast > committed:
        late = schedule_selectors.working_calendar().working_days_between(committed, forecast)
    missing = [str(DocumentKind(kind).label) for kind in guards.missing_documents(application)]
    own = [a for a in _customer_activities(application) if a.actual_finish is None]
    manager = application.account_manager
    # The customer's own work (internal works, inspections) is in the construction stage.
    in_progress = application.state == ApplicationState.CONSTRUCTION
    return CustomerView(
        number=application.number,
        customer=application.customer.name,
        state_label=application.get_state_display(),
        steps=steps,
        committed=committed,
        forecast=forecast,
        late_days=late,
        documents_missing=missing,
        own_work=[a.name for a in own if a.is_ready],
        construction_open=bool(own),
        may_request=in_progress,
        asked=(
            set(_waiting_requests(application.pk).values_list("kind", flat=True))
            if in_progress
            else set()
        ),
        manager_name=str(manager) if manager else "",
        manager_phone=manager.phone if manager else "",
        expires_at=link.expires_at,
    )
