import os
from datetime import date, datetime, time

import pytest
from django.conf import settings
from django.utils import translation
from pytest_django.plugin import blocking_manager_key

from accounts.roles import Role

from .dates import SHANGHAI
from .factories import PASSWORD, AccountManagerProfileFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _forced_now() -> datetime | None:
    """Return the moment ``YEKUO_TEST_TODAY`` asks every test not pinned to run at.

    A way to find the tests that depend on today: run the suite at a few awkward days.
    A date (``2027-02-08``) means 09:30 that day in Shanghai; a date and time
    (``2026-12-31T23:30``) is taken in Shanghai unless it names its own offset. The clock
    ticks from there. Other processes (the browser's server, a worker) keep the real date.
    """
    value = os.environ.get("YEKUO_TEST_TODAY")
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if len(value) == len("2027-02-08"):
        moment = datetime.combine(date.fromisoformat(value), time(9, 30))
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # Before time-machine's own hook, which starts the travel of every marked test first.
    forced = _forced_now()
    if forced is None:
        return
    for item in items:
        if item.get_closest_marker("time_machine") is None:
            item.add_marker(pytest.mark.time_machine(forced, tick=True))


def need_service(name: str, available: bool, why: str) -> None:
    """Skip a test whose service is absent locally; fail it when services are required."""
    if available:
        return
    message = f"{name} is required for this test: {why}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " (REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def db_pool_of():
    """Let this test's threads hold up to `size` pooled connections at once.

    On PostgreSQL each process draws from a pool of DB_POOL_MAX_SIZE connections, enough
    for its own threads; a test whose many threads each hold a connection while they wait
    for one another needs more. SQLite has no pool: nothing changes there.
    """
    from django.db import connection

    changed = []

    def widen(size: int) -> None:
        pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
        if not pool:
            return
        changed.append((pool, pool["max_size"]))
        connection.close_pool()
        pool["max_size"] = size

    yield widen
    for pool, size in changed:
        connection.close_pool()
        pool["max_size"] = size


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin-t", role=Role.ADMINISTRATOR)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor-t", role=Role.SUPERVISOR, department_code="marketing")


@pytest.fixture
def manager(db):
    return AccountManagerProfileFactory(user__username="manager-t").user


@pytest.fixture
def staff(db):
    return UserFactory(username="staff-t", role=Role.DEPARTMENT_STAFF, department_code="operations")


@pytest.fixture
def role_users(admin_user, supervisor, manager, staff):
    return {
        Role.ADMINISTRATOR: admin_user,
        Role.SUPERVISOR: supervisor,
        Role.ACCOUNT_MANAGER: manager,
        Role.DEPARTMENT_STAFF: staff,
    }


@pytest.fixture(autouse=True)
def _default_language():
    # A request through the test client leaves its language active in the thread (the
    # locale middleware activates it and nothing deactivates it): every test starts in the
    # site's first language, Chinese, as a background task or a command does.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects stored passwords, not test runs.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_working_calendar():
    # The calendar is built once per process; a test's overrides roll back with its
    # transaction, so the next test must not see the calendar built from them.
    from scheduling import selectors

    yield
    selectors._calendar = None


# The data migrations that give the reference data, in the order they run, with the
# function each runs ("load" unless named): each is idempotent.
REFERENCE_DATA_MIGRATIONS = [
    "accounts.migrations.0002_departments",
    "scheduling.migrations.0002_default_templates",
    "scheduling.migrations.0012_seed_deviation_causes",
    "scheduling.migrations.0014_template_events_fulkerson:number_events",
    "scheduling.migrations.0018_templates_other_business_types",
    "scheduling.migrations.0026_template_crews",
    "applications.migrations.0003_time_limits",
    "applications.migrations.0014_default_document_requirements",
]


def load_reference_data() -> None:
    """Reload the rows the data migrations provide (a transactional test's flush removes
    them), as the migrations leave them."""
    from importlib import import_module

    from django.apps import apps

    for entry in REFERENCE_DATA_MIGRATIONS:
        module, _, function = entry.partition(":")
        getattr(import_module(module), function or "load")(apps, None)


def _transactional(item: pytest.Item) -> bool:
    """Whether the test runs outside a rolled-back transaction (its data is flushed after
    it), as pytest-django decides it."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    ):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test's flush, put the reference data back at once: in a
    parallel run the next test of this process may be any test (pytest-django runs the
    transactional ones last only within one process's whole list)."""
    yield
    if nextitem is not None and _transactional(item):
        with item.config.stash[blocking_manager_key].unblock():
            load_reference_data()


@pytest.fixture
def meetings_when_ready(settings):
    """An office that convenes the review meeting whenever the work is ready (setting
    ``REVIEW_MEETING_WEEKDAY`` empty): plans hold no meeting days.

    The hand-computed plans of the lifecycle, deviation, proposal and assessment tests
    are of such an office, so that their numbers do not depend on the weekday of day 0;
    tests/applications/test_meeting_days.py covers plans that hold a weekly meeting.
    """
    settings.REVIEW_MEETING_WEEKDAY = None
