"""The dashboard's counts: kept in step with every change, equal to a count of the rows."""

from datetime import date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applications import dashboard_counts, services
from applications import sweep as analysis
from applications.archiving import archive_old_rows
from applications.assignment import (
    account_manager_assign,
    account_manager_assign_waiting,
    account_manager_loads,
)
from applications.kpi import cycle_days, window
from applications.models import (
    ACTIVE_STATES,
    Application,
    ApplicationCount,
    DeviationCount,
    DeviationTotal,
    TimeLimitStatus,
)
from scheduling.models import Activity, Deviation, Severity
from scheduling.selectors import working_calendar
from supervision import selectors
from tests.dates import pin_today
from tests.factories import AccountManagerProfileFactory, make_application
from tests.pages.conftest import open_deviation
from yekuo.errors import DomainError

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday


def at(day: date) -> datetime:
    return datetime.combine(day, time(18), tzinfo=SHANGHAI)


def late_start(application, manager, *, code="A", remaining=3, today=DAY0):
    activity = Activity.objects.get(application=application, code=code)
    if activity.actual_start is None:
        services.activity_progress_record(
            activity_id=activity.pk, start=DAY0, by=manager, today=today
        )
    services.activity_progress_record(
        activity_id=activity.pk, remaining=remaining, by=manager, today=today
    )


def acknowledge(deviation, by, today):
    services.deviation_acknowledge(
        deviation_id=deviation.pk,
        cause="other",
        planned_action="跟进客户施工",
        action_due=today + timedelta(days=30),
        by=by,
        today=today,
    )


# --- The counts against a count of the rows, step by step -----------------------------------

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("sweep"), st.integers(0, 40)),
        st.tuples(st.just("progress"), st.integers(0, 2), st.integers(0, 12)),
        st.tuples(
            st.just("transition"),
            st.integers(0, 2),
            st.sampled_from(["suspend", "resume", "cancel"]),
        ),
        st.tuples(st.just("acknowledge"), st.integers(0, 20)),
        st.tuples(st.just("reassign"), st.integers(0, 2)),
        st.tuples(st.just("assign"), st.integers(0, 2)),
        st.tuples(st.just("catch_up")),
        st.tuples(st.just("archive")),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_the_counts_equal_a_count_of_the_rows_after_every_change(supervisor, manager, operations):
    other = AccountManagerProfileFactory().user
    applications = [
        make_application(by=supervisor, manager=manager, accepted_on=DAY0),
        make_application(by=supervisor, manager=None, accepted_on=DAY0, is_important=True),
        make_application(
            by=supervisor, manager=manager, accepted_on=DAY0, customer_class="hv_dual"
        ),
    ]
    assert dashboard_counts.dashboard_counts_check() == []
    today = DAY0
    for operation in operations:
        kind, *args = operation
        try:
            if kind == "sweep":
                today = max(today, DAY0 + timedelta(days=args[0]))
                analysis.deviation_sweep_batch(
                    application_ids=[a.pk for a in applications], now=at(today)
                )
            elif kind == "progress":
                application = applications[args[0]]
                late_start(application, supervisor, remaining=args[1], today=today)
            elif kind == "transition":
                application = applications[args[0]]
                services.application_transition(
                    application_id=application.pk,
                    transition=args[1],
                    by=supervisor,
                    note="客户要求暂缓",
                    now=at(today),
                )
            elif kind == "acknowledge":
                unresolved = list(
                    Deviation.objects.exclude(status=Deviation.Status.RESOLVED).order_by("pk")
                )
                if unresolved:
                    acknowledge(unresolved[args[0] % len(unresolved)], supervisor, today)
            elif kind == "reassign":
                application = Application.objects.get(pk=applications[args[0]].pk)
                services.application_reassign(
                    application_id=application.pk,
                    manager=other if application.account_manager_id != other.pk else manager,
                    reason="调整工作量",
                    override=True,
                    override_reason="演练",
                    by=supervisor,
                    now=at(today),
                )
            elif kind == "assign":
                account_manager_assign(application_id=applications[args[0]].pk, now=at(today))
            elif kind == "catch_up":
                account_manager_assign_waiting(now=at(today))
            elif kind == "archive":
                # Whatever is resolved or decided by now leaves the hot tables.
                archive_old_rows(before=at(today + timedelta(days=1)))
        except DomainError:
            pass  # refused: nothing changed, and the counts must say so too
        assert dashboard_counts.dashboard_counts_check() == [], operation


def held(user) -> int:
    return sum(ApplicationCount.objects.filter(manager_id=user.pk).values_list("n", flat=True))


def test_the_counts_follow_a_sweep_an_answer_a_reassignment_and_a_cancellation(supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    other = AccountManagerProfileFactory().user
    late_start(application, manager)
    deviation = Deviation.objects.get()
    key = {"severity": deviation.severity, "stage": deviation.activity.stage}
    assert DeviationCount.objects.get(**key, status="open", manager_id=manager.pk).n == 1
    acknowledge(deviation, manager, DAY0)
    assert DeviationCount.objects.get(**key, status="open", manager_id=manager.pk).n == 0
    assert DeviationCount.objects.get(**key, status="acknowledged", manager_id=manager.pk).n == 1
    services.application_reassign(
        application_id=application.pk,
        manager=other,
        reason="调整",
        override=True,
        override_reason="演练",
        by=supervisor,
    )
    assert DeviationCount.objects.get(**key, status="acknowledged", manager_id=other.pk).n == 1
    assert held(other) == 1
    assert held(manager) == 0
    services.application_transition(
        application_id=application.pk, transition="cancel", by=supervisor, note="客户撤回"
    )
    assert sum(DeviationCount.objects.values_list("n", flat=True)) == 0
    assert sum(ApplicationCount.objects.values_list("n", flat=True)) == 0
    assert dashboard_counts.dashboard_counts_check() == []


def test_a_refused_change_moves_no_count(supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    before = list(ApplicationCount.objects.values_list("manager_id", "time_limit_status", "n"))
    with pytest.raises(DomainError):
        services.application_transition(
            application_id=application.pk, transition="resume", by=supervisor
        )
    after = list(ApplicationCount.objects.values_list("manager_id", "time_limit_status", "n"))
    assert after == before
    assert held(manager) == 1


# --- The dashboard's figures against the aggregates over the rows ----------------------------


def _figures_from_the_rows():
    """The cards and charts as the dashboard computed them before it kept counts."""
    open_rows = list(
        Deviation.objects.exclude(status=Deviation.Status.RESOLVED)
        .filter(application__state__in=ACTIVE_STATES)
        .values_list("department_id", "activity__stage", "severity")
        .annotate(n=Count("pk"))
        .order_by()
    )
    applications = Application.objects.filter(state__in=ACTIVE_STATES).aggregate(
        active=Count("pk"),
        unassigned=Count("pk", filter=Q(account_manager__isnull=True)),
        alarms=Count("pk", filter=Q(time_limit_status=TimeLimitStatus.EXCEEDED)),
    )
    return open_rows, applications


def test_the_dashboard_figures_equal_the_aggregates_over_the_rows(supervisor, manager):
    applications = [
        make_application(by=supervisor, manager=manager if i % 3 else None, accepted_on=DAY0)
        for i in range(6)
    ]
    for i, application in enumerate(applications[:4]):
        late_start(application, supervisor, remaining=1 + 3 * i)
    analysis.deviation_sweep_batch(
        application_ids=[a.pk for a in applications], now=at(DAY0 + timedelta(days=25))
    )
    # And some the sweep would store on other activities, of other severities and stages.
    for i, application in enumerate(applications[2:]):
        open_deviation(application, "BF"[i % 2], severity=["red", "amber", "info"][i % 3])
    acknowledge(Deviation.objects.order_by("pk").first(), supervisor, DAY0 + timedelta(days=25))
    services.deviation_acknowledge(
        deviation_id=Deviation.objects.order_by("pk").last().pk,
        cause="materials",
        responsible_party="customer",
        party_reason="客户物资未到",
        planned_action="催促物资到货",
        action_due=DAY0 + timedelta(days=40),
        by=supervisor,
        today=DAY0 + timedelta(days=25),
    )
    services.application_transition(
        application_id=applications[1].pk, transition="cancel", by=supervisor, note="撤回"
    )
    open_rows, old = _figures_from_the_rows()
    assert open_rows  # the seeded data has open deviations of several severities
    today = DAY0 + timedelta(days=25)
    figures = selectors.dashboard_figures(today=today)
    kpis = figures.kpis
    assert (kpis.active, kpis.unassigned, kpis.time_limit_alarms) == (
        old["active"],
        old["unassigned"],
        old["alarms"],
    )
    assert kpis.time_limit_alarms > 0  # 25 days on, the clocks have run out
    assert figures.by_department == selectors.open_deviations_by_department(open_rows)
    assert figures.by_stage == selectors.open_deviations_by_stage(open_rows)
    expected = {s: 0 for s in Severity.values}
    for _department, _stage, severity, n in open_rows:
        expected[severity] += n
    assert kpis.open_by_severity == expected
    assert [(m.profile.pk, m.load) for m in figures.loads] == [
        (m.profile.pk, m.load) for m in account_manager_loads()
    ]
    # The answer tables, filtered or not, as counted over the deviations themselves.
    for filters in [{}, {"severity": "red"}, {"manager_id": manager.pk}, {"cause": "other"}]:
        rows = selectors._open_deviations_filtered(**filters)
        assert selectors.open_deviation_answer_counts(**filters) == selectors.deviation_counts(
            rows
        ), filters


# --- Recount and check -----------------------------------------------------------------------


def test_the_check_finds_a_wrong_count_and_the_recount_repairs_it(supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    late_start(application, manager)
    call_command("recount_dashboard", "--check", stdout=StringIO())
    DeviationCount.objects.filter(n=1).update(n=5)
    DeviationTotal.objects.filter(n=1).update(n=3)
    ApplicationCount.objects.all().delete()
    out = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("recount_dashboard", "--check", stdout=out)
    assert exc.value.returncode == 1
    assert "3 counts differ" in str(exc.value)
    assert "kept (5,), rows say (1,)" in out.getvalue()
    assert "kept (3,), rows say (1,)" in out.getvalue()
    call_command("recount_dashboard", stdout=out)
    assert dashboard_counts.dashboard_counts_check() == []
    assert held(manager) == 1


def test_the_migration_counts_the_rows_of_an_existing_database(supervisor, manager):
    from importlib import import_module

    from django.apps import apps

    fill_counts = import_module("applications.migrations.0019_dashboard_counts").fill_counts
    applications = [
        make_application(by=supervisor, manager=manager if i else None, accepted_on=DAY0)
        for i in range(3)
    ]
    late_start(applications[0], supervisor)
    open_deviation(applications[1], "B", severity="amber")
    services.application_update(
        application_id=applications[2].pk, changes={"is_important": True}, by=supervisor
    )
    kept = (
        sorted(DeviationCount.objects.filter(n__gt=0).values_list(*DeviationCount.KEY, "n")),
        sorted(ApplicationCount.objects.filter(n__gt=0).values_list("manager_id", "n", "weight")),
    )
    DeviationCount.objects.all().delete()
    ApplicationCount.objects.all().delete()
    fill_counts(apps, None)
    assert dashboard_counts.dashboard_counts_check() == []
    assert (
        sorted(DeviationCount.objects.values_list(*DeviationCount.KEY, "n")),
        sorted(ApplicationCount.objects.values_list("manager_id", "n", "weight")),
    ) == kept
    assert sum(n for *_key, n in kept[0]) == 2
    assert sorted((n, w) for _m, n, w in kept[1]) == [(1, 1), (2, 3)]


def test_the_totals_migration_sums_the_counts_of_an_existing_database(supervisor, manager):
    from importlib import import_module

    from django.apps import apps

    fill_totals = import_module("applications.migrations.0028_deviation_totals").fill_totals
    other = AccountManagerProfileFactory(user__username="other-totals").user
    for who in (manager, other, manager):
        application = make_application(by=supervisor, manager=who, accepted_on=DAY0)
        open_deviation(application, "B", severity="amber")
    kept = sorted(DeviationTotal.objects.values_list(*DeviationTotal.KEY, "n"))
    assert [n for *_key, n in kept] == [3]  # two managers' counts, one total
    DeviationTotal.objects.all().delete()
    fill_totals(apps, None)
    assert sorted(DeviationTotal.objects.values_list(*DeviationTotal.KEY, "n")) == kept
    assert dashboard_counts.dashboard_counts_check() == []


# --- The page reads a fixed number of queries whatever the data ------------------------------


@pytest.mark.parametrize("n", [5, 500])
def test_the_seeded_dashboard_is_counted_and_read_in_the_same_queries_for_5_and_500(
    client, n, django_assert_max_num_queries
):
    from accounts.models import User

    call_command("seed_demo", "--applications", str(n), "--today", "2026-06-17", stdout=StringIO())
    with time_machine.travel(datetime(2026, 6, 17, 18, tzinfo=SHANGHAI), tick=False):
        stats = analysis.deviation_sweep()
        assert stats.applications > 0
        assert dashboard_counts.dashboard_counts_check() == []
        assert n == 5 or DeviationCount.objects.filter(n__gt=0).count() > 10
        client.force_login(User.objects.get(username="supervisor"))
        client.get("/dashboard/")  # the calendar is cached per process
        # As the page tests count them (26), whatever the number of applications.
        with django_assert_max_num_queries(26):
            response = client.get("/dashboard/", {"severity": "red"})
        kpis = selectors.dashboard_figures(today=date(2026, 6, 17)).kpis
    assert response.status_code == 200
    old = Application.objects.filter(state__in=ACTIVE_STATES).count()
    assert f'<span class="value">{old}</span>' in response.content.decode()
    # The on-time and cycle cards as computed over the energized applications themselves.
    _first, start, end = window(date(2026, 6, 17))
    calendar = working_calendar()
    finished = [
        (
            timezone.localdate(at),
            committed_finish,
            cycle_days(calendar, first, timezone.localdate(at)),
            tp,
        )
        for first, at, committed_finish, tp in Application.objects.filter(
            energized_at__gte=start, energized_at__lt=end
        ).values_list("start_date", "energized_at", "committed_finish_date", "committed_duration")
    ]
    assert n == 5 or len(finished) > 5
    assert (kpis.finished, kpis.on_time) == (
        len(finished),
        sum(day <= committed for day, committed, _c, _t in finished),
    )
    if finished:
        assert kpis.average_cycle_days == round(sum(f[2] for f in finished) / len(finished), 1)
        assert kpis.average_committed_days == round(sum(f[3] for f in finished) / len(finished), 1)
