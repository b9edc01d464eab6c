"""Two people apply the same transition at the same moment, on the real PostgreSQL."""

import threading
from datetime import date

import pytest
from django.db import connection

from applications import services
from applications.models import Application, StageTransition
from scheduling.models import Activity
from tests.conftest import load_reference_data, need_service
from tests.dates import pin_today
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application
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
