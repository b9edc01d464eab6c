"""Retries with an Idempotency-Key: one key, one effect, sequentially and concurrently."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from applications.models import Application, IdempotencyKey, StageTransition
from applications.tasks import purge_idempotency_keys
from tests.conftest import load_reference_data, need_service
from tests.dates import pin_today
from tests.factories import AccountManagerProfileFactory, RegionFactory, UserFactory

from .conftest import assert_problem, token_client
from .test_applications import new_application_body

pytestmark = pin_today


@pytest.mark.django_db
def test_the_same_post_twice_creates_one_application(as_manager, north):
    body = new_application_body()
    first = as_manager.post("/api/v1/applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="a1")
    second = as_manager.post(
        "/api/v1/applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="a1"
    )
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Location"] == first["Location"]
    assert second["ETag"] == first["ETag"]
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Application.objects.count() == 1
    row = IdempotencyKey.objects.get()
    assert (row.key, row.method, row.path, row.response_status) == (
        "a1",
        "POST",
        "/api/v1/applications/",
        201,
    )


@pytest.mark.django_db
def test_without_a_key_a_retry_creates_again(as_manager, north):
    body = new_application_body()
    as_manager.post("/api/v1/applications/", body, format="json")
    as_manager.post("/api/v1/applications/", body, format="json")
    assert Application.objects.count() == 2


@pytest.mark.django_db
def test_keys_belong_to_their_user(as_manager, as_supervisor, north):
    as_manager.post(
        "/api/v1/applications/", new_application_body(), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    response = as_supervisor.post(
        "/api/v1/applications/",
        new_application_body(serial=901),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Application.objects.count() == 2


@pytest.mark.django_db
def test_a_refused_request_keeps_no_key_so_the_corrected_retry_runs(as_manager, north):
    bad = new_application_body(requested_capacity_kva=0)
    assert_problem(
        as_manager.post("/api/v1/applications/", bad, format="json", HTTP_IDEMPOTENCY_KEY="r"),
        400,
    )
    assert not IdempotencyKey.objects.exists()
    good = as_manager.post(
        "/api/v1/applications/", new_application_body(), format="json", HTTP_IDEMPOTENCY_KEY="r"
    )
    assert good.status_code == 201
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_a_retried_transition_is_applied_once(as_manager, application):
    url = f"/api/v1/applications/{application.pk}/transitions/"
    body = {"transition": "suspend", "note": "客户资金未到位"}
    first = as_manager.post(
        url, body, format="json", HTTP_IF_MATCH='W/"1"', HTTP_IDEMPOTENCY_KEY="t"
    )
    # The retry still carries the ETag it read before: the replay answers, not a 412.
    again = as_manager.post(
        url, body, format="json", HTTP_IF_MATCH='W/"1"', HTTP_IDEMPOTENCY_KEY="t"
    )
    assert first.status_code == again.status_code == 200
    assert again.json()["state"] == "suspended"
    assert (
        StageTransition.objects.filter(application=application, transition="suspend").count() == 1
    )


@pytest.mark.django_db
def test_a_key_older_than_24_hours_is_ignored_and_purged(as_manager, manager, north):
    body = new_application_body()
    as_manager.post("/api/v1/applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    # After 24 hours the same key is a new request (a different customer here, since the
    # first application exists; the point is that it is not a replay).
    response = as_manager.post(
        "/api/v1/applications/",
        new_application_body(serial=902),
        format="json",
        HTTP_IDEMPOTENCY_KEY="old",
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Application.objects.count() == 2
    IdempotencyKey.objects.create(
        user=manager,
        key="stale",
        method="POST",
        path="/x",
        request_hash="0" * 64,
        created_at=timezone.now() - timedelta(hours=30),
    )
    assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["old"]


@pytest.mark.django_db
def test_an_overlong_key_is_400(as_manager, north):
    response = as_manager.post(
        "/api/v1/applications/",
        new_application_body(),
        format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 256,
    )
    assert_problem(response, 400)
    assert not Application.objects.exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_with_one_key_create_one_application():
    need_service(
        "PostgreSQL", connection.vendor == "postgresql", "row locks need a real database server"
    )
    load_reference_data()
    north = RegionFactory(code="north", name="北区")
    # A manager accepts only for the regions served.
    manager = AccountManagerProfileFactory(user__username="mgr-idem", regions=[north]).user
    UserFactory(username="sup-idem", role="supervisor")
    body = new_application_body()
    clients = [token_client(manager) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    answers = []

    def post(client):
        try:
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/applications/", body, format="json", HTTP_IDEMPOTENCY_KEY="same"
            )
            answers.append((response.status_code, response.json().get("number")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 4
    assert {status for status, _number in answers} == {201}
    assert len({number for _status, number in answers}) == 1
    assert Application.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_the_purge_runs_every_hour_from_the_beat_schedule():
    from django.conf import settings

    from yekuo.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["idempotency-key-purge"]
    assert entry["task"] == "applications.tasks.purge_idempotency_keys"
    assert entry["schedule"] == 3600
    app.loader.import_default_modules()
    assert "applications.tasks.purge_idempotency_keys" in app.tasks


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_people_with_the_same_etag_at_once_one_wins_the_other_gets_412():
    need_service(
        "PostgreSQL", connection.vendor == "postgresql", "row locks need a real database server"
    )
    from tests.factories import make_application

    load_reference_data()
    north = RegionFactory(code="north", name="北区")
    manager = AccountManagerProfileFactory(user__username="mgr-race", regions=[north]).user
    supervisor = UserFactory(username="sup-race", role="supervisor")
    application = make_application(by=supervisor, manager=manager, region=north)
    clients = [token_client(manager), token_client(supervisor)]
    barrier = threading.Barrier(2)
    statuses = []

    def suspend(client):
        try:
            barrier.wait(timeout=10)
            response = client.post(
                f"/api/v1/applications/{application.pk}/transitions/",
                {"transition": "suspend", "note": "客户要求暂缓"},
                format="json",
                HTTP_IF_MATCH=f'W/"{application.version}"',
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=suspend, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 412]
    assert (
        StageTransition.objects.filter(application=application, transition="suspend").count() == 1
    )
