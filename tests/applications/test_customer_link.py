"""The customer's progress link: signed, expiring, revocable; a read-only page in Chinese
with nothing internal; the customer's word reaching the account manager's to-do."""

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.core.cache import cache

from accounts.models import Department, Notification
from applications import customer_links, todo
from applications.models import Application, CustomerLink, CustomerLinkVisit
from tests.dates import SHANGHAI
from tests.factories import make_application
from yekuo.errors import NotPermitted

DAY0 = date(2026, 3, 2)
NOON = datetime(2026, 3, 4, 12, tzinfo=SHANGHAI)

# Two days after acceptance: the link made then (for CUSTOMER_LINK_DAYS) works.
pytestmark = [
    pytest.mark.usefixtures("meetings_when_ready"),
    pytest.mark.django_db,
    pytest.mark.time_machine(NOON, tick=False),
]
# What the customer must never see: the utility's analysis and its inside.
INTERNAL = ["时差", "浮动", "关键路径", "TF", "FF", "偏差", "纠偏", "部门", "sweep", "版本"]


@pytest.fixture(autouse=True)
def _fresh_rate_counts():
    """Every test here runs in the same minute: the counts of the rate limit start at 0."""
    cache.clear()


@pytest.fixture
def application(supervisor, manager):
    manager.display_name = "张敏"
    manager.phone = "0571-88886666"
    manager.save()
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def path_of(application) -> str:
    return customer_links.current_link_path(application.pk)


def open_page(client, path, **extra):
    return client.get(path, HTTP_USER_AGENT="Mozilla/5.0 (iPhone)", **extra)


def test_acceptance_makes_a_link_whose_page_shows_the_customer_its_application(
    client, application, supervisor
):
    other = make_application(by=supervisor, accepted_on=DAY0)
    response = open_page(client, path_of(application))

    assert response.status_code == 200
    html = response.content.decode()
    assert application.number in html and application.customer.name in html
    assert "2026年" in html  # dates in Chinese
    assert "张敏" in html and "0571-88886666" in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex, nofollow">' in html
    # Nothing internal, nobody else.
    text = re.sub(r"<[^>]+>", " ", html)
    for word in INTERNAL:
        assert word not in text, word
    for name in Department.objects.values_list("name", flat=True):
        assert name not in text, name
    assert other.number not in html and other.customer.name not in html
    # The opening is on record, with where from.
    visit = CustomerLinkVisit.objects.get(application=application)
    assert (visit.kind, visit.ip_address, visit.user_agent) == (
        "opened",
        "127.0.0.1",
        "Mozilla/5.0 (iPhone)",
    )


def test_a_tampered_or_unknown_link_is_not_found(client, application):
    path = path_of(application)
    token = path.strip("/").split("/")[-1]
    forged = signing.Signer(salt=customer_links.SALT, key="not-our-key").sign(
        signing.Signer(salt=customer_links.SALT).unsign(token)
    )
    for bad in (
        path.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B")),
        path.replace(token, forged),
        "/c/1.abc:xyz/",
    ):
        response = open_page(client, bad)
        assert response.status_code == 404
        assert "此链接无效" in response.content.decode()
    assert not CustomerLinkVisit.objects.exists()


def test_a_revoked_or_expired_link_no_longer_opens(client, application, manager):
    path = path_of(application)
    link = CustomerLink.objects.get(application=application)
    customer_links.customer_link_revoke(link_id=link.pk, by=manager)
    response = open_page(client, path)
    assert response.status_code == 410
    assert "此链接已失效" in response.content.decode()

    fresh = customer_links.customer_link_create(application_id=application.pk, by=manager, days=1)
    with time_machine.travel(fresh.expires_at + timedelta(minutes=1), tick=False):
        response = open_page(client, customer_links.link_path(fresh))
    assert response.status_code == 410
    assert "此链接已过期" in response.content.decode()
    assert list(CustomerLinkVisit.objects.order_by("pk").values_list("kind", "note")) == [
        ("refused", "revoked"),
        ("refused", "expired"),
    ]


def test_only_the_manager_or_a_supervisor_makes_or_revokes_links(application, staff):
    with pytest.raises(NotPermitted, match=application.number):
        customer_links.customer_link_create(application_id=application.pk, by=staff)
    link = CustomerLink.objects.get(application=application)
    with pytest.raises(NotPermitted, match=application.number):
        customer_links.customer_link_revoke(link_id=link.pk, by=staff)
    assert CustomerLink.objects.get(pk=link.pk).revoked_at is None


def in_construction(application):
    """Skip the stages before the customer's construction (their own tests walk them)."""
    Application.objects.filter(pk=application.pk).update(state="construction")


def test_nothing_to_say_before_the_construction_stage(client, application):
    path = path_of(application)
    assert "我方工程已完工" not in open_page(client, path).content.decode()
    response = client.post(f"{path}request/", {"kind": "construction_finished"})
    assert response.status_code == 400
    assert not CustomerLinkVisit.objects.exclude(kind="opened").exists()


def test_the_customers_word_reaches_the_managers_to_do_once(client, application, manager):
    in_construction(application)
    path = path_of(application)
    assert "我方工程已完工" in open_page(client, path).content.decode()
    response = client.post(
        f"{path}request/", {"kind": "construction_finished", "note": "配电房已完工"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?sent=construction_finished")
    page = open_page(client, response["Location"]).content.decode()
    assert "已告知您的客户经理" in page
    # Said twice before it is confirmed: once.
    client.post(f"{path}request/", {"kind": "construction_finished"})
    (said,) = CustomerLinkVisit.objects.filter(kind="construction_finished")
    assert said.note == "配电房已完工"
    notice = Notification.objects.get(recipient=manager, kind="customer_request")
    assert application.number in notice.text and "配电房已完工" in notice.text

    (row,) = todo.manager_todo(manager)
    assert row.application == application
    assert any("customer says" in r or "客户" in r for r in row.reasons)

    customer_links.customer_request_confirm(visit_id=said.pk, by=manager)
    assert todo.manager_todo(manager) == [] or all(
        not any("customer says" in r or "客户告知" in r for r in row.reasons)
        for row in todo.manager_todo(manager)
    )


def test_a_request_the_page_does_not_offer_is_refused_next_to_nothing_stored(client, application):
    response = client.post(f"{path_of(application)}request/", {"kind": "energize_now"})
    assert response.status_code == 400
    assert "请选择要告知客户经理的事项" in response.content.decode()
    assert not CustomerLinkVisit.objects.exclude(kind="opened").exists()
    assert not Notification.objects.filter(kind="customer_request").exists()


def test_too_many_requests_from_one_address_are_refused(client, application, settings):
    settings.CUSTOMER_PAGE_RATE = 2
    path = path_of(application)
    statuses = [open_page(client, path).status_code for _n in range(3)]
    assert statuses == [200, 200, 429]


def test_the_receipt_carries_the_links_qr_code(client, application, manager):
    client.force_login(manager)
    html = client.get(f"/applications/{application.number}/receipt/").content.decode()
    assert 'id="receipt-link"' in html and "<svg" in html
    assert path_of(application) in html


def test_the_manager_revokes_and_makes_links_on_their_page(client, application, manager):
    client.force_login(manager)
    url = f"/applications/{application.number}/customer-links/"
    page = client.get(url).content.decode()
    assert path_of(application) in page
    link = CustomerLink.objects.get(application=application)
    client.post(url, {"action": "revoke", "link": link.pk})
    assert CustomerLink.objects.get(pk=link.pk).revoked_at is not None
    assert path_of(application) is None
    client.post(url, {"action": "new"})
    assert path_of(application) is not None
    assert CustomerLink.objects.filter(application=application).count() == 2
