"""The assessment at /assessment/ and its Excel and CSV exports."""

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from accounts.models import Department
from accounts.roles import Role
from applications import services
from applications.models import Application
from tests.applications.test_kpi import book  # noqa: F401 (a fixture)
from tests.dates import day_of_note, pin_today
from tests.factories import make_application

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

MAY = {"start": "2026-05-01", "end": "2026-05-31"}


def cells(html, table_id, key):
    table = re.search(rf'<table class="table" id="{table_id}">.*?</table>', html, re.S).group(0)
    row = re.search(rf'<tr data-key="{key}">(.*?)</tr>', table, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
    ]


@pytest.fixture
def reviewed(book):  # noqa: F811
    """The book with the on-time application's post-completion review recorded."""
    services.application_record_review(
        application_id=book["desks"]["on_time"].application.pk,
        quality=5,
        safety=4,
        efficiency=3,
        satisfaction=4,
        by=book["manager"],
    )
    return book


def test_only_those_with_the_permission_open_it(client, role_users):
    for role, status in [
        (Role.ACCOUNT_MANAGER, 403),
        (Role.DEPARTMENT_STAFF, 403),
        (Role.SUPERVISOR, 200),
        (Role.ADMINISTRATOR, 200),
    ]:
        client.force_login(role_users[role])
        assert client.get("/assessment/").status_code == status, role
        assert client.get("/assessment/export.xlsx").status_code == status, role


def test_a_manager_and_a_department_over_may(client, supervisor, reviewed):
    client.force_login(supervisor)
    html = client.get("/assessment/", MAY).content.decode()
    manager = reviewed["manager"]
    # Energized 14 May (on time) and 27 May: 8 working days after the committed 15 May;
    # the late one's whole-process clock is past its limit. Nothing accepted in May.
    # The late one's 9 days of slip: the customer's construction (K) +5, then the
    # completion inspection (L, 运维检修部) +4; the commitment's one day of margin absorbs
    # the first (K's): 4 days the customer's, 4 the utility's.
    assert cells(html, "assessment-managers", manager.pk) == [
        str(manager),
        "0",  # accepted
        "2",  # energized
        "50.0%",
        "8.0",  # average delay of the late ones
        "8",  # worst
        "4",  # delay caused by the utility side
        "1",  # limits exceeded
        "0",  # complaints
        "1",  # reviews
        "5.00",
        "4.00",
        "3.00",
        "4.00",
    ]
    colleague = reviewed["colleague"]
    assert cells(html, "assessment-managers", colleague.pk)[1:4] == ["0", "0", "—"]
    # Both applications had work of 运维检修部 and 计量中心; only the first delayed one.
    operations = Department.objects.get(code="operations")
    assert cells(html, "assessment-departments", operations.pk)[2:8] == [
        "2",  # energized
        "50.0%",
        "4.0",  # average delay it caused
        "4",  # worst
        "4",  # delay caused
        "1",  # limits exceeded of the one it delayed
    ]
    metering = Department.objects.get(code="metering")
    assert cells(html, "assessment-departments", metering.pk)[2:8] == [
        "2",
        "100.0%",
        "—",
        "—",
        "0",
        "0",
    ]
    assert cells(html, "assessment-customer", "customer")[2:8] == [
        "2",
        "50.0%",
        "4.0",
        "4",
        "4",
        "0",
    ]
    # Both energizations from 1 March on: the five accepted of the manager count then.
    html = client.get("/assessment/", {"start": "2026-03-01", "end": "2026-05-31"}).content
    assert cells(html.decode(), "assessment-managers", manager.pk)[1:3] == ["5", "2"]


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        day_of_note("year-end", date(2026, 1, 1), date(2026, 12, 31)),
        day_of_note("new-year", date(2027, 1, 1), date(2027, 1, 1)),
        day_of_note("spring-festival", date(2027, 1, 1), date(2027, 2, 8)),
        day_of_note("month-first", date(2027, 1, 1), date(2027, 3, 1)),
        day_of_note("month-last", date(2027, 1, 1), date(2027, 3, 31)),
    ],
)
def test_the_period_defaults_to_this_year_up_to_today(client, supervisor, manager, now, start, end):
    # Energized a moment ago: in today's period, whatever the date in UTC.
    energized = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 12, 1))
    Application.objects.filter(pk=energized.pk).update(state="energized", energized_at=now)
    client.force_login(supervisor)
    html = client.get("/assessment/").content.decode()
    assert f'name="start" value="{start:%Y-%m-%d}"' in html
    assert f'name="end" value="{end:%Y-%m-%d}"' in html
    assert cells(html, "assessment-managers", manager.pk)[2] == "1"  # energized
    download = client.get("/assessment/export.csv")["Content-Disposition"]
    assert f'filename="assessment-{start:%Y%m%d}-{end:%Y%m%d}.csv"' in download


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            {"start": "2026-13-01", "end": "2026-05-31"},
            "start",
            "请按 年-月-日（YYYY-MM-DD）填写日期。",
        ),
        ({"start": "", "end": "2026-05-31"}, "start", "请填写考核期间的起始日期。"),
        ({"start": "2026-06-01", "end": "2026-05-31"}, "end", "截止日期早于起始日期。"),
    ],
)
def test_bad_dates_are_shown_beside_the_field_with_what_was_typed(
    client, supervisor, query, field, message
):
    client.force_login(supervisor)
    for path in ("/assessment/", "/assessment/export.csv"):
        response = client.get(path, query)
        assert response.status_code == 400
        html = response.content.decode()
        block = re.search(rf'<div class="field has-error">.*?name="{field}".*?</div>', html, re.S)
        assert message in block.group(0)
        for name, value in query.items():
            assert f'name="{name}" value="{value}"' in html or not value
        assert 'id="assessment-managers"' not in html


def test_the_excel_export_holds_the_numbers(client, supervisor, reviewed):
    client.force_login(supervisor)
    response = client.get("/assessment/export.xlsx", MAY)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="assessment-20260501-20260531.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet["A1"].value == "考核期间"
    assert sheet["B1"].value.date() == date(2026, 5, 1)
    header = [c.value for c in sheet[2]]
    assert header[:6] == ["范围", "姓名", "受理", "已送电", "按期", "按期率（%）"]
    rows = {row[1]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    manager = rows[str(reviewed["manager"])]
    assert manager[0] == "客户经理"
    figures = dict(zip(header, manager, strict=True))
    assert figures["已送电"] == 2 and figures["按期"] == 1
    assert figures["按期率（%）"] == 50.0
    assert figures["平均拖延（工作日）"] == 8.0 and figures["最长拖延（工作日）"] == 8
    assert figures["超时限"] == 1 and figures["问效数"] == 1
    assert figures["造成拖延（工作日）"] == 4
    assert figures["质量评分"] == 5.0 and figures["效率评分"] == 3.0
    assert rows["计量中心"][0] == "部门" and rows["计量中心"][3] == 2
    assert rows["计量中心"][4] == 2  # on time: it delayed neither
    assert rows["客户方"][0] == "客户方" and rows["客户方"][header.index("造成拖延（工作日）")] == 4


def test_the_csv_export_is_utf8_with_a_bom_for_excel(client, supervisor, reviewed):
    client.force_login(supervisor)
    response = client.get("/assessment/export.csv", MAY)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["考核期间", "2026-05-01", "2026-05-31"]
    by_name = {row[1]: row for row in rows[2:]}
    assert by_name[str(reviewed["manager"])][2:9] == ["0", "2", "1", "50.00", "1", "8.00", "8"]
    colleague = by_name[str(reviewed["colleague"])]
    assert colleague[5] == "" and colleague[7] == ""  # no rate, no delay: blank, not 0


@pytest.mark.parametrize("n", [5, 100])
def test_the_assessment_takes_the_same_queries_for_5_and_100(
    client, supervisor, manager, n, django_assert_max_num_queries
):
    for _ in range(n):
        make_application(by=supervisor, manager=manager, accepted_on=date(2026, 5, 4))
    client.force_login(supervisor)
    client.get("/assessment/", MAY)
    with django_assert_max_num_queries(16):
        html = client.get("/assessment/", MAY).content.decode()
    assert cells(html, "assessment-managers", manager.pk)[1] == str(n)


@pytest.mark.parametrize("n", [5, 100])
def test_attributing_the_delays_takes_the_same_queries_for_5_and_100(
    client, supervisor, manager, n, django_assert_max_num_queries
):
    # Energized on 29 May with no progress recorded: forecast as of then, every one is
    # late and its days are attributed, one forecast each, from the rows of one query.
    for _ in range(n):
        make_application(by=supervisor, manager=manager, accepted_on=date(2026, 3, 2))
    Application.objects.update(
        state="energized", energized_at=datetime(2026, 5, 29, 10, tzinfo=UTC)
    )
    client.force_login(supervisor)
    client.get("/assessment/", MAY)
    with django_assert_max_num_queries(16):
        html = client.get("/assessment/", MAY).content.decode()
    row = cells(html, "assessment-managers", manager.pk)
    assert row[2:4] == [str(n), "0.0%"]
    # Nothing was recorded: the first activities, the customer's none, are the cause.
    assert cells(html, "assessment-customer", "customer")[2:4] == [str(n), "100.0%"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            {"start": "0001-01-01", "end": "9999-12-31"},
            "start",
            "0001年1月1日早得不合常理",
        ),
        (
            {"start": "0001-01-01", "end": "9999-12-31"},
            "end",
            "9999年12月31日晚得不合常理",
        ),
        ({"start": "2000-01-01", "end": "2026-05-31"}, "end", "考核期间最长 10 年。"),
    ],
    ids=["early-start", "late-end", "over-ten-years"],
)
def test_an_absurd_period_is_refused_beside_its_field(client, supervisor, query, field, message):
    client.force_login(supervisor)
    for path in ("/assessment/", "/assessment/export.csv", "/assessment/export.xlsx"):
        response = client.get(path, query)
        assert response.status_code == 400, path
        html = response.content.decode()
        block = re.search(rf'<div class="field has-error">.*?name="{field}".*?</div>', html, re.S)
        assert message in block.group(0)
        assert 'id="assessment-managers"' not in html


FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture
def formula_named(reviewed):
    """The book's manager with a display name that a spreadsheet would run as a formula."""
    manager = reviewed["manager"]
    manager.display_name = FORMULA
    manager.save(update_fields=["display_name"])
    return manager


def test_a_formula_in_a_name_is_text_in_the_csv(client, supervisor, formula_named):
    client.force_login(supervisor)
    response = client.get("/assessment/export.csv", MAY)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [row[1] for row in rows[2:]]
    assert "'" + FORMULA in names
    assert not any(name.startswith(("=", "+", "-", "@", "\t", "\r")) for name in names)


def test_a_formula_in_a_name_is_text_in_the_excel_workbook(client, supervisor, formula_named):
    client.force_login(supervisor)
    response = client.get("/assessment/export.xlsx", MAY)
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [row[1] for row in sheet.iter_rows(min_row=3)]
    cell = next(c for c in cells if isinstance(c.value, str) and FORMULA in c.value)
    assert cell.value == "'" + FORMULA
    assert cell.data_type == "s"  # a string, not a formula ("f")
