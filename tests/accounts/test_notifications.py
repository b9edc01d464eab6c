"""Notifications raised in bulk: stored once per person and key, mailed after commit when
they are meant for mail and the person takes mail."""

import pytest
from django.db import connection
from django.utils import translation

from accounts.models import Notification, NotificationKind
from accounts.selectors import notifications_unread
from accounts.services import notification_send, notification_send_many
from scheduling.models import Proposal
from tests.conftest import need_service
from tests.factories import UserFactory, make_application

pytestmark = pytest.mark.django_db


def test_many_notifications_are_stored_once_per_key_and_those_for_mail_mailed_after_commit(
    manager, supervisor, mailoutbox, django_capture_on_commit_callbacks
):
    application = make_application(by=supervisor, manager=manager)
    away = UserFactory(username="away-t", is_active=False)
    notification_send(recipients=[manager], kind="deviation_red", text="旧的", dedupe_key="red:1")
    mailoutbox.clear()
    items = [
        (manager, "deviation_red", application, "已有", "red:1", True),
        (manager, "deviation_red", application, "新的偏差\n第二行", "red:2", True),
        (supervisor, "deviation_red", None, "主管\t须知", "red:1", True),
        (supervisor, "deviation_red", None, "同一个键", "red:1", True),
        (away, "deviation_red", None, "停用的账号", "red:1", True),
        (None, "deviation_red", None, "没有人", "red:1", True),
        (supervisor, "limit_warning", None, "只在应用内", "limit:1", False),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_send_many(items) == 3

    rows = Notification.objects.order_by("pk").values_list(
        "recipient__username", "application", "text", "dedupe_key", "is_read", "by_mail"
    )
    assert list(rows) == [
        ("manager-t", None, "旧的", "red:1", False, False),
        ("manager-t", application.pk, "新的偏差\n第二行", "red:2", False, True),
        ("supervisor-t", None, "主管\t须知", "red:1", False, True),
        ("supervisor-t", None, "只在应用内", "limit:1", False, False),
    ]
    assert sorted((m.to, m.subject) for m in mailoutbox) == [
        (["manager-t@example.test"], "[业扩] 新的偏差"),
        (["supervisor-t@example.test"], "[业扩] 主管\t须知"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_send_many(items) == 0
    assert Notification.objects.count() == 4
    assert len(mailoutbox) == 2


def test_a_person_who_declines_mail_of_events_gets_them_in_the_application_only(
    manager, supervisor, mailoutbox, django_capture_on_commit_callbacks
):
    manager.mail_events = False
    manager.save()
    items = [
        (manager, "deviation_red", None, "偏差甲", "red:1", True),
        (supervisor, "digest", None, "每日摘要", "digest:1", True),
    ]
    supervisor.mail_events = False  # a digest follows the digest's own setting
    supervisor.save()

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_send_many(items) == 2

    assert [m.to for m in mailoutbox] == [["supervisor-t@example.test"]]
    assert Notification.objects.filter(recipient=manager, text="偏差甲").exists()


def test_a_mail_server_that_is_down_leaves_the_notifications_stored(
    manager, supervisor, settings, caplog, django_capture_on_commit_callbacks
):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    items = [
        (manager, "deviation_red", None, "偏差一", "red:7", True),
        (supervisor, "deviation_red", None, "偏差一", "red:7", True),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_send_many(items) == 2

    assert Notification.objects.filter(dedupe_key="red:7").count() == 2
    failures = [r.getMessage() for r in caplog.records if r.getMessage().startswith("mail to")]
    assert failures == [
        "mail to manager-t@example.test failed",
        "mail to supervisor-t@example.test failed",
    ]


@pytest.mark.parametrize("choices", [NotificationKind, Proposal.Kind], ids=lambda c: c.__name__)
def test_every_kind_has_a_chinese_label(choices):
    with translation.override("zh-hans"):
        labels = [str(label) for label in choices.labels]
    with translation.override("en"):
        english = [str(label) for label in choices.labels]
    assert all(zh != en and not zh.isascii() for zh, en in zip(labels, english, strict=True))


def test_the_admin_lists_notifications_by_their_kind_in_chinese(client, admin_user, manager):
    for kind in NotificationKind:
        notification_send(recipients=[manager], kind=kind, text=f"通知 {kind}")
    client.force_login(admin_user)
    html = client.get("/admin/accounts/notification/", HTTP_ACCEPT_LANGUAGE="zh-hans").content
    html = html.decode()
    for label in (
        "分派给您的申请",
        "无客户经理的申请",
        "红色偏差",
        "时限预警",
        "超出时限",
        "上报的偏差",
        "每日摘要",
    ):
        assert html.count(label) >= 2, label  # in the list and in the kind filter
    filtered = client.get("/admin/accounts/notification/", {"kind": "limit_warning"})
    assert [n.text for n in filtered.context["cl"].result_list] == ["通知 limit_warning"]


def test_the_panel_reads_the_newest_unread_of_a_person_in_order_through_an_index(manager):
    """A person may have received thousands: the panel's eight come from an index in the
    order shown, never from sorting or filtering all of them."""
    need_service("PostgreSQL", connection.vendor == "postgresql", "partial indexes")
    other = UserFactory()
    for i in range(30):
        notification_send(
            recipients=[manager if i % 3 else other], kind=NotificationKind.DIGEST, text=f"n{i}"
        )
    Notification.objects.filter(recipient=manager, text__in=["n1", "n2"]).update(is_read=True)

    newest, count = notifications_unread(user=manager, limit=8)

    assert count == 18
    assert [n.text for n in newest] == [f"n{i}" for i in range(29, 0, -1) if i % 3][:8]
    query = Notification.objects.filter(recipient=manager, is_read=False).order_by(
        "-created_at", "-id"
    )[:8]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        # A table this small could be read any way: leave the planner only the ways a
        # province's table needs (an index scan; a sort where no index gives the order).
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using notification_" in plan
    assert "Sort" not in plan
