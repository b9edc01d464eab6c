"""问责: follow-up items raised from a post-completion review's finding, listed until closed."""

from datetime import date

import pytest

from accounts.roles import Role
from applications import services
from applications.models import FollowUp
from tests.api.conftest import assert_problem, token_client
from tests.applications.test_application_page import energized, messages_of, page_url
from tests.dates import pin_today
from tests.factories import UserFactory, make_application
from yekuo.errors import NotPermitted

pytestmark = [pytest.mark.django_db, pin_today]  # today: 27 November 2026

DAY0 = date(2026, 3, 2)


@pytest.fixture
def reviewed(supervisor, manager):
    """An energized application whose review found that metering was late."""
    application = energized(make_application(by=supervisor, manager=manager, accepted_on=DAY0))
    services.application_record_review(
        application_id=application.pk,
        quality=4,
        safety=5,
        efficiency=2,
        satisfaction=3,
        findings="装表滞后五个工作日",
        by=manager,
    )
    return application


@pytest.fixture
def metering_staff():
    return UserFactory(username="jl-owner", role=Role.DEPARTMENT_STAFF, department_code="metering")


def raise_on_page(client, application, **data):
    return client.post(page_url(application, "follow-ups/"), data, follow=True)


def test_raised_from_the_review_listed_until_closed_with_a_note(
    client, reviewed, manager, supervisor, metering_staff
):
    client.force_login(manager)
    response = raise_on_page(
        client,
        reviewed,
        owner=metering_staff.pk,
        due_on="2026-12-04",
        description="查明装表滞后原因并整改",
    )
    assert messages_of(response) == ["问责事项已提出。"]
    item = FollowUp.objects.get()
    assert (item.owner, item.due_on, item.status, item.raised_by) == (
        metering_staff,
        date(2026, 12, 4),
        "open",
        manager,
    )
    # The owner and the supervisor see it; the manager who raised it does not own it.
    for user, seen in ((metering_staff, True), (supervisor, True), (manager, False)):
        client.force_login(user)
        html = client.get("/follow-ups/").content.decode()
        assert (f'data-follow-up="{item.pk}"' in html) is seen, user
    client.force_login(metering_staff)
    refused = client.post(f"/follow-ups/{item.pk}/close/", {"note": " "})
    assert f'id="id_f{item.pk}_note-error">请说明问责事项的处理结果。' in (refused.content.decode())
    item.refresh_from_db()
    assert item.status == "open"
    response = client.post(
        f"/follow-ups/{item.pk}/close/", {"note": "已整改，流程增加提醒"}, follow=True
    )
    assert messages_of(response) == ["问责事项已关闭。"]
    item.refresh_from_db()
    assert (item.status, item.closing_note, item.closed_by) == (
        "closed",
        "已整改，流程增加提醒",
        metering_staff,
    )
    assert item.closed_at is not None
    client.force_login(supervisor)
    assert f'data-follow-up="{item.pk}"' not in client.get("/follow-ups/").content.decode()


def test_no_owner_and_a_past_due_date_are_refused_beside_their_fields(client, reviewed, manager):
    client.force_login(manager)
    response = raise_on_page(client, reviewed, owner="", due_on="2026-11-26", description="整改")
    html = response.content.decode()
    assert 'id="id_follow_up_owner-error">请选择问责事项的负责人。' in html
    assert 'id="id_follow_up_due_on-error">完成期限不能早于今天。' in html
    assert not FollowUp.objects.exists()


def test_an_overdue_item_is_marked(client, reviewed, manager, supervisor, metering_staff):
    item = services.follow_up_raise(
        application_id=reviewed.pk,
        owner=metering_staff,
        due_on=date(2026, 11, 27),
        description="整改",
        by=manager,
    )
    client.force_login(supervisor)

    def row():
        html = client.get("/follow-ups/").content.decode()
        return html.split(f'data-follow-up="{item.pk}"')[1].split("</tr>")[0]

    # Due today: not overdue yet.
    assert "已超时限" not in row()
    FollowUp.objects.filter(pk=item.pk).update(due_on=date(2026, 11, 26))
    assert 'class="late"' in row() and "已超时限" in row()


def test_only_the_owner_or_a_supervisor_closes(reviewed, manager, metering_staff):
    item = services.follow_up_raise(
        application_id=reviewed.pk,
        owner=metering_staff,
        due_on=date(2026, 12, 4),
        description="整改",
        by=manager,
    )
    with pytest.raises(NotPermitted):
        services.follow_up_close(follow_up_id=item.pk, note="好了", by=manager)
    item.refresh_from_db()
    assert item.status == "open"


def test_the_list_page_costs_the_same_queries_for_2_and_20(
    client, reviewed, manager, supervisor, metering_staff, django_assert_max_num_queries
):
    client.force_login(supervisor)
    client.get("/follow-ups/")
    for n in (2, 20):
        while FollowUp.objects.count() < n:
            services.follow_up_raise(
                application_id=reviewed.pk,
                owner=metering_staff,
                due_on=date(2026, 12, 4),
                description="整改",
                by=manager,
            )
        with django_assert_max_num_queries(6):
            html = client.get("/follow-ups/").content.decode()
        assert html.count("data-follow-up=") == n


def test_the_api_raises_lists_and_closes(reviewed, manager, metering_staff):
    api = token_client(manager)
    url = f"/api/v1/applications/{reviewed.pk}/follow-ups/"
    assert_problem(
        api.post(url, {"due_on": "2026-11-01", "description": "x"}, format="json"),
        400,
        errors={
            "owner": ["Choose who answers for the follow-up."],
            "due_on": ["The due date cannot be in the past."],
        },
    )
    created = api.post(
        url,
        {"owner": metering_staff.pk, "due_on": "2026-12-04", "description": "整改"},
        format="json",
    )
    assert created.status_code == 201, created.content
    owner_api = token_client(metering_staff)
    listed = owner_api.get("/api/v1/follow-ups/").json()
    assert [(i["application"], i["status"], i["overdue"]) for i in listed] == [
        (reviewed.number, "open", False)
    ]
    close_url = f"/api/v1/follow-ups/{created.json()['id']}/close/"
    assert_problem(
        owner_api.post(close_url, {"note": ""}, format="json"),
        400,
        errors={"note": ["Say how the follow-up was settled."]},
    )
    closed = owner_api.post(close_url, {"note": "done"}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert owner_api.get("/api/v1/follow-ups/").json() == []
    assert_problem(owner_api.post(close_url, {"note": "again"}, format="json"), 409)
