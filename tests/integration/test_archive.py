"""Outbound events leave the hot tables with their deliveries once every delivery is
finished and they are old enough; the admin still reads them and a replay says why it
cannot reach them."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from applications import archiving
from integration import services as integration
from integration.delivery import deliveries_send
from integration.models import ArchivedDelivery, ArchivedEvent, Delivery, Event
from integration.receiver import WebhookReceiver
from tests.factories import make_application
from yekuo.errors import InvalidInput

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
LATER = T0 + timedelta(days=30)


@pytest.fixture
def receiver():
    server = WebhookReceiver(secrets=[]).start()
    yield server
    server.stop()


@pytest.fixture
def delivered(receiver, supervisor, manager):
    """Two applications made on T0, their events delivered and one replayed; a third made
    30 days later, delivered too."""
    with time_machine.travel(T0, tick=False):
        subscription = integration.subscription_create(
            name="营销系统", url=receiver.url, by=supervisor
        )
        receiver.state.secrets = [subscription.secret]
        old = [make_application(by=supervisor, manager=manager, accepted_on=DAY0) for _ in "ab"]
        deliveries_send(now=T0)
        first = Delivery.objects.order_by("pk").first()
        integration.delivery_replay(delivery_id=first.pk, by=supervisor)
        deliveries_send(now=T0)
    with time_machine.travel(LATER, tick=False):
        make_application(by=supervisor, manager=manager, accepted_on=DAY0 + timedelta(days=30))
        deliveries_send(now=LATER)
    return subscription, old


def test_finished_events_move_with_all_their_deliveries(delivered):
    subscription, old = delivered
    old_events = list(Event.objects.filter(application__in=old).order_by("pk"))
    old_deliveries = list(Delivery.objects.filter(event__in=old_events).order_by("pk"))
    assert len(old_events) == 2 and len(old_deliveries) == 3  # one is a replay
    cutoff = T0 + timedelta(days=1)

    assert archiving.archive_eligible(before=cutoff)["events"] == 2
    assert archiving.archive_eligible(before=cutoff)["deliveries"] == 3
    moved = archiving.archive_old_rows(before=cutoff, batch_size=1)

    assert (moved["events"], moved["deliveries"]) == (2, 3)
    # Kept whole, ids and all: the replay still names the delivery it repeats.
    archived = list(ArchivedEvent.objects.order_by("pk"))
    assert [(e.pk, e.event_id, e.type) for e in archived] == [
        (e.pk, e.event_id, e.type) for e in old_events
    ]
    rows = {d.pk: d for d in ArchivedDelivery.objects.all()}
    assert sorted(rows) == [d.pk for d in old_deliveries]
    replay = next(d for d in rows.values() if d.replay_of_id)
    assert replay.replay_of_id in rows and replay.status == "succeeded"
    # The later event stays, with its delivery.
    assert Event.objects.count() == 1 and Delivery.objects.count() == 1
    assert archiving.archive_old_rows(before=cutoff)["events"] == 0


def test_an_event_with_a_delivery_still_pending_stays(receiver, delivered, supervisor):
    subscription, old = delivered
    first = Event.objects.filter(application=old[0]).get()
    receiver.state.fail_first = 5
    with time_machine.travel(LATER, tick=False):
        pending = integration.delivery_replay(
            delivery_id=first.deliveries.filter(replay_of__isnull=True).get().pk, by=supervisor
        )
        deliveries_send(now=LATER)
    pending.refresh_from_db()
    assert pending.status == "pending"

    moved = archiving.archive_old_rows(before=T0 + timedelta(days=1))

    assert (moved["events"], moved["deliveries"]) == (1, 1)
    assert Event.objects.filter(pk=first.pk).exists()
    assert first.deliveries.count() == 3


def test_a_replay_cannot_reach_what_is_archived_and_says_so(delivered, supervisor):
    subscription, old = delivered
    archived_id = Delivery.objects.filter(event__application=old[0]).order_by("pk").first().pk
    archiving.archive_old_rows(before=T0 + timedelta(days=1))

    with pytest.raises(InvalidInput) as refused:
        integration.delivery_replay(delivery_id=archived_id, by=supervisor)
    assert refused.value.message == f"投递 {archived_id} 已随其事件归档，不能再次发送。"
    with pytest.raises(InvalidInput) as refused:
        integration.deliveries_replay_range(
            subscription_id=subscription.pk,
            since=T0 - timedelta(days=1),
            until=LATER + timedelta(days=1),
            by=supervisor,
        )
    assert list(refused.value.errors) == ["since"]
    latest = max(ArchivedEvent.objects.values_list("occurred_at", flat=True))
    assert latest.date() == DAY0
    assert refused.value.errors["since"] == [
        f"此订阅在 {latest.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 及之前的事件已归档，"
        "不能再次发送；请从该时间之后开始选择范围。"
    ]
    assert Delivery.objects.count() == 1  # nothing was sent again
    # A range after the archived ones is replayed as before.
    replayed = integration.deliveries_replay_range(
        subscription_id=subscription.pk,
        since=T0 + timedelta(days=1),
        until=LATER + timedelta(days=1),
        by=supervisor,
    )
    assert replayed == 1


def test_the_admin_lists_archived_events_and_deliveries_read_only(delivered, admin_user, client):
    subscription, old = delivered
    archiving.archive_old_rows(before=T0 + timedelta(days=1))
    event = ArchivedEvent.objects.order_by("pk").first()
    client.force_login(admin_user)

    listing = client.get("/admin/integration/archivedevent/")
    assert listing.status_code == 200 and event.event_id in listing.content.decode()
    assert client.get(f"/admin/integration/archivedevent/{event.pk}/change/").status_code == 200
    deliveries = client.get("/admin/integration/archiveddelivery/")
    assert deliveries.status_code == 200 and subscription.name in deliveries.content.decode()
    assert client.get("/admin/integration/archivedevent/add/").status_code == 403
