"""The read replica (yekuo.routers): which database alias serves which query.

The test settings have a second alias, ``replica``, that mirrors the test database; the
queries each alias runs are captured separately. A mirror is a second connection: it
sees committed rows only, so these tests commit (``transaction=True``).
"""

from contextlib import ExitStack, contextmanager
from datetime import datetime

import pytest
import time_machine
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from applications.models import Application
from tests.api.conftest import DAY0, token_client
from tests.conftest import load_reference_data
from tests.dates import SHANGHAI
from tests.factories import make_application
from yekuo import routers

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
NOW = datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _reference_data():
    # A committing test starts after another one's flush: the data migrations' rows again.
    load_reference_data()
    yield
    # The mirror's connections (its pool on PostgreSQL) would keep the test database open.
    replica = connections["replica"]
    replica.close()
    if getattr(replica, "pool", None) is not None:
        replica.close_pool()


@pytest.fixture
def replica_reads(settings):
    settings.REPLICA_READS = True


@contextmanager
def per_alias():
    """Capture the queries of ``default`` and ``replica`` apart: yields {alias: [sql]}."""
    with ExitStack() as stack:
        captured = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in ("default", "replica")
        }
        seen: dict[str, list[str]] = {}
        yield seen
    for alias, context in captured.items():
        seen[alias] = [query["sql"] for query in context.captured_queries]


def reading(queries: list[str], table: str) -> list[str]:
    return [sql for sql in queries if sql.startswith("SELECT") and f'FROM "{table}"' in sql]


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def test_the_api_list_reads_from_the_replica(replica_reads, manager, application):
    with time_machine.travel(NOW, tick=False):
        api = token_client(manager)
        api.get("/api/v1/applications/")  # the token's first use is recorded: a write
        with per_alias() as seen:
            response = api.get("/api/v1/applications/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [application.pk]
    assert reading(seen["replica"], "applications_application")
    assert not reading(seen["default"], "applications_application")
    assert not [sql for sql in seen["replica"] if not sql.startswith("SELECT")]


def test_a_read_after_a_write_in_the_same_request_reads_the_primary(
    replica_reads, manager, application
):
    with time_machine.travel(NOW, tick=False):
        api = token_client(manager)
        with per_alias() as seen:
            # The first use of a token stores when it was used (an UPDATE), then lists.
            response = api.get("/api/v1/applications/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [application.pk]
    update = next(i for i, sql in enumerate(seen["default"]) if sql.startswith("UPDATE"))
    assert "accounts_apitoken" in seen["default"][update]
    # Found on the replica before the write; everything after it on the primary.
    assert reading(seen["replica"], "accounts_apitoken")
    assert reading(seen["default"][update:], "applications_application")
    assert not reading(seen["replica"], "applications_application")


def test_the_dashboard_reads_from_the_replica_and_the_session_from_the_primary(
    replica_reads, client, supervisor, application
):
    client.force_login(supervisor)
    with time_machine.travel(NOW, tick=False), per_alias() as seen:
        response = client.get("/dashboard/")
    assert response.status_code == 200
    assert reading(seen["default"], "django_session")
    assert not reading(seen["replica"], "django_session")
    assert reading(seen["replica"], "applications_application")
    assert not reading(seen["default"], "applications_application")


def test_pages_and_writes_outside_the_replica_paths_use_the_primary(
    replica_reads, client, manager, application
):
    client.force_login(manager)
    with time_machine.travel(NOW, tick=False), per_alias() as seen:
        page = client.get(f"/applications/{application.number}/")
        api = token_client(manager)
        refused = api.post("/api/v1/applications/", {}, format="json")
    assert page.status_code == 200 and refused.status_code == 400
    assert seen["replica"] == []


def test_without_replica_reads_everything_uses_the_primary(manager, application):
    with time_machine.travel(NOW, tick=False):
        api = token_client(manager)
        api.get("/api/v1/applications/")
        with per_alias() as seen:
            response = api.get("/api/v1/applications/")
    assert response.status_code == 200
    assert seen["replica"] == []
    assert reading(seen["default"], "applications_application")


def test_reads_inside_a_transaction_use_the_primary(replica_reads, rf):
    router = routers.ReplicaRouter()
    middleware = routers.ReplicaReadsMiddleware(lambda request: _route_reads(router))
    assert middleware(rf.get("/api/v1/applications/")) == ["replica", "default", "default"]
    # Outside the marked requests the router leaves the choice to Django (the primary).
    assert _route_reads(router)[0] is None


def _route_reads(router) -> list:
    routes = [router.db_for_read(Application)]
    with transaction.atomic():
        routes.append(router.db_for_read(Application))
    router.db_for_write(Application)
    routes.append(router.db_for_read(Application))
    return routes
