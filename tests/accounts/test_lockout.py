"""Sign-in lockout that slows guessing without letting anyone lock someone else out."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import LoginAttempt
from tests.dates import SHANGHAI

LOGIN = "/accounts/login/"
NOW = timezone.datetime(2026, 12, 7, 9, 30, tzinfo=SHANGHAI)


def _sign_in(client, username, password, address):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def admin(admin_user):
    return admin_user


@time_machine.travel(NOW, tick=False)
def test_five_bad_passwords_lock_that_address_but_not_the_real_user_elsewhere(
    client, admin, password
):
    for _ in range(5):
        response = _sign_in(client, admin.username, "guess", "10.0.0.1")
        assert response.status_code == 200
    refused = _sign_in(client, admin.username, password, "10.0.0.1")
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.content.decode()
    assert "_auth_user_id" not in client.session

    response = _sign_in(client, admin.username, password, "10.0.0.2")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(admin.pk)


@time_machine.travel(NOW, tick=False)
def test_the_lock_ends_after_the_cool_off(client, admin, password, settings):
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 10
    for _ in range(5):
        _sign_in(client, admin.username, "guess", "10.0.0.1")
    assert _sign_in(client, admin.username, password, "10.0.0.1").status_code == 429
    with time_machine.travel(NOW + timedelta(minutes=11), tick=False):
        response = _sign_in(client, admin.username, password, "10.0.0.1")
    assert response.status_code == 302


@time_machine.travel(NOW, tick=False)
def test_thirty_user_names_from_one_address_are_throttled_whatever_the_name(
    client, admin, password
):
    answers = [_sign_in(client, f"person{i}", "guess", "10.0.0.9").status_code for i in range(30)]
    assert answers[:20] == [200] * 20
    assert answers[20:] == [429] * 10
    # Even a real account with its right password is refused from that address ...
    refused = _sign_in(client, admin.username, password, "10.0.0.9")
    assert refused.status_code == 429
    assert "来自您网络地址的登录失败次数过多" in refused.content.decode()
    # ... and answered from any other.
    assert _sign_in(client, admin.username, password, "10.0.0.10").status_code == 302
    # Refused attempts never reached the password check: 20 failures stored, not 30.
    assert LoginAttempt.objects.filter(ip_address="10.0.0.9").count() == 20


@time_machine.travel(NOW, tick=False)
def test_forwarded_for_is_ignored_unless_a_trusted_proxy_is_configured(
    client, admin, password, settings
):
    for i in range(5):
        client.post(
            LOGIN,
            {"username": admin.username, "password": "guess"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        )
    assert set(LoginAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.0.1"}

    settings.TRUSTED_PROXY_COUNT = 1
    LoginAttempt.objects.all().delete()
    for _ in range(5):
        client.post(
            LOGIN,
            {"username": admin.username, "password": "guess"},
            REMOTE_ADDR="10.0.0.254",
            HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.7",
        )
    # Behind one proxy the client is the last forwarded entry; the first is its own claim.
    assert set(LoginAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}
    response = client.post(
        LOGIN,
        {"username": admin.username, "password": password},
        REMOTE_ADDR="10.0.0.254",
        HTTP_X_FORWARDED_FOR="198.51.100.8",
    )
    assert response.status_code == 302


@time_machine.travel(NOW, tick=False)
def test_an_administrator_unlocks_a_user_in_the_admin(client, admin, manager, password):
    for _ in range(5):
        _sign_in(client, manager.username, "guess", "10.0.0.1")
    assert _sign_in(client, manager.username, password, "10.0.0.1").status_code == 429

    client.force_login(admin)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "unlock_sign_in", "_selected_action": [manager.pk]},
        follow=True,
    )
    assert "已清除 5 次计入的失败" in response.content.decode()
    assert LoginAttempt.objects.filter(cleared_by=admin, username=manager.username).count() == 5
    client.logout()
    assert _sign_in(client, manager.username, password, "10.0.0.1").status_code == 302


@time_machine.travel(NOW, tick=False)
def test_an_administrator_unlocks_an_address_from_the_login_attempts(client, admin, password):
    for i in range(20):
        _sign_in(client, f"person{i}", "guess", "10.0.0.9")
    assert _sign_in(client, admin.username, password, "10.0.0.9").status_code == 429
    attempt = LoginAttempt.objects.filter(ip_address="10.0.0.9").first()

    client.force_login(admin)
    client.post(
        "/admin/accounts/loginattempt/",
        {"action": "unlock_addresses", "_selected_action": [attempt.pk]},
    )
    client.logout()
    assert _sign_in(client, admin.username, password, "10.0.0.9").status_code == 302
