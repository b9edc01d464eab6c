"""API tokens: named, expiring, read or write, revocable, and never stored readable."""

import importlib
import json
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps as django_apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Notification, NotificationKind
from accounts.services import api_token_create, api_token_revoke

from .conftest import assert_problem

pytestmark = pytest.mark.django_db

NETWORK = settings.BASE_DIR / "examples" / "networks"


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_the_command_prints_a_key_that_works_and_only_its_digest_is_stored(manager, application):
    out, err = StringIO(), StringIO()
    call_command("api_token_create", manager.username, name="营销系统接口", stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=manager)
    assert key.startswith(token.prefix + "_") and len(key) > 40
    assert (token.name, token.scope) == ("营销系统接口", "read")
    assert key not in token.digest and token.digest != key
    assert token.expires_at.date() == (timezone.now() + timedelta(days=90)).date()
    assert "营销系统接口" in err.getvalue() and key not in err.getvalue()
    response = client_with(key).get(f"/api/v1/applications/{application.pk}/")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nobody", "--name", "x"], "api_token_create: no user is named 'nobody'"),
        (["{user}", "--name", "x", "--days", "0"], "api_token_create: days: "),
        (["{user}", "--name", "  "], "api_token_create: name: "),
    ],
)
def test_the_command_refuses_bad_input_with_one_line_and_exit_2(manager, argv, message):
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "api_token_create", *[a.format(user=manager.username) for a in argv], stderr=err
        )
    assert exit_.value.code == 2
    assert err.getvalue().startswith(message) and err.getvalue().count("\n") <= 1
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_refused_and_says_so(manager, application):
    _token, key = api_token_create(user=manager, name="ERP", scope="read", days=1)
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        problem = assert_problem(
            client_with(key).get(f"/api/v1/applications/{application.pk}/"), 401
        )
    assert "expired" in problem["detail"]


def test_a_revoked_token_is_refused_at_once(manager, admin_user, application):
    token, key = api_token_create(user=manager, name="ERP", scope="write")
    assert client_with(key).get(f"/api/v1/applications/{application.pk}/").status_code == 200
    api_token_revoke(token_id=token.pk, by=admin_user)
    problem = assert_problem(client_with(key).get(f"/api/v1/applications/{application.pk}/"), 401)
    assert "revoked" in problem["detail"]
    token.refresh_from_db()
    assert token.revoked_by == admin_user


def test_a_wrong_key_with_a_known_prefix_is_refused(manager, application):
    token, key = api_token_create(user=manager, name="ERP", scope="write")
    forged = f"{token.prefix}_{'A' * 43}"
    problem = assert_problem(client_with(forged).get("/api/v1/applications/"), 401)
    assert problem["detail"] == "Invalid token."


def test_a_read_token_reads_and_computes_but_changes_nothing(manager):
    mine = Notification.objects.create(
        recipient=manager, kind=NotificationKind.ESCALATION, text="给我的"
    )
    _token, key = api_token_create(user=manager, name="报表", scope="read")
    reader = client_with(key)
    assert reader.get("/api/v1/notifications/").status_code == 200
    problem = assert_problem(
        reader.post("/api/v1/notifications/mark-read/", {"ids": [mine.pk]}, format="json"), 403
    )
    assert "only read" in problem["detail"]
    mine.refresh_from_db()
    assert mine.is_read is False
    # A what-if computation changes nothing: a read token may ask for it.
    network = json.loads(next(NETWORK.glob("*.json")).read_text())
    assert reader.post("/api/v1/schedule/compute/", network, format="json").status_code == 200
    _token, writer_key = api_token_create(user=manager, name="营销系统", scope="write")
    response = client_with(writer_key).post(
        "/api/v1/notifications/mark-read/", {"ids": [mine.pk]}, format="json"
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.is_read is True


def test_the_admin_makes_a_token_shows_the_key_once_and_revokes(client, admin_user, manager):
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/apitoken/add/",
        {"user": manager.pk, "name": "调度系统", "scope": "write", "days": "30"},
        follow=True,
    )
    token = ApiToken.objects.get(name="调度系统")
    page = response.content.decode()
    key = page.split(f"{token.prefix}_", 1)[1].split("<", 1)[0].split()[0]
    assert client_with(f"{token.prefix}_{key}").get("/api/v1/applications/").status_code == 200
    # The key is never shown again.
    assert (
        f"{token.prefix}_{key}"
        not in client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    )
    client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == admin_user
    assert client.post(f"/admin/accounts/apitoken/{token.pk}/delete/").status_code == 403


def test_keys_issued_before_named_tokens_keep_working_and_are_no_longer_readable(
    manager, application
):
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer, "
            "created timestamp)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
            [key, manager.pk, timezone.now()],
        )
    migration = importlib.import_module("accounts.migrations.0009_api_tokens_from_plain_keys")
    # The migration reads and clears the table through the editor's connection only.
    migration.digest_plain_keys(django_apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
        cursor.execute("DROP TABLE authtoken_token")
    token = ApiToken.objects.get(user=manager)
    assert (token.scope, token.prefix) == ("write", key[:8])
    assert client_with(key).get(f"/api/v1/applications/{application.pk}/").status_code == 200
