"""Outbound events: signed by Standard Webhooks, written with their change, delivered at
least once, in order per application, with backoff, a pause and replays.

Deliveries go over real HTTP to a receiver in this process (integration.receiver), which
verifies each signature with the reference library and acts once per ``webhook-id``.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from standardwebhooks import Webhook

from accounts.models import Notification
from applications import services
from integration import services as integration
from integration.delivery import deliveries_send
from integration.models import Delivery, Event, Subscription
from integration.receiver import WebhookReceiver
from integration.signing import secret_new
from scheduling.models import Activity
from tests.factories import make_application
from yekuo.errors import InvalidInput, NotPermitted

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def receiver():
    server = WebhookReceiver(secrets=[]).start()
    yield server
    server.stop()


def subscribe(receiver, owner, **extra) -> Subscription:
    subscription = integration.subscription_create(
        name="营销系统", url=receiver.url, by=owner, now=T0, **extra
    )
    receiver.state.secrets = [subscription.secret]
    return subscription


def send(at: datetime) -> dict:
    return deliveries_send(now=at)


def types(receiver) -> list[str]:
    return [r.event["type"] for r in receiver.state.requests]


def test_a_change_is_delivered_signed_as_a_cloudevent(receiver, supervisor, manager):
    subscription = subscribe(receiver, supervisor)
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)

    assert send(T0) == {"succeeded": 1, "failed": 0, "more": 0}

    (received,) = receiver.state.requests
    assert received.verified, received.error
    event = Event.objects.get()
    # The reference library verifies it, with the id as the message id.
    body = Webhook(subscription.secret).verify(received.body, received.headers)
    assert received.headers["webhook-id"] == event.event_id == body["id"]
    assert received.headers["content-type"].startswith("application/cloudevents+json")
    assert body["specversion"] == "1.0"
    assert body["type"] == "application.created"
    assert body["subject"] == application.number
    assert body["data"]["number"] == application.number
    assert body["data"]["account_manager"] == manager.username
    assert body["data"]["committed_finish_date"] == application.committed_finish_date.isoformat()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 204)
    assert delivery.delivered_at == T0
    # Nothing is due any more.
    assert send(T0 + timedelta(hours=1)) == {"succeeded": 0, "failed": 0, "more": 0}


def test_a_tampered_body_does_not_verify(receiver, supervisor, manager):
    subscription = subscribe(receiver, supervisor)
    make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    send(T0)
    received = receiver.state.requests[0]
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(subscription.secret).verify(
            received.body.replace(b"application.created", b"application.cancelled"),
            received.headers,
        )
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(secret_new()).verify(received.body, received.headers)


def test_a_failing_receiver_is_tried_again_with_growing_waits(receiver, supervisor, manager):
    subscribe(receiver, supervisor)
    receiver.state.fail_first = 2
    make_application(by=supervisor, manager=manager, accepted_on=DAY0)

    assert send(T0)["failed"] == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    # 5 seconds, moved by up to a fifth.
    first_wait = delivery.next_attempt_at - T0
    assert timedelta(seconds=4) <= first_wait <= timedelta(seconds=6)
    # Not due before its time.
    assert send(T0 + timedelta(seconds=3)) == {"succeeded": 0, "failed": 0, "more": 0}

    second = delivery.next_attempt_at
    assert send(second)["failed"] == 1
    delivery.refresh_from_db()
    # Then 5 minutes.
    assert timedelta(minutes=4) <= delivery.next_attempt_at - second <= timedelta(minutes=6)

    assert send(delivery.next_attempt_at)["succeeded"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        "succeeded",
        3,
        204,
    )
    assert len(receiver.state.requests) == 3
    assert len(receiver.state.effects) == 1


def test_a_receiver_that_does_not_answer_in_time_is_a_failure(
    receiver, supervisor, manager, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    subscribe(receiver, supervisor)
    receiver.state.delay = 1.0
    make_application(by=supervisor, manager=manager, accepted_on=DAY0)

    assert send(T0)["failed"] == 1
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"
    assert delivery.last_status_code is None
    assert "timed out" in delivery.last_error


def test_a_refused_address_is_a_failure_kept_in_the_log(supervisor, manager):
    # A port nobody listens on.
    receiver = WebhookReceiver(secrets=[])
    url = receiver.url
    receiver.server_close()
    integration.subscription_create(name="计量系统", url=url, by=supervisor, now=T0)
    make_application(by=supervisor, manager=manager, accepted_on=DAY0)

    assert send(T0)["failed"] == 1
    delivery = Delivery.objects.get()
    assert delivery.last_status_code is None
    assert "refused" in delivery.last_error.lower()


def test_a_redelivered_event_takes_effect_once_at_the_receiver(receiver, supervisor, manager):
    subscribe(receiver, supervisor)
    make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    send(T0)
    original = Delivery.objects.get()

    replay = integration.delivery_replay(delivery_id=original.pk, by=supervisor, now=T0)
    assert send(T0)["succeeded"] == 1

    replay.refresh_from_db()
    assert (replay.status, replay.replay_of_id, replay.replayed_by) == (
        "succeeded",
        original.pk,
        supervisor,
    )
    first, second = receiver.state.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert second.duplicate
    assert len(receiver.state.effects) == 1


def test_each_applications_events_arrive_in_their_order(receiver, supervisor, manager, settings):
    settings.WEBHOOK_SENDERS = 1  # one after the other: the receiver fails the first
    subscribe(receiver, supervisor)
    first = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    a = Activity.objects.get(application=first, code="A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    services.application_transition(
        application_id=first.pk, transition="suspend", by=manager, note="客户资料不全", now=T0
    )
    other = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    receiver.state.fail_first = 1

    # The first application's first event fails: its later ones wait; the other
    # application's event goes.
    counts = send(T0)
    assert (counts["succeeded"], counts["failed"]) == (1, 1)
    assert [r.event["subject"] for r in receiver.state.requests] == [first.number, other.number]
    waiting = Delivery.objects.filter(status="pending").order_by("pk")
    assert [d.event.type for d in waiting] == [
        "application.created",
        "activity.progressed",
        "application.transitioned",
    ]
    # Due later, each of the first application's events goes after the one before it.
    later = T0 + timedelta(days=1)
    for _round in range(3):
        send(later)
    sent = [r.event for r in receiver.state.requests if r.event["subject"] == first.number]
    assert [e["type"] for e in sent] == [
        "application.created",
        "application.created",
        "activity.progressed",
        "application.transitioned",
    ]
    assert sent[3]["data"]["transition"] == "suspend"
    assert sent[3]["data"]["to_state"] == "suspended"
    assert sent[2]["data"]["activity"]["code"] == "A"
    assert sent[2]["data"]["actual_start"] == DAY0.isoformat()
    assert not Delivery.objects.filter(status="pending").exists()


def test_a_subscription_that_keeps_failing_is_paused_and_its_owner_told(
    receiver, supervisor, manager, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE = [60, 600]
    subscription = subscribe(receiver, supervisor)
    receiver.state.fail_first = 100
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)

    at = T0
    for _attempt in range(3):
        send(at)
        at += timedelta(hours=1)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    subscription.refresh_from_db()
    assert subscription.paused_at is not None
    assert "3" in subscription.paused_reason
    notice = Notification.objects.get(recipient=supervisor, kind="webhook_paused")
    assert "营销系统" in notice.text

    # Paused: a new event waits and nothing is sent.
    services.application_transition(
        application_id=application.pk, transition="suspend", by=manager, note="客户要求", now=at
    )
    requests = len(receiver.state.requests)
    assert send(at) == {"succeeded": 0, "failed": 0, "more": 0}
    assert len(receiver.state.requests) == requests

    # Resumed, it sends what waited; the given-up one is sent again by a replay.
    receiver.state.fail_first = 0
    integration.subscription_resume(subscription_id=subscription.pk, by=supervisor, now=at)
    integration.delivery_replay(delivery_id=delivery.pk, by=supervisor, now=at)
    for _round in range(2):
        send(at)
    assert [e["type"] for e in receiver.state.effects] == [
        "application.transitioned",
        "application.created",
    ]


def test_a_change_rolled_back_emits_nothing(supervisor, manager):
    integration.subscription_create(name="营销系统", url="http://127.0.0.1:9/", by=supervisor)
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    events = Event.objects.count()

    # A refused transition changes nothing and tells nobody.
    with pytest.raises(InvalidInput):
        services.application_transition(
            application_id=application.pk, transition="fly", by=manager, now=T0
        )
    # A change whose transaction fails later is not told either.
    with pytest.raises(RuntimeError), transaction.atomic():
        make_application(by=supervisor, manager=manager, accepted_on=DAY0)
        raise RuntimeError("the disk is full")

    assert Event.objects.count() == events == 1
    assert Delivery.objects.count() == 1


def test_events_only_for_the_subscribed_types_and_none_without_subscribers(
    receiver, supervisor, manager
):
    make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    assert not Event.objects.exists()  # nobody to tell: nothing stored

    subscribe(receiver, supervisor, event_types=["application.transitioned"])
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    services.application_transition(
        application_id=application.pk, transition="suspend", by=manager, note="客户要求", now=T0
    )
    send(T0)
    assert types(receiver) == ["application.transitioned"]


def test_a_rotated_secret_signs_beside_the_old_one_during_the_overlap(
    receiver, supervisor, manager
):
    subscription = subscribe(receiver, supervisor)
    old = subscription.secret
    rotated = integration.subscription_rotate_secret(
        subscription_id=subscription.pk, by=supervisor, overlap=timedelta(hours=24), now=T0
    )
    assert rotated.secret != old
    receiver.state.secrets = [old]  # the receiver has not changed its key yet
    make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    send(T0)
    received = receiver.state.requests[-1]
    assert received.verified
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    Webhook(rotated.secret).verify(received.body, received.headers)

    # Rotated again during the overlap (a retry whose answer was lost): the secret the
    # receiver holds still signs.
    again = integration.subscription_rotate_secret(
        subscription_id=subscription.pk, by=supervisor, now=T0 + timedelta(hours=1)
    )
    assert again.previous_secret == old
    make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    send(T0 + timedelta(hours=2))
    assert receiver.state.requests[-1].verified

    # After the overlap only the new secret signs.
    make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    send(T0 + timedelta(hours=26))
    received = receiver.state.requests[-1]
    assert not received.verified
    assert len(received.headers["webhook-signature"].split(" ")) == 1


def test_a_subscription_is_checked_and_changed_only_by_its_owner(supervisor, manager):
    with pytest.raises(InvalidInput) as refused:
        integration.subscription_create(
            name="", url="ftp://crm", event_types=["application.flown"], by=supervisor
        )
    assert set(refused.value.errors) == {"name", "url", "event_types"}
    assert "application.flown" in refused.value.errors["event_types"][0]
    assert not Subscription.objects.exists()

    subscription = integration.subscription_create(
        name="营销系统", url="https://crm.example.cn/hooks", by=supervisor
    )
    with pytest.raises(NotPermitted):
        integration.subscription_update(
            subscription_id=subscription.pk, changes={"is_active": False}, by=manager
        )
    changed = integration.subscription_update(
        subscription_id=subscription.pk, changes={"is_active": False}, by=supervisor
    )
    assert changed.is_active is False


def test_a_replay_of_a_time_range_sends_each_event_once_more(receiver, supervisor, manager):
    subscription = subscribe(receiver, supervisor)
    for _n in range(3):
        make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    send(T0)
    assert len(receiver.state.requests) == 3

    with pytest.raises(InvalidInput):
        integration.deliveries_replay_range(
            subscription_id=subscription.pk, since=T0, until=T0, by=supervisor
        )
    replayed = integration.deliveries_replay_range(
        subscription_id=subscription.pk,
        since=T0 - timedelta(days=400),
        until=T0 + timedelta(days=400),
        by=supervisor,
        now=T0,
    )
    assert replayed == 3
    send(T0)
    assert len(receiver.state.requests) == 6
    assert len(receiver.state.effects) == 3
