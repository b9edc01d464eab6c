import pytest
from django.contrib.admindocs.views import simplify_regex
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import LoginAttempt, User

LOGIN = "/accounts/login/"

# Pages an anonymous visitor may open: sign-in, the password reset (for whoever forgot
# theirs), the language switch and the probes.
PUBLIC = {
    "/accounts/login/",
    "/accounts/password/reset/",
    "/accounts/password/reset/sent/",
    "/accounts/password/reset/done/",
    "/i18n/setlang/",
    "/healthz",
    "/readyz",
}


def _routes(patterns=None, prefix=""):
    """Yield every concrete path of the URL configuration (parameters filled with 1)."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            path = simplify_regex(prefix + str(entry.pattern))
            if "<" in path:
                continue
            yield path


def test_every_page_redirects_anonymous_visitors_to_login(client, db):
    checked = 0
    for path in sorted(set(_routes())):
        # The API answers 401 problem details instead of redirecting (tests/api/test_routes.py).
        if path in PUBLIC or path.startswith(("/static/", "/api/")):
            continue
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(LOGIN) or response["Location"].startswith(
            "/admin/login/"
        ), (path, response["Location"])
        checked += 1
    assert checked >= 10  # the workspace, the dashboard and the admin pages at least


def test_login_page_is_chinese_and_uses_only_local_assets(client, db):
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>登录</h1>" in html
    assert 'lang="zh-hans"' in html
    assert "http://" not in html and "https://" not in html


def test_good_login_reaches_the_workspace_and_is_logged(client, manager, password):
    response = client.post(LOGIN, {"username": manager.username, "password": password}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "工作台" in response.content.decode()
    attempt = LoginAttempt.objects.get()
    assert (attempt.username, attempt.succeeded, attempt.user) == (manager.username, True, manager)


def test_wrong_password_shows_a_clear_message_and_is_counted(client, manager):
    response = client.post(LOGIN, {"username": manager.username, "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "用户名或密码不正确。" in html
    assert "已记录 1 次失败" in html
    manager.refresh_from_db()
    assert manager.failed_login_count == 1
    assert LoginAttempt.objects.filter(username=manager.username, succeeded=False).count() == 1
    assert "_auth_user_id" not in client.session


def test_unknown_user_is_counted_without_revealing_that_it_does_not_exist(client, db):
    response = client.post(LOGIN, {"username": "nobody", "password": "x"})
    assert "用户名或密码不正确。" in response.content.decode()
    assert LoginAttempt.objects.filter(username="nobody", succeeded=False, user=None).count() == 1


def test_sign_in_locks_after_the_limit_even_with_the_right_password(
    client, manager, password, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(LOGIN, {"username": manager.username, "password": "wrong"})
    response = client.post(LOGIN, {"username": manager.username, "password": password})
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_success_resets_the_failure_counter(client, manager, password):
    client.post(LOGIN, {"username": manager.username, "password": "wrong"})
    client.post(LOGIN, {"username": manager.username, "password": password})
    manager.refresh_from_db()
    assert manager.failed_login_count == 0


def test_logout_is_a_post_and_ends_the_session(client, manager):
    client.force_login(manager)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get("/").status_code == 302


def test_language_switch_to_english_and_back(client, manager):
    client.force_login(manager)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "<h1>Workspace</h1>" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "<h1>工作台</h1>" in client.get("/").content.decode()


@pytest.mark.django_db
def test_migrations_create_no_users():
    assert User.objects.count() == 0
