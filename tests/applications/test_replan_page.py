"""The re-plan page through HTTP: the form, its messages beside the fields, the approval."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone

from applications import selectors, services
from scheduling.models import Activity, Baseline, Proposal
from tests.dates import pin_today
from tests.factories import make_application
from tests.pages.conftest import open_deviation

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

DAY0 = date(2026, 3, 2)  # a Monday


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def url(application, action="replan/"):
    return f"/applications/{application.number}/{action}"


def form_data(client, application, **changes) -> dict:
    """The form as the page fills it, with ``changes`` typed over it."""
    form = client.get(url(application)).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {name: "" if value is None else value for name, value in data.items()}
    data.update(changes)
    return data


def test_the_form_shows_every_activity_with_its_plan(client, supervisor, application):
    client.force_login(supervisor)
    response = client.get(url(application))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="plan-version">1<' in html
    assert "51 个工作日" in html  # Tc of version 1
    assert "52 个工作日" in html  # Tp
    # The 16 real activities, each with its duration, events and department.
    assert html.count('<tr id="replan-') == 16
    assert 'name="K-duration" value="20"' in html
    assert 'name="K-tail" value="11"' in html
    assert '<option value="operations" selected>' in html  # J, L: operations


def test_a_manager_may_not_re_plan(client, manager, application):
    client.force_login(manager)
    assert client.get(url(application)).status_code == 403
    assert 'id="replan-link"' not in client.get(url(application, "")).content.decode()


def test_the_application_page_links_supervisors_to_the_re_plan(client, supervisor, application):
    client.force_login(supervisor)
    html = client.get(url(application, "")).content.decode()
    assert f'href="/applications/{application.number}/replan/" id="replan-link"' in html


def test_a_wrong_entry_is_shown_beside_its_field_and_kept(client, supervisor, application):
    client.force_login(supervisor)
    data = form_data(client, application, **{"P-head": "1", "reason": "调整"})
    response = client.post(url(application), data)
    assert response.status_code == 200
    html = response.content.decode()
    # The cycle P 15→1→… is the engine's; the message sits beside P's tail event.
    assert '<p class="field-error" id="id_r_P-tail-error">网络逻辑存在循环：' in html
    assert 'name="P-head" value="1"' in html
    assert Baseline.objects.filter(application=application).count() == 1
    assert Activity.objects.get(application=application, code="P").head == 16


def test_an_approved_re_plan_shows_the_new_version(client, supervisor, application):
    client.force_login(supervisor)
    data = form_data(client, application, **{"K-duration": "25", "reason": "客户扩大施工范围"})
    response = client.post(url(application), data, follow=True)
    assert response.redirect_chain == [(url(application, ""), 302)]
    messages = [str(m) for m in response.context["messages"]]
    assert messages == ["调整计划已批准，为第 2 版计划：计算工期 56 个工作日。"]
    versions_link = f'href="/applications/{application.number}/baselines/">2</a> ·'
    assert versions_link in response.content.decode()
    assert Activity.objects.get(application=application, code="K").duration == 25


def test_a_re_plan_long_after_sign_in_asks_for_the_password_first(
    client, supervisor, application, password
):
    signed_in = timezone.now()
    client.force_login(supervisor)
    with time_machine.travel(signed_in + timedelta(minutes=20), tick=False):
        data = form_data(client, application, **{"K-duration": "25", "reason": "客户扩大施工范围"})
        response = client.post(url(application), data)
        confirm = (
            f"/accounts/password/confirm/?next=%2Fapplications%2F{application.number}%2Freplan%2F"
        )
        assert response.status_code == 302 and response["Location"] == confirm
        assert Baseline.objects.filter(application=application).count() == 1
        client.post(confirm, {"password": password, "next": url(application)})
        response = client.post(url(application), data)
    assert response.status_code == 302 and response["Location"] == url(application, "")
    assert Activity.objects.get(application=application, code="K").duration == 25


def test_a_stale_form_is_refused_and_kept(client, supervisor, application):
    client.force_login(supervisor)
    data = form_data(client, application, **{"K-duration": "25", "reason": "扩建"})
    # Someone else approves another re-plan meanwhile.
    services.application_replan(
        application_id=application.pk, durations={"J": 4}, reason="设计审查延长", by=supervisor
    )
    response = client.post(url(application), data)
    html = response.content.decode()
    assert "该申请在您读取后已被修改" in html
    assert 'name="K-duration" value="25"' in html
    assert Baseline.objects.filter(application=application).count() == 2
    assert Activity.objects.get(application=application, code="K").duration == 20


def test_two_versions_compared_show_what_moved(client, supervisor, manager, application):
    services.application_replan(
        application_id=application.pk,
        durations={"K": 25},
        logic={"M": {"tail": 12}},
        reason="客户扩大施工范围",
        by=supervisor,
    )
    versions = selectors.plan_versions(application.pk)
    assert (versions.a.version, versions.b.version) == (1, 2)
    c = versions.comparison
    assert (c.duration_before, c.duration_after) == (51, 56)
    assert (versions.a.finish, versions.b.finish) == (date(2026, 5, 14), date(2026, 5, 21))
    moved = {row.code: row for row in c.moved}
    # Floats count back from Tp 52 in both versions: N's late finish stays, so N keeps its
    # TF 12; every activity of the critical path goes from TF 52 - 51 = 1 to 52 - 56 = -4.
    assert "N" not in moved and len(moved) == 15
    assert moved["A"].changed == ("tf",)
    k = moved["K"]
    assert k.changed == ("duration", "ef", "tf")
    assert (k.before["ef"], k.after["ef"], k.before["tf"], k.after["tf"]) == (45, 50, 1, -4)
    m = moved["M"]
    assert m.changed == ("logic", "es", "ef", "tf", "critical")
    assert (m.before["logic"], m.after["logic"]) == ("9→13", "12→13")
    assert (m.before["es"], m.after["es"], m.before["tf"], m.after["tf"]) == (12, 50, 34, -4)
    assert (moved["O"].before["es"], moved["O"].after["es"]) == (48, 53)

    client.force_login(manager)
    html = client.get(url(application, "baselines/")).content.decode()
    assert '<dd id="compare-tc">51 → 56</dd>' in html
    assert "客户扩大施工范围" in html
    assert html.count('<tr id="moved-') == 15
    # Version 1 against itself: nothing moved.
    html = client.get(url(application, "baselines/?a=1&b=1")).content.decode()
    assert '<tr id="moved-' not in html
    response = client.get(url(application, "baselines/?a=7"))
    assert [str(m) for m in response.context["messages"]] == ["没有第 7 版计划。"]


def test_a_parallel_measure_that_splits_an_event_is_offered_for_acceptance(
    client, supervisor, application
):
    # L, N and the dummy from M all enter event 14, where O starts: accepting splits the
    # event (tests/scheduling/test_sweep.py), so the page offers it like any other.
    deviation = open_deviation(application, "L", severity="red", delay=2)
    Proposal.objects.create(
        application=application,
        deviation=deviation,
        kind="parallel",
        measure="parallel:L,O",
        basis="x",
        basis_finish=application.forecast_finish_date,
        activities=["L", "O"],
        new_finish=application.forecast_finish_date,
        days_recovered=1,
    )
    client.force_login(supervisor)
    html = client.get(url(application, "")).content.decode()
    proposal = html[html.index('id="proposal-') :]
    proposal = proposal[: proposal.index("</li>")]
    assert f"/applications/{application.number}/proposals/" in proposal
    assert "/accept/" in proposal


def test_the_pages_cost_a_bounded_number_of_queries(
    client, supervisor, application, django_assert_max_num_queries
):
    for days in (25, 30, 35):
        services.application_replan(
            application_id=application.pk, durations={"K": days}, reason="扩建", by=supervisor
        )
    client.force_login(supervisor)
    client.get(url(application))  # sessions and the calendar, once
    # The reader (session, user, permissions), the application, its activities and their
    # joint departments, the departments, the latest version: as many with one version as
    # with four.
    with django_assert_max_num_queries(11):
        assert client.get(url(application)).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(url(application, "baselines/")).status_code == 200


def test_predecessors_with_a_lag_are_typed_as_code_plus_days(client, supervisor, aon_application):
    client.force_login(supervisor)
    html = client.get(url(aon_application)).content.decode()
    assert 'name="O-predecessors" value="L, M, N"' in html
    data = form_data(client, aon_application, **{"N-predecessors": "I+x", "reason": "许可"})
    html = client.post(url(aon_application), data).content.decode()
    assert (
        '<p class="field-error" id="id_r_N-predecessors-error">'
        "紧前工作请写工作代号，可带间隔时间：A, B+2；"
        "C-1 表示在 C 完成前 1 个工作日开始（搭接）。</p>"
    ) in html
    data["N-predecessors"] = "I+2"
    response = client.post(url(aon_application), data)
    assert response.status_code == 302
    n = Activity.objects.get(application=aon_application, code="N")
    assert n.predecessors == [{"id": "I", "lag": 2}]


def test_an_overlap_is_typed_as_code_minus_days_and_shown_so(client, supervisor, aon_application):
    client.force_login(supervisor)
    # Too long an overlap: J takes 3 days, 2 at the shortest. Refused beside K's field.
    data = form_data(client, aon_application, **{"K-predecessors": "J-3", "reason": "提前进场"})
    html = client.post(url(aon_application), data).content.decode()
    assert (
        '<p class="field-error" id="id_r_K-predecessors-error">'
        "K 在 J 之后的间隔时间须为整数工作日；负值（搭接）不得超过 J 的最短工期。</p>"
    ) in html
    assert Activity.objects.get(application=aon_application, code="K").predecessors == ["J"]
    # Written with the Chinese minus sign as well; stored as a lag of -2.
    data["K-predecessors"] = "J − 2"
    assert client.post(url(aon_application), data).status_code == 302
    k = Activity.objects.get(application=aon_application, code="K")
    assert k.predecessors == [{"id": "J", "lag": -2}]
    html = client.get(url(aon_application)).content.decode()
    assert 'name="K-predecessors" value="J-2"' in html


def test_an_overlap_on_arrow_is_typed_in_its_column(client, supervisor, application):
    client.force_login(supervisor)
    assert 'name="K-lead" value="0"' in client.get(url(application)).content.decode()
    data = form_data(client, application, **{"K-lead": "3", "reason": "提前进场"})
    html = client.post(url(application), data).content.decode()
    assert (
        '<p class="field-error" id="id_r_K-lead-error">'
        "K 与其开始事件前各工作的搭接不得超过 J 的最短工期。</p>"
    ) in html
    assert Activity.objects.get(application=application, code="K").lead == 0
    data["K-lead"] = "2"
    assert client.post(url(application), data).status_code == 302
    k = Activity.objects.get(application=application, code="K")
    assert (k.lead, k.baseline_es) == (2, 23)
