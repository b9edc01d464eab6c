import json
from datetime import date
from pathlib import Path

import pytest

from scheduling import selectors
from scheduling.calendar import CN_COVERED_YEARS
from scheduling.models import ActivityTemplate, CalendarOverride, CalendarYear, NetworkTemplate
from tests.admin_forms import change_form_data

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "networks"


def test_default_templates_are_loaded_and_valid():
    durations = {
        t.code: selectors.template_compile(t).evaluate().duration
        for t in NetworkTemplate.objects.all()
    }
    assert durations == {
        "lv-non-residential": 9,
        "hv-single-10kv": 51,
        "hv-dual-10kv": 68,
        "hv-single-35kv-above": 111,
        "hv-dual-35kv-above": 111,
        # 0018: the other business types. Relocation is a new connection's network; the
        # meter removed at the old address runs beside the energization.
        "temporary-lv": 8,
        "temporary-hv-single": 20,
        "relocation-lv-non-residential": 9,
        "relocation-hv-single-10kv": 51,
        "relocation-hv-dual-10kv": 68,
        "relocation-hv-single-35kv-above": 111,
        "relocation-hv-dual-35kv-above": 111,
        "capacity-reduction-hv-single": 6,
        "capacity-reduction-hv-dual": 6,
        "suspension-hv-single": 3,
        "suspension-hv-dual": 3,
    }


def test_default_10kv_template_is_the_worked_example():
    template = NetworkTemplate.objects.get(code="hv-single-10kv")
    expected = json.loads((EXAMPLES / "hv-single-10kv.expected.json").read_text())
    assert selectors.template_compile(template).evaluate().as_dict() == expected


@pytest.mark.parametrize(
    ("business_type", "customer_class", "voltage_class", "code"),
    [
        ("new", "hv_single", "10kV", "hv-single-10kv"),
        ("capacity_increase", "hv_dual", "110kV", "hv-dual-35kv-above"),
        ("new", "lv_non_residential", "0.4kV", "lv-non-residential"),
        ("new", "hv_single", "220kV", "hv-single-35kv-above"),
        ("new", "residential", "0.4kV", None),
        ("temporary", "hv_single", "10kV", "temporary-hv-single"),
        ("temporary", "hv_single", "110kV", None),
        ("temporary", "hv_dual", "10kV", None),
        ("relocation", "hv_dual", "35kV", "relocation-hv-dual-35kv-above"),
        ("capacity_reduction", "hv_dual", "220kV", "capacity-reduction-hv-dual"),
        ("suspension", "hv_single", "10kV", "suspension-hv-single"),
        ("suspension", "lv_non_residential", "0.4kV", None),
    ],
)
def test_template_for_picks_the_matching_active_template(
    business_type, customer_class, voltage_class, code
):
    template = selectors.template_for(
        business_type=business_type, customer_class=customer_class, voltage_class=voltage_class
    )
    assert (template.code if template else None) == code


def test_template_for_prefers_the_newest_active_version_and_skips_retired_ones():
    old = NetworkTemplate.objects.get(code="hv-single-10kv")
    newer = NetworkTemplate.objects.create(
        code=old.code,
        version=2,
        name="v2",
        business_types=["new"],
        customer_class="hv_single",
        voltage_classes=["10kV"],
        is_active=True,
    )
    pick = dict(business_type="new", customer_class="hv_single", voltage_class="10kV")
    assert selectors.template_for(**pick) == newer
    newer.is_active = False
    newer.save()
    assert selectors.template_for(**pick) == old


def _template_url(template):
    return f"/admin/scheduling/networktemplate/{template.pk}/change/"


def _inline_index(data, code):
    for key, value in data.items():
        if key.endswith("-code") and value == code:
            return key.rsplit("-", 2)[0] + "-" + key.rsplit("-", 2)[1]
    raise AssertionError(code)


def test_admin_refuses_a_template_with_a_cycle_with_the_engines_reason(client, admin_user):
    client.force_login(admin_user)
    template = NetworkTemplate.objects.get(code="hv-single-10kv")
    data = change_form_data(client.get(_template_url(template)))
    # Point activity P (15 → 16) back to event 1: 1 → ... → 16 → 1 is a loop.
    p = _inline_index(data, "P")
    data[f"{p}-head"] = 1

    response = client.post(_template_url(template), data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    chain = " → ".join("ABCDEFGHIJKLOPA")
    assert errors == [f"网络逻辑存在循环：{chain}。"]
    assert ActivityTemplate.objects.get(template=template, code="P").head == 16


def test_admin_refuses_two_arcs_between_the_same_events(client, admin_user):
    client.force_login(admin_user)
    template = NetworkTemplate.objects.get(code="hv-single-10kv")
    data = change_form_data(client.get(_template_url(template)))
    m = _inline_index(data, "M")
    data[f"{m}-head"] = 14  # M now runs 9 → 14 like N: needs its own event and a dummy

    response = client.post(_template_url(template), data)

    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert "都从事件 9 到事件 14" in errors[0]
    assert ActivityTemplate.objects.get(template=template, code="M").head == 13


def test_admin_saves_a_valid_change_and_reports_the_new_schedule(client, admin_user):
    client.force_login(admin_user)
    template = NetworkTemplate.objects.get(code="hv-single-10kv")
    data = change_form_data(client.get(_template_url(template)))
    k = _inline_index(data, "K")
    data[f"{k}-duration"] = 25

    response = client.post(_template_url(template), data, follow=True)

    assert ActivityTemplate.objects.get(template=template, code="K").duration == 25
    assert "56 个工作日" in response.content.decode()


def test_admin_copies_a_template_as_a_new_inactive_version(client, admin_user):
    client.force_login(admin_user)
    template = NetworkTemplate.objects.get(code="hv-single-10kv")
    client.post(
        "/admin/scheduling/networktemplate/",
        {"action": "new_version", "_selected_action": [template.pk]},
    )
    copy = NetworkTemplate.objects.get(code="hv-single-10kv", version=2)
    assert not copy.is_active
    assert copy.activities.count() == template.activities.count() == 17
    assert selectors.template_compile(copy).evaluate().duration == 51


def test_calendar_override_entered_in_the_admin_changes_the_calendar(
    client, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    assert selectors.working_calendar().is_working_day(date(2026, 6, 18))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/scheduling/calendaroverride/add/",
            {"day": "2026-06-18", "note": "检修停电日", "is_working": ""},
        )
    assert response.status_code == 302
    override = CalendarOverride.objects.get()
    assert (override.is_working, override.created_by) == (False, admin_user)
    assert not selectors.working_calendar().is_working_day(date(2026, 6, 18))


def test_estimated_years_are_named_until_an_administrator_confirms_them():
    first_uncovered = CN_COVERED_YEARS.stop
    today = date(first_uncovered - 1, 11, 29)
    assert selectors.calendar_estimated_years(today=today) == [first_uncovered]
    CalendarYear.objects.create(year=first_uncovered, source="State Council notice")
    assert selectors.calendar_estimated_years(today=today) == []


def test_working_calendar_counts_confirmed_years_as_official(django_capture_on_commit_callbacks):
    from scheduling import services

    year = CN_COVERED_YEARS.stop
    with django_capture_on_commit_callbacks(execute=True):
        services.calendar_year_confirm(year=year, source="notice", by=None)
    calendar = selectors.working_calendar()
    calendar.is_working_day(date(year, 3, 1))
    assert year not in calendar.guessed_years
