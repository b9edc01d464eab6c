"""Every business type the acceptance form offers can be accepted, planned and energized;
a combination no template plans is refused with what is offered instead."""

from datetime import date, datetime, time

import pytest
from django.urls import reverse
from django.utils import translation

from applications import services
from applications.models import Application, ApplicationState
from scheduling import cpm
from scheduling import selectors as schedule_selectors
from scheduling.models import Activity, Baseline, NetworkTemplate
from tests.dates import SHANGHAI, pin_today
from tests.factories import RegionFactory, credit_code, make_application
from yekuo.domain import BusinessType
from yekuo.errors import InvalidInput

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meetings_when_ready"), pin_today]

NEW = reverse("application_new")
DAY0 = date(2026, 3, 2)  # a Monday


@pytest.fixture
def region():
    return RegionFactory(code="xh", name="西湖供电区")


def form_data(region, serial, business_type, customer_class, voltage_class):
    return {
        "credit_code": credit_code(serial),
        "name": f"钱塘测试{serial}有限公司",
        "region": str(region.pk),
        "industry": "制造业",
        "address": "杭州市西湖区文三路 1 号",
        "contact_name": "王工",
        "contact_phone": "13800000000",
        "business_type": business_type,
        "customer_class": customer_class,
        "voltage_class": voltage_class,
        "requested_capacity_kva": "800",
        "supply_type": "",
    }


def assert_planned(application: Application) -> None:
    """The plan is built: the template's activities, a committed date, a baseline whose
    critical paths run without a gap from day 0 to the end of the network."""
    template_rows = application.template.activities.count()
    assert application.activities.count() == template_rows > 0
    assert application.committed_finish_date is not None
    assert application.committed_finish_date >= application.start_date
    baseline = Baseline.objects.get(application=application, version=1)
    schedule = cpm.load_network(baseline.network).evaluate()
    assert schedule.duration == baseline.duration > 0
    assert schedule.critical_paths
    for path in schedule.critical_paths:
        times = [schedule.activities[code] for code in path]
        assert times[0].es == 0
        assert times[-1].ef == schedule.duration
        assert all(a.ef == b.es for a, b in zip(times, times[1:], strict=False))


def walk_to_closed(application: Application, by) -> Application:
    """Record every activity on a working day of its own in network order (Fulkerson's
    numbering makes the tail order a topological one), move the stages on, review, close."""
    calendar = schedule_selectors.working_calendar()
    day = application.start_date
    activities = Activity.objects.filter(application=application, is_dummy=False)
    for activity in sorted(activities, key=lambda a: (a.tail, a.head)):
        services.activity_progress_record(
            activity_id=activity.pk, start=day, finish=day, by=by, today=day
        )
        day = calendar.next_working_day(day)
    for transition in (
        "start_survey",
        "start_design",
        "start_fees",
        "start_construction",
        "start_energization",
        "energize",
        "close",
    ):
        if transition == "close":
            services.application_record_review(
                application_id=application.pk,
                quality=5,
                safety=5,
                efficiency=4,
                satisfaction=5,
                by=by,
            )
        application = services.application_transition(
            application_id=application.pk,
            transition=transition,
            by=by,
            now=datetime.combine(day, time(17), tzinfo=SHANGHAI),
        )
    return application


def test_every_business_type_is_offered_by_the_form(client, supervisor):
    offered_types = {business for business, _c, _v in schedule_selectors.offered_plans()}
    assert offered_types == set(BusinessType.values)
    client.force_login(supervisor)
    html = client.get(NEW).content.decode()
    for value, label in BusinessType.choices:
        with translation.override("zh-hans"):
            assert f'<option value="{value}">{label}</option>' in html


def test_every_offered_combination_is_accepted_through_the_form(client, supervisor, region):
    client.force_login(supervisor)
    offered = schedule_selectors.offered_plans()
    for serial, combination in enumerate(offered, 920000):
        response = client.post(NEW, form_data(region, serial, *combination))
        assert response.status_code == 302, combination
        application = Application.objects.get(customer__credit_code=credit_code(serial))
        stored = (application.business_type, application.customer_class, application.voltage_class)
        assert stored == combination
        assert application.template.matches(
            business_type=combination[0],
            customer_class=combination[1],
            voltage_class=combination[2],
        )
        assert_planned(application)
    assert Application.objects.count() == len(offered)


def test_every_offered_combination_is_planned_by_the_service_and_can_be_closed(supervisor, manager):
    walked = set()
    for serial, (business_type, customer_class, voltage_class) in enumerate(
        schedule_selectors.offered_plans(), 930000
    ):
        application = make_application(
            by=supervisor,
            manager=manager,
            business_type=business_type,
            customer_class=customer_class,
            voltage_class=voltage_class,
            accepted_on=DAY0,
            serial=serial,
        )
        assert_planned(application)
        # One walk per template: the combinations of one template share the network.
        if application.template_id in walked:
            continue
        walked.add(application.template_id)
        closed = walk_to_closed(application, manager)
        assert closed.state == ApplicationState.CLOSED, application.template.code
        assert closed.energized_at is not None
    assert walked == set(
        NetworkTemplate.objects.filter(is_active=True).values_list("pk", flat=True)
    )


def test_the_new_business_types_have_short_networks_without_customer_works():
    for business_type in ("capacity_reduction", "suspension"):
        for _type, customer_class, voltage_class in [
            plan for plan in schedule_selectors.offered_plans() if plan[0] == business_type
        ]:
            template = schedule_selectors.template_for(
                business_type=business_type,
                customer_class=customer_class,
                voltage_class=voltage_class,
            )
            stages = {row.stage for row in template.activities.filter(is_dummy=False)}
            assert not stages & {"fees", "construction"}, template.code
            assert not template.activities.filter(party="customer").exists()
            assert schedule_selectors.template_compile(template).evaluate().duration <= 10


def test_relocation_removes_the_meter_at_the_old_address():
    for _type, customer_class, voltage_class in [
        plan for plan in schedule_selectors.offered_plans() if plan[0] == "relocation"
    ]:
        template = schedule_selectors.template_for(
            business_type="relocation", customer_class=customer_class, voltage_class=voltage_class
        )
        assert template.activities.filter(name="旧址拆表销户", department__code="metering").exists()


def test_every_active_template_is_a_valid_fulkerson_numbered_network():
    templates = NetworkTemplate.objects.filter(is_active=True)
    assert templates.count() == 16
    for template in templates:
        arcs = list(template.activities.values_list("tail", "head"))
        assert all(tail < head for tail, head in arcs), template.code
        tails = {tail for tail, _head in arcs}
        heads = {head for _tail, head in arcs}
        assert len(tails - heads) == 1, template.code  # one start event
        assert len(heads - tails) == 1, template.code  # one end event
        assert sorted(tails | heads) == list(range(1, len(tails | heads) + 1)), template.code
        compiled = schedule_selectors.template_compile(template)  # raises on a cycle
        assert compiled.evaluate().duration > 0


def test_an_unoffered_combination_is_refused_naming_what_is_offered(supervisor):
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        make_application(
            by=supervisor,
            business_type="suspension",
            customer_class="lv_non_residential",
            voltage_class="0.4kV",
        )
    assert refused.value.errors == {
        "customer_class": [
            "No active network template plans Supply suspension for Low-voltage "
            "non-residential at 0.4kV. Supply suspension is offered for: High voltage, single "
            "source (10kV/35kV/110kV/220kV); High voltage, dual source "
            "(10kV/35kV/110kV/220kV)."
        ]
    }
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        make_application(
            by=supervisor,
            business_type="temporary",
            customer_class="hv_single",
            voltage_class="110kV",
        )
    assert refused.value.errors["voltage_class"][0].endswith(
        "Temporary supply is offered for: Low-voltage non-residential (0.4kV); "
        "High voltage, single source (10kV/35kV)."
    )
    assert not Application.objects.exists()


def test_the_form_shows_the_refusal_beside_the_field_in_chinese(client, supervisor, region):
    client.force_login(supervisor)
    response = client.post(
        NEW, form_data(region, 940000, "temporary", "hv_dual", "10kV"), HTTP_ACCEPT_LANGUAGE="zh"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert (
        'id="id_customer_class-error">没有启用的网络计划模板适用于高压双电源 10kV 临时用电。'
        "临时用电可受理：低压非居民（0.4kV）；高压单电源（10kV/35kV）。"
    ) in html
    assert not Application.objects.exists()


def test_a_template_an_administrator_deactivates_is_no_longer_offered(supervisor):
    NetworkTemplate.objects.filter(code="temporary-lv").update(is_active=False)
    offered = schedule_selectors.offered_plans()
    assert ("temporary", "lv_non_residential", "0.4kV") not in offered
    assert ("temporary", "hv_single", "10kV") in offered
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        make_application(
            by=supervisor,
            business_type="temporary",
            customer_class="lv_non_residential",
            voltage_class="0.4kV",
        )
    assert "offered for: High voltage, single source (10kV/35kV)." in str(
        refused.value.errors["customer_class"][0]
    )
