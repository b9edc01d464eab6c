"""Reassignment by hand: the checks of automatic assignment, and a supervisor's override."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from accounts.models import AccountManagerProfile
from applications import assignment, services
from applications.models import Application, AssignmentChange
from tests.factories import (
    AccountManagerProfileFactory,
    RegionFactory,
    UserFactory,
    make_application,
)
from yekuo.errors import InvalidInput

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def east():
    return RegionFactory(code="east", name="East")


@pytest.fixture
def west():
    return RegionFactory(code="west", name="West")


def manager_in(region, username, *, capacity=20, voltages=("10kV",)):
    return AccountManagerProfileFactory(
        user__username=username,
        user__display_name=username,
        regions=[region],
        capacity=capacity,
        voltage_classes=list(voltages),
    ).user


@pytest.fixture
def held(supervisor, east):
    holder = manager_in(east, "holder")
    return make_application(by=supervisor, manager=holder, region=east)


def reassign(application, manager, by, **kwargs):
    return services.application_reassign(
        application_id=application.pk, manager=manager, reason="on leave", by=by, now=NOW, **kwargs
    )


def refused(application, manager, by, **kwargs) -> dict:
    before = Application.objects.get(pk=application.pk)
    with pytest.raises(InvalidInput) as caught:
        reassign(application, manager, by, **kwargs)
    after = Application.objects.get(pk=application.pk)
    assert (after.account_manager_id, after.version) == (
        before.account_manager_id,
        before.version,
    )
    assert not AssignmentChange.objects.filter(application=application, by=by).exists()
    return caught.value.errors


def test_a_manager_outside_the_region_is_refused(supervisor, held, west):
    outsider = manager_in(west, "outsider")
    errors = refused(held, outsider, supervisor)
    assert errors["manager"][0] == "outsider does not serve East."


def test_a_manager_not_qualified_for_the_voltage_is_refused(supervisor, held, east):
    low = manager_in(east, "low-voltage", voltages=("0.4kV",))
    errors = refused(held, low, supervisor)
    assert errors["manager"][0] == "low-voltage is not qualified for 10 kV."


def test_a_manager_at_capacity_is_refused(supervisor, held, east):
    full = manager_in(east, "full", capacity=1)
    make_application(by=supervisor, manager=full, region=east)
    errors = refused(held, full, supervisor)
    assert errors["manager"][0] == "full is at capacity: load 1 of 1."


def test_an_inactive_manager_is_refused_even_with_an_override(supervisor, held, east):
    gone = manager_in(east, "gone")
    AccountManagerProfile.objects.filter(user=gone).update(is_active=False)
    errors = refused(held, gone, supervisor, override=True, override_reason="urgent")
    assert errors["manager"] == ["gone is not an active account manager."]


def test_every_failed_check_is_named(supervisor, held, west):
    nowhere = manager_in(west, "nowhere", capacity=1, voltages=("0.4kV",))
    make_application(by=supervisor, manager=nowhere, region=west)
    errors = refused(held, nowhere, supervisor)
    assert errors["manager"][:3] == [
        "nowhere does not serve East.",
        "nowhere is not qualified for 10 kV.",
        "nowhere is at capacity: load 1 of 1.",
    ]
    assert "override the checks" in errors["manager"][3]


def test_a_supervisor_overrides_with_a_written_reason(supervisor, held, west):
    outsider = manager_in(west, "outsider")
    application = reassign(
        held, outsider, supervisor, override=True, override_reason="knows this customer"
    )
    assert application.account_manager == outsider
    change = AssignmentChange.objects.get(application=held, by=supervisor)
    assert (change.is_override, change.override_reason, change.overridden_checks) == (
        True,
        "knows this customer",
        ["region"],
    )


def test_an_override_needs_its_reason(supervisor, held, west):
    outsider = manager_in(west, "outsider")
    errors = refused(held, outsider, supervisor, override=True, override_reason="  ")
    assert errors == {"override_reason": ["Say why the checks are overridden."]}


def test_without_the_supervise_permission_nobody_overrides(supervisor, held, west):
    assigner = UserFactory(username="assigner")
    assigner.user_permissions.add(Permission.objects.get(codename="assign_account_manager"))
    outsider = manager_in(west, "outsider")
    errors = refused(held, outsider, assigner, override=True, override_reason="trust me")
    assert errors == {"override": ["Only supervisors may override the assignment checks."]}
    # Without an override the checks speak, and no override is offered.
    errors = refused(held, outsider, assigner)
    assert errors == {"manager": ["outsider does not serve East."]}


def test_an_eligible_manager_takes_it_without_an_override(supervisor, held, east):
    fit = manager_in(east, "fit")
    reassign(held, fit, supervisor, override=True, override_reason="ignored")
    change = AssignmentChange.objects.get(application=held, by=supervisor)
    assert (change.to_manager, change.is_override, change.overridden_checks) == (fit, False, [])


def test_refusals_and_candidates_say_why_and_show_the_load(
    supervisor, held, east, west, django_assert_max_num_queries
):
    fit = manager_in(east, "fit", capacity=4)
    make_application(by=supervisor, manager=fit, region=east)
    outsider = manager_in(west, "outsider")
    assert assignment.reassignment_refusals(held, fit) == []
    assert assignment.reassignment_refusals(held, outsider) == ["outsider does not serve East."]
    with django_assert_max_num_queries(2):
        candidates = assignment.reassignment_candidates(held)
    assert [(c.profile.user.username, c.load, c.capacity, c.refusals) for c in candidates] == [
        ("fit", 1, 4, ()),
        ("outsider", 0, 20, ("outsider does not serve East.",)),
    ]
