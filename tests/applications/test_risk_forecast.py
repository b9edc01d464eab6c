"""The probability of keeping the promise, computed by every analysis (the sweep's and a
change's) when an input changed, stored beside the application (scheduling's ApplicationRisk)."""

import gc
import os
import threading
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from applications import services
from applications import sweep as analysis
from applications.models import Application
from scheduling import risk
from scheduling.models import Activity, ApplicationRisk, Deviation
from tests.dates import pin_today
from tests.factories import learn_exactly_the_plan, make_application

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db, pin_today]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday


def at(day: date) -> datetime:
    return datetime.combine(day, time(18), tzinfo=SHANGHAI)


def sweep(application, day):
    return analysis.deviation_sweep_batch(application_ids=[application.pk], now=at(day))


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)


def stored(application) -> ApplicationRisk:
    """The forecast the last analysis stored (scheduling's row beside the application's)."""
    return ApplicationRisk.objects.get(pk=application.pk)


def criticality(application) -> dict[str, float]:
    shares = stored(application).activities
    return {code: share for code, (share, _sensitivity) in shares.items()}


def test_with_certain_durations_the_stored_risk_is_the_deterministic_forecast(application, manager):
    learn_exactly_the_plan(application)
    stats = sweep(application, DAY0)
    assert stats.unchanged == 0
    application.refresh_from_db()
    finish = application.forecast_finish_date
    risk = stored(application)
    assert risk.as_of == DAY0
    # The plan keeps a day of float against the commitment: every run keeps the promise.
    assert risk.on_time == 1.0
    assert (risk.p50, risk.p80, risk.p95) == (finish,) * 3
    assert risk.curve == [[finish.isoformat(), 1.0]]
    critical = set(
        Activity.objects.filter(
            application=application, is_critical=True, is_dummy=False
        ).values_list("code", flat=True)
    )
    assert {code for code, share in criticality(application).items() if share == 1.0} == critical
    assert {share for code, share in criticality(application).items() if code not in critical} == {
        0.0
    }
    assert risk.driver in critical

    # A, critical, needs three more days: the promise is broken in every run, and the
    # change's own analysis says so at once.
    a = Activity.objects.get(application=application, code="A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    services.activity_progress_record(activity_id=a.pk, remaining=3, by=manager, today=DAY0)
    application.refresh_from_db()
    risk = stored(application)
    assert risk.on_time == 0.0
    assert risk.p80 == application.forecast_finish_date > finish
    assert risk.p80 > application.committed_finish_date
    assert criticality(application)["A"] == 1.0


def test_with_uncertain_durations_the_risk_is_a_probability_with_its_spread(application):
    # Nothing learned yet: each activity draws around its planned duration (the prior).
    sweep(application, DAY0)
    risk = stored(application)
    assert 0.0 < risk.on_time < 1.0
    assert risk.p50 <= risk.p80 <= risk.p95
    assert risk.p50 < risk.p95
    days = [date.fromisoformat(day) for day, _share in risk.curve]
    shares = [share for _day, share in risk.curve]
    assert days == sorted(set(days)) and shares == sorted(shares) and shares[-1] == 1.0
    # The probability is the curve read at the committed date.
    assert risk.on_time == max(
        (
            share
            for day, share in zip(days, shares, strict=True)
            if day <= application.committed_finish_date
        ),
        default=0.0,
    )
    codes = set(criticality(application))
    assert risk.driver in codes
    assert all(0.0 <= share <= 1.0 for share in criticality(application).values())
    assert max(criticality(application).values()) > 0.5


def test_the_risk_is_computed_again_only_when_an_input_changed(application):
    sweep(application, DAY0)
    before = ApplicationRisk.objects.values_list("on_time", "curve").get(pk=application.pk)
    assert sweep(application, DAY0).unchanged == 1
    # History learned anew (the nightly refresh) is an input of the risk, not of the rest.
    learn_exactly_the_plan(application, learned_at=at(DAY0) + timedelta(hours=2))
    assert sweep(application, DAY0).unchanged == 0
    after = ApplicationRisk.objects.values_list("on_time", "curve").get(pk=application.pk)
    assert before[0] < 1.0 and after[0] == 1.0
    assert after != before


def test_a_batch_is_analysed_without_the_cyclic_collector(application, monkeypatch):
    # Its rows and forecasts live until it is stored: the collector would walk them again
    # and again to find nothing (yekuo.heap). It is back on once the batch is done.
    seen = []
    analyse = analysis.analyse_application

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return analyse(*args, **kwargs)

    monkeypatch.setattr(analysis, "analyse_application", watched)
    assert gc.isenabled()
    sweep(application, DAY0)
    assert seen == [False]
    assert gc.isenabled()


def test_the_same_inputs_give_the_same_risk(supervisor, manager):
    first = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    sweep(first, DAY0)
    first_risk = ApplicationRisk.objects.values_list("on_time", "curve", "driver").get(pk=first.pk)
    Application.objects.filter(pk=first.pk).update(sweep_fingerprint="")
    sweep(first, DAY0)
    again = ApplicationRisk.objects.values_list("on_time", "curve", "driver").get(pk=first.pk)
    assert again == first_risk
    # Stored again over the same row, never beside it.
    assert ApplicationRisk.objects.filter(application=first).count() == 1


def test_the_application_page_shows_the_probability_its_curve_and_each_criticality(
    client, application, manager
):
    sweep(application, DAY0)
    risk = stored(application)
    client.force_login(manager)
    html = client.get(f"/applications/{application.number}/").content.decode()
    percent = round(risk.on_time * 100)
    assert f'<strong id="risk-on-time">{percent}%</strong>' in html
    p80 = risk.p80
    assert f"P80 完成日期 {p80.year}年{p80.month}月{p80.day}日" in html
    assert f"在 {percent}% 的模拟中" in html
    # The S-curve, with the commitment marked.
    assert 'class="line-cycle" d="M' in html and 'class="line-commit"' in html
    # Criticality beside each activity; the driver marked in the table and named.
    assert html.count('class="num criticality"') == 16
    driver = Activity.objects.get(application=application, code=risk.driver)
    assert f'<dd id="risk-driver">{driver.code} {driver.name}' in html
    assert html.count('title="影响风险最大的工作">影响风险最大</span>') == 1


def test_the_page_shows_no_risk_once_the_work_is_over(client, application, manager):
    sweep(application, DAY0)
    Application.objects.filter(pk=application.pk).update(state="energized")
    client.force_login(manager)
    html = client.get(f"/applications/{application.number}/").content.decode()
    assert 'id="risk-box"' not in html and 'id="risk"' not in html
    assert "criticality" not in html


def test_with_the_forecast_turned_off_nothing_is_stored_or_shown(
    client, application, manager, settings
):
    sweep(application, DAY0)
    settings.RISK_SAMPLES = 0
    # Turning it off is a change of the analysis: the next sweep computes again, and clears.
    assert sweep(application, DAY0).unchanged == 0
    risk = stored(application)
    assert (risk.as_of, risk.on_time, risk.curve) == (None, None, [])
    assert criticality(application) == {}
    client.force_login(manager)
    html = client.get(f"/applications/{application.number}/").content.decode()
    assert 'id="risk-box"' not in html and 'class="num criticality"' not in html


def test_with_the_forecast_off_from_the_start_no_risk_row_is_added(application, settings):
    settings.RISK_SAMPLES = 0
    assert sweep(application, DAY0).unchanged == 0
    assert not ApplicationRisk.objects.filter(application=application).exists()
    # The application's own row holds its analysis all the same.
    application.refresh_from_db()
    assert application.forecast_finish_date is not None and application.sweep_fingerprint


def test_a_batch_forecasts_beside_its_writes_with_the_same_answers(
    supervisor, manager, monkeypatch
):
    applications = [
        make_application(by=supervisor, manager=manager, accepted_on=DAY0) for _ in range(3)
    ]
    ids = [a.pk for a in applications]

    def forecasts():
        return list(ApplicationRisk.objects.filter(pk__in=ids).order_by("pk").values_list())

    monkeypatch.setattr(analysis.analyse, "BESIDE_FROM", 10**9)
    analysis.deviation_sweep_batch(application_ids=ids, now=at(DAY0))
    at_once = forecasts()
    assert len(at_once) == 3
    Application.objects.filter(pk__in=ids).update(sweep_fingerprint="")
    ApplicationRisk.objects.filter(pk__in=ids).update(on_time=None, curve=[])
    monkeypatch.setattr(analysis.analyse, "BESIDE_FROM", 1)
    threads = []
    simulate_many = analysis.analyse.risk.simulate_many

    def watched(cases, **options):
        threads.append(threading.current_thread().name)
        return simulate_many(cases, **options)

    monkeypatch.setattr(analysis.analyse.risk, "simulate_many", watched)
    analysis.deviation_sweep_batch(application_ids=ids, now=at(DAY0))
    assert forecasts() == at_once
    assert threads and threads[0].startswith("risk")


def test_a_forecast_that_fails_beside_the_writes_fails_the_batch_and_stores_nothing(
    application, monkeypatch
):
    monkeypatch.setattr(analysis.analyse, "BESIDE_FROM", 1)

    def broken(cases, **options):
        raise RuntimeError("the forecast broke")

    monkeypatch.setattr(analysis.analyse.risk, "simulate_many", broken)
    with pytest.raises(RuntimeError, match="the forecast broke"):
        sweep(application, DAY0)
    application.refresh_from_db()
    assert application.sweep_fingerprint == ""
    assert not ApplicationRisk.objects.filter(application=application).exists()
    assert not Deviation.objects.filter(application=application).exists()
    # Whole again, the same sweep stores all of it.
    monkeypatch.undo()
    sweep(application, DAY0)
    assert ApplicationRisk.objects.filter(application=application).exists()
    assert Deviation.objects.filter(application=application).exists()


def test_a_batch_whose_writes_fail_stops_its_forecasts(supervisor, manager, monkeypatch):
    applications = [
        make_application(by=supervisor, manager=manager, accepted_on=DAY0) for _ in range(2)
    ]
    monkeypatch.setattr(analysis.analyse, "BESIDE_FROM", 1)
    simulate_many = analysis.analyse.risk.simulate_many
    outcome = {}

    def held_until_stopped(cases, *, stop):
        # Still running when the writes fail: told to stop, it does not finish its runs.
        outcome["told"] = stop.wait(10)
        try:
            return simulate_many(cases, stop=stop)
        except risk.Stopped:
            outcome["stopped"] = True
            raise

    def failed_write(alerts):
        raise RuntimeError("the writes failed")

    monkeypatch.setattr(analysis.analyse.risk, "simulate_many", held_until_stopped)
    monkeypatch.setattr(analysis, "notify_red", failed_write)
    with pytest.raises(RuntimeError, match="the writes failed"):
        analysis.deviation_sweep_batch(application_ids=[a.pk for a in applications], now=at(DAY0))
    # The process's forecast thread is free again at once for the next batch.
    assert analysis.analyse._forecaster().submit(lambda: "free").result(timeout=10) == "free"
    assert outcome == {"told": True, "stopped": True}
    assert not ApplicationRisk.objects.filter(application__in=applications).exists()


def test_a_forked_process_starts_a_forecast_thread_of_its_own():
    # A worker pool's child, forked from a parent that had started the thread.
    assert analysis.analyse._forecaster().submit(lambda: "parent").result(timeout=10)
    pid = os.fork()
    if pid == 0:  # the child: nothing of the parent's thread, a thread of its own on demand
        code = 1
        try:
            forecaster = analysis.analyse._FORECASTER
            fresh = forecaster == [] and not analysis.analyse._FORECASTER_LOCK.locked()
            answer = analysis.analyse._forecaster().submit(lambda: "child").result(timeout=10)
            code = 0 if fresh and answer == "child" else 1
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
