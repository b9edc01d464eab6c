"""Demo people for a new installation: regions, roles and sign-ins to try the product.

Only the demo loader (``manage.py seed_demo``) calls this; migrations never create users.
"""

import math
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import AccountManagerProfile, Department, Region, User
from accounts.roles import Role
from yekuo.domain import VoltageClass

DEMO_PASSWORD = "yekuo-demo"

REGIONS = [
    ("east", "城东供电区"),
    ("west", "城西供电区"),
    ("hitech", "高新区"),
    ("devzone", "经开区"),
    ("county", "县域供电区"),
]

HV = [VoltageClass.KV_10, VoltageClass.KV_35]
ALL_HV = [VoltageClass.KV_10, VoltageClass.KV_35, VoltageClass.KV_110, VoltageClass.KV_220]


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    department: str | None
    regions: tuple[str, ...] = ()
    voltage_classes: tuple[str, ...] = ()
    capacity: int = 20
    # An account manager's load against capacity once the demo applications are in: most
    # have room, one is near the limit and one is over it, as in a working office.
    utilisation: float = 0.8


DEMO_USERS = [
    DemoUser("admin", "系统管理员", Role.ADMINISTRATOR, None),
    DemoUser("supervisor", "王建国", Role.SUPERVISOR, "marketing"),
    DemoUser(
        "manager",
        "张敏",
        Role.ACCOUNT_MANAGER,
        "marketing",
        ("east", "hitech"),
        (VoltageClass.LV_0_4, *ALL_HV),
        20,
    ),
    DemoUser(
        "manager2",
        "李强",
        Role.ACCOUNT_MANAGER,
        "marketing",
        ("west", "devzone"),
        (VoltageClass.LV_0_4, *HV),
        16,
        0.95,
    ),
    DemoUser(
        "manager3", "陈静", Role.ACCOUNT_MANAGER, "marketing", ("east", "west"), tuple(HV), 12, 0.7
    ),
    DemoUser(
        "manager4",
        "刘洋",
        Role.ACCOUNT_MANAGER,
        "marketing",
        ("hitech", "devzone"),
        tuple(ALL_HV),
        18,
        1.1,
    ),
    DemoUser(
        "manager5",
        "赵磊",
        Role.ACCOUNT_MANAGER,
        "marketing",
        ("county",),
        (VoltageClass.LV_0_4, VoltageClass.KV_10),
        10,
        0.75,
    ),
    DemoUser("survey", "周涛", Role.DEPARTMENT_STAFF, "operations"),
    DemoUser("design", "吴芳", Role.DEPARTMENT_STAFF, "planning"),
    DemoUser("metering", "郑伟", Role.DEPARTMENT_STAFF, "metering"),
    DemoUser("metering-head", "孙立", Role.DEPARTMENT_HEAD, "metering"),
]


# A province's staffing: one account manager for about this many applications (their whole
# book, history included; about half of it in progress). The five demo managers make a
# small office; a larger demo gets more managers, each in one region, so that nobody holds
# ten thousand applications in progress, which no office would ask of one person.
APPLICATIONS_PER_MANAGER = 200
PROVINCE_PREFIX = "am-"
PROVINCE_UTILISATION = 0.8
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛")


def province_managers_needed(applications: int, *, present: int) -> int:
    """How many account managers to add so that ``applications`` in all make about
    ``APPLICATIONS_PER_MANAGER`` each, with ``present`` managers there already."""
    return max(0, math.ceil(applications / APPLICATIONS_PER_MANAGER) - present)


@transaction.atomic
def province_managers_load(count: int) -> int:
    """Add ``count`` account managers (``am-<region>-<n>``, the demo password), spread
    over the demo regions, each for every voltage of their region; return how many."""
    if count <= 0:
        return 0
    regions = {r.code: r for r in Region.objects.filter(code__in=[c for c, _n in REGIONS])}
    region_codes = [code for code, _name in REGIONS if code in regions]
    if not region_codes:
        return 0  # the demo people are not loaded: the loader says so
    group = Group.objects.get(name=Role.ACCOUNT_MANAGER)
    marketing = Department.objects.filter(code="marketing").first()
    start = User.objects.filter(username__startswith=PROVINCE_PREFIX).count()
    password = make_password(DEMO_PASSWORD)  # hashed once: the same for every one
    users = []
    for n in range(start, start + count):
        region = region_codes[n % len(region_codes)]
        name = (
            _SURNAMES[n % len(_SURNAMES)]
            + _GIVEN[(n // len(_SURNAMES)) % len(_GIVEN)]
            + _GIVEN[(n // 7) % len(_GIVEN)]
        )
        users.append(
            User(
                username=f"{PROVINCE_PREFIX}{region}-{n // len(region_codes) + 1:04d}",
                display_name=name,
                email=f"am{n + 1}@yekuo.local",
                phone=f"0571-87{n + 1:06d}",
                department=marketing,
                password=password,
            )
        )
    users = User.objects.bulk_create(users)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=group.pk) for u in users]
    )
    voltages = [VoltageClass.LV_0_4, *ALL_HV]
    profiles = AccountManagerProfile.objects.bulk_create(
        [AccountManagerProfile(user=u, voltage_classes=voltages, capacity=20) for u in users]
    )
    AccountManagerProfile.regions.through.objects.bulk_create(
        [
            AccountManagerProfile.regions.through(
                accountmanagerprofile_id=profile.pk,
                region_id=regions[profile.user.username.split("-")[1]].pk,
            )
            for profile in profiles
        ]
    )
    return len(users)


def demo_is_loaded() -> bool:
    return User.objects.filter(username="admin").exists()


@transaction.atomic
def demo_people_load() -> list[User]:
    """Create or refresh the demo regions, users and account-manager profiles."""
    regions = {}
    for code, name in REGIONS:
        regions[code], _ = Region.objects.update_or_create(code=code, defaults={"name": name})
    departments = {d.code: d for d in Department.objects.all()}
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    users = []
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={"display_name": spec.display_name, "email": f"{spec.username}@yekuo.local"},
        )
        user.display_name = spec.display_name
        # The office phone a customer's progress page gives for the account manager.
        if spec.role == Role.ACCOUNT_MANAGER:
            user.phone = f"0571-8702{DEMO_USERS.index(spec):04d}"
        user.department = departments.get(spec.department) if spec.department else None
        user.is_staff = spec.role == Role.ADMINISTRATOR
        user.is_superuser = spec.role == Role.ADMINISTRATOR
        if created:
            user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([groups[spec.role]])
        if spec.role == Role.ACCOUNT_MANAGER:
            profile, _ = AccountManagerProfile.objects.update_or_create(
                user=user,
                defaults={"voltage_classes": list(spec.voltage_classes), "capacity": spec.capacity},
            )
            profile.regions.set([regions[code] for code in spec.regions])
        users.append(user)
    return users
