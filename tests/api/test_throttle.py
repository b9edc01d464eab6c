"""The API throttle holds under parallel clients (a live server on the real Redis)."""

import json
import os
import threading
import time
import urllib.error
import urllib.request

import pytest

from accounts.services import api_token_create
from tests.conftest import load_reference_data, need_service
from tests.factories import AccountManagerProfileFactory

RATE = 50
THREADS = 16
REQUESTS_PER_THREAD = 12


def _get(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        body = json.loads(error.read())
        assert body["status"] == error.code
        return error.code, error.headers.get("Content-Type", "")


@pytest.mark.services
@pytest.mark.slow
def test_parallel_clients_never_pass_more_than_the_rate(live_server, settings, transactional_db):
    need_service("Redis", bool(os.environ.get("REDIS_URL")), "the throttle counts in Redis")
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": f"{RATE}/minute"},
    }
    load_reference_data()  # an earlier transactional test's flush removed the departments
    user = AccountManagerProfileFactory(user__username="throttled").user
    token = api_token_create(user=user, name="throttled", scope="read")[1]
    url = f"{live_server.url}/api/v1/applications/"
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def client():
        start.wait()
        for _ in range(REQUESTS_PER_THREAD):
            answer = _get(url, token)
            with lock:
                answers.append(answer)

    began = time.time()
    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended = time.time()

    # A fixed window of a minute: the burst may straddle one window's edge.
    windows = int(ended // 60) - int(began // 60) + 1
    statuses = [status for status, _type in answers]
    assert len(statuses) == THREADS * REQUESTS_PER_THREAD
    assert set(statuses) <= {200, 429}
    assert statuses.count(200) <= RATE * windows
    assert statuses.count(200) >= RATE  # the allowance itself is served
    assert all(kind == "application/problem+json" for status, kind in answers if status == 429)
