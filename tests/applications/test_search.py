"""Search by part of the number, of the customer's name or of its credit code."""

import pytest
from django.db import connection

from applications.models import Application, Customer
from applications.selectors import workspace_applications
from tests.conftest import need_service
from tests.factories import make_application

pytestmark = pytest.mark.django_db

NAMES = ["杭州宏达环保科技有限公司", "宁波达成机械有限公司", "绍兴华宏纺织集团有限公司"]


@pytest.fixture
def applications(supervisor):
    made = [make_application(by=supervisor) for _ in NAMES]
    for application, name in zip(made, NAMES, strict=True):
        Customer.objects.filter(pk=application.customer_id).update(name=name)
    return made


def found(user, text) -> set[str]:
    return {a.customer.name for a in workspace_applications(user, search=text)}


@pytest.fixture(params=[5_000, 1], ids=["by-keys", "walk"])
def candidates_max(request, settings):
    """Both ways of answering (candidates by key, or the walk of a common text)."""
    settings.SEARCH_CANDIDATES_MAX = request.param
    return request.param


@pytest.mark.usefixtures("candidates_max")
def test_one_or_two_chinese_characters_find_every_name_holding_them(supervisor, applications):
    assert found(supervisor, "宏达") == {NAMES[0]}
    assert found(supervisor, "达") == {NAMES[0], NAMES[1]}
    assert found(supervisor, "宏") == {NAMES[0], NAMES[2]}
    assert found(supervisor, " 华宏 ") == {NAMES[2]}
    assert found(supervisor, "达宏") == set()


@pytest.mark.usefixtures("candidates_max")
def test_three_characters_or_more_match_anywhere_in_any_of_the_three(supervisor, applications):
    target = applications[1]
    assert found(supervisor, "达成机械") == {NAMES[1]}
    assert found(supervisor, "有限公司") == set(NAMES)
    # A fragment with the dash: the digits alone also occur in credit codes.
    assert found(supervisor, target.number[-7:]) == {NAMES[1]}
    fragment = target.customer.credit_code[-6:-1]
    assert [a.customer.credit_code.count(fragment) for a in applications] == [0, 1, 0]
    assert found(supervisor, fragment.lower()) == {NAMES[1]}
    # Letters in any case: the codes are stored in capitals.
    assert found(supervisor, target.number.lower()) == {NAMES[1]}


@pytest.mark.usefixtures("candidates_max")
def test_one_or_two_characters_of_a_code_match_its_beginning_only(supervisor, applications):
    number = applications[0].number
    assert found(supervisor, "yk") == set(NAMES)
    assert found(supervisor, number[:2]) == set(NAMES)
    inside = number[5:7]  # two digits inside the number
    assert not any(a.number.startswith(inside) for a in applications)
    assert found(supervisor, inside) == set()


def test_a_search_keeps_the_scope_and_the_other_filters(manager, supervisor, applications):
    mine = make_application(by=supervisor, manager=manager)
    Customer.objects.filter(pk=mine.customer_id).update(name="杭州宏达电子有限公司")
    assert found(manager, "宏达") == {"杭州宏达电子有限公司"}
    assert found(supervisor, "宏达") == {NAMES[0], "杭州宏达电子有限公司"}
    Application.objects.filter(pk=mine.pk).update(state="closed")
    assert found(supervisor, "宏达") == {NAMES[0]}


def test_a_text_nobody_has_finds_nothing_in_three_queries(
    supervisor, applications, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the candidates: customers, then numbers
        listed = workspace_applications(supervisor, search="电力铁塔")
    with django_assert_num_queries(0):  # no candidate: no rows, without asking
        assert list(listed) == []


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("宏达", "customer_name_characters"),
        ("宏达环保", "customer_name_trgm"),
        ("330100", "customer_credit_code_trgm"),
    ],
)
def test_postgresql_finds_the_customers_through_an_index(applications, text, index):
    """The candidates' query matches an index's expression (else it scans every row)."""
    need_service("PostgreSQL", connection.vendor == "postgresql", "trigram indexes")
    from django.db.models import Q

    from applications.search import _code_matches, _name_contains

    query = Customer.objects.filter(
        Q(_name_contains("name", text)) | _code_matches("credit_code", text)
    )
    sql, params = query.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan


def test_postgresql_finds_numbers_through_their_trigram_index(applications):
    need_service("PostgreSQL", connection.vendor == "postgresql", "trigram indexes")
    from applications.search import _code_matches

    query = Application.objects.filter(_code_matches("number", "0001")).values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "application_number_trgm" in plan
