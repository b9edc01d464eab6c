"""Account-manager assignment (DESIGN §7): each manager's weighted load and the service
that gives an application without a manager the eligible one with the least load.

The applications app owns it because it writes the application's manager; the people it
chooses from are read from the accounts app.
"""

import heapq
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccountManagerProfile
from accounts.selectors import account_manager_list
from accounts.services import notification_send, notification_send_many
from yekuo import bulk
from yekuo.domain import VoltageClass
from yekuo.lookups import any_of

from . import dashboard_counts, outbound
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


@dataclass
class _Choice:
    """The outcome of the rules for one application: the manager chosen (None: nobody is
    eligible) and what the reason or the supervisors' notice says."""

    serving: list[AccountManagerProfile]
    qualified: list[AccountManagerProfile]
    profile: AccountManagerProfile | None = None
    load: int = 0
    tied: bool = False


class _LeastLoaded:
    """The rules of automatic assignment, applied to one application or to many in turn,
    each counting the load the ones before it added.

    Eligible for an application: a manager serving its region (``serving_region``: region
    id → the active profiles serving it), qualified for its voltage class, with room for
    its weight (``loads``: user id → weighted load). Chosen: the lowest load / capacity;
    of equal ones, never assigned first, then the least recently assigned, then by user
    name.

    Reading every manager of the region for each application made a catch-up of tens of
    thousands waiting among thousands of managers take hundreds of millions of steps.
    Here the managers of each region and voltage class wait in a heap in that order;
    taking one pushes it back with its new load, and the entries it leaves behind are
    skipped when they come up. A manager too full for the lightest application leaves
    the heaps for good: loads only grow here.

    The ratio is kept as a float, not a ``Fraction`` (whose comparisons were most of the
    time): with capacities below 2**15 two different ratios differ by more than 2**-30,
    more than a float's step below 2**22, so for any load a manager can hold the floats
    order and tie exactly as the fractions do.
    """

    def __init__(self, serving_region: dict, loads: dict[int, int], *, now: datetime):
        self._serving = serving_region
        self._loads = loads
        self._now = now
        self._heaps: dict[tuple, list] = {}
        self._qualified: dict[tuple, list] = {}
        self._heaps_of: dict[int, list[list]] = defaultdict(list)
        # Each manager's entries carry the number of times it was taken when they were
        # pushed: an entry with an older number is one left behind.
        self._taken: dict[int, int] = defaultdict(int)

    def _entry(self, profile: AccountManagerProfile) -> tuple:
        return (
            self._loads.get(profile.user_id, 0) / profile.capacity,
            profile.last_assigned_at is not None,
            profile.last_assigned_at or self._now,
            profile.user.username,
            self._taken[profile.pk],
            profile,
        )

    def _full(self, profile: AccountManagerProfile) -> bool:
        return self._loads.get(profile.user_id, 0) + APPLICATION_WEIGHT > profile.capacity

    def _heap(self, region_id: int, voltage_class: str) -> list:
        group = (region_id, voltage_class)
        heap = self._heaps.get(group)
        if heap is None:
            serving = self._serving.get(region_id, [])
            # A JSON list: filtered here because SQLite cannot ask whether it contains a value.
            qualified = [p for p in serving if voltage_class in (p.voltage_classes or [])]
            self._qualified[group] = qualified
            heap = self._heaps[group] = []
            for profile in qualified:
                if self._full(profile):
                    continue
                heap.append(self._entry(profile))
                self._heaps_of[profile.pk].append(heap)
            heapq.heapify(heap)
        return heap

    def take(self, application: Application) -> _Choice:
        """Return the manager the rules choose for ``application`` now (none: nobody is
        eligible), and count the chosen manager's new load and assignment."""
        heap = self._heap(application.region_id, application.voltage_class)
        choice = _Choice(
            serving=self._serving.get(application.region_id, []),
            qualified=self._qualified[(application.region_id, application.voltage_class)],
        )
        weight = application_weight(
            is_important=application.is_important, customer_class=application.customer_class
        )
        aside, lowest = [], None
        while heap:
            entry = heap[0]
            ratio, *_order, taken, profile = entry
            if lowest is not None and ratio > lowest:
                break
            heapq.heappop(heap)
            if taken != self._taken[profile.pk]:
                continue  # left behind when the manager was taken
            if self._full(profile):
                continue
            aside.append(entry)
            if self._loads.get(profile.user_id, 0) + weight > profile.capacity:
                continue
            if lowest is not None:
                choice.tied = True
                break
            lowest = ratio
            choice.profile = profile
        for entry in aside:
            heapq.heappush(heap, entry)
        if choice.profile is None:
            return choice
        profile = choice.profile
        choice.load = self._loads.get(profile.user_id, 0)
        self._loads[profile.user_id] = choice.load + weight
        profile.last_assigned_at = self._now
        self._taken[profile.pk] += 1
        if not self._full(profile):
            entry = self._entry(profile)
            for other in self._heaps_of[profile.pk]:
                heapq.heappush(other, entry)
        return choice


def _voltage_name(application: Application) -> str:
    """``get_voltage_class_display()`` without building the field's choices anew each
    time: one call per application, it was a tenth of the catch-up at 1,000,000."""
    try:
        return VoltageClass(application.voltage_class).label
    except ValueError:
        return application.voltage_class


def _assigned_reason(application: Application, choice: _Choice) -> str:
    params = {
        "region": application.region,
        "voltage": _voltage_name(application),
        "load": choice.load,
        "capacity": choice.profile.capacity,
    }
    if choice.tied:
        return (
            _(
                "Assigned automatically: serves %(region)s, qualified for %(voltage)s, "
                "load %(load)s/%(capacity)s (the lowest; of equal loads, the longest "
                "without a new assignment)."
            )
            % params
        )
    return (
        _(
            "Assigned automatically: serves %(region)s, qualified for %(voltage)s, "
            "load %(load)s/%(capacity)s (the lowest)."
        )
        % params
    )


def _assigned_text(application: Application, reason: str) -> str:
    return _("%(number)s (%(customer)s) is assigned to you. %(reason)s") % {
        "number": application.number,
        "customer": application.customer,
        "reason": reason,
    }


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
        loads = manager_weighted_loads(user_ids=[p.user_id for p in serving])
        choice = _LeastLoaded({application.region_id: serving}, loads, now=now).take(application)
        if choice.profile is None:
            notification_send_many(
                _unassigned_notices([(application, choice)], supervisors=_assigning_supervisors())
            )
            return UNASSIGNED
        profile = choice.profile
        reason = _assigned_reason(application, choice)

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
            text=_assigned_text(application, reason),
            application=application,
            dedupe_key=f"assigned:{application.pk}:{profile.user_id}",
            by_mail=True,
        )
        outbound.applications_assigned([(application, profile.user, None, reason)], now=now)
    logger.info("application %s assigned to %s", application.number, profile.user.username)
    return ASSIGNED


def _assigning_supervisors() -> list:
    User = get_user_model()
    return list(User.objects.with_perm("accounts.assign_account_manager").order_by("pk"))


def _unassigned_text(application: Application, choice: _Choice) -> str:
    params = {
        "number": application.number,
        "customer": application.customer,
        "region": application.region,
        "voltage": _voltage_name(application),
    }
    if not choice.serving:
        why = _("no active account manager serves %(region)s.") % params
    elif not choice.qualified:
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
    return _(
        "%(number)s (%(customer)s, %(region)s, %(voltage)s) has no account manager: "
        "%(why)s Assign one from the unassigned queue."
    ) % {**params, "why": why}


def _unassigned_notices(left: list[tuple[Application, _Choice]], *, supervisors) -> list[tuple]:
    """Return the notices telling every supervisor (once per application) that nobody can
    take these applications, as ``notification_send_many`` items."""
    if left and not supervisors:
        logger.error(
            "nobody may assign account managers; %s stay unassigned",
            ", ".join(application.number for application, _c in left),
        )
    items = []
    for application, choice in left:
        text = _unassigned_text(application, choice)
        logger.warning("application %s left unassigned: %s", application.number, text)
        items += [
            (supervisor, "unassigned", application, text, f"unassigned:{application.pk}", False)
            for supervisor in supervisors
        ]
    return items


def account_manager_assign_waiting(
    *, now: datetime | None = None, older_than_minutes: int = 0
) -> dict[str, int]:
    """Assign every active application waiting for a manager, in a constant number of queries.

    The catch-up of the on-commit assignment (a lost message, a broker down at commit) and
    the answer to more room (a manager's capacity, regions or qualification changed, a
    manager became active): the waiting applications that arrived ``older_than_minutes``
    ago or earlier are given managers by the rules of ``account_manager_assign``, one
    after the other in the order they arrived, each counting the load the ones before it
    added, as if that function ran for each in turn at ``now``: the same manager chosen,
    the same reason logged, the same notifications.

    The queries do not grow with the applications: the waiting ones (locked; on
    PostgreSQL those an assignment is holding are skipped, it assigns them), every active
    profile (locked in id order, as ``account_manager_assign`` locks them, so neither
    waits on the other in a cycle) with its regions, the loads, the supervisors, then
    one update of the applications chosen, one to stamp the managers, one read of what was
    written, one insert for the change log and one for the notifications (on SQLite, the
    update and the inserts are split at its limit of parameters a statement). Nor does the
    time of choosing grow with the managers (``_LeastLoaded``).

    Return how many were assigned and how many still have nobody eligible.
    """
    now = now or timezone.now()
    counts = {ASSIGNED: 0, UNASSIGNED: 0}
    with transaction.atomic():
        waiting = unassigned_applications().filter(
            created_at__lte=now - timedelta(minutes=older_than_minutes)
        )
        if connection.features.has_select_for_update_skip_locked:
            waiting = waiting.select_for_update(of=("self",), skip_locked=True)
        applications = list(waiting.order_by("pk"))
        if not applications:
            return counts
        profiles = list(
            AccountManagerProfile.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(is_active=True, user__is_active=True)
            .order_by("pk")
        )
        serving_region = defaultdict(list)
        region_rows = AccountManagerProfile.regions.through.objects.filter(
            accountmanagerprofile__in=[p.pk for p in profiles]
        ).values_list("region_id", "accountmanagerprofile_id")
        by_pk = {p.pk: p for p in profiles}
        for region_id, profile_id in region_rows:
            serving_region[region_id].append(by_pk[profile_id])
        for serving in serving_region.values():
            serving.sort(key=lambda p: p.pk)
        loads = manager_weighted_loads(user_ids=[p.user_id for p in profiles])

        chosen: dict[int, tuple[Application, _Choice, str]] = {}
        left = []
        managers = _LeastLoaded(serving_region, loads, now=now)
        for application in applications:
            choice = managers.take(application)
            if choice.profile is None:
                left.append((application, choice))
                continue
            chosen[application.pk] = (application, choice, _assigned_reason(application, choice))

        # The dashboard's counts per manager move with the applications (their rows are
        # locked already).
        counted = dashboard_counts.before(list(chosen), locked=True)
        # Conditional, for SQLite, which ignores row locks: an application another run
        # assigned meanwhile is left as it is (and read back below as not written here).
        bulk.update_rows(
            Application,
            ["account_manager", "assigned_at", "version", "updated_at"],
            [
                (pk, choice.profile.user_id, now, application.version + 1, now)
                for pk, (application, choice, _reason) in sorted(chosen.items())
            ],
            where_null=("account_manager",),
        )
        dashboard_counts.after(counted)
        written = set(
            Application.objects.filter(any_of("pk", list(chosen)), assigned_at=now).values_list(
                "pk", "account_manager_id"
            )
        )
        assigned = [
            chosen[pk] for pk in sorted(chosen) if (pk, chosen[pk][1].profile.user_id) in written
        ]
        AccountManagerProfile.objects.filter(
            any_of("pk", {choice.profile.pk for _a, choice, _r in assigned})
        ).update(last_assigned_at=now)
        bulk.insert_rows(
            AssignmentChange,
            ["application", "from_manager", "to_manager", "reason", "by", "at"],
            [
                (application.pk, None, choice.profile.user_id, reason, None, now)
                for application, choice, reason in assigned
            ],
        )
        # One insert for both kinds: the managers told of their new applications, the
        # supervisors of those nobody can take.
        notification_send_many(
            [
                (
                    choice.profile.user,
                    "assigned",
                    application,
                    _assigned_text(application, reason),
                    f"assigned:{application.pk}:{choice.profile.user_id}",
                    True,
                )
                for application, choice, reason in assigned
            ]
            + _unassigned_notices(left, supervisors=_assigning_supervisors() if left else [])
        )
        outbound.applications_assigned(
            [(a, choice.profile.user, None, reason) for a, choice, reason in assigned],
            now=now,
        )
    counts[ASSIGNED] = len(assigned)
    counts[UNASSIGNED] = len(left)
    logger.info("assigned %s waiting applications; %s still waiting", *counts.values())
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
        "voltage": _voltage_name(application),
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
