"""Sessions end when idle or too old; the API treats an ended session as no session."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from tests.dates import SHANGHAI

SIGNED_IN = timezone.datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)


def test_a_session_idle_for_31_minutes_is_sent_to_sign_in_with_a_message(client, manager):
    with time_machine.travel(SIGNED_IN, tick=False):
        client.force_login(manager)
        assert client.get("/").status_code == 200
    with time_machine.travel(SIGNED_IN + timedelta(minutes=29), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(SIGNED_IN + timedelta(minutes=29 + 31), tick=False):
        response = client.get("/applications/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/applications/"
        assert "_auth_user_id" not in client.session
        page = client.get(response["Location"]).content.decode()
    assert "您的会话已结束，请重新登录。" in page


def test_a_busy_session_still_ends_after_its_absolute_lifetime(client, manager, settings):
    settings.SESSION_ABSOLUTE_HOURS = 12
    with time_machine.travel(SIGNED_IN, tick=False):
        client.force_login(manager)
    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(SIGNED_IN + timedelta(minutes=minutes), tick=False):
            assert client.get("/").status_code == 200, minutes
    with time_machine.travel(SIGNED_IN + timedelta(hours=12, minutes=1), tick=False):
        response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_htmx_request_of_an_ended_session_redirects_the_whole_page(client, manager):
    with time_machine.travel(SIGNED_IN, tick=False):
        client.force_login(manager)
    with time_machine.travel(SIGNED_IN + timedelta(hours=1), tick=False):
        response = client.get("/applications/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/accounts/login/?next=/applications/"


def test_the_api_answers_401_to_an_ended_session(client, manager):
    with time_machine.travel(SIGNED_IN, tick=False):
        client.force_login(manager)
        assert client.get("/api/v1/applications/").status_code == 200
    with time_machine.travel(SIGNED_IN + timedelta(minutes=31), tick=False):
        response = client.get("/api/v1/applications/")
    assert response.status_code == 401


def test_the_session_cookie_lives_no_longer_than_the_absolute_lifetime(settings):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_HOURS * 3600 == 12 * 3600
