"""Acceptance (受理) in the browser's forms: the customer by credit code, the plan and the
one-time notice shown before saving, the receipt, and documents as stage guards."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from applications import selectors, services
from applications.models import Application, Customer, Document, StageTransition
from scheduling import selectors as schedule_selectors
from tests.factories import (
    AccountManagerProfileFactory,
    RegionFactory,
    credit_code,
    make_application,
    pdf_upload,
)
from yekuo.errors import TransitionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("meetings_when_ready")]

NEW = reverse("application_new")
TODAY = date(2026, 3, 4)  # a Wednesday


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-03-04 10:00 +0800", tick=False):
        yield


@pytest.fixture
def region():
    return RegionFactory(code="xh", name="西湖供电区")


@pytest.fixture
def desk(region):
    """An account manager of 西湖 qualified for 10 kV, with room for work."""
    profile = AccountManagerProfileFactory(user__username="desk")
    profile.regions.set([region])
    return profile.user


def form_data(region, **changes):
    data = {
        "credit_code": credit_code(900001),
        "name": "钱塘精密制造有限公司",
        "region": str(region.pk),
        "industry": "制造业",
        "address": "杭州市西湖区文三路 1 号",
        "contact_name": "王工",
        "contact_phone": "13800000000",
        "business_type": "new",
        "customer_class": "hv_single",
        "voltage_class": "10kV",
        "requested_capacity_kva": "2000",
        "supply_type": "",
        "assign_to_me": "on",
    }
    data.update(changes)
    return data


def test_department_staff_cannot_open_the_acceptance_form(client, staff):
    client.force_login(staff)
    assert client.get(NEW).status_code == 403


def test_the_workspace_links_to_the_acceptance_form_for_managers(client, desk, staff):
    client.force_login(desk)
    assert f'href="{NEW}"' in client.get("/").content.decode()
    client.force_login(staff)
    assert f'href="{NEW}"' not in client.get("/").content.decode()


def test_a_known_customer_is_filled_in_from_its_credit_code(client, desk, supervisor, region):
    known = make_application(by=supervisor, region=region, serial=4242).customer
    client.force_login(desk)
    html = client.get(NEW, {"credit_code": known.credit_code.lower()}).content.decode()
    assert 'id="customer-known"' in html
    assert f'<dd id="known-name">{known.name}</dd>' in html
    assert 'name="name"' not in html


def test_a_customer_of_another_region_is_not_shown(client, desk, supervisor):
    other = make_application(by=supervisor, region=RegionFactory(code="yh"), serial=4343).customer
    client.force_login(desk)
    html = client.get(NEW, {"credit_code": other.credit_code}).content.decode()
    assert other.name not in html
    assert "属于您不负责的供电区域" in html


def test_a_wrong_credit_code_is_explained_at_look_up(client, desk):
    client.force_login(desk)
    html = client.get(NEW, {"credit_code": "91330100MA2B3C4D5X"}).content.decode()
    assert 'id="customer-message"' in html


def test_the_plan_and_the_notice_are_shown_before_saving(client, desk):
    client.force_login(desk)
    html = client.get(
        NEW, {"business_type": "new", "customer_class": "hv_single", "voltage_class": "10kV"}
    ).content.decode()
    template = schedule_selectors.template_for(
        business_type="new", customer_class="hv_single", voltage_class="10kV"
    )
    plan = selectors.acceptance_plan(
        template=template, customer_class="hv_single", accepted_on=TODAY, meeting_weekday=None
    )
    assert f'<dd id="preview-template">{template.name}</dd>' in html
    committed = plan.committed_finish_date
    assert f"{committed.year}年{committed.month}月{committed.day}日" in html
    assert "营业执照" in html and "用电设备清单" in html
    assert 'name="document_licence"' in html


def test_accepting_a_new_customer_stores_it_and_prints_the_receipt(client, desk, region):
    client.force_login(desk)
    data = form_data(region, document_licence=pdf_upload("执照.pdf"))
    response = client.post(NEW, data)
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("application_receipt", args=[application.number])
    assert application.customer.name == "钱塘精密制造有限公司"
    assert application.customer.region == region
    assert application.account_manager == desk and application.created_by == desk
    assert [d.kind for d in Document.objects.filter(application=application)] == ["licence"]
    kinds = [item["kind"] for item in application.document_checklist]
    assert kinds[:4] == ["application_form", "licence", "identity", "property"]
    receipt = client.get(response["Location"]).content.decode()
    assert f'id="receipt-number">{application.number}<' in receipt
    assert "✓ 已收到" in receipt and "待提交" in receipt
    committed = application.committed_finish_date
    assert f"{committed.year}年{committed.month}月{committed.day}日" in receipt


def test_accepting_for_a_known_customer_files_it_under_that_customer(
    client, desk, supervisor, region
):
    known = make_application(by=supervisor, region=region, serial=4444).customer
    client.force_login(desk)
    data = form_data(region, credit_code=known.credit_code, name="", address="")
    response = client.post(NEW, data)
    assert response.status_code == 302
    assert Customer.objects.count() == 1
    assert Application.objects.filter(customer=known).count() == 2


def test_a_refused_acceptance_keeps_the_input_and_stores_nothing(client, desk, region):
    client.force_login(desk)
    response = client.post(NEW, form_data(region, name="", requested_capacity_kva="0"))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_requested_capacity_kva-error">申请容量必须大于 0 kVA。' in html
    assert 'id="id_name-error"' in html
    assert 'value="杭州市西湖区文三路 1 号"' in html
    assert not Application.objects.exists() and not Customer.objects.exists()
    # A reload of the refused form's address shows the form again.
    assert client.get(NEW).status_code == 200


def test_an_implausible_capacity_is_refused_beside_its_field(client, desk, region):
    client.force_login(desk)
    response = client.post(NEW, form_data(region, requested_capacity_kva="9999999"))
    assert response.status_code == 400
    assert (
        'id="id_requested_capacity_kva-error">申请容量最多 2,000,000 kVA。'
        in response.content.decode()
    )
    assert not Application.objects.exists() and not Customer.objects.exists()


def test_a_new_customer_of_a_region_the_manager_does_not_serve_is_refused(client, desk, region):
    elsewhere = RegionFactory(code="bj", name="滨江供电区")
    client.force_login(desk)
    response = client.post(NEW, form_data(elsewhere))
    assert response.status_code == 400
    assert 'id="id_region-error"' in response.content.decode()
    assert not Application.objects.exists() and not Customer.objects.exists()


def test_a_file_that_is_not_a_document_is_refused_beside_its_input(client, desk, region):
    client.force_login(desk)
    bad = pdf_upload("setup.exe")
    response = client.post(NEW, form_data(region, document_licence=bad))
    assert response.status_code == 400
    assert "不接受“.exe”文件" in response.content.decode()
    assert not Application.objects.exists() and not Document.objects.exists()


def test_a_voltage_the_class_is_not_offered_is_refused_beside_the_field(client, desk, region):
    client.force_login(desk)
    response = client.post(NEW, form_data(region, voltage_class="0.4kV"))
    assert response.status_code == 400
    assert 'id="id_voltage_class-error"' in response.content.decode()
    assert not Application.objects.exists()


def test_every_offered_plan_can_be_accepted_through_the_form(client, supervisor, region):
    client.force_login(supervisor)
    offered = schedule_selectors.offered_plans()
    assert offered
    for serial, (business_type, customer_class, voltage_class) in enumerate(offered, 910000):
        response = client.post(
            NEW,
            form_data(
                region,
                credit_code=credit_code(serial),
                business_type=business_type,
                customer_class=customer_class,
                voltage_class=voltage_class,
            ),
        )
        assert response.status_code == 302, (business_type, customer_class, voltage_class)
    stored = set(
        Application.objects.values_list("business_type", "customer_class", "voltage_class")
    )
    assert stored == set(offered)


# --- Documents as stage guards ----------------------------------------------------------------


def finish_stage(application, by):
    for activity in application.activities.filter(stage=application.state, is_dummy=False):
        services.activity_progress_record(
            application_id=application.pk,
            activity_id=activity.pk,
            start=application.start_date,
            finish=application.start_date,
            by=by,
            today=application.start_date,
        )


def test_a_missing_required_document_holds_the_stage_with_its_name(supervisor, desk, region):
    application = make_application(
        by=supervisor, manager=desk, region=region, accepted_on=TODAY, documents=()
    )
    finish_stage(application, desk)
    with pytest.raises(TransitionNotAllowed) as refused:
        services.application_transition(
            application_id=application.pk, transition="start_survey", by=desk
        )
    assert refused.value.reasons == [
        "缺少本阶段必备的资料：用电申请书、营业执照、法定代表人身份证明或授权委托书、"
        "用电地址产权证明或租赁合同。请在“资料”中上传。"
    ]
    for kind in ("application_form", "licence", "identity", "property"):
        services.document_upload(
            application_id=application.pk, kind=kind, file=pdf_upload(), by=desk
        )
    services.application_transition(
        application_id=application.pk, transition="start_survey", by=desk
    )
    assert StageTransition.objects.filter(application=application, to_state="survey").exists()
