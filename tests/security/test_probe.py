"""The outside probe, kept: each finding of the security review replayed over real HTTP
against a live server, as the probe sent it (issue 16). ``make probe`` runs only these.

Some findings need more than one server or a stopped service; they are probed where that
can be arranged and named here with the test that covers them:
- 2 (connections held by the development server): tests/yekuo/test_make_run.py, bursting
  ``make run`` itself;
- 3 (Redis down): tests/api/test_degrade.py;
- 6 (throttle under parallel clients): tests/api/test_throttle.py;
- 7, concurrent creates of one customer: tests/applications/test_concurrency.py.
"""

import csv
import io
import json

import pytest
import requests

from accounts.models import ApiToken, ChangeRecord
from accounts.roles import Role
from accounts.services import api_token_create
from applications.models import Application, Customer
from benchmarks.ladder import ladder
from tests.conftest import load_reference_data
from tests.factories import (
    PASSWORD,
    AccountManagerProfileFactory,
    RegionFactory,
    UserFactory,
    credit_code,
    make_application,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PROBLEM = "application/problem+json"


@pytest.fixture
def office(live_server):
    load_reference_data()
    north, south = RegionFactory(code="north", name="北区"), RegionFactory(code="south")
    supervisor = UserFactory(username="probe-sup", role=Role.SUPERVISOR)
    manager = AccountManagerProfileFactory(user__username="probe-mgr", regions=[north]).user
    manager2 = AccountManagerProfileFactory(user__username="probe-mgr2", regions=[south]).user
    staff = UserFactory(username="probe-staff", role=Role.DEPARTMENT_STAFF)
    theirs = make_application(by=supervisor, manager=manager2, region=south, serial=77)
    Customer.objects.filter(pk=theirs.customer_id).update(contact_phone="13900001111")
    theirs.refresh_from_db()
    return {
        "url": live_server.url,
        "north": north,
        "supervisor": supervisor,
        "manager": manager,
        "manager2": manager2,
        "staff": staff,
        "theirs": theirs,
    }


def api(office, user, scope="write") -> requests.Session:
    session = requests.Session()
    key = api_token_create(user=user, name="probe", scope=scope)[1]
    session.headers.update({"Authorization": f"Token {key}", "Accept-Language": "en"})
    return session


def signed_in(office, user, *, address="127.0.0.1") -> requests.Session:
    session = requests.Session()
    session.get(f"{office['url']}/accounts/login/")
    response = session.post(
        f"{office['url']}/accounts/login/",
        {
            "username": user.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"X-Forwarded-For": address, "Referer": f"{office['url']}/accounts/login/"},
    )
    assert response.status_code == 200 and "/accounts/login/" not in response.url
    return session


def new_application(**changes) -> dict:
    body = {
        "customer": {
            "name": "探针制造有限公司",
            "credit_code": credit_code(4040),
            "region": "north",
            "contact_name": "王工",
            "contact_phone": "13800000000",
        },
        "business_type": "new",
        "customer_class": "hv_single",
        "voltage_class": "10kV",
        "requested_capacity_kva": 1250,
    }
    body.update(changes)
    return body


def test_1_a_ladder_network_answers_at_once_with_a_count(office):
    response = api(office, office["manager"], scope="read").post(
        f"{office['url']}/api/v1/schedule/compute/", json=ladder(20), timeout=10
    )
    assert response.status_code == 200
    assert len(response.content) < 200_000
    body = response.json()
    assert body["critical_path_count"] == 2**20 and body["critical_paths_truncated"] is True


def test_4_scope_holds_on_writes_and_on_contact_details(office):
    manager = api(office, office["manager"])
    response = manager.post(
        f"{office['url']}/api/v1/applications/",
        json=new_application(account_manager=office["manager2"].pk),
        timeout=10,
    )
    assert response.status_code == 403 and response.headers["Content-Type"] == PROBLEM
    theirs = office["theirs"]
    response = manager.post(
        f"{office['url']}/api/v1/applications/",
        json=new_application(customer={"credit_code": theirs.customer.credit_code}),
        timeout=10,
    )
    assert response.status_code in (400, 403)
    assert not Application.objects.filter(account_manager=office["manager"]).exists()
    customer = manager.get(f"{office['url']}/api/v1/customers/{theirs.customer_id}/")
    assert customer.status_code == 404
    # Department staff read what their work needs, never a customer's phone.
    staff = api(office, office["staff"])
    detail = staff.get(f"{office['url']}/api/v1/customers/{theirs.customer_id}/")
    assert detail.status_code == 404 or detail.json()["contact_phone"] is None
    listed = staff.get(f"{office['url']}/api/v1/customers/").json()["results"]
    assert all(row["contact_phone"] is None for row in listed)
    assert theirs.customer.contact_phone not in staff.get(f"{office['url']}/api/v1/customers/").text


def test_5_nobody_can_lock_the_administrator_out_from_elsewhere(office, settings):
    settings.TRUSTED_PROXY_COUNT = 1  # the probe's addresses arrive as a proxy would say
    admin = UserFactory(username="probe-admin", role=Role.ADMINISTRATOR)
    for _ in range(6):
        session = requests.Session()
        session.get(f"{office['url']}/accounts/login/")
        session.post(
            f"{office['url']}/accounts/login/",
            {
                "username": admin.username,
                "password": "wrong",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
            },
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
    signed_in(office, admin, address="198.51.100.7")


def test_7_and_8_bad_input_is_refused_never_a_server_error(office):
    manager = api(office, office["manager"])
    deep = "[" * 100_000 + "]" * 100_000
    response = manager.post(
        f"{office['url']}/api/v1/applications/",
        data=deep,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400 and response.headers["Content-Type"] == PROBLEM
    for day in ("0001-01-01", "1900-01-01"):
        response = manager.post(
            f"{office['url']}/api/v1/applications/",
            json=new_application(accepted_on=day),
            timeout=10,
        )
        assert response.status_code == 400, day
        assert "accepted_on" in response.json()["errors"]
    assert not Customer.objects.filter(name="探针制造有限公司").exists()
    huge = manager.post(
        f"{office['url']}/api/v1/applications/",
        data=b'{"x": "' + b"a" * 3_000_000 + b'"}',
        headers={"Content-Type": "application/json"},
        timeout=20,
    )
    assert huge.status_code == 413 and huge.headers["Content-Type"] == PROBLEM
    supervisor = signed_in(office, office["supervisor"])
    assert supervisor.get(f"{office['url']}/applications/%00/").status_code == 404
    absurd = supervisor.get(
        f"{office['url']}/assessment/", params={"start": "0001-01-01", "end": "9999-12-31"}
    )
    assert absurd.status_code == 400


def test_9_a_formula_in_a_name_is_exported_as_text(office):
    office["manager2"].display_name = '=HYPERLINK("http://x","y")'
    office["manager2"].save()
    supervisor = signed_in(office, office["supervisor"])
    response = supervisor.get(
        f"{office['url']}/assessment/export.csv",
        params={"start": "2026-01-01", "end": "2026-12-31"},
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [row[1] for row in rows if len(row) > 1 and "HYPERLINK" in row[1]]
    assert names == ['\'=HYPERLINK("http://x","y")']  # text, not a formula


def test_10_and_11_headers_defaults_and_the_audit_trail(office):
    manager_session = signed_in(office, office["manager"])
    page = manager_session.get(f"{office['url']}/")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    missing = manager_session.get(f"{office['url']}/no-such-page/")
    assert missing.status_code == 404 and "URLconf" not in missing.text  # DEBUG is off
    ready = requests.get(f"{office['url']}/readyz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert "errors" not in ready.json() or not ready.json()["errors"]
    supervisor = api(office, office["supervisor"])
    theirs = office["theirs"]
    answer = supervisor.get(f"{office['url']}/api/v1/applications/{theirs.pk}/")
    assert "no-store" in answer.headers["Cache-Control"]
    response = supervisor.patch(
        f"{office['url']}/api/v1/applications/{theirs.pk}/",
        json={"requested_capacity_kva": 4000},
        headers={"If-Match": answer.headers["ETag"]},
    )
    assert response.status_code == 200
    record = ChangeRecord.objects.filter(
        table_name="applications_application", row_id=str(theirs.pk)
    ).latest("id")
    assert record.actor_id == office["supervisor"].pk
    assert record.changes["requested_capacity_kva"][1] == 4000
    # Tokens are kept as digests only.
    stored = json.dumps(list(ApiToken.objects.values()), default=str)
    assert supervisor.headers["Authorization"].split()[1] not in stored
