"""Browser tests: pytest-playwright driving Debian's Chromium against the live test server.

The live server is pytest-django's: it uses the test database, PostgreSQL when
DATABASE_URL points there (as in CI). Nothing is downloaded: the browser is the system's.
"""

import os
from pathlib import Path

import pytest

from tests.conftest import load_reference_data, need_service
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)


# pytest-playwright's Playwright and browser live for the whole session; here they live
# for this package only. While Playwright runs, its event loop counts as running in this
# thread, and Django refuses synchronous ORM calls under a running loop: allowed here (the
# tests' own ORM calls are synchronous), and forbidden again once the package is done.


@pytest.fixture(scope="package")
def playwright():
    need_service("Chromium", CHROMIUM.exists(), f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    runner = sync_playwright().start()
    try:
        yield runner
    finally:
        runner.stop()
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="package")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="package")
def browser(browser_type, browser_type_launch_args):
    launched = browser_type.launch(**browser_type_launch_args)
    yield launched
    launched.close()


@pytest.fixture(scope="package")
def browser_context_args(live_server):
    return {
        "base_url": live_server.url,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "viewport": {"width": 1280, "height": 900},
    }


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture(autouse=True)
def _reference_data(transactional_db):
    # serialized_rollback cannot restore these rows here: while Playwright's event loop
    # runs in this thread, Django hands out a different connection object than the one
    # that holds the serialized contents.
    load_reference_data()


def sign_in(page, user, password=PASSWORD):
    """Sign in through the real login form and wait until the login page is left."""
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def save_screenshot(page, name):
    """Save the whole page as artefacts/screenshots/NAME.png; return the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def login():
    return sign_in


@pytest.fixture
def screenshot():
    return save_screenshot
