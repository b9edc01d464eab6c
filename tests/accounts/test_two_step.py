"""Two-step sign-in (TOTP): required for administrators and supervisors where the
settings say so, optional for everyone else; wrong codes count for the lockout."""

import os
import re
import subprocess
import sys
from base64 import b32decode
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import LoginAttempt
from tests.api.conftest import token_client
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
VERIFY = "/accounts/two-step/"
ENROL = "/accounts/two-step/enrol/"
SETTINGS = "/accounts/two-step/settings/"
PAGE = "/accounts/notifications/settings/"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def required(settings):
    settings.MFA_REQUIRED_ROLES = ["administrator", "supervisor"]


def sign_in(client, user, password=PASSWORD):
    return client.post(LOGIN, {"username": user.username, "password": password})


def code(device, at: datetime) -> str:
    with time_machine.travel(at, tick=False):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        return f"{totp.token():06d}"


def secret_on_page(html: str) -> bytes:
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    return b32decode(secret.replace(" ", ""))


def enrol(client, user, at=NOW):
    with time_machine.travel(at, tick=False):
        page = client.get(ENROL).content.decode()
        key = secret_on_page(page)
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        assert device.bin_key == key
        return client.post(ENROL, {"code": code(device, at), "next": "/"})


def test_a_required_role_without_a_device_is_held_at_the_enrolment(client, admin_user, required):
    sign_in(client, admin_user)
    for path in ["/", PAGE, "/admin/", SETTINGS]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{ENROL}?next="), path
    page = client.get(ENROL)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "data:image" not in html
    assert "您的角色要求两步验证" in html
    # The API answers a problem instead of a page while the session is held.
    api = client.get("/api/v1/applications/")
    assert api.status_code == 403
    assert api["Content-Type"] == "application/problem+json"
    # Signing out stays possible.
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_enrolling_with_a_valid_code_verifies_the_session(client, admin_user, required):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, admin_user)
    response = enrol(client, admin_user)
    assert response.status_code == 302 and response["Location"] == "/"
    assert TOTPDevice.objects.get(user=admin_user).confirmed
    with time_machine.travel(NOW + timedelta(seconds=5), tick=False):
        assert client.get("/").status_code == 200
        assert client.get("/admin/").status_code == 200


def test_a_wrong_enrolment_code_is_refused(client, admin_user, required):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, admin_user)
        client.get(ENROL)
        device = TOTPDevice.objects.get(user=admin_user)
        wrong = f"{(int(code(device, NOW)) + 1) % 1_000_000:06d}"
        response = client.post(ENROL, {"code": wrong})
    assert response.status_code == 400
    assert "验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.get(user=admin_user).confirmed


def test_the_next_sign_in_asks_for_the_code_and_counts_wrong_ones(client, supervisor, required):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, supervisor)
    enrol(client, supervisor)
    client.post("/accounts/logout/")
    later = NOW + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        sign_in(client, supervisor)
        response = client.get(PAGE)
        assert response["Location"] == f"{VERIFY}?{urlencode({'next': PAGE})}"
        assert client.get(ENROL)["Location"].startswith(VERIFY)  # no new device before the code
        page = client.get(response["Location"]).content.decode()
        assert "两步验证" in page
        device = TOTPDevice.objects.get(user=supervisor)
        right = code(device, later)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        refused = client.post(VERIFY, {"code": wrong, "next": PAGE})
    assert refused.status_code == 400
    assert "验证码不正确" in refused.content.decode()
    assert LoginAttempt.objects.filter(username=supervisor.username, succeeded=False).count() == 1
    # A wrong code slows the device down for a moment (django-otp's throttle).
    with time_machine.travel(later + timedelta(seconds=30), tick=False):
        accepted = client.post(
            VERIFY, {"code": code(device, later + timedelta(seconds=30)), "next": PAGE}
        )
        assert accepted["Location"] == PAGE
        assert client.get(PAGE).status_code == 200


def test_wrong_codes_up_to_the_limit_sign_out_and_lock(client, supervisor, required, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    with time_machine.travel(NOW, tick=False):
        sign_in(client, supervisor)
    enrol(client, supervisor)
    client.post("/accounts/logout/")
    at = NOW + timedelta(minutes=1)
    with time_machine.travel(at, tick=False):
        sign_in(client, supervisor)
    device = TOTPDevice.objects.get(user=supervisor)
    for attempt in range(3):
        moment = at + timedelta(minutes=attempt + 1)
        with time_machine.travel(moment, tick=False):
            wrong = f"{(int(code(device, moment)) + 1) % 1_000_000:06d}"
            response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session
    with time_machine.travel(at + timedelta(minutes=5), tick=False):
        refused = sign_in(client, supervisor)
    assert refused.status_code == 429


def test_two_step_is_optional_for_managers(client, manager, required):
    sign_in(client, manager)
    assert client.get("/").status_code == 200
    page = client.get(SETTINGS).content.decode()
    assert "两步验证未开启" in page
    enrol(client, manager)
    assert TOTPDevice.objects.get(user=manager).confirmed
    client.post("/accounts/logout/")
    # Once enrolled, the manager's sign-in asks for the code as well.
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        sign_in(client, manager)
        assert client.get("/")["Location"].startswith(VERIFY)


def test_a_manager_removes_the_device_after_confirming_the_password(client, manager, required):
    with time_machine.travel(NOW, tick=False):
        sign_in(client, manager)
    enrol(client, manager)
    later = NOW + timedelta(minutes=20)  # the password is no longer recent, not idle yet
    with time_machine.travel(later, tick=False):
        client.get("/")
        asked = client.post(
            "/accounts/two-step/remove/", HTTP_REFERER=f"http://testserver{SETTINGS}"
        )
        assert asked["Location"].startswith("/accounts/password/confirm/")
        assert TOTPDevice.objects.filter(user=manager).exists()
        client.post("/accounts/password/confirm/", {"password": PASSWORD, "next": SETTINGS})
        removed = client.post("/accounts/two-step/remove/")
    assert removed["Location"] == SETTINGS
    assert not TOTPDevice.objects.filter(user=manager).exists()


def test_a_required_role_cannot_remove_its_device(client, admin_user, required):
    sign_in(client, admin_user)
    enrol(client, admin_user)
    with time_machine.travel(NOW + timedelta(seconds=10), tick=False):
        response = client.post("/accounts/two-step/remove/")
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=admin_user).exists()


def test_an_administrator_resets_a_lost_device(client, admin_user, supervisor, settings):
    settings.MFA_REQUIRED_ROLES = []
    TOTPDevice.objects.create(user=supervisor, name="authenticator", confirmed=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_two_step", "_selected_action": [supervisor.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    entry = LogEntry.objects.get(object_id=str(supervisor.pk))
    assert entry.user == admin_user and "两步验证" in entry.get_change_message()


def test_api_tokens_need_no_second_step(admin_user, required):
    TOTPDevice.objects.create(user=admin_user, name="authenticator", confirmed=True)
    assert token_client(admin_user).get("/api/v1/applications/").status_code == 200


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"YEKUO_PROFILE": "development"}, []),
        ({"YEKUO_PROFILE": "development", "MFA_REQUIRED": "1"}, ["administrator", "supervisor"]),
        (
            {"YEKUO_PROFILE": "production", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "a.test"},
            ["administrator", "supervisor"],
        ),
    ],
)
def test_the_profile_decides_who_must_use_two_step(environment, expected):
    clean = {k: v for k, v in os.environ.items() if k not in {"MFA_REQUIRED", "YEKUO_PROFILE"}}
    script = "from yekuo import settings; print(','.join(settings.MFA_REQUIRED_ROLES))"
    output = subprocess.run(
        [sys.executable, "-c", script],
        env={**clean, **environment},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert (output.split(",") if output else []) == expected


def test_the_admin_shows_no_secret_keys(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert "otp_totp" not in client.get("/admin/").content.decode()
