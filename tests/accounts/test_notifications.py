"""Notifications raised in bulk: stored once per person and key, mailed after commit."""

import pytest

from accounts.models import Notification
from accounts.services import notification_send, notification_send_many
from tests.factories import UserFactory, make_application

pytestmark = pytest.mark.django_db


def test_many_notifications_are_stored_once_per_key_and_mailed_after_commit(
    manager, supervisor, mailoutbox, django_capture_on_commit_callbacks
):
    application = make_application(by=supervisor, manager=manager)
    away = UserFactory(username="away-t", is_active=False)
    notification_send(recipients=[manager], kind="deviation_red", text="旧的", dedupe_key="red:1")
    mailoutbox.clear()
    items = [
        (manager, "deviation_red", application, "已有", "red:1"),
        (manager, "deviation_red", application, "新的偏差\n第二行", "red:2"),
        (supervisor, "deviation_red", None, "主管\t须知", "red:1"),
        (supervisor, "deviation_red", None, "同一个键", "red:1"),
        (away, "deviation_red", None, "停用的账号", "red:1"),
        (None, "deviation_red", None, "没有人", "red:1"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_send_many(items) == 2

    rows = Notification.objects.order_by("pk").values_list(
        "recipient__username", "application", "text", "dedupe_key", "is_read"
    )
    assert list(rows) == [
        ("manager-t", None, "旧的", "red:1", False),
        ("manager-t", application.pk, "新的偏差\n第二行", "red:2", False),
        ("supervisor-t", None, "主管\t须知", "red:1", False),
    ]
    assert sorted((m.to, m.subject) for m in mailoutbox) == [
        (["manager-t@example.test"], "[业扩] 新的偏差"),
        (["supervisor-t@example.test"], "[业扩] 主管\t须知"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_send_many(items) == 0
    assert Notification.objects.count() == 3
    assert len(mailoutbox) == 2
