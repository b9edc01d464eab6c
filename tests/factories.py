"""factory_boy factories: the one place tests build rows."""

import itertools

import factory
from django.contrib.auth.models import Group

from accounts.models import AccountManagerProfile, Department, Region, User
from accounts.roles import Role
from yekuo.domain import VoltageClass

PASSWORD = "correct-horse-battery"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"region-{n}")
    name = factory.Sequence(lambda n: f"供电区{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"员工{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        self.groups.add(Group.objects.get(name=extracted))
        if extracted == Role.ADMINISTRATOR:
            self.is_staff = True
            self.is_superuser = True
            self.save(update_fields=["is_staff", "is_superuser"])

    @factory.post_generation
    def department_code(self, create, extracted, **kwargs):
        if create and extracted:
            self.department = Department.objects.get(code=extracted)
            self.save(update_fields=["department"])


class AccountManagerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountManagerProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=Role.ACCOUNT_MANAGER, department_code="marketing")
    voltage_classes = factory.LazyFunction(lambda: [VoltageClass.KV_10.value])
    capacity = 20

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.set(extracted)


_SERIALS = itertools.count(1)


def credit_code(serial: int) -> str:
    """Return a valid unified social credit code with a serial number in it."""
    from applications.credit_code import check_character

    first17 = f"913301{serial:011d}"
    return first17 + check_character(first17)


def make_application(
    *,
    by,
    manager=None,
    customer_class="hv_single",
    voltage_class="10kV",
    accepted_on=None,
    region=None,
    serial=None,
    **extra,
):
    """Create an application through the service, as an account manager's desk would."""
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    from applications import services

    region = region or RegionFactory()
    serial = serial if serial is not None else next(_SERIALS)
    business_type = extra.pop("business_type", "new")
    documents = extra.pop("documents", None)
    if documents is None:
        documents = required_documents(business_type=business_type, customer_class=customer_class)
    return services.application_create(
        customer={
            "name": f"测试客户{serial}有限公司",
            "credit_code": credit_code(serial),
            "region": region,
            "industry": "制造业",
        },
        business_type=business_type,
        customer_class=customer_class,
        voltage_class=voltage_class,
        requested_capacity_kva=extra.pop("requested_capacity_kva", 2000),
        account_manager=manager,
        accepted_on=accepted_on or date(2026, 3, 2),
        now=datetime.combine(accepted_on or date(2026, 3, 2), time(9), ZoneInfo("Asia/Shanghai")),
        documents=documents,
        by=by,
        **extra,
    )


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def pdf_upload(name: str = "scan.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def required_documents(*, business_type: str, customer_class: str) -> list:
    """Return (kind, file) for every required document of the one-time notice: the
    customer who hands everything in at the counter."""
    from applications import selectors

    return [
        (item["kind"], pdf_upload(f"{item['kind']}.pdf"))
        for item in selectors.document_checklist(
            business_type=business_type, customer_class=customer_class
        )
        if item["required"]
    ]


def store_risk(application, **values) -> None:
    """Give ``application`` a stored risk forecast with these values (the fields of
    scheduling's ApplicationRisk), over whatever an analysis stored: as of today unless
    given."""
    from django.utils import timezone

    from scheduling.models import ApplicationRisk

    ApplicationRisk.objects.update_or_create(
        application_id=application.pk, defaults={"as_of": timezone.localdate(), **values}
    )


def learn_exactly_the_plan(application, *, learned_at=None) -> None:
    """Store learned durations saying that every activity of ``application``'s template
    takes exactly its planned duration (a spread of 0): its risk forecast is then the
    deterministic forecast."""
    from scheduling.models import LearnedDuration

    LearnedDuration.objects.bulk_create(
        [
            LearnedDuration(
                template_id=application.template_id,
                code=a.code,
                median=max(1, a.duration),
                p80=max(1, a.duration),
                spread=0.0,
                count=50,
                learned_at=learned_at or application.created_at,
            )
            for a in application.activities.all()
            if not a.is_dummy
        ]
    )
