"""A change is told within seconds through the real broker and a real worker."""

import time
from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker

from integration import services as integration
from integration.models import Delivery
from integration.receiver import WebhookReceiver
from tests.conftest import load_reference_data
from tests.factories import AccountManagerProfileFactory, UserFactory, make_application
from yekuo.celery import app

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_committed_change_reaches_the_receiver_through_a_worker():
    load_reference_data()
    supervisor = UserFactory(username="sup-hook", role="supervisor")
    manager = AccountManagerProfileFactory(user__username="mgr-hook").user
    receiver = WebhookReceiver(secrets=[]).start()
    try:
        subscription = integration.subscription_create(
            name="营销系统", url=receiver.url, by=supervisor
        )
        receiver.state.secrets = [subscription.secret]
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            started = time.monotonic()
            application = make_application(
                by=supervisor, manager=manager, accepted_on=date(2026, 3, 2)
            )
            while time.monotonic() - started < 20 and not receiver.state.effects:
                time.sleep(0.1)
    finally:
        receiver.stop()
    (event,) = receiver.state.effects
    assert (event["type"], event["subject"]) == ("application.created", application.number)
    assert receiver.state.requests[0].verified
    assert Delivery.objects.get().status == "succeeded"
