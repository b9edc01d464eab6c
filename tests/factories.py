"""factory_boy factories: the one place tests build rows."""

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
