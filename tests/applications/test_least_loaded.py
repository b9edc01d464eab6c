"""The heaps of managers choose as the rules of automatic assignment say, one application
after the other, whatever the managers, loads, weights and ties: checked on random offices
without the database against the rules read plainly over every manager (the catch-up's own
tests check it against the single assignment)."""

from datetime import datetime, timedelta
from fractions import Fraction
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from applications import assignment
from applications.weights import application_weight

NOW = datetime(2026, 12, 31, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
VOLTAGES = ("10kV", "35kV", "110kV")


def profile(pk, *, capacity, voltages, assigned_hours_ago):
    return SimpleNamespace(
        pk=pk,
        user_id=1000 + pk,
        user=SimpleNamespace(username=f"m{pk:03d}"),
        capacity=capacity,
        voltage_classes=list(voltages),
        last_assigned_at=None
        if assigned_hours_ago is None
        else NOW - timedelta(hours=assigned_hours_ago),
    )


managers = st.lists(
    st.tuples(
        st.integers(0, 8),  # capacity (0: a manager with no room at all)
        st.lists(st.sampled_from(VOLTAGES), min_size=0, max_size=3, unique=True),
        st.one_of(st.none(), st.integers(1, 3)),  # few distinct times: many ties
        st.lists(st.integers(1, 3), min_size=1, max_size=3, unique=True),  # regions served
        st.integers(0, 6),  # load held already
    ),
    max_size=12,
)
applications = st.lists(
    st.tuples(
        st.integers(1, 4),  # region (4: nobody serves it)
        st.sampled_from(VOLTAGES),
        st.booleans(),  # important
        st.sampled_from(("lv", "hv_single", "hv_dual")),
    ),
    max_size=40,
)


def office(drawn):
    profiles, serving, loads = [], {}, {}
    for pk, (capacity, voltages, hours, regions, load) in enumerate(drawn, start=1):
        manager = profile(pk, capacity=capacity, voltages=voltages, assigned_hours_ago=hours)
        profiles.append(manager)
        if load:
            loads[manager.user_id] = load
        for region in regions:
            serving.setdefault(region, []).append(manager)
    return profiles, serving, loads


def outcomes(take, drawn_applications):
    seen = []
    for pk, (region, voltage, important, customer_class) in enumerate(drawn_applications):
        application = SimpleNamespace(
            pk=pk,
            region_id=region,
            voltage_class=voltage,
            is_important=important,
            customer_class=customer_class,
        )
        choice = take(application)
        seen.append(
            (
                choice.profile and choice.profile.pk,
                choice.load,
                choice.tied,
                bool(choice.serving),
                bool(choice.qualified),
            )
        )
    return seen


def one_by_one(drawn_managers, drawn_applications):
    """The rules read plainly, for each application in turn: of the managers serving its
    region, qualified for its voltage class and with room for its weight, the lowest load
    / capacity; of equal ones, never assigned first, then the least recently assigned,
    then by user name."""
    _profiles, serving, loads = office(drawn_managers)

    def take(application):
        weight = application_weight(
            is_important=application.is_important, customer_class=application.customer_class
        )
        region = serving.get(application.region_id, [])
        qualified = [p for p in region if application.voltage_class in p.voltage_classes]
        room = [p for p in qualified if loads.get(p.user_id, 0) + weight <= p.capacity]
        ranked = sorted(
            room,
            key=lambda p: (
                Fraction(loads.get(p.user_id, 0), p.capacity),
                p.last_assigned_at is not None,
                p.last_assigned_at or NOW,
                p.user.username,
            ),
        )
        choice = SimpleNamespace(
            serving=region, qualified=qualified, profile=None, load=0, tied=False
        )
        if ranked:
            choice.profile = chosen = ranked[0]
            lowest = Fraction(loads.get(chosen.user_id, 0), chosen.capacity)
            choice.tied = (
                sum(Fraction(loads.get(p.user_id, 0), p.capacity) == lowest for p in room) > 1
            )
            choice.load = loads.get(chosen.user_id, 0)
            loads[chosen.user_id] = choice.load + weight
            chosen.last_assigned_at = NOW
        return choice

    return outcomes(take, drawn_applications)


@settings(max_examples=400, deadline=None)
@given(managers, applications)
def test_the_heaps_choose_the_manager_the_rules_choose_for_every_application(
    drawn_managers, drawn_applications
):
    _profiles, serving, loads = office(drawn_managers)
    least_loaded = assignment._LeastLoaded(serving, loads, now=NOW)

    assert outcomes(least_loaded.take, drawn_applications) == one_by_one(
        drawn_managers, drawn_applications
    )


def test_a_full_office_leaves_the_waiting_applications_with_the_reason():
    # One manager in region 1, room for one ordinary application: the second waits for lack
    # of room; a 35 kV one for lack of qualification; region 2 for lack of anyone.
    drawn = [(1, ["10kV"], None, [1], 0)]
    waiting = [
        (1, "10kV", False, "lv"),
        (1, "10kV", False, "lv"),
        (1, "35kV", False, "lv"),
        (2, "10kV", False, "lv"),
    ]
    _profiles, serving, loads = office(drawn)
    least_loaded = assignment._LeastLoaded(serving, loads, now=NOW)

    assert outcomes(least_loaded.take, waiting) == [
        (1, 0, False, True, True),
        (None, 0, False, True, True),
        (None, 0, False, True, False),
        (None, 0, False, False, False),
    ]
    assert loads == {1001: 1}
