"""Self-service password change and reset, and the confirmation before sensitive actions."""

import re
from datetime import timedelta

import time_machine
from django.core import mail
from django.utils import timezone

from tests.dates import SHANGHAI

NOW = timezone.datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)


def test_the_user_menu_links_to_the_password_change_which_works(client, manager, password):
    client.force_login(manager)
    assert 'href="/accounts/password/change/"' in client.get("/").content.decode()
    page = client.get("/accounts/password/change/").content.decode()
    assert "<h1>密码修改</h1>" in page and 'name="old_password"' in page

    wrong = client.post(
        "/accounts/password/change/",
        {"old_password": "wrong", "new_password1": "Grid-2027-ok", "new_password2": "Grid-2027-ok"},
    )
    assert wrong.status_code == 200 and "旧密码不正确" in wrong.content.decode()

    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": password,
            "new_password1": "Grid-2027-ok",
            "new_password2": "Grid-2027-ok",
        },
        follow=True,
    )
    assert "您的密码已修改。" in response.content.decode()
    manager.refresh_from_db()
    assert manager.check_password("Grid-2027-ok")
    # Still signed in on this session after the change.
    assert client.get("/").status_code == 200


def test_a_forgotten_password_is_reset_through_a_mailed_link(client, manager, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    manager.email = "manager@example.cn"
    manager.save()
    login = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password/reset/"' in login
    response = client.post(
        "/accounts/password/reset/", {"email": "manager@example.cn"}, follow=True
    )
    assert "设置新密码的链接已发出" in response.content.decode()
    assert [m.to for m in mail.outbox] == [["manager@example.cn"]]
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body)[1]

    form = client.get(link, follow=True)
    url = form.redirect_chain[-1][0]
    assert 'name="new_password1"' in form.content.decode()
    done = client.post(
        url, {"new_password1": "Grid-2027-ok", "new_password2": "Grid-2027-ok"}, follow=True
    )
    assert "密码已设置，现在可以用它登录。" in done.content.decode()
    manager.refresh_from_db()
    assert manager.check_password("Grid-2027-ok")
    # The link works once.
    assert "此链接已失效" in client.get(url).content.decode()


def test_an_export_an_hour_after_sign_in_asks_for_the_password_then_downloads(
    client, supervisor, password
):
    with time_machine.travel(NOW, tick=False):
        client.force_login(supervisor)
        assert client.get("/assessment/export.csv").status_code == 200
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        response = client.get("/assessment/export.csv")
        assert response.status_code == 302
        assert response["Location"] == (
            "/accounts/password/confirm/?next=%2Fassessment%2Fexport.csv"
        )
        confirmed = client.post(
            "/accounts/password/confirm/",
            {"password": password, "next": "/assessment/export.csv"},
        )
        assert confirmed["Location"] == "/assessment/export.csv"
        download = client.get(confirmed["Location"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")


def test_wrong_confirmations_count_as_failed_sign_ins_and_lock(client, supervisor, password):
    with time_machine.travel(NOW, tick=False):
        client.force_login(supervisor)
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        for _ in range(5):
            client.post("/accounts/password/confirm/", {"password": "guess", "next": "/"})
        response = client.post("/accounts/password/confirm/", {"password": password, "next": "/"})
    assert response.status_code == 400
    assert "登录失败次数过多" in response.content.decode()
