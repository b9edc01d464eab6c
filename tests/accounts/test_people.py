import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from accounts.models import Department
from accounts.roles import ROLE_PERMISSIONS, Role, sync_role_groups

pytestmark = pytest.mark.django_db


def test_departments_are_loaded_as_data():
    assert list(Department.objects.values_list("name", flat=True)) == [
        "营销部/客户服务中心",
        "发展策划部",
        "运维检修部",
        "建设部",
        "计量中心",
        "调控中心",
    ]


@pytest.mark.parametrize("role", Role.values)
def test_role_groups_hold_exactly_their_permissions(role):
    group = Group.objects.get(name=role)
    held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert held == set(ROLE_PERMISSIONS[role])


def test_syncing_roles_twice_changes_nothing():
    before = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    sync_role_groups()
    after = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    assert before == after and len(after) == len(Role.values)


def test_profile_rejects_an_unknown_voltage_class(manager):
    profile = manager.account_manager
    profile.voltage_classes = ["10kV", "11kV"]
    with pytest.raises(ValidationError) as exc:
        profile.full_clean()
    assert "voltage_classes" in exc.value.message_dict


def test_admin_pages_are_in_chinese(client, admin_user, manager):
    client.force_login(admin_user)
    index = client.get("/admin/").content.decode()
    assert "客户经理" in index and "部门" in index and "供电区域" in index
    for url in (
        "/admin/accounts/user/",
        "/admin/accounts/department/",
        "/admin/accounts/region/",
        "/admin/accounts/accountmanagerprofile/",
        f"/admin/accounts/accountmanagerprofile/{manager.account_manager.pk}/change/",
        "/admin/accounts/loginattempt/",
    ):
        assert client.get(url).status_code == 200, url


def test_admin_edits_a_profile_with_voltage_checkboxes(client, admin_user, manager):
    client.force_login(admin_user)
    profile = manager.account_manager
    response = client.post(
        f"/admin/accounts/accountmanagerprofile/{profile.pk}/change/",
        {"user": manager.pk, "voltage_classes": ["10kV", "35kV"], "capacity": 8, "is_active": "on"},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.voltage_classes, profile.capacity) == (["10kV", "35kV"], 8)


def test_admin_refuses_zero_capacity_next_to_the_field(client, admin_user, manager):
    client.force_login(admin_user)
    profile = manager.account_manager
    response = client.post(
        f"/admin/accounts/accountmanagerprofile/{profile.pk}/change/",
        {"user": manager.pk, "voltage_classes": ["10kV"], "capacity": 0, "is_active": "on"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["capacity"]
    profile.refresh_from_db()
    assert profile.capacity == 20


def test_nobody_can_delete_people_in_the_admin(client, admin_user, manager):
    client.force_login(admin_user)
    response = client.get(f"/admin/accounts/user/{manager.pk}/delete/")
    assert response.status_code == 403
