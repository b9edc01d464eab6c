"""Two-step sign-in in the browser: an administrator enrols an authenticator app, reaches
the administration, signs out, and signs in again with the password and a code."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp

from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _sign_in(page, path, username, password):
    page.goto(path)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")


def test_an_administrator_enrols_and_signs_in_with_a_code(page, settings):
    settings.MFA_REQUIRED_ROLES = ["administrator", "supervisor"]
    UserFactory(username="zhaolei", display_name="赵磊", role=Role.ADMINISTRATOR)

    _sign_in(page, "/admin/", "zhaolei", PASSWORD)
    page.wait_for_url(re.compile(r"/accounts/two-step/enrol/\?next=%2Fadmin%2F$"))
    assert page.locator("h1").inner_text() == "两步验证"
    assert page.locator(".two-step .qr svg").count() == 1
    # Elsewhere is closed until the enrolment is done.
    page.goto("/")
    page.wait_for_url(re.compile(r"/accounts/two-step/enrol/"))

    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = b32decode(secret)
    page.fill("#id_code", f"{totp(key):06d}")
    page.click("main button.primary")
    page.wait_for_url(re.compile(r"/$"))
    page.goto("/admin/")
    assert page.locator("#site-name").inner_text() == "业扩报装管控 · 系统管理"

    page.goto("/")
    page.click(".toolbar button.link")
    page.wait_for_url("**/accounts/login/")

    _sign_in(page, "/", "zhaolei", PASSWORD)
    page.wait_for_url(re.compile(r"/accounts/two-step/\?next="))
    assert "两步验证" in page.locator("h1").inner_text()
    # The enrolment's code cannot be used twice: the next step's code (within tolerance).
    page.fill("#id_code", f"{totp(key, drift=1):06d}")
    page.click("main button.primary")
    page.wait_for_url(re.compile(r"/$"))
    assert "赵磊" in page.locator(".toolbar .who").inner_text()
