"""Fixtures of the API tests: a token client per role, applications in two regions."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.roles import Role
from tests.factories import AccountManagerProfileFactory, RegionFactory, make_application

PROBLEM = "application/problem+json"


def pytest_collection_modifyitems(items):
    """Give each schemathesis case (one per API operation) a node id of its own, as pytest
    gives a parametrized case: schemathesis names them all alike, and a parallel run
    (pytest-xdist) would then run one and count the rest as done."""
    for item in items:
        if "[" in item.name and not item.nodeid.endswith("]"):
            item._id = item.parent.id.child(item.name)


DAY0 = date(2026, 3, 2)  # a Monday


def token_client(user, language: str | None = "en", scope: str = "write") -> APIClient:
    """Return a client that authenticates as ``user`` with an API token.

    English unless told otherwise, so that tests read the English messages; ``None``
    sends no Accept-Language (the API then answers in Chinese).
    """
    _token, key = account_services.api_token_create(user=user, name="tests", scope=scope)
    client = APIClient()
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    if language:
        headers["HTTP_ACCEPT_LANGUAGE"] = language
    client.credentials(**headers)
    return client


def assert_problem(response, status: int, *, detail: str | None = None, errors=None) -> dict:
    """Assert a problem-details answer and return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status
    assert body["type"].startswith("urn:yekuo:problem:")
    assert body["title"] and body["detail"]
    if detail is not None:
        assert detail in body["detail"]
    if errors is not None:
        assert body["errors"] == errors
    return body


@pytest.fixture
def north(db):
    return RegionFactory(code="north", name="北区")


@pytest.fixture
def south(db):
    return RegionFactory(code="south", name="南区")


@pytest.fixture
def manager(db, north):
    return AccountManagerProfileFactory(user__username="manager-t", regions=[north]).user


@pytest.fixture
def other_manager(db, south):
    return AccountManagerProfileFactory(user__username="manager-s", regions=[south]).user


@pytest.fixture
def application(supervisor, manager, north):
    return make_application(by=supervisor, manager=manager, region=north, accepted_on=DAY0)


@pytest.fixture
def south_application(supervisor, other_manager, south):
    return make_application(by=supervisor, manager=other_manager, region=south, accepted_on=DAY0)


@pytest.fixture
def clients(role_users):
    return {role: token_client(user) for role, user in role_users.items()}


@pytest.fixture
def as_manager(manager):
    return token_client(manager)


@pytest.fixture
def as_supervisor(supervisor):
    return token_client(supervisor)


@pytest.fixture
def as_admin(admin_user):
    return token_client(admin_user)


@pytest.fixture
def as_staff(staff):
    return token_client(staff)


ROLES = [Role.ADMINISTRATOR, Role.SUPERVISOR, Role.ACCOUNT_MANAGER, Role.DEPARTMENT_STAFF]
