"""Account-manager assignment (DESIGN §7): each manager's weighted load and the service
that gives an application without a manager the eligible one with the least load.

The applications app owns it because it writes the application's manager; the people it
chooses from are read from the accounts app.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccountManagerProfile
from accounts.selectors import account_manager_list
from accounts.services import notification_send

from .dashboard_counts import counting, of_application
from .models import ACTIVE_STATES, Application, AssignmentChange
from .weights import (  # noqa: F401 - the weights are part of assignment's vocabulary
    APPLICATION_WEIGHT,
    HEAVY_APPLICATION_WEIGHT,
    application_weight,
    weight_expression,
)

logger = logging.getLogger(__name__)


# --- Account-manager load -------------------------------------------------------------------


def manager_weighted_loads(*, user_ids) -> dict[int, int]:
    """Return the weighted active applications of each manager (by user id), in one query.

    A manager holding no active application is absent from the result (load 0).
    """
    rows = (
        Application.objects.filter(account_manager_id__in=list(user_ids), state__in=ACTIVE_STATES)
        .order_by()
        .values("account_manager_id")
        .annotate(load=Sum(weight_expression()))
        .values_list("account_manager_id", "load")
    )
    return dict(rows)


@dataclass(frozen=True)
class ManagerLoad:
    profile: AccountManagerProfile
    load: int
    capacity: int

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.load, self.capacity)

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.load)


def account_manager_loads() -> list[ManagerLoad]:
    """Return each active manager with weighted load and capacity, in two queries.

    The load is computed in the database (a subquery per profile row), the regions are
    prefetched; the number of queries does not grow with the number of managers.
    """
    load = (
        Application.objects.filter(account_manager_id=OuterRef("user_id"), state__in=ACTIVE_STATES)
        .order_by()
        .values("account_manager_id")
        .annotate(load=Sum(weight_expression()))
        .values("load")
    )
    profiles = account_manager_list(active_only=True).annotate(
        weighted_load=Coalesce(Subquery(load, output_field=IntegerField()), Value(0))
    )
    return [
        ManagerLoad(profile=profile, load=profile.weighted_load, capacity=profile.capacity)
        for profile in profiles
    ]


def unassigned_applications():
    """Return the supervisors' queue: active applications without a manager, oldest first."""
    return (
        Application.objects.filter(account_manager__isnull=True, state__in=ACTIVE_STATES)
        .select_related("customer", "region")
        .order_by("created_at", "id")
    )


# --- Account-manager assignment (DESIGN §7) -------------------------------------------------

ASSIGNED = "assigned"
UNASSIGNED = "unassigned"
ALREADY_ASSIGNED = "already_assigned"
NOT_ACTIVE = "not_active"
MISSING = "missing"


@counting(of_application)
def account_manager_assign(*, application_id: int, now: datetime | None = None) -> str:
    """Give an active application without a manager the eligible manager with the least load.

    Eligible: an active profile of an active user that serves the application's region,
    is qualified for its voltage class and has room for the application's weight
    (``application_weight``). The lowest weighted load / capacity wins; ties go
    to the manager assigned least recently (never assigned first), then by user name. The
    reason is logged with the change and the manager is notified.

    Return ``"assigned"``, or ``"unassigned"`` when nobody is eligible: the application
    then waits in the supervisors' queue and they are notified; that is not an error.
    ``"already_assigned"``, ``"not_active"`` and ``"missing"`` change nothing, so running
    this twice assigns once.

    The application row and then the eligible profiles stay locked until commit: two
    assignments at once to the same managers run one after the other, and the second
    counts the load the first added, so nobody is filled past capacity. Profiles are
    locked in id order, so two assignments cannot deadlock on them.
    """
    now = now or timezone.now()
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("customer", "region")
            .filter(pk=application_id)
            .first()
        )
        if application is None:
            logger.warning("application %s to assign does not exist", application_id)
            return MISSING
        if application.account_manager_id is not None:
            return ALREADY_ASSIGNED
        if application.state not in ACTIVE_STATES:
            return NOT_ACTIVE

        serving = list(
            AccountManagerProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(is_active=True, user__is_active=True, regions=application.region_id)
            .order_by("pk")
        )
        # A JSON list: filtered here because SQLite cannot ask whether it contains a value.
        qualified = [p for p in serving if application.voltage_class in (p.voltage_classes or [])]
        loads = manager_weighted_loads(user_ids=[p.user_id for p in qualified])
        weight = application_weight(
            is_important=application.is_important, customer_class=application.customer_class
        )
        candidates = [
            (Fraction(loads.get(p.user_id, 0), p.capacity), p)
            for p in qualified
            if loads.get(p.user_id, 0) + weight <= p.capacity
        ]
        if not candidates:
            _notify_unassigned(application, serving=serving, qualified=qualified)
            return UNASSIGNED

        candidates.sort(
            key=lambda c: (
                c[0],
                c[1].last_assigned_at is not None,
                c[1].last_assigned_at or now,
                c[1].user.username,
            )
        )
        lowest, profile = candidates[0]
        tied = sum(1 for ratio, _p in candidates if ratio == lowest) > 1
        params = {
            "region": application.region,
            "voltage": application.get_voltage_class_display(),
            "load": loads.get(profile.user_id, 0),
            "capacity": profile.capacity,
        }
        if tied:
            reason = (
                _(
                    "Assigned automatically: serves %(region)s, qualified for %(voltage)s, "
                    "load %(load)s/%(capacity)s (the lowest; of equal loads, the longest "
                    "without a new assignment)."
                )
                % params
            )
        else:
            reason = (
                _(
                    "Assigned automatically: serves %(region)s, qualified for %(voltage)s, "
                    "load %(load)s/%(capacity)s (the lowest)."
                )
                % params
            )

        # Conditional, for SQLite, which ignores row locks: another run that assigned the
        # application meanwhile leaves nothing to update here.
        updated = Application.objects.filter(
            pk=application.pk, account_manager__isnull=True
        ).update(
            account_manager=profile.user,
            assigned_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        if not updated:
            return ALREADY_ASSIGNED
        AccountManagerProfile.objects.filter(pk=profile.pk).update(last_assigned_at=now)
        AssignmentChange.objects.create(
            application=application,
            from_manager=None,
            to_manager=profile.user,
            reason=reason,
            by=None,
            at=now,
        )
        notification_send(
            recipients=[profile.user],
            kind="assigned",
            text=_("%(number)s (%(customer)s) is assigned to you. %(reason)s")
            % {"number": application.number, "customer": application.customer, "reason": reason},
            application=application,
            dedupe_key=f"assigned:{application.pk}:{profile.user_id}",
            by_mail=True,
        )
    logger.info("application %s assigned to %s", application.number, profile.user.username)
    return ASSIGNED


def _notify_unassigned(application, *, serving, qualified) -> None:
    """Tell every supervisor (once per application) that nobody can take ``application``."""
    params = {
        "number": application.number,
        "customer": application.customer,
        "region": application.region,
        "voltage": application.get_voltage_class_display(),
    }
    if not serving:
        why = _("no active account manager serves %(region)s.") % params
    elif not qualified:
        why = (
            _("no active account manager serving %(region)s is qualified for %(voltage)s.") % params
        )
    else:
        why = (
            _(
                "every account manager serving %(region)s and qualified for %(voltage)s "
                "is at capacity."
            )
            % params
        )
    text = _(
        "%(number)s (%(customer)s, %(region)s, %(voltage)s) has no account manager: "
        "%(why)s Assign one from the unassigned queue."
    ) % {**params, "why": why}
    User = get_user_model()
    supervisors = list(User.objects.with_perm("accounts.assign_account_manager").order_by("pk"))
    if not supervisors:
        logger.error("nobody may assign account managers; %s stays unassigned", application.number)
    notification_send(
        recipients=supervisors,
        kind="unassigned",
        text=text,
        application=application,
        dedupe_key=f"unassigned:{application.pk}",
    )
    logger.warning("application %s left unassigned: %s", application.number, why)


def account_manager_assign_sweep(
    *, now: datetime | None = None, older_than_minutes: int = 5
) -> dict[str, int]:
    """Assign every active application that has waited for a manager longer than the minutes.

    The on-commit task assigns within seconds; this catches the applications whose
    message never arrived (broker down at commit, a lost message). Each application gets
    its own transaction, so the locks of one are not held while the next is assigned.
    Return how many were assigned and how many still have nobody eligible.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=older_than_minutes)
    application_ids = list(
        unassigned_applications()
        .filter(created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts = {ASSIGNED: 0, UNASSIGNED: 0}
    for application_id in application_ids:
        status = account_manager_assign(application_id=application_id, now=now)
        if status in counts:
            counts[status] += 1
    return counts


# --- Reassignment by hand: the same checks, a supervisor may override them ------------------

# The checks of automatic assignment, in the order a person reads them; their codes are
# stored with an override (``AssignmentChange.overridden_checks``).
CHECK_ACTIVE = "active"
CHECK_REGION = "region"
CHECK_VOLTAGE = "voltage"
CHECK_CAPACITY = "capacity"
REASSIGNMENT_CHECKS = (CHECK_ACTIVE, CHECK_REGION, CHECK_VOLTAGE, CHECK_CAPACITY)


def reassignment_checks_failed(
    application: Application, profile: AccountManagerProfile | None, *, load: int
) -> dict[str, str]:
    """Return the checks of automatic assignment that ``profile`` fails for ``application``,
    code → the reason in words, in ``REASSIGNMENT_CHECKS`` order (empty: eligible).

    ``load`` is the manager's weighted load now; the application's own weight is added to
    it unless the manager holds the application already. ``profile.regions`` is read
    through ``regions.all()``, so a prefetched list costs no query.
    """
    if profile is None or not profile.is_active or not profile.user.is_active:
        who = profile.user if profile is not None else ""
        return {CHECK_ACTIVE: _("%(user)s is not an active account manager.") % {"user": who}}
    params = {
        "user": profile.user,
        "region": application.region,
        "voltage": application.get_voltage_class_display(),
        "load": load,
        "capacity": profile.capacity,
    }
    failed = {}
    if all(region.pk != application.region_id for region in profile.regions.all()):
        failed[CHECK_REGION] = _("%(user)s does not serve %(region)s.") % params
    if application.voltage_class not in (profile.voltage_classes or []):
        failed[CHECK_VOLTAGE] = _("%(user)s is not qualified for %(voltage)s.") % params
    weight = application_weight(
        is_important=application.is_important, customer_class=application.customer_class
    )
    held = application.account_manager_id == profile.user_id
    if not held and load + weight > profile.capacity:
        failed[CHECK_CAPACITY] = (
            _("%(user)s is at capacity: load %(load)s of %(capacity)s.") % params
        )
    return failed


def reassignment_refusals(application: Application, manager) -> list[str]:
    """Return why ``manager`` (a user) may not take ``application`` by the rules of automatic
    assignment (active, region, voltage qualification, capacity); empty when none."""
    profile = (
        AccountManagerProfile.objects.select_related("user")
        .prefetch_related("regions")
        .filter(user=manager)
        .first()
    )
    load = manager_weighted_loads(user_ids=[manager.pk]).get(manager.pk, 0)
    return list(reassignment_checks_failed(application, profile, load=load).values())


@dataclass(frozen=True)
class ReassignmentCandidate:
    profile: AccountManagerProfile
    load: int
    capacity: int
    refusals: tuple[str, ...]

    @property
    def eligible(self) -> bool:
        return not self.refusals


def reassignment_candidates(application: Application) -> list[ReassignmentCandidate]:
    """Return every active account manager with their load and why each is refused (the
    eligible first, by load against capacity), in a constant number of queries."""
    rows = [
        ReassignmentCandidate(
            profile=m.profile,
            load=m.load,
            capacity=m.capacity,
            refusals=tuple(
                reassignment_checks_failed(application, m.profile, load=m.load).values()
            ),
        )
        for m in account_manager_loads()
        if m.profile.user_id != application.account_manager_id
    ]
    rows.sort(key=lambda c: (bool(c.refusals), Fraction(c.load, c.capacity or 1)))
    return rows
