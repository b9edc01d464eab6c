"""Each endpoint for each role: exactly what the services allow, within the role's scope.

``outsider`` is an account manager of another region: every object of the north is
invisible to them (404), whatever the service would say.
"""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from accounts.roles import Role
from tests.dates import pinned

from .conftest import DAY0, token_client
from .test_deviations import _red_deviation

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The deviations here are found at 18:00 on day 0, and accepting a proposal analyses
# its application as of the moment it is accepted: the tests run on that evening.
pytestmark = [
    pytest.mark.usefixtures("meetings_when_ready"),
    pytest.mark.django_db,
    pinned(datetime.combine(DAY0, time(18, 30), tzinfo=SHANGHAI)),
]

ADMIN, SUPERVISOR, MANAGER, STAFF = (
    Role.ADMINISTRATOR,
    Role.SUPERVISOR,
    Role.ACCOUNT_MANAGER,
    Role.DEPARTMENT_STAFF,
)
OUTSIDER = "outsider"
EVERYONE = [ADMIN, SUPERVISOR, MANAGER, STAFF, OUTSIDER]


@pytest.fixture
def client_for(role_users, other_manager):
    users = {**role_users, OUTSIDER: other_manager}
    return lambda role: token_client(users[role])


@pytest.mark.parametrize(
    "role,expected",
    [(ADMIN, 200), (SUPERVISOR, 200), (MANAGER, 200), (STAFF, 200), (OUTSIDER, 404)],
)
@pytest.mark.parametrize("suffix", ["", "transitions/", "schedule/"])
def test_reading_an_application(client_for, application, role, expected, suffix):
    response = client_for(role).get(f"/api/v1/applications/{application.pk}/{suffix}")
    assert response.status_code == expected


@pytest.mark.parametrize(
    "role,expected",
    [(ADMIN, 200), (SUPERVISOR, 200), (MANAGER, 200), (STAFF, 403), (OUTSIDER, 404)],
)
def test_changing_an_application(client_for, application, role, expected):
    response = client_for(role).patch(
        f"/api/v1/applications/{application.pk}/",
        {"requested_capacity_kva": 4000},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert response.status_code == expected
    application.refresh_from_db()
    assert (application.requested_capacity_kva == 4000) is (expected == 200)


@pytest.mark.parametrize(
    "role,expected",
    [(ADMIN, 200), (SUPERVISOR, 200), (MANAGER, 200), (STAFF, 403), (OUTSIDER, 404)],
)
def test_applying_a_transition(client_for, application, role, expected):
    response = client_for(role).post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"transition": "suspend", "note": "客户要求暂缓"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert response.status_code == expected
    application.refresh_from_db()
    assert (application.state == "suspended") is (expected == 200)


@pytest.mark.parametrize(
    "role,expected",
    # A is the marketing department's work; the staff fixture is in operations.
    [(ADMIN, 200), (SUPERVISOR, 200), (MANAGER, 200), (STAFF, 403), (OUTSIDER, 404)],
)
def test_recording_progress(client_for, application, role, expected):
    response = client_for(role).patch(
        f"/api/v1/applications/{application.pk}/activities/A/",
        {"actual_start": str(DAY0)},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    assert response.status_code == expected
    activity = application.activities.get(code="A")
    assert (activity.actual_start == DAY0) is (expected == 200)


@pytest.mark.parametrize(
    "role,expected",
    [(ADMIN, 200), (SUPERVISOR, 200), (MANAGER, 200), (STAFF, 200), (OUTSIDER, 404)],
)
def test_reading_a_deviation(client_for, application, manager, role, expected):
    deviation = _red_deviation(application, manager)
    response = client_for(role).get(f"/api/v1/deviations/{deviation.pk}/")
    assert response.status_code == expected
    listed = client_for(role).get("/api/v1/deviations/").json()["results"]
    assert (deviation.pk in [row["id"] for row in listed]) is (expected == 200)


@pytest.mark.parametrize(
    "role,expected",
    [(ADMIN, 200), (SUPERVISOR, 200), (MANAGER, 200), (STAFF, 403), (OUTSIDER, 404)],
)
def test_acknowledging_a_deviation(client_for, application, manager, role, expected):
    deviation = _red_deviation(application, manager)
    response = client_for(role).post(
        f"/api/v1/deviations/{deviation.pk}/acknowledge/",
        {"cause": "other", "planned_action": "Call the team", "action_due": "2026-12-31"},
        format="json",
    )
    assert response.status_code == expected
    deviation.refresh_from_db()
    assert (deviation.status == "acknowledged") is (expected == 200)


@pytest.mark.parametrize(
    "role,expected",
    [(ADMIN, 200), (SUPERVISOR, 200), (MANAGER, 403), (STAFF, 403), (OUTSIDER, 404)],
)
def test_accepting_a_proposal(client_for, application, manager, role, expected):
    deviation = _red_deviation(application, manager)
    proposal = deviation.proposals.filter(kind="shorten").first()
    response = client_for(role).post(
        f"/api/v1/deviations/{deviation.pk}/proposals/{proposal.pk}/accept/"
    )
    assert response.status_code == expected
    proposal.refresh_from_db()
    assert (proposal.status == "accepted") is (expected == 200)


@pytest.mark.parametrize(
    "role,expected",
    [(ADMIN, 200), (SUPERVISOR, 200), (MANAGER, 200), (STAFF, 403), (OUTSIDER, 404)],
)
def test_dismissing_a_proposal(client_for, application, manager, role, expected):
    deviation = _red_deviation(application, manager)
    proposal = deviation.proposals.first()
    response = client_for(role).post(
        f"/api/v1/deviations/{deviation.pk}/proposals/{proposal.pk}/dismiss/",
        {"reason": "已另行安排"},
        format="json",
    )
    assert response.status_code == expected
    proposal.refresh_from_db()
    assert (proposal.status == "dismissed") is (expected == 200)


@pytest.mark.parametrize("role", EVERYONE)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/applications/",
        "/api/v1/customers/",
        "/api/v1/deviations/",
        "/api/v1/departments/",
        "/api/v1/account-managers/",
        "/api/v1/network-templates/",
        "/api/v1/notifications/",
    ],
)
def test_every_role_may_call_the_lists(client_for, application, role, url):
    assert client_for(role).get(url).status_code == 200


@pytest.mark.parametrize("role", EVERYONE)
def test_every_role_may_ask_the_what_ifs(client_for, role):
    network = {
        "activities": [
            {"id": "A", "duration": 2, "predecessors": []},
            {"id": "B", "duration": 3, "predecessors": ["A"]},
        ]
    }
    client = client_for(role)
    computed = client.post("/api/v1/schedule/compute/", network, format="json")
    assert computed.json()["duration"] == 5
    delayed = client.post(
        "/api/v1/schedule/analyse-delay/?activity=A&delay=1", network, format="json"
    )
    assert delayed.json()["new_duration"] == 6
