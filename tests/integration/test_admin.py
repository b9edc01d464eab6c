"""The webhook subscriptions and their delivery log in the admin."""

import pytest

from integration.delivery import deliveries_send
from integration.models import Delivery, Subscription
from integration.receiver import WebhookReceiver
from tests.factories import make_application

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]


def test_an_administrator_subscribes_resumes_and_replays_in_the_admin(
    client, admin_user, supervisor, manager
):
    client.force_login(admin_user)
    receiver = WebhookReceiver(secrets=[]).start()
    try:
        response = client.post(
            "/admin/integration/subscription/add/",
            {
                "name": "营销系统",
                "owner": supervisor.pk,
                "url": receiver.url,
                "event_types": ["application.created"],
                "is_active": "on",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        subscription = Subscription.objects.get()
        assert (subscription.owner, subscription.event_types) == (
            supervisor,
            ["application.created"],
        )
        assert subscription.secret.startswith("whsec_")
        page = client.get(f"/admin/integration/subscription/{subscription.pk}/change/")
        assert subscription.secret in page.content.decode()

        receiver.state.secrets = [subscription.secret]
        make_application(by=supervisor, manager=manager)
        deliveries_send()
        delivery = Delivery.objects.get()
        assert delivery.status == "succeeded"
        assert client.get("/admin/integration/delivery/").status_code == 200
        client.post(
            "/admin/integration/delivery/",
            {"action": "replay", "_selected_action": [delivery.pk]},
        )
        deliveries_send()
    finally:
        receiver.stop()
    assert Delivery.objects.filter(replay_of=delivery).get().status == "succeeded"
    assert len(receiver.state.requests) == 2 and len(receiver.state.effects) == 1
    # Never deleted: deactivated.
    assert (
        client.get(f"/admin/integration/subscription/{subscription.pk}/delete/").status_code == 403
    )
