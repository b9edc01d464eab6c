"""Fulkerson's rule: every arrow of a double-code network runs from a lower event number
to a higher one, on the stored plan and on the diagram."""

from importlib import import_module

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.selectors import application_page
from scheduling import cpm
from scheduling.diagrams import aon_arcs
from scheduling.models import Activity, ActivityTemplate
from tests.dates import TODAY, pin_today
from tests.factories import make_application

TEMPLATES = import_module("scheduling.migrations.0002_default_templates")


@st.composite
def numbered_networks(draw):
    """A random AOA event graph (acyclic by construction), its events numbered at random."""
    size = draw(st.integers(2, 12))
    pairs = draw(
        st.sets(
            st.tuples(st.integers(0, size - 1), st.integers(0, size - 1)).filter(
                lambda p: p[0] < p[1]
            ),
            min_size=1,
            max_size=24,
        )
    )
    labels = draw(st.permutations(range(1, size + 1)))
    return [(labels[tail], labels[head]) for tail, head in sorted(pairs)]


@settings(max_examples=200)
@given(numbered_networks())
def test_any_network_numbered_by_fulkerson_runs_from_low_to_high(arcs):
    numbers = cpm.fulkerson_numbers(arcs)

    events = sorted({event for arc in arcs for event in arc})
    assert sorted(numbers) == events
    assert sorted(numbers.values()) == sorted(set(numbers.values())), "two events, one number"
    assert min(numbers.values()) == events[0]
    assert all(numbers[tail] < numbers[head] for tail, head in arcs)
    if all(tail < head for tail, head in arcs):
        assert numbers == {event: event for event in events}


@settings(max_examples=100)
@given(st.data())
def test_any_activity_on_node_network_drawn_as_arrows_runs_from_low_to_high(data):
    size = data.draw(st.integers(1, 9))
    activities = [
        {
            "code": f"A{i}",
            "duration": 1,
            "predecessors": [
                f"A{p}"
                for p in data.draw(
                    st.sets(st.integers(0, i - 1), max_size=3) if i else st.just(set())
                )
            ],
        }
        for i in range(size)
    ]

    arcs = aon_arcs(activities)

    assert all(arc.tail < arc.head for arc in arcs)


def test_a_cycle_keeps_its_numbers_for_the_compiler_to_report():
    assert cpm.fulkerson_numbers([(1, 2), (2, 3), (3, 1)]) == {1: 1, 2: 2, 3: 3}


def lv_arcs(rows):
    return {(row["code"] or "dummy"): (row["tail"], row["head"]) for row in rows}


def test_the_low_voltage_template_swaps_the_two_events_of_its_backward_dummy():
    arcs = lv_arcs(TEMPLATES.LV_NON_RESIDENTIAL)
    assert arcs["dummy"] == (6, 5)  # as the template was first drawn

    numbers = cpm.fulkerson_numbers(arcs.values())

    # Events 1-4 are a chain; 5 waits for 4 and 6 (the dummy), 6 only for 4: so 6 comes
    # first and takes number 5, old 5 takes 6, and 7 stays.
    assert numbers == {1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 5, 7: 7}
    renumbered = {code: (numbers[t], numbers[h]) for code, (t, h) in arcs.items()}
    assert renumbered == {
        "A": (1, 2),
        "B": (2, 3),
        "C": (3, 4),
        "D": (4, 6),
        "E": (4, 5),
        "dummy": (5, 6),
        "F": (6, 7),
    }


@pytest.mark.django_db
def test_the_stored_low_voltage_template_and_its_applications_run_from_low_to_high(
    supervisor, manager
):
    template_rows = ActivityTemplate.objects.filter(template__code="lv-non-residential")
    assert {(r.code or "dummy"): (r.tail, r.head) for r in template_rows}["dummy"] == (5, 6)

    application = make_application(
        by=supervisor, manager=manager, customer_class="lv_non_residential", voltage_class="0.4kV"
    )

    stored = {
        (a.code or "dummy"): (a.tail, a.head)
        for a in Activity.objects.filter(application=application)
    }
    assert stored == {
        "A": (1, 2),
        "B": (2, 3),
        "C": (3, 4),
        "D": (4, 6),
        "E": (4, 5),
        "dummy": (5, 6),
        "F": (6, 7),
    }


@pytest.mark.django_db
@pin_today
def test_an_application_stored_with_a_backward_dummy_is_drawn_from_low_to_high(supervisor, manager):
    application = make_application(
        by=supervisor, manager=manager, customer_class="lv_non_residential", voltage_class="0.4kV"
    )
    # An application planned before the rule: its dummy still runs from 6 back to 5.
    swap = {5: 6, 6: 5}
    for a in Activity.objects.filter(application=application):
        Activity.objects.filter(pk=a.pk).update(
            tail=swap.get(a.tail, a.tail), head=swap.get(a.head, a.head)
        )
    assert Activity.objects.get(application=application, is_dummy=True).tail == 6

    page = application_page(application.number, supervisor, today=TODAY)

    drawn = {(arc.arc.code or "dummy"): (arc.arc.tail, arc.arc.head) for arc in page.network.arcs}
    assert drawn["dummy"] == (5, 6)
    assert all(tail < head for tail, head in drawn.values())


@pytest.mark.django_db
def test_a_re_plan_that_adds_a_backward_dummy_is_stored_numbered_by_the_rule(supervisor, manager):
    from applications.services import application_replan
    from scheduling.services import activity_dummy_add

    application = make_application(
        by=supervisor, manager=manager, customer_class="lv_non_residential", voltage_class="0.4kV"
    )
    activities = list(Activity.objects.filter(application=application))
    # Energization (F, 6-7) redrawn to end at a new event 8, with a dummy from 8 back to 7.
    activity_dummy_add(application=application, after=activities, tail=8, head=7)

    baseline = application_replan(
        application_id=application.pk, logic={"F": {"head": 8}}, reason="重绘", by=supervisor
    )

    # 7 now waits for 8 (through the dummy), so 8 takes number 7 and 7 takes 8.
    stored = {
        (a.code or f"dummy{a.pk}"): (a.tail, a.head)
        for a in Activity.objects.filter(application=application).order_by("sort_order", "pk")
    }
    assert stored["F"] == (6, 7)
    assert sorted(v for k, v in stored.items() if k.startswith("dummy")) == [(5, 6), (7, 8)]
    assert all(tail < head for tail, head in stored.values())
    arcs = [(a["tail"], a["head"]) for a in baseline.network["activities"]]
    assert sorted(arcs) == sorted(stored.values())
