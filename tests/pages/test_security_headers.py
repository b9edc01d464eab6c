"""The Content-Security-Policy holds on the main pages, and API answers are never stored."""

from html.parser import HTMLParser

import pytest

from accounts import services as account_services
from tests.factories import make_application

pytestmark = pytest.mark.django_db


class InlineScriptFinder(HTMLParser):
    """Collect what a strict script-src would block: <script> without src, on* attributes."""

    def __init__(self):
        super().__init__()
        self.inline_scripts = 0
        self.handlers: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.inline_scripts += 1
        self.handlers += [(tag, name) for name in names if name.startswith("on")]
        self.handlers += [
            (tag, name)
            for name, value in attrs
            if value and value.strip().startswith("javascript:")
        ]


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager)


def test_main_pages_carry_a_strict_policy_and_no_inline_script(client, supervisor, application):
    client.force_login(supervisor)
    number = application.number
    pages = [
        "/",
        "/applications/new/",
        f"/applications/{number}/",
        f"/applications/{number}/receipt/",
        f"/applications/{number}/plan/print/",
        "/dashboard/",
        "/assessment/",
        "/accounts/password/change/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = dict(
            part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
        )
        assert policy["script-src"] == "'self'", path
        assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'", path
        assert policy["frame-ancestors"] == "'none'", path
        finder = InlineScriptFinder()
        finder.feed(response.content.decode())
        assert finder.inline_scripts == 0, path
        assert finder.handlers == [], (path, finder.handlers)
        assert '"includeIndicatorStyles": false' in response.content.decode(), path


def test_the_print_buttons_work_from_the_script_file(client, supervisor, application):
    client.force_login(supervisor)
    html = client.get(f"/applications/{application.number}/receipt/").content.decode()
    assert 'data-print id="print-receipt"' in html
    assert '<script src="/static/js/yekuo.js" defer></script>' in html
    script = client.get("/static/js/yekuo.js")
    assert script.status_code == 200  # served with DEBUG off (WhiteNoise, source folders)
    assert b"window.print()" in b"".join(script.streaming_content)


def test_the_sign_in_page_has_the_policy_too(client):
    assert "script-src 'self'" in client.get("/accounts/login/")["Content-Security-Policy"]


def test_api_answers_are_never_stored(client, manager):
    _token, key = account_services.api_token_create(user=manager, name="tests", scope="read")
    response = client.get("/api/v1/applications/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]

    client.force_login(manager)
    response = client.get("/api/v1/applications/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]

    client.logout()
    anonymous = client.get("/api/v1/applications/")
    assert anonymous.status_code == 401 and "no-store" in anonymous["Cache-Control"]


def test_pages_outside_the_api_keep_their_own_caching(client, manager):
    client.force_login(manager)
    assert "no-store" not in client.get("/").get("Cache-Control", "")
