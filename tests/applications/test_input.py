"""Bad input gets a clear error naming the field, and nothing is stored."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications import services
from applications.models import Application, Customer, Document
from tests.factories import RegionFactory, credit_code, make_application
from yekuo.errors import InvalidInput, NotPermitted

pytestmark = pytest.mark.django_db


def _create(supervisor, **overrides):
    data = {
        "customer": {
            "name": "宁波恒达新材料有限公司",
            "credit_code": credit_code(7),
            "region": RegionFactory(),
        },
        "business_type": "new",
        "customer_class": "hv_single",
        "voltage_class": "10kV",
        "requested_capacity_kva": 1250,
        "accepted_on": date(2026, 3, 2),
        "by": supervisor,
    }
    data.update(overrides)
    return services.application_create(**data)


def _nothing_stored():
    return Customer.objects.count() == 0 and Application.objects.count() == 0


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91330100000000007", "统一社会信用代码应为 18 位，此代码为 17 位。"),
        ("91330100000000007I", "统一社会信用代码中不能出现字符 I。"),
        (credit_code(7)[:17] + "0", f"校验码错误：应为 {credit_code(7)[17]}，实为 0。"),
    ],
)
def test_an_invalid_credit_code_is_refused(supervisor, code, message):
    with pytest.raises(InvalidInput) as exc:
        _create(
            supervisor,
            customer={"name": "某公司", "credit_code": code, "region": RegionFactory()},
        )
    assert exc.value.errors == {"customer.credit_code": [message]}
    assert _nothing_stored()


@pytest.mark.parametrize("capacity", [-5, 0, "200", 12.5])
def test_a_capacity_that_is_not_a_positive_whole_number_is_refused(supervisor, capacity):
    with pytest.raises(InvalidInput) as exc:
        _create(supervisor, requested_capacity_kva=capacity)
    assert list(exc.value.errors) == ["requested_capacity_kva"]
    assert _nothing_stored()


def test_a_voltage_class_not_offered_to_the_customer_class_is_refused(supervisor):
    with pytest.raises(InvalidInput) as exc:
        _create(supervisor, customer_class="lv_non_residential", voltage_class="10kV")
    assert exc.value.errors == {"voltage_class": ["低压非居民客户不提供 10kV 供电；可选：0.4kV。"]}
    assert _nothing_stored()


def test_an_unknown_voltage_class_is_refused(supervisor):
    with pytest.raises(InvalidInput) as exc:
        _create(supervisor, voltage_class="11kV")
    assert exc.value.errors["voltage_class"] == [
        "“11kV”不在可选范围内：0.4kV, 10kV, 35kV, 110kV, 220kV。"
    ]
    assert _nothing_stored()


def test_a_residential_application_has_no_network_template(supervisor):
    with pytest.raises(InvalidInput) as exc:
        _create(supervisor, customer_class="residential", voltage_class="0.4kV")
    # No template plans a residential connection: the class is to change, to one offered.
    assert exc.value.errors == {
        "customer_class": [
            "没有启用的网络计划模板适用于居民 0.4kV 新装。新装可受理：低压非居民（0.4kV）；"
            "高压单电源（10kV/35kV/110kV/220kV）；高压双电源（10kV/35kV/110kV/220kV）。"
        ]
    }
    assert _nothing_stored()


def test_department_staff_cannot_create_applications(staff):
    with pytest.raises(NotPermitted):
        _create(staff)
    assert _nothing_stored()


def test_an_existing_customer_is_reused_by_its_credit_code(supervisor):
    first = _create(supervisor)
    second = _create(supervisor, customer={"credit_code": credit_code(7)})
    assert first.customer == second.customer
    assert Customer.objects.count() == 1


@pytest.fixture
def application(supervisor, manager):
    # Nothing handed in at the counter: every stored file is the test's own.
    return make_application(by=supervisor, manager=manager, documents=())


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_pdf_is_stored_with_its_type_and_size(application, manager, media):
    pdf = SimpleUploadedFile("供电方案.pdf", b"%PDF-1.7\n" + b"x" * 100, "application/pdf")
    document = services.document_upload(
        application_id=application.pk, kind="supply_plan", file=pdf, by=manager
    )
    assert (document.kind, document.content_type, document.size) == (
        "supply_plan",
        "application/pdf",
        109,
    )
    assert (media / document.file.name).read_bytes().startswith(b"%PDF-")


def test_a_50_mb_file_is_refused_and_nothing_is_stored(application, manager, media):
    big = SimpleUploadedFile(
        "drawings.pdf", b"%PDF-" + b"0" * (50 * 1024 * 1024), "application/pdf"
    )
    with pytest.raises(InvalidInput) as exc:
        services.document_upload(
            application_id=application.pk, kind="design_drawings", file=big, by=manager
        )
    assert exc.value.errors == {"file": ["文件大小 50.0 MB，超过上限 20 MB。"]}
    assert Document.objects.count() == 0 and not any(media.rglob("*.pdf"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "setup.exe",
            b"MZ\x90\x00" + b"\x00" * 60,
            "不接受“.exe”文件；可上传：docx, dwg, jpeg, jpg, pdf, png, xlsx。",
        ),
        ("report.pdf", b"MZ\x90\x00" + b"\x00" * 60, "文件内容不是 .pdf 格式。"),
        (
            "run.sh",
            b"#!/bin/sh\nrm -rf /\n",
            "不接受“.sh”文件；可上传：docx, dwg, jpeg, jpg, pdf, png, xlsx。",
        ),
    ],
)
def test_an_executable_is_refused_and_nothing_is_stored(
    application, manager, media, name, content, message
):
    upload = SimpleUploadedFile(name, content, "application/octet-stream")
    with pytest.raises(InvalidInput) as exc:
        services.document_upload(
            application_id=application.pk, kind="inspection_report", file=upload, by=manager
        )
    assert exc.value.errors == {"file": [message]}
    assert Document.objects.count() == 0 and not any(p.is_file() for p in media.rglob("*"))
