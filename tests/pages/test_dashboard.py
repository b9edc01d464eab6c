"""The supervisors' dashboard at /dashboard/: figures, deviations, charts, assignment."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.models import Department
from accounts.roles import Role
from applications import assignment, dashboard_counts, services
from applications.models import Application, AssignmentChange, KpiScope, KpiSnapshot
from tests.dates import TODAY, day_of_note, on_days_of_note, pin_today
from tests.factories import (
    AccountManagerProfileFactory,
    RegionFactory,
    UserFactory,
    make_application,
    store_risk,
)
from tests.pages.conftest import open_deviation

pytestmark = [pytest.mark.django_db, pin_today]

DEVIATION_ROW = re.compile(r'<tr class="sev-(\w+)" data-number="([^"]+)">(.*?)</tr>', re.S)


def deviation_rows(html):
    table = re.search(r'<table class="table" id="deviation-table">.*?</table>', html, re.S)
    return [(sev, number) for sev, number, _row in DEVIATION_ROW.findall(table.group(0))]


def kpi(html, name):
    card = re.search(rf'<div class="kpi[^"]*" id="kpi-{name}">(.*?)</div>', html, re.S).group(1)
    return re.search(r'<span class="value">([^<]*)</span>', card).group(1)


def field_block(html, name, *, within=None):
    if within:
        html = re.search(rf'id="{within}".*?</section>', html, re.S).group(0)
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, re.S):
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name}")


def snapshot(manager, day, cycle):
    """Store a manager's nightly snapshot of ``day`` with two applications finished."""
    return KpiSnapshot.objects.create(
        day=day,
        scope=KpiScope.MANAGER,
        manager=manager,
        active=1,
        finished=2,
        on_time=1,
        average_cycle_days=cycle,
        average_utility_days="10.00",
        deviations_red=0,
        deviations_amber=0,
        deviations_info=0,
        limits_exceeded=0,
    )


def trend_rows(trend):
    """Return the trend table's rows as (month, average cycle)."""
    return re.findall(r'<tr><th scope="row">([^<]*)</th><td>\d+</td><td>([^<]*)</td>', trend)


@pytest.fixture
def region():
    return RegionFactory(code="xihu", name="西湖供电区")


@pytest.fixture
def board(supervisor, manager, region):
    """Three applications of two managers with deviations held by two departments."""
    manager.account_manager.regions.set([region])
    other = AccountManagerProfileFactory(
        user__username="lisi", user__display_name="李四", regions=[region]
    ).user
    first = make_application(by=supervisor, manager=manager, region=region)
    second = make_application(by=supervisor, manager=other)
    third = make_application(by=supervisor, manager=other)
    open_deviation(first, "F", severity="red", delay=5)  # 发展策划部, design
    open_deviation(second, "B", severity="red", delay=2)  # 营销部, consultation
    open_deviation(second, "J", severity="amber", delay=3)  # 运维检修部, construction
    open_deviation(third, "E", severity="info", delay=1)
    open_deviation(third, "A", severity="red", status="resolved")
    return {"first": first, "second": second, "third": third, "other": other}


def test_only_supervisors_and_administrators_open_the_dashboard(client, role_users):
    for role, status in [
        (Role.ACCOUNT_MANAGER, 403),
        (Role.DEPARTMENT_STAFF, 403),
        (Role.SUPERVISOR, 200),
        (Role.ADMINISTRATOR, 200),
    ]:
        client.force_login(role_users[role])
        assert client.get("/dashboard/").status_code == status, role


def test_the_key_figures(client, supervisor, board):
    unassigned = make_application(by=supervisor, manager=None)
    # As the sweep stores its time-limit readings, counted as it counts them.
    with dashboard_counts.tracked([board["first"].pk, board["second"].pk]):
        Application.objects.filter(pk=board["first"].pk).update(time_limit_status="exceeded")
        Application.objects.filter(pk=board["second"].pk).update(time_limit_status="warning")
    client.force_login(supervisor)
    html = client.get("/dashboard/").content.decode()
    assert kpi(html, "active") == "4"
    assert kpi(html, "red") == "2"  # the resolved one is not counted
    assert kpi(html, "amber") == "1"
    assert kpi(html, "alarms") == "1"  # past a limit; the one at 80 % is a warning
    assert kpi(html, "unassigned") == "1"
    assert kpi(html, "on-time") == "—"  # nothing energized in the last 30 days
    assert unassigned.number in re.search(r'id="unassigned".*?</table>', html, re.S).group(0)


def section(html, id_):
    return re.search(rf'id="{id_}".*?</table>', html, re.S).group(0)


def test_the_cached_parts_show_every_change_at_the_next_request(
    client, supervisor, manager, board, settings
):
    """As served (fragments from the cache, not rendered again to compare): what changed
    in the rows is on the next page, with nothing invalidated by hand."""
    settings.FRAGMENT_CACHE_CHECK = False
    waiting = make_application(by=supervisor, manager=None, region=board["first"].region)
    client.force_login(supervisor)
    for _ in range(2):  # the second is served from the cache
        html = client.get("/dashboard/").content.decode()
    row = re.search(rf'data-number="{board["first"].number}">.*?</tr>', html, re.S).group(0)
    assert '<td class="num">5</td>' in row
    assert waiting.number in section(html, "unassigned")
    managers = section(html, "managers")
    assert "李四" in managers and '<td class="num">10</td>' not in managers

    board["first"].activities.get(code="F").deviations.update(delay=7)
    board["first"].customer.name = "改名后的客户"
    board["first"].customer.save(update_fields=["name"])
    assignment.account_manager_assign(application_id=waiting.pk)
    board["other"].account_manager.capacity = 10
    board["other"].account_manager.save(update_fields=["capacity"])
    html = client.get("/dashboard/").content.decode()

    row = re.search(rf'data-number="{board["first"].number}">.*?</tr>', html, re.S).group(0)
    assert '<td class="num">7</td>' in row and "改名后的客户" in row
    assert waiting.number not in section(html, "unassigned")
    assert '<td class="num">10</td>' in section(html, "managers")


def test_the_deviation_table_lists_open_deviations_most_severe_first(client, supervisor, board):
    client.force_login(supervisor)
    html = client.get("/dashboard/").content.decode()
    assert deviation_rows(html) == [
        ("red", board["first"].number),  # delay 5
        ("red", board["second"].number),  # delay 2
        ("amber", board["second"].number),
        ("info", board["third"].number),
    ]
    assert f'href="/applications/{board["first"].number}/"' in html
    # The explanation, rendered from the row's facts (F is critical, 5 days late).
    assert "供电方案设计拖延5个工作日，是关键工作，紧后工作最早开始推迟5个工作日" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"severity": "red"}, [("red", "first"), ("red", "second")]),
        ({"stage": "construction"}, [("amber", "second")]),
        ({"manager": "other"}, [("red", "second"), ("amber", "second"), ("info", "third")]),
        ({"region": "xihu"}, [("red", "first")]),
        ({"department": "planning"}, [("red", "first")]),
        ({"sort": "-delay"}, [("red", "first"), ("amber", "second"), ("red", "second")]),
        ({"severity": "red", "sort": "application"}, [("red", "first"), ("red", "second")]),
    ],
)
def test_the_deviation_filters_and_sort(client, supervisor, board, region, query, expected):
    params = dict(query)
    if "manager" in params:
        params["manager"] = board["other"].pk
    if "region" in params:
        params["region"] = region.pk
    if "department" in params:
        params["department"] = Department.objects.get(code=params["department"]).pk
    client.force_login(supervisor)
    html = client.get("/dashboard/", params).content.decode()
    rows = deviation_rows(html)
    if query.get("sort") == "-delay":
        rows = rows[:3]
    assert rows == [(sev, board[name].number) for sev, name in expected]


def answer_board(board, by):
    """Answer two of the board's deviations: F (first) for materials, the customer's J."""
    first = board["first"].deviations.get(activity__code="F")
    j = board["second"].deviations.get(activity__code="J")
    services.deviation_acknowledge(
        deviation_id=first.pk,
        cause="materials",
        planned_action="Second supplier",
        action_due=TODAY,
        by=by,
    )
    services.deviation_acknowledge(
        deviation_id=j.pk,
        cause="customer-not-ready",
        responsible_party="customer",
        party_reason="The customer's trench is not dug.",
        planned_action="Visit the site",
        action_due=TODAY,
        by=by,
    )


def counts(html, table_id):
    table = re.search(rf'<table class="table" id="{table_id}">.*?</table>', html, re.S).group(0)
    return re.findall(r'<tr><th scope="row">([^<]*)</th><td>(\d+)</td><td>(\d+)</td></tr>', table)


def test_the_deviations_by_cause_and_party(client, supervisor, board):
    answer_board(board, supervisor)
    client.force_login(supervisor)
    html = client.get("/dashboard/").content.decode()
    # Four unresolved deviations: two answered, two still open (not answered).
    assert counts(html, "counts-by-cause") == [
        ("客户原因未就绪", "0", "1"),
        ("物资供应", "0", "1"),
        ("未答复", "2", "0"),
    ]
    assert counts(html, "counts-by-party") == [
        ("未答复", "2", "0"),
        ("客户方", "0", "1"),
        ("发展策划部", "0", "1"),
    ]
    html = client.get("/dashboard/", {"cause": "materials"}).content.decode()
    assert deviation_rows(html) == [("red", board["first"].number)]
    assert counts(html, "counts-by-cause") == [("物资供应", "0", "1")]
    html = client.get("/dashboard/", {"party": "customer"}).content.decode()
    assert deviation_rows(html) == [("amber", board["second"].number)]
    assert counts(html, "counts-by-party") == [("客户方", "0", "1")]
    # In English, the causes and departments go by their English names.
    client.cookies["django_language"] = "en"
    html = client.get("/dashboard/").content.decode()
    assert '<option value="materials">Materials supply</option>' in html
    assert ("Materials supply", "0", "1") in counts(html, "counts-by-cause")
    assert ("Not answered", "2", "0") in counts(html, "counts-by-party")


def test_a_bad_filter_is_shown_beside_its_field_with_the_rest_kept(client, supervisor, board):
    client.force_login(supervisor)
    response = client.get("/dashboard/", {"severity": "purple", "stage": "design"})
    html = response.content.decode()
    block = field_block(html, "severity")
    assert 'aria-invalid="true"' in block and "purple" in block
    assert '<option value="design" selected>' in field_block(html, "stage")


def test_the_charts_show_who_holds_the_work(client, supervisor, board):
    manager = board["first"].account_manager
    # Nightly snapshots: two past months' on their 10th, this month's today (the newest
    # there can be).
    snapshots = [(date(2026, 9, 10), "40.00"), (date(2026, 10, 10), "30.00"), (TODAY, "20.00")]
    for day, cycle in snapshots:
        snapshot(manager, day, cycle)
    client.force_login(supervisor)
    html = client.get("/dashboard/").content.decode()
    departments = re.search(r'id="chart-departments".*?</section>', html, re.S).group(0)
    assert "<title>发展策划部：1</title>" in departments  # one red bar segment
    assert "<title>运维检修部：1</title>" in departments
    stages = re.search(r'id="chart-stages".*?</section>', html, re.S).group(0)
    assert '<th scope="row">环节</th>' not in stages
    assert re.search(r'<th scope="row">受电工程施工与检验</th><td>0</td><td>1</td>', stages)
    trend = re.search(r'id="chart-trend".*?</section>', html, re.S).group(0)
    assert trend.count('class="line-cycle"><title>') == 3
    assert trend_rows(trend) == [
        ("2026年9月", "40.00"),
        ("2026年10月", "30.00"),
        ("2026年11月", "20.00"),
    ]
    workload = re.search(r'id="chart-workload".*?</section>', html, re.S).group(0)
    assert f"{manager}" in workload and ">1/20<" in workload  # one active of capacity 20


@pytest.mark.parametrize(
    ("now", "months"),
    [
        day_of_note("year-end", ["2026年1月", "2026年12月"]),
        day_of_note("new-year", ["2026年2月", "2027年1月"]),
        day_of_note("spring-festival", ["2026年3月", "2027年2月"]),
        day_of_note("month-first", ["2026年4月", "2027年3月"]),
        day_of_note("month-last", ["2026年4月", "2027年3月"]),
    ],
)
def test_the_trend_shows_the_twelve_months_to_this_one_by_their_last_snapshot(
    client, supervisor, manager, now, months
):
    today = now.date()
    firsts = [today.replace(day=1)]
    for _month in range(12):
        firsts.append((firsts[-1] - timedelta(days=1)).replace(day=1))
    # Each month's first night and its last (this month's: tonight); one month too many.
    for back, first in enumerate(firsts):
        last = today if back == 0 else (firsts[back - 1] - timedelta(days=1))
        if first != last:
            snapshot(manager, first, "99.00")
        snapshot(manager, last, f"{back + 10}.00")
    client.force_login(supervisor)
    html = client.get("/dashboard/").content.decode()
    trend = re.search(r'id="chart-trend".*?</section>', html, re.S).group(0)
    rows = trend_rows(trend)
    assert [rows[0][0], rows[-1][0]] == months
    assert len(rows) == 12 and trend.count('class="line-cycle"><title>') == 12
    # Oldest first, each from the month's last snapshot: this month's is tonight's.
    assert [cycle for _month, cycle in rows] == [f"{back + 10}.00" for back in range(11, -1, -1)]


@on_days_of_note
def test_on_time_counts_the_thirty_days_ending_today(client, supervisor, manager, now):
    # Energized now, a day after its committed finish; 29 days ago on its committed
    # finish (the window's first day); 30 days ago (outside the window).
    for days_ago, days_late in ((0, 1), (29, 0), (30, 0)):
        application = make_application(by=supervisor, manager=manager)
        energized = now - timedelta(days=days_ago)
        # Counted as the energize transition counts it.
        with dashboard_counts.tracked([application.pk]):
            Application.objects.filter(pk=application.pk).update(
                state="energized",
                energized_at=energized,
                committed_finish_date=energized.date() - timedelta(days=days_late),
            )
            dashboard_counts.energized([application.pk])
    client.force_login(supervisor)
    assert kpi(client.get("/dashboard/").content.decode(), "on-time") == "50%"


def test_a_supervisor_assigns_from_the_unassigned_queue(client, supervisor, region):
    waiting = make_application(by=supervisor, manager=None, region=region)
    profile = AccountManagerProfileFactory(user__display_name="赵六")
    profile.regions.set([region])
    client.force_login(supervisor)
    response = client.post("/dashboard/assign/", {"application": waiting.pk}, follow=True)
    assert "已分派客户经理。" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.account_manager == profile.user
    assert AssignmentChange.objects.get(application=waiting).to_manager == profile.user


def test_assign_with_nobody_eligible_says_so(client, supervisor):
    waiting = make_application(by=supervisor, manager=None)
    client.force_login(supervisor)
    response = client.post("/dashboard/assign/", {"application": waiting.pk}, follow=True)
    assert "没有符合条件的客户经理" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.account_manager is None


def test_a_supervisor_reassigns_with_a_reason(client, supervisor, board):
    application = board["first"]
    client.force_login(supervisor)
    response = client.post(
        "/dashboard/reassign/",
        {
            "application": application.number.lower(),
            "manager": board["other"].pk,
            "reason": "原客户经理休假",
        },
        follow=True,
    )
    assert f"{application.number} 已改由 李四 负责。" in response.content.decode()
    application.refresh_from_db()
    assert application.account_manager == board["other"]
    change = AssignmentChange.objects.get(application=application)
    assert (change.by, change.reason) == (supervisor, "原客户经理休假")


def test_reassign_with_bad_input_shows_each_message_beside_its_field(client, supervisor, board):
    client.force_login(supervisor)
    response = client.post(
        "/dashboard/reassign/",
        {"application": "YK-2099-999999", "manager": board["other"].pk, "reason": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "不存在业扩申请 YK-2099-999999。" in field_block(html, "application", within="reassign")
    assert 'value="YK-2099-999999"' in field_block(html, "application", within="reassign")
    assert "请说明改派原因。" in field_block(html, "reason", within="reassign")
    assert f'<option value="{board["other"].pk}" selected>' in field_block(
        html, "manager", within="reassign"
    )

    # The service's own check: the manager already holds it.
    response = client.post(
        "/dashboard/reassign/",
        {"application": board["second"].number, "manager": board["other"].pk, "reason": "调整"},
    )
    assert response.status_code == 400
    assert "李四 已是该申请的客户经理。" in field_block(
        response.content.decode(), "manager", within="reassign"
    )
    assert not AssignmentChange.objects.exists()


def test_people_without_the_permission_see_no_buttons_and_are_refused(client, manager, board):
    watcher = UserFactory(username="watcher")
    watcher.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(watcher)
    html = client.get("/dashboard/").content.decode()
    assert 'id="reassign"' not in html and "/dashboard/assign/" not in html
    assert "reassign-link" not in html
    application = board["first"]
    response = client.post(
        "/dashboard/reassign/",
        {"application": application.number, "manager": board["other"].pk, "reason": "想改"},
        follow=True,
    )
    assert "只有分管领导可以分派和改派客户经理。" in response.content.decode()
    assert response.redirect_chain[-1][0] == "/dashboard/"

    client.force_login(manager)
    response = client.post("/dashboard/assign/", {"application": application.pk}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "只有分管领导可以分派和改派客户经理。" in response.content.decode()
    application.refresh_from_db()
    assert application.account_manager == manager
    assert not AssignmentChange.objects.exists()


@pytest.mark.parametrize("n", [5, 100])
def test_the_dashboard_takes_the_same_queries_for_5_and_100(
    client, supervisor, manager, region, n, django_assert_max_num_queries
):
    for i in range(n):
        application = make_application(
            by=supervisor, manager=manager if i % 3 else None, region=region
        )
        open_deviation(application, "BF"[i % 2], severity=["red", "amber", "info"][i % 3])
    today = timezone.localdate()
    Application.objects.filter(pk__in=Application.objects.values("pk")[:3]).update(
        energized_at=timezone.now() - timedelta(days=2)
    )
    KpiSnapshot.objects.create(
        day=date(today.year, today.month, 1),
        scope=KpiScope.MANAGER,
        manager=manager,
        active=1,
        finished=1,
        on_time=1,
        deviations_red=0,
        deviations_amber=0,
        deviations_info=0,
        limits_exceeded=0,
    )
    client.force_login(supervisor)
    client.get("/dashboard/")  # the calendar is cached per process
    # 22 (the fullest managers read apart from the capacities of all), and the names of
    # the causes and departments answering for the deviations: the cards, the charts and
    # the answer tables are sums of the maintained counts; 2 for the applications at risk
    # and the activities driving their risk; 1 for the busiest crews.
    with django_assert_max_num_queries(26):
        response = client.get("/dashboard/", {"severity": "red"})
    assert len(deviation_rows(response.content.decode())) == min((n + 2) // 3, 25)
    with django_assert_max_num_queries(26):
        response = client.get("/dashboard/", {"severity": "red", "region": region.pk})
    assert len(deviation_rows(response.content.decode())) == min((n + 2) // 3, 25)


def test_the_cards_are_exact_at_every_request(client, supervisor, region):
    waiting = make_application(by=supervisor, manager=None, region=region)
    AccountManagerProfileFactory().regions.set([region])
    client.force_login(supervisor)
    assert kpi(client.get("/dashboard/").content.decode(), "unassigned") == "1"
    make_application(by=supervisor, manager=None, region=region)
    html = client.get("/dashboard/").content.decode()
    assert kpi(html, "unassigned") == "2"
    assert kpi(html, "active") == "2"
    client.post("/dashboard/assign/", {"application": waiting.pk})
    assert kpi(client.get("/dashboard/").content.decode(), "unassigned") == "1"


# --- Reassignment by hand: the checks of automatic assignment -------------------------------


@pytest.fixture
def outsider(db):
    """An account manager of another region, with room."""
    elsewhere = RegionFactory(code="gongshu", name="拱墅供电区")
    return AccountManagerProfileFactory(
        user__username="wangwu", user__display_name="王五", regions=[elsewhere]
    ).user


def test_reassignment_outside_the_region_is_refused_beside_the_manager(
    client, supervisor, board, outsider
):
    application = board["first"]
    client.force_login(supervisor)
    response = client.post(
        "/dashboard/reassign/",
        {"application": application.number, "manager": outsider.pk, "reason": "原客户经理休假"},
    )
    assert response.status_code == 400
    block = field_block(response.content.decode(), "manager", within="reassign")
    assert "王五 不负责西湖供电区。" in block
    assert "如仍要交给 王五，请勾选“越过分派检查”并说明理由。" in block
    application.refresh_from_db()
    assert (application.account_manager, application.version) == (board["first"].account_manager, 1)
    assert not AssignmentChange.objects.exists()


def test_a_manager_at_capacity_is_refused_and_the_table_says_why(
    client, supervisor, board, region, django_assert_max_num_queries
):
    full = AccountManagerProfileFactory(
        user__username="zhaoliu", user__display_name="赵六", regions=[region], capacity=1
    ).user
    make_application(by=supervisor, manager=full, region=region)
    application = board["first"]
    client.force_login(supervisor)
    client.get("/dashboard/")  # the calendar is cached
    # 26 as filtered above, and 6 for the chosen application and its candidates (their
    # profiles with loads, and their regions).
    with django_assert_max_num_queries(32):
        html = client.get("/dashboard/", {"reassign": application.number}).content.decode()
    table = re.search(r'<table class="table" id="reassign-candidates">.*?</table>', html, re.S)
    rows = dict(re.findall(r'<tr data-manager="([^"]+)">(.*?)</tr>', table.group(0), re.S))
    assert "1/1" in rows["zhaoliu"] and "赵六 的工作量已满：1/1。" in rows["zhaoliu"]
    assert "符合条件" in rows["lisi"]
    response = client.post(
        "/dashboard/reassign/",
        {"application": application.number, "manager": full.pk, "reason": "调整"},
    )
    assert "赵六 的工作量已满：1/1。" in field_block(
        response.content.decode(), "manager", within="reassign"
    )
    assert not AssignmentChange.objects.exists()


def test_a_supervisor_overrides_with_a_reason_shown_in_the_history(
    client, supervisor, board, outsider
):
    application = board["first"]
    client.force_login(supervisor)
    data = {
        "application": application.number,
        "manager": outsider.pk,
        "reason": "原客户经理休假",
        "override": "on",
    }
    response = client.post("/dashboard/reassign/", data)
    assert "请说明越过检查的理由。" in field_block(
        response.content.decode(), "override_reason", within="reassign"
    )
    assert not AssignmentChange.objects.exists()

    response = client.post(
        "/dashboard/reassign/", {**data, "override_reason": "王五熟悉该客户的项目"}, follow=True
    )
    assert f"{application.number} 已改由 王五 负责。" in response.content.decode()
    change = AssignmentChange.objects.get(application=application)
    assert (change.is_override, change.overridden_checks, change.override_reason) == (
        True,
        ["region"],
        "王五熟悉该客户的项目",
    )
    html = client.get(f"/applications/{application.number}/").content.decode()
    history = re.search(r'<ol class="timeline" id="assignments".*?</ol>', html, re.S).group(0)
    assert "王五" in history and "已越过检查" in history
    assert "越过的检查：供电区域。理由：王五熟悉该客户的项目" in history


def test_without_the_supervise_permission_nobody_is_offered_an_override(client, board, outsider):
    assigner = UserFactory(username="assigner")
    assigner.user_permissions.add(
        Permission.objects.get(codename="view_dashboard"),
        Permission.objects.get(codename="assign_account_manager"),
    )
    client.force_login(assigner)
    html = client.get("/dashboard/", {"reassign": board["first"].number}).content.decode()
    assert 'name="override"' not in html and 'name="override_reason"' not in html
    response = client.post(
        "/dashboard/reassign/",
        {
            "application": board["first"].number,
            "manager": outsider.pk,
            "reason": "调整",
            "override": "on",
            "override_reason": "我说了算",
        },
    )
    assert response.status_code == 400
    block = field_block(response.content.decode(), "manager", within="reassign")
    assert "王五 不负责西湖供电区。" in block and "越过分派检查" not in block
    assert not AssignmentChange.objects.exists()


def test_after_a_reassignment_the_list_keeps_its_filters(client, supervisor, board):
    client.force_login(supervisor)
    html = client.get("/dashboard/", {"severity": "red", "sort": "-delay"}).content.decode()
    link = re.search(r'<td class="nowrap"><a href="([^"]+)" class="reassign-link nowrap">', html)
    assert link.group(1).replace("&amp;", "&") == (
        f"?severity=red&sort=-delay&reassign={board['first'].number}#reassign"
    )
    html = client.get(
        "/dashboard/", {"severity": "red", "sort": "-delay", "reassign": board["first"].number}
    ).content.decode()
    assert 'name="next" value="severity=red&amp;sort=-delay"' in html
    response = client.post(
        "/dashboard/reassign/",
        {
            "application": board["first"].number,
            "manager": board["other"].pk,
            "reason": "原客户经理休假",
            "next": "severity=red&sort=-delay",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/?severity=red&sort=-delay"
    # Refused, the form is shown again over the list as it was filtered.
    response = client.post(
        "/dashboard/reassign/",
        {"application": board["second"].number, "manager": "", "next": "severity=amber"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert '<option value="amber" selected>' in html
    assert deviation_rows(html) == [("amber", board["second"].number)]


def test_a_next_that_leaves_the_dashboard_is_not_followed(client, supervisor, board):
    client.force_login(supervisor)
    response = client.post(
        "/dashboard/reassign/",
        {
            "application": board["first"].number,
            "manager": board["other"].pk,
            "reason": "原客户经理休假",
            "next": "#//evil.example/",
        },
    )
    assert response["Location"] == "/dashboard/"


def test_reassigning_twenty_minutes_after_sign_in_asks_for_the_password_first(
    client, supervisor, board, password
):
    application = board["first"]
    reassignment = {
        "application": application.number,
        "manager": board["other"].pk,
        "reason": "原客户经理休假",
    }
    signed_in = timezone.now()
    client.force_login(supervisor)
    with time_machine.travel(signed_in + timedelta(minutes=20), tick=False):
        response = client.post(
            "/dashboard/reassign/", reassignment, HTTP_REFERER="http://testserver/dashboard/"
        )
        assert response.status_code == 302
        assert response["Location"] == "/accounts/password/confirm/?next=%2Fdashboard%2F"
        application.refresh_from_db()
        assert application.account_manager == board["first"].account_manager
        assert not AssignmentChange.objects.exists()

        page = client.get(response["Location"])
        assert "<h1>确认密码</h1>" in page.content.decode()
        wrong = client.post(response["Location"], {"password": "wrong", "next": "/dashboard/"})
        assert wrong.status_code == 400 and "密码不正确。" in wrong.content.decode()
        confirmed = client.post(response["Location"], {"password": password, "next": "/dashboard/"})
        assert confirmed.status_code == 302 and confirmed["Location"] == "/dashboard/"

        response = client.post("/dashboard/reassign/", reassignment, follow=True)
    assert f"{application.number} 已改由 李四 负责。" in response.content.decode()
    application.refresh_from_db()
    assert application.account_manager == board["other"]


# --- A province's staff ---------------------------------------------------------------------


def test_the_workload_shows_the_fullest_managers_and_how_many_are_over(
    client, supervisor, board, monkeypatch
):
    from supervision import selectors as supervision_selectors

    # 李四 holds two of capacity 1: over; the manager one of 20; a third holds none.
    board["other"].account_manager.capacity = 1
    board["other"].account_manager.save()
    idle = AccountManagerProfileFactory(user__username="wangwu", user__display_name="王五").user
    monkeypatch.setattr(supervision_selectors, "MANAGERS_SHOWN", 2)
    client.force_login(supervisor)
    html = client.get("/dashboard/").content.decode()
    workload = re.search(r'id="chart-workload".*?</section>', html, re.S).group(0)
    assert "最满的 2 人（共 3 人）；1 人超出承载能力" in workload
    assert workload.index("李四") < workload.index(str(board["first"].account_manager))
    managers = re.search(r'id="managers".*?</section>', html, re.S).group(0)
    assert "李四" in managers and str(idle) not in managers


def test_with_many_managers_the_manager_is_typed_not_chosen_from_a_list(
    client, supervisor, board, monkeypatch
):
    from accounts import forms as accounts_forms

    monkeypatch.setattr(accounts_forms, "PERSON_SELECT_MAX", 1)
    client.force_login(supervisor)
    html = client.get("/dashboard/").content.decode()
    assert '<select name="manager"' not in html
    assert 'type="text" name="manager"' in field_block(html, "manager")
    # By name, by sign-in name, or by key as links send it: the same filter.
    for typed in ("李四", "lisi", str(board["other"].pk)):
        html = client.get("/dashboard/", {"manager": typed}).content.decode()
        assert [number for _sev, number in deviation_rows(html)] == [
            board["second"].number,
            board["second"].number,
            board["third"].number,
        ], typed
    html = client.get("/dashboard/", {"manager": "赵六"}).content.decode()
    block = field_block(html, "manager")
    assert 'aria-invalid="true"' in block and "没有名为“赵六”的客户经理。" in block


# --- At risk: the least likely to keep the commitment, before a deviation shows it ---------

AT_RISK_ROW = re.compile(r'<tr data-number="([^"]+)">(.*?)</tr>', re.S)


def at_risk_rows(html):
    table = re.search(r'<table class="table" id="at-risk-table">.*?</table>', html, re.S)
    return AT_RISK_ROW.findall(table.group(0))


def test_the_at_risk_list_orders_by_the_chance_and_names_the_driving_activity(
    client, supervisor, manager, region
):
    manager.account_manager.regions.set([region])
    likely, unlikely, safe, done = (
        make_application(by=supervisor, manager=manager, region=region) for _ in range(4)
    )
    for application, chance in ((likely, 0.62), (unlikely, 0.21), (safe, 0.93), (done, 0.05)):
        store_risk(application, on_time=chance, driver="C")
    Application.objects.filter(pk=done.pk).update(state="energized")
    application_activity = unlikely.activities.get(code="C")
    store_risk(unlikely, activities={"C": [0.734, 0.41]})
    client.force_login(supervisor)
    html = client.get("/dashboard/").content.decode()
    rows = at_risk_rows(html)
    # Below 80 % and in progress, the least likely first; the finished one is no risk.
    assert [number for number, _row in rows] == [unlikely.number, likely.number]
    first = rows[0][1]
    assert '<span class="badge red">21%</span>' in first
    assert f"C {application_activity.name}" in first and "在 73% 的模拟中处于关键线路" in first
    assert '<span class="badge amber">62%</span>' in rows[1][1]
    assert "共 2 项" in re.search(r'id="at-risk-heading">.*?</h2>', html, re.S).group(0)


def test_the_at_risk_list_follows_the_deviation_filters_that_apply_to_an_application(
    client, supervisor, manager, region
):
    manager.account_manager.regions.set([region])
    here = make_application(by=supervisor, manager=manager, region=region)
    elsewhere_region = RegionFactory(code="gongshu", name="拱墅供电区")
    elsewhere = make_application(by=supervisor, manager=None, region=elsewhere_region)
    for application in (here, elsewhere):
        store_risk(application, on_time=0.4)
    client.force_login(supervisor)
    by_region = client.get("/dashboard/", {"region": region.pk}).content.decode()
    assert [number for number, _ in at_risk_rows(by_region)] == [here.number]
    by_manager = client.get("/dashboard/", {"manager": manager.pk}).content.decode()
    assert [number for number, _ in at_risk_rows(by_manager)] == [here.number]
    by_stage = client.get("/dashboard/", {"stage": "survey"}).content.decode()
    assert at_risk_rows(by_stage) == []
    assert "没有按期完成概率偏低的在办申请。" in by_stage


def test_the_at_risk_list_shows_the_first_and_says_more_wait(client, supervisor, region):
    from supervision import selectors

    applications = [make_application(by=supervisor, manager=None, region=region) for _ in range(4)]
    for i, application in enumerate(applications):
        store_risk(application, on_time=0.1 * i)
    shown = selectors.applications_at_risk(shown=3)
    assert [a.pk for a in shown] == [a.pk for a in applications[:3]] and shown.more
    client.force_login(supervisor)
    assert len(at_risk_rows(client.get("/dashboard/").content.decode())) == 4
