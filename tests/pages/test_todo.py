"""To-do lists (待办): department staff finish their work from one list across all
applications; an account manager sees what waits for them."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from applications import services, todo
from applications.models import Application
from scheduling.models import Activity
from tests.factories import make_application
from tests.pages.conftest import open_deviation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meetings_when_ready")]

TODO = reverse("todo")
TODAY = date(2026, 3, 18)  # a Wednesday


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-18 10:00 +0800", tick=False):
        yield


def low_voltage(supervisor, manager, accepted_on):
    """A low-voltage application: A → B → C, then E (运维检修部) and D (the customer)."""
    return make_application(
        by=supervisor,
        manager=manager,
        customer_class="lv_non_residential",
        voltage_class="0.4kV",
        accepted_on=accepted_on,
    )


def progress(application, code, by, *, start=None, finish=None):
    activity = application.activities.get(code=code)
    services.activity_progress_record(
        application_id=application.pk,
        activity_id=activity.pk,
        start=start,
        finish=finish,
        by=by,
        today=TODAY,
    )
    return activity


def ready_for_operations(application, by):
    """Finish A, B and C on day 0: E of 运维检修部 can start."""
    day = application.start_date
    for code in ("A", "B", "C"):
        progress(application, code, by, start=day, finish=day)
    return application.activities.get(code="E")


@pytest.fixture
def work(supervisor, manager):
    oldest = low_voltage(supervisor, manager, date(2026, 3, 2))
    older = low_voltage(supervisor, manager, date(2026, 3, 9))
    newest = low_voltage(supervisor, manager, date(2026, 3, 16))
    blocked = low_voltage(supervisor, manager, date(2026, 3, 2))
    rows = {
        "late": ready_for_operations(oldest, manager),
        "less_late": ready_for_operations(older, manager),
        "running": ready_for_operations(newest, manager),
    }
    progress(newest, "E", manager, start=TODAY)
    rows["blocked"] = blocked.activities.get(code="E")
    return rows


def order_of(html, activities):
    return sorted(activities, key=lambda a: html.index(f'id="todo-{a.pk}"'))


def test_staff_see_their_departments_work_late_first(client, staff, work):
    client.force_login(staff)
    html = client.get(TODO).content.decode()
    assert f'id="todo-{work["blocked"].pk}"' not in html
    shown = order_of(html, [work["running"], work["less_late"], work["late"]])
    assert shown == [work["late"], work["less_late"], work["running"]]
    assert "运维检修部的工作" in html
    assert "延误 9 个工作日" in html


def test_staff_finish_an_activity_from_the_list(client, staff, work):
    client.force_login(staff)
    activity = work["late"]
    response = client.post(
        reverse("todo_progress", args=[activity.pk]),
        {
            "action": "finish",
            "version": Application.objects.get(pk=activity.application_id).version,
        },
        follow=True,
    )
    activity.refresh_from_db()
    assert (activity.actual_start, activity.actual_finish) == (TODAY, TODAY)
    assert response.redirect_chain == [(TODO, 302)]
    html = response.content.decode()
    assert f"{activity.application.number} E 配套表箱及接户线工程：今天完成。预测已更新。" in html
    assert f'id="todo-{activity.pk}"' not in html
    assert '<span class="nav-count" id="todo-count" title="等待您处理的事项">2</span>' in html


def test_the_navigation_shows_a_long_list_as_more_than_it_counts(client, staff, work, monkeypatch):
    # Three entries wait; the figure counts no further than the cap and says so.
    monkeypatch.setattr(todo, "TODO_COUNT_SHOWN", 2)
    client.force_login(staff)
    html = client.get(TODO).content.decode()
    assert '<span class="nav-count" id="todo-count" title="等待您处理的事项">2+</span>' in html
    monkeypatch.setattr(todo, "TODO_COUNT_SHOWN", 3)
    html = client.get(TODO).content.decode()
    assert '<span class="nav-count" id="todo-count" title="等待您处理的事项">3</span>' in html


def test_a_long_list_shows_its_most_urgent_entries_and_says_more_wait(
    client, staff, work, monkeypatch
):
    monkeypatch.setattr(todo, "TODO_LIST_SHOWN", 2)
    client.force_login(staff)
    html = client.get(TODO).content.decode()
    assert order_of(html, [work["less_late"], work["late"]]) == [work["late"], work["less_late"]]
    assert f'id="todo-{work["running"].pk}"' not in html
    assert "最紧急的 2 项；还有更多" in html and 'id="todo-activities-more"' in html
    # The whole list fits: no notice.
    monkeypatch.setattr(todo, "TODO_LIST_SHOWN", 3)
    html = client.get(TODO).content.decode()
    assert f'id="todo-{work["running"].pk}"' in html
    assert 'id="todo-activities-more"' not in html and "3 项工作" in html


def test_a_managers_long_list_shows_those_due_first(client, manager, supervisor, monkeypatch):
    first = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 3, 2))
    second = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 3, 3))
    for application in (second, first):
        open_deviation(application, "A", severity="red")
    monkeypatch.setattr(todo, "TODO_LIST_SHOWN", 1)
    client.force_login(manager)
    html = client.get(TODO).content.decode()
    section = html[html.index('id="todo-applications"') :]
    assert first.number in section and second.number not in section
    assert 'id="todo-applications-more"' in section and "最紧急的 1 项；还有更多" in section
    listed = todo.manager_todo(manager, limit=5)
    assert [row.application for row in listed] == [first, second] and not listed.more


def test_a_reload_of_the_progress_address_shows_the_list(client, staff, work):
    client.force_login(staff)
    response = client.get(reverse("todo_progress", args=[work["late"].pk]))
    assert (response.status_code, response["Location"]) == (302, TODO)


def test_staff_cannot_record_another_departments_activity(client, staff, work, manager):
    application = work["late"].application
    other = application.activities.get(code="D")  # the customer's own work
    client.force_login(staff)
    response = client.post(
        reverse("todo_progress", args=[other.pk]), {"action": "start"}, follow=True
    )
    assert Activity.objects.get(pk=other.pk).actual_start is None
    assert response.status_code == 200


def test_the_list_costs_the_same_queries_for_more_applications(
    client, staff, work, supervisor, manager, django_assert_max_num_queries
):
    client.force_login(staff)
    client.get(TODO)
    for accepted in (date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)):
        ready_for_operations(low_voltage(supervisor, manager, accepted), manager)
    with django_assert_max_num_queries(14):
        response = client.get(TODO)
    assert response.content.decode().count('class="late"') == 5


def test_a_manager_sees_applications_that_wait_for_them(client, manager, supervisor):
    waiting = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 3, 2))
    quiet = make_application(by=supervisor, manager=manager, accepted_on=date(2026, 3, 16))
    open_deviation(waiting, "A", severity="red")
    client.force_login(manager)
    html = client.get(TODO).content.decode()
    section = html[html.index('id="todo-applications"') :]
    assert waiting.number in section and "有偏差等待您答复。" in section
    assert quiet.number not in section


def test_department_staff_have_the_to_do_link_with_its_count(client, staff, work):
    client.force_login(staff)
    html = client.get("/").content.decode()
    assert f'<a href="{TODO}">待办 <span class="nav-count" id="todo-count"' in html
    assert 'title="等待您处理的事项">3</span>' in html


def test_on_a_rest_day_the_list_points_to_the_dated_form_instead_of_one_click(client, staff, work):
    with time_machine.travel("2026-03-21 10:00 +0800", tick=False):  # a Saturday
        # Signed in that day: a session from three days before would have ended.
        client.force_login(staff)
        html = client.get(TODO).content.decode()
    activity = work["late"]
    assert 'id="todo-rest-day"' in html and "今天不是工作日" in html
    assert f'action="{reverse("todo_progress", args=[activity.pk])}"' not in html
    assert f'/applications/{activity.application.number}/#activity-E">按日期填写' in html
    # On the next working day the one-click buttons are back.
    html = client.get(TODO).content.decode()
    assert f'action="{reverse("todo_progress", args=[activity.pk])}"' in html
    assert 'id="todo-rest-day"' not in html


def test_every_activity_stores_whether_its_work_can_go_on(work, manager):
    """``is_ready`` (what the lists count) is what the network says after each change:
    started and unfinished, or every predecessor finished."""
    from scheduling import selectors as schedule_selectors

    def expected(activities):
        by_code = {a.code: a for a in activities}
        compiled = schedule_selectors.compiled_for(activities)
        return {
            a.code: a.actual_finish is None
            and (
                a.actual_start is not None
                or all(by_code[p.id].actual_finish for p in compiled.predecessors(a.code))
            )
            for a in activities
            if not a.is_dummy
        }

    applications = Application.objects.filter(
        pk__in={activity.application_id for activity in work.values()}
    )
    for application in applications:
        activities = list(application.activities.order_by("sort_order", "id"))
        stored = {a.code: a.is_ready for a in activities if not a.is_dummy}
        assert stored == expected(activities)
    # A finish moves the successors' flags in the same transaction.
    late = Application.objects.get(pk=work["late"].application_id)
    progress(late, "E", manager, start=TODAY, finish=TODAY)
    activities = list(late.activities.order_by("sort_order", "id"))
    assert {a.code: a.is_ready for a in activities if not a.is_dummy} == expected(activities)
    assert not Activity.objects.get(pk=work["late"].pk).is_ready
