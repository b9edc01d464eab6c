"""any_of: the rows ``IN`` finds, with the values sent as one array on PostgreSQL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Department
from scheduling.models import Activity
from tests.factories import make_application
from yekuo.lookups import any_of

pytestmark = pytest.mark.django_db


def test_it_finds_what_in_finds_for_keys_foreign_keys_and_text(supervisor, manager):
    first = make_application(by=supervisor, manager=manager)
    second = make_application(by=supervisor, manager=manager)
    make_application(by=supervisor, manager=manager)
    wanted = [second.pk, first.pk, second.pk, None]

    activities = Activity.objects.filter(any_of("application_id", wanted)).order_by("pk")
    assert list(activities) == list(
        Activity.objects.filter(application_id__in=wanted).order_by("pk")
    )
    assert {a.application_id for a in activities} == {first.pk, second.pk}
    names = ["营销部/客户服务中心", "运维检修部", "不存在的部门"]
    departments = Department.objects.filter(any_of("name", names)).order_by("pk")
    assert [d.name for d in departments] == list(
        Department.objects.filter(name__in=names).order_by("pk").values_list("name", flat=True)
    )
    assert len(departments) == 2


def test_the_values_travel_as_one_parameter_on_postgresql(supervisor, manager):
    application = make_application(by=supervisor, manager=manager)
    ids = [application.pk, *range(10**9, 10**9 + 499)]

    with CaptureQueriesContext(connection) as queries:
        found = list(Activity.objects.filter(any_of("application_id", ids)).values_list("pk"))

    assert len(found) == application.activities.count()
    (sql,) = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql
        assert "1000000498" in sql  # the array, rendered once
        assert sql.count(",") < 600  # not a placeholder list beside it
    else:
        assert " IN (" in sql


def test_no_values_match_no_row_without_a_query():
    with CaptureQueriesContext(connection) as queries:
        assert list(Department.objects.filter(any_of("pk", [None]))) == []
        assert list(Department.objects.filter(any_of("pk", []))) == []
    assert queries.captured_queries == []
