"""The list endpoints fetch a page in a constant number of queries."""

import pytest

from applications import sweep
from applications.models import Application
from tests.factories import make_application

from .conftest import token_client

pytestmark = pytest.mark.django_db


def _copies(template: Application, count: int) -> None:
    """Add ``count`` applications like ``template``, with copies of its activities (which
    department staff are scoped by)."""
    from scheduling.models import Activity

    fields = {
        f.name: getattr(template, f.name)
        for f in Application._meta.concrete_fields
        if f.name not in {"id", "number"}
    }
    copies = Application.objects.bulk_create(
        Application(**fields, number=f"YK-2098-{n:06d}") for n in range(count)
    )
    activities = list(Activity.objects.filter(application=template))
    activity_fields = [
        f.attname for f in Activity._meta.concrete_fields if f.name not in {"id", "application"}
    ]
    Activity.objects.bulk_create(
        Activity(application=copy, **{name: getattr(a, name) for name in activity_fields})
        for copy in copies
        for a in activities
    )


@pytest.mark.parametrize("count", [5, 500])
@pytest.mark.parametrize("who", ["supervisor", "manager", "staff"])
def test_the_application_list_is_constant_in_queries(
    count, who, request, supervisor, manager, django_assert_max_num_queries
):
    first = make_application(by=supervisor, manager=manager)
    _copies(first, count - 1)
    client = token_client(request.getfixturevalue(who))
    for query in (
        "?page_size=200&ordering=customer_name",
        # Filters on the row's own columns, several values each.
        f"?page_size=200&state={first.state}&state=design&customer_class={first.customer_class}"
        f"&voltage_class={first.voltage_class}&time_limit_status=ok&time_limit_status=warning",
    ):
        with django_assert_max_num_queries(8) as captured:
            response = client.get("/api/v1/applications/" + query)
        assert response.status_code == 200
        assert response.json()["count"] == count
        # The scope is a condition on the application's keys and the filters on its own
        # columns: no DISTINCT over its wide row (PostgreSQL would sort every row that
        # matched to remove duplicates a join made).
        listed = [
            q["sql"] for q in captured.captured_queries if "applications_application" in q["sql"]
        ]
        assert listed and not any("DISTINCT" in sql.upper() for sql in listed), query


@pytest.mark.parametrize("count", [5, 100])
def test_the_deviation_and_customer_lists_are_constant_in_queries(
    count, supervisor, manager, django_assert_max_num_queries
):
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    from applications import services
    from scheduling.models import Activity

    day = date(2026, 3, 2)
    applications = [
        make_application(by=supervisor, manager=manager, accepted_on=day)
        for _ in range(count if count == 5 else 20)
    ]
    for application in applications:
        a = Activity.objects.get(application=application, code="A")
        services.activity_progress_record(activity_id=a.pk, start=day, by=manager, today=day)
        services.activity_progress_record(activity_id=a.pk, remaining=3, by=manager, today=day)
    sweep.deviation_sweep_batch(
        application_ids=[a.pk for a in applications],
        now=datetime.combine(day, time(18), ZoneInfo("Asia/Shanghai")),
    )
    client = token_client(manager)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/deviations/?page_size=200")
    assert response.json()["count"] == len(applications)
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/customers/?page_size=200")
    assert response.json()["count"] == len(applications)


def test_account_managers_are_constant_in_queries(supervisor, django_assert_max_num_queries):
    from tests.factories import AccountManagerProfileFactory

    for _ in range(30):
        AccountManagerProfileFactory()
    client = token_client(supervisor)
    with django_assert_max_num_queries(8):
        rows = client.get("/api/v1/account-managers/").json()
    assert len(rows) >= 30


def test_the_list_count_is_bounded_and_says_when_it_is_an_estimate(
    supervisor, manager, settings, django_assert_max_num_queries
):
    """Beyond API_EXACT_COUNT_LIMIT rows the count is not taken over every row: on
    PostgreSQL it is the planner's estimate (count_exact false); next stays exact."""
    from django.db import connection

    settings.API_EXACT_COUNT_LIMIT = 3
    first = make_application(by=supervisor, manager=manager)
    _copies(first, 6)
    client = token_client(supervisor)
    with django_assert_max_num_queries(9) as captured:
        body = client.get("/api/v1/applications/?page_size=2").json()
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert "LIMIT 4" in counts[0]  # the first count stops after the limit and one
    assert body["next"] and len(body["results"]) == 2
    if connection.vendor == "postgresql":
        assert len(counts) == 1  # never a count of every row
        assert body["count_exact"] is False and body["count"] >= 4
        # Every row is reached through next, whatever the estimate says.
        seen, url = [], "/api/v1/applications/?page_size=2"
        while url:
            page = client.get(url).json()
            seen += [row["number"] for row in page["results"]]
            url = page["next"]
        assert len(seen) == len(set(seen)) == 7
        assert client.get("/api/v1/applications/?page_size=2&page=5").status_code == 404
    else:  # the embedded database counts exactly: it is small by nature
        assert (body["count_exact"], body["count"]) == (True, 7)
    settings.API_EXACT_COUNT_LIMIT = 10_000
    body = client.get("/api/v1/applications/?page_size=2").json()
    assert (body["count_exact"], body["count"]) == (True, 7)
