"""The workspace at /: what an account manager or a supervisor answers for."""

import re

import pytest

from accounts.models import Notification
from applications.models import Application
from tests.applications.test_kpi import book  # noqa: F401 (a fixture)
from tests.factories import AccountManagerProfileFactory, make_application
from tests.pages.conftest import open_deviation

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr data-number="([^"]+)">(.*?)</tr>', re.S)


def rows(html: str) -> dict[str, str]:
    return dict(ROW.findall(html))


def text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


@pytest.fixture
def swept(book):  # noqa: F811
    """The book as the sweep leaves it: the application in design is past its plan-reply
    limit, the suspended one at 80 % of a limit."""
    Application.objects.filter(pk=book["desks"]["design"].application.pk).update(
        time_limit_status="exceeded"
    )
    Application.objects.filter(pk=book["desks"]["suspended"].application.pk).update(
        time_limit_status="warning", time_limit_clock="design_review"
    )
    return book


def test_a_manager_sees_his_active_applications_with_their_badges(client, swept):
    client.force_login(swept["manager"])
    html = client.get("/").content.decode()
    listed = rows(html)
    design = swept["desks"]["design"].application
    suspended = swept["desks"]["suspended"].application
    # Active ones only by default; not the colleague's, not the energized or cancelled ones.
    assert set(listed) == {design.number, suspended.number}
    design_row = text(listed[design.number])
    assert f"/applications/{design.number}/" in listed[design.number]
    assert "供电方案设计与答复" in design_row  # the state
    assert "2/8" in design_row  # consultation and survey finished, as the stepper counts
    # The committed date, in Chinese: accepted on Monday 2 March, the plan waits two days
    # for Wednesday's review meeting, and the commitment with it.
    assert "2026年5月19日" in design_row
    assert "供电方案答复时限已超期" in design_row  # the badge names the limit run out
    assert 'class="badge red dev-red"' in listed[design.number]
    assert "红色 1" in design_row
    # The suspended one: amber (acknowledged is still open), progress where it stopped.
    suspended_row = text(listed[suspended.number])
    assert "黄色 1" in suspended_row and "红色" not in suspended_row
    assert "0/8" in suspended_row
    assert "设计审查时限已用去 80%" in suspended_row
    assert "我的业扩申请" in html


def test_a_supervisor_sees_every_application_with_its_manager(client, book, supervisor):  # noqa: F811
    unassigned = make_application(by=supervisor, manager=None)
    client.force_login(supervisor)
    html = client.get("/").content.decode()
    listed = rows(html)
    assert set(listed) == {
        book["desks"]["design"].application.number,
        book["desks"]["suspended"].application.number,
        book["new"].number,
        unassigned.number,
    }
    assert "待分派" in text(listed[unassigned.number])
    assert str(book["colleague"]) in text(listed[book["new"].number])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "all"}, {"design", "suspended", "on_time", "late", "cancelled"}),
        ({"state": "suspended"}, {"suspended"}),
        ({"severity": "red"}, {"design"}),
        ({"severity": "amber"}, {"suspended"}),
        ({"severity": "info"}, set()),  # the only info deviation is resolved
        ({"time_limit": "exceeded"}, {"design"}),
        ({"time_limit": "warning"}, {"suspended"}),
        # Energized ones keep the status of their last analysis: 21 of 25 working days
        # used (a warning), and past the limit.
        ({"time_limit": "ok", "state": "all"}, {"cancelled"}),
        ({"time_limit": "warning", "state": "all"}, {"suspended", "on_time"}),
        ({"time_limit": "exceeded", "state": "all"}, {"design", "late"}),
    ],
)
def test_the_filters(client, swept, query, expected):
    numbers = {name: desk.application.number for name, desk in swept["desks"].items()}
    client.force_login(swept["manager"])
    listed = rows(client.get("/", query).content.decode())
    assert set(listed) == {numbers[name] for name in expected}


def test_search_by_number_customer_name_and_credit_code(client, supervisor, manager):
    first = make_application(by=supervisor, manager=manager)
    second = make_application(by=supervisor, manager=manager)
    client.force_login(manager)
    # A fragment with the dash: the digits alone also occur in credit codes.
    by_number = rows(client.get("/", {"q": first.number[-7:]}).content.decode())
    assert set(by_number) == {first.number}
    by_name = rows(client.get("/", {"q": second.customer.name[2:]}).content.decode())
    assert set(by_name) == {second.number}
    by_code = rows(client.get("/", {"q": first.customer.credit_code.lower()}).content.decode())
    assert set(by_code) == {first.number}
    html = client.get("/", {"q": "没有这个客户"}).content.decode()
    assert rows(html) == {} and "没有符合条件的业扩申请。" in html


def test_a_bad_filter_value_is_shown_beside_its_field_and_the_search_kept(client, manager):
    client.force_login(manager)
    html = client.get("/", {"state": "nonsense", "q": "华东"}).content.decode()
    field = re.search(r'<div class="field has-error">(.*?)</div>', html, re.S).group(1)
    assert 'name="state"' in field and 'aria-invalid="true"' in field
    assert "nonsense" in text(field)  # Django's message names the value
    assert 'id="id_state-error"' in field
    assert 'name="q" value="华东"' in html


def test_pages_of_twenty_five(client, supervisor, manager):
    created = [make_application(by=supervisor, manager=manager) for _ in range(27)]
    client.force_login(manager)
    first = client.get("/").content.decode()
    second = client.get("/", {"page": 2}).content.decode()
    assert len(rows(first)) == 25 and len(rows(second)) == 2
    assert set(rows(first)) | set(rows(second)) == {a.number for a in created}
    assert "第 1 页，共 2 页" in first and 'href="?page=2"' in first


def test_notifications_are_listed_and_marked_read(client, manager, supervisor):
    application = make_application(by=supervisor, manager=manager)
    mine = Notification.objects.create(
        recipient=manager, kind="deviation_red", application=application, text="红色偏差：A"
    )
    theirs = Notification.objects.create(recipient=supervisor, kind="x", text="别人的通知")
    client.force_login(manager)
    html = client.get("/").content.decode()
    assert "红色偏差：A" in html and "别人的通知" not in html
    assert 'aria-label="1 条未读"' in html

    response = client.post(
        "/accounts/notifications/read/",
        {"notification": [mine.pk, theirs.pk, "x"], "next": "/?state=all"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/?state=all"
    assert "已将 1 条通知标为已读。" in response.content.decode()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.is_read and mine.read_at is not None
    assert not theirs.is_read  # nobody marks another person's notifications
    assert "没有未读通知。" in client.get("/").content.decode()


def _applications(n, *, by, manager):
    for _ in range(n):
        application = make_application(by=by, manager=manager)
        open_deviation(application, "A", severity="red")
        Notification.objects.create(
            recipient=manager, kind="x", application=application, text=application.number
        )


@pytest.mark.parametrize("n", [5, 100])
def test_the_workspace_takes_the_same_queries_for_5_and_100(
    client, supervisor, manager, n, django_assert_max_num_queries
):
    _applications(n, by=supervisor, manager=manager)
    AccountManagerProfileFactory()
    for user in (manager, supervisor):
        client.force_login(user)
        client.get("/")  # the calendar is cached per process
        # Up to three of them count the to-do entries beside 待办 in the navigation; two
        # find the search's candidates (applications.search).
        with django_assert_max_num_queries(18):
            response = client.get("/", {"severity": "red", "q": "YK"})
        assert len(rows(response.content.decode())) == min(n, 25)
    assert Application.objects.count() == n


def test_a_province_is_counted_up_to_the_limit_and_every_page_still_reached(
    client, supervisor, manager, settings, monkeypatch
):
    """Beyond API_EXACT_COUNT_LIMIT the workspace does not count every row: on PostgreSQL
    it shows the planner's estimate ("约 …") and pages without a last page; next links
    still reach every application once."""
    from django.db import connection

    from applications import selectors

    monkeypatch.setattr(selectors, "WORKSPACE_PAGE_SIZE", 3)
    settings.API_EXACT_COUNT_LIMIT = 4
    made = {make_application(by=supervisor, manager=manager).number for _ in range(7)}
    client.force_login(supervisor)
    html = client.get("/").content.decode()
    if connection.vendor == "postgresql":
        assert re.search(r"约 \d+ 项", html)
        assert "第 1 页</span>" in html and "共 " not in html.split("第 1 页")[1][:20]
    else:  # the embedded database counts exactly: it is small by nature
        assert "共 7 项" in html and "第 1 页，共 3 页" in html
    seen, url = [], "/"
    while url:
        html = client.get(url).content.decode()
        seen += list(rows(html))
        found = re.search(r'href="\?(page=\d+)" rel="next"', html)
        url = f"/?{found.group(1)}" if found else None
    assert sorted(seen) == sorted(made)
    # A page past the end (a link kept from a longer list) shows the first page.
    assert set(rows(client.get("/?page=99").content.decode())) <= made
    assert client.get("/?page=99").status_code == 200
