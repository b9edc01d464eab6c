"""Two people apply the same transition at the same moment, on the real PostgreSQL."""

import threading
from datetime import date

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import api_token_create
from applications import services
from applications.models import Application, Customer, StageTransition
from scheduling.models import Activity
from tests.conftest import load_reference_data, need_service
from tests.dates import pin_today
from tests.factories import (
    AccountManagerProfileFactory,
    RegionFactory,
    UserFactory,
    credit_code,
    make_application,
)
from yekuo.errors import StaleVersion, TransitionNotAllowed

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True), pin_today]


@pytest.fixture
def ready_for_survey():
    need_service(
        "PostgreSQL", connection.vendor == "postgresql", "row locks need a real database server"
    )
    load_reference_data()
    supervisor = UserFactory(username="sup-c", role="supervisor")
    manager = AccountManagerProfileFactory(user__username="mgr-c").user
    application = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 3, 2))
    day = date(2026, 3, 2)
    for code in "ABCD":
        activity = Activity.objects.get(application=application, code=code)
        services.activity_progress_record(activity_id=activity.pk, start=day, by=manager)
        services.activity_progress_record(activity_id=activity.pk, finish=day, by=manager)
    return application, manager, supervisor


def _race(application, users, **kwargs):
    barrier = threading.Barrier(len(users))
    outcomes = []

    def apply(user):
        try:
            barrier.wait(timeout=10)
            services.application_transition(
                application_id=application.pk, transition="start_survey", by=user, **kwargs
            )
            outcomes.append("applied")
        except (TransitionNotAllowed, StaleVersion) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


def test_the_same_transition_twice_at_once_applies_once(ready_for_survey):
    application, manager, supervisor = ready_for_survey
    outcomes = _race(application, [manager, supervisor])
    assert outcomes == ["TransitionNotAllowed", "applied"]
    assert Application.objects.get(pk=application.pk).state == "survey"
    assert (
        StageTransition.objects.filter(application=application, transition="start_survey").count()
        == 1
    )


def test_with_the_version_read_the_loser_is_told_it_is_stale(ready_for_survey):
    application, manager, supervisor = ready_for_survey
    version = Application.objects.get(pk=application.pk).version
    outcomes = _race(application, [manager, supervisor], expected_version=version)
    assert outcomes == ["StaleVersion", "applied"]
    assert (
        StageTransition.objects.filter(application=application, transition="start_survey").count()
        == 1
    )


def test_twenty_acceptances_of_one_new_customer_at_once_share_one_customer():
    """Without an Idempotency-Key, 20 clients accept the same new customer at once: each
    gets its application, all filed under one customer, and none fails (issue 16, 7)."""
    need_service(
        "PostgreSQL", connection.vendor == "postgresql", "concurrent inserts need a database server"
    )
    load_reference_data()
    supervisor = UserFactory(username="sup-n", role="supervisor")
    region = RegionFactory(code="east")
    clients = 20
    barrier = threading.Barrier(clients)
    outcomes = []

    _token, key = api_token_create(user=supervisor, name="counter", scope="write")

    def accept():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        try:
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/applications/",
                {
                    "customer": {
                        "name": "同时受理有限公司",
                        "credit_code": credit_code(77),
                        "region": region.code,
                    },
                    "business_type": "new",
                    "customer_class": "hv_single",
                    "voltage_class": "10kV",
                    "requested_capacity_kva": 800,
                },
                format="json",
            )
            outcomes.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == [201] * clients
    assert Customer.objects.filter(credit_code=credit_code(77)).count() == 1
    assert Application.objects.filter(customer__credit_code=credit_code(77)).count() == clients
