"""Roles are groups of permissions; this module is the one place that defines them.

The groups are brought in line with ``ROLE_PERMISSIONS`` after every ``migrate`` (see
``AccountsConfig.ready``), so a deployment never depends on someone clicking them
together in the admin. Permissions of later apps are added here as those apps grow.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    DEPARTMENT_STAFF = "department_staff", _("Department staff")
    DEPARTMENT_HEAD = "department_head", _("Department head")


_ADMIN_MODELS = ["user", "department", "region", "accountmanagerprofile"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.ADMINISTRATOR: [
        *(
            f"accounts.{action}_{model}"
            for model in _ADMIN_MODELS
            for action in ("add", "change", "view")
        ),
        "accounts.view_loginattempt",
        "accounts.view_dashboard",
        "accounts.view_assessment",
        "accounts.assign_account_manager",
        "accounts.supervise_applications",
        "auth.view_group",
        # Who other systems are told of what (integration): the admin's pages.
        "integration.add_subscription",
        "integration.change_subscription",
        "integration.view_subscription",
        "integration.view_event",
        "integration.view_delivery",
    ],
    Role.SUPERVISOR: [
        "accounts.view_user",
        "accounts.view_department",
        "accounts.view_region",
        "accounts.view_accountmanagerprofile",
        "accounts.view_dashboard",
        "accounts.view_assessment",
        "accounts.assign_account_manager",
        "accounts.supervise_applications",
    ],
    Role.ACCOUNT_MANAGER: [
        "accounts.handle_applications",
    ],
    Role.DEPARTMENT_STAFF: [
        "accounts.record_department_progress",
    ],
    # 部门领导: answers for the department's work like its staff (reads the applications
    # it has work in, records progress, answers its deviations) and also sees the
    # department's own assessment row.
    Role.DEPARTMENT_HEAD: [
        "accounts.record_department_progress",
        "accounts.lead_department",
    ],
}


def sync_role_groups(**kwargs) -> None:
    """Create the role groups and set each group's permissions to exactly its list."""
    from django.contrib.auth.models import Group, Permission

    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".", 1)
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def roles_of(user) -> set[str]:
    """Return the role codes of a user (a superuser is an administrator).

    Read once per user object, as Django caches a user's permissions on it: a page asks
    twice (the two-step sign-in's check and the navigation), each a query otherwise."""
    if not user.is_authenticated:
        return set()
    if not hasattr(user, "_role_cache"):
        roles = {g.name for g in user.groups.all() if g.name in Role.values}
        if user.is_superuser:
            roles.add(Role.ADMINISTRATOR)
        user._role_cache = frozenset(roles)
    return set(user._role_cache)
