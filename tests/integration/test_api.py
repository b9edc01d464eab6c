"""The webhook subscriptions through the REST API, for each role, with its refusals."""

from datetime import date

import pytest

from accounts.roles import Role
from integration.delivery import deliveries_send
from integration.models import Delivery, Subscription
from integration.receiver import WebhookReceiver
from tests.api.conftest import assert_problem, token_client
from tests.factories import UserFactory, make_application

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

URL = "/api/v1/webhooks/subscriptions/"
DAY0 = date(2026, 3, 2)


@pytest.fixture
def as_supervisor(supervisor):
    return token_client(supervisor)


def subscribe(client, **data) -> dict:
    response = client.post(
        URL, {"name": "营销系统", "url": "https://crm.example.cn/hooks", **data}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_supervisor_subscribes_and_reads_back_its_secret(as_supervisor, supervisor):
    body = subscribe(as_supervisor, event_types=["application.created", "deviation.opened"])
    assert body["secret"].startswith("whsec_")
    assert body["owner"] == supervisor.username
    assert body["event_types"] == ["application.created", "deviation.opened"]
    stored = Subscription.objects.get(pk=body["id"])
    assert stored.secret == body["secret"]

    # The same request again (a retry) does not subscribe the address twice.
    again = as_supervisor.post(
        URL,
        {"name": "营销系统", "url": "https://crm.example.cn/hooks", "event_types": []},
        format="json",
    )
    assert_problem(again, 400)
    assert "subscribed already" in again.json()["errors"]["url"][0]

    listed = as_supervisor.get(URL).json()
    assert [s["id"] for s in listed["results"]] == [body["id"]]
    assert "secret" not in listed["results"][0]
    assert as_supervisor.get(f"{URL}{body['id']}/").json()["secret"] == body["secret"]


def test_bad_input_is_refused_field_by_field_and_nothing_stored(as_supervisor):
    response = as_supervisor.post(
        URL,
        {"name": "", "url": "ftp://crm.example.cn", "event_types": ["application.flown"]},
        format="json",
    )
    body = assert_problem(response, 400)
    assert set(body["errors"]) == {"name", "url", "event_types.0"}
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.ACCOUNT_MANAGER, Role.DEPARTMENT_STAFF, Role.DEPARTMENT_HEAD]
)
def test_other_roles_may_not_subscribe(role):
    client = token_client(UserFactory(role=role, department_code="operations"))
    assert_problem(client.get(URL), 403)
    assert_problem(
        client.post(URL, {"name": "x", "url": "https://x.example.cn/"}, format="json"), 403
    )
    assert not Subscription.objects.exists()


def test_a_read_token_reads_but_does_not_subscribe(supervisor):
    client = token_client(supervisor, scope="read")
    assert client.get(URL).status_code == 200
    assert_problem(
        client.post(URL, {"name": "x", "url": "https://x.example.cn/"}, format="json"), 403
    )


def test_a_supervisor_sees_and_changes_only_its_own(as_supervisor):
    mine = subscribe(as_supervisor)
    other = token_client(UserFactory(role=Role.SUPERVISOR, department_code="marketing"))
    assert other.get(URL).json()["results"] == []
    assert_problem(other.get(f"{URL}{mine['id']}/"), 404)
    assert_problem(other.patch(f"{URL}{mine['id']}/", {"is_active": False}, format="json"), 404)

    changed = as_supervisor.patch(f"{URL}{mine['id']}/", {"is_active": False}, format="json")
    assert changed.status_code == 200
    assert Subscription.objects.get(pk=mine["id"]).is_active is False


def test_a_rotation_gives_a_new_secret_with_the_old_one_kept_for_the_overlap(as_supervisor):
    mine = subscribe(as_supervisor)
    rotated = as_supervisor.post(f"{URL}{mine['id']}/rotate-secret/").json()
    assert rotated["secret"] != mine["secret"]
    assert rotated["previous_secret_expires_at"]
    assert Subscription.objects.get(pk=mine["id"]).previous_secret == mine["secret"]


def test_the_delivery_log_and_its_replays(as_supervisor, supervisor, manager):
    receiver = WebhookReceiver(secrets=[]).start()
    try:
        mine = subscribe(as_supervisor, url=receiver.url)
        receiver.state.secrets = [mine["secret"]]
        make_application(by=supervisor, manager=manager, accepted_on=DAY0)
        (pending,) = as_supervisor.get(f"{URL}{mine['id']}/deliveries/").json()["results"]
        assert (pending["type"], pending["status"], pending["attempts"]) == (
            "application.created",
            "pending",
            0,
        )
        # A pending delivery goes on its own: no replay of it.
        assert_problem(
            as_supervisor.post(f"/api/v1/webhooks/deliveries/{pending['id']}/replay/"), 409
        )
        deliveries_send()
        replay = as_supervisor.post(f"/api/v1/webhooks/deliveries/{pending['id']}/replay/")
        assert replay.status_code == 201
        assert replay.json()["replay_of"] == pending["id"]
        deliveries_send()
    finally:
        receiver.stop()
    log = as_supervisor.get(f"{URL}{mine['id']}/deliveries/?status=succeeded").json()
    assert [d["status"] for d in log["results"]] == ["succeeded", "succeeded"]
    assert len(receiver.state.effects) == 1

    bad = as_supervisor.post(
        f"{URL}{mine['id']}/replay/",
        {"since": "2026-03-02T00:00:00+08:00", "until": "2026-03-01T00:00:00+08:00"},
        format="json",
    )
    assert_problem(bad, 400)
    replayed = as_supervisor.post(
        f"{URL}{mine['id']}/replay/",
        {"since": "2020-01-01T00:00:00+08:00", "until": "2030-01-01T00:00:00+08:00"},
        format="json",
    )
    assert replayed.json() == {"replayed": 1}
    assert Delivery.objects.filter(status="pending").count() == 1
