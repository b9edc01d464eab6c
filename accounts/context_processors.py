"""Template context shared by every page: the navigation this user may see."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .roles import Role, roles_of

# (url name, label, permission (or any of several) or None for every signed-in user, staff only)
NAVIGATION = [
    ("home", _("Workspace"), None, False),
    (
        "todo",
        _("To-do"),
        ("accounts.handle_applications", "accounts.record_department_progress"),
        False,
    ),
    ("supervision:dashboard", _("Deviation dashboard"), "accounts.view_dashboard", False),
    (
        "assessment",
        _("Assessment"),
        ("accounts.view_assessment", "accounts.lead_department"),
        False,
    ),
    ("follow_ups", _("Follow-ups"), None, False),
    ("admin:index", _("Administration"), None, True),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    items = []
    path = request.path
    for url_name, label, perm, staff_only in NAVIGATION:
        if perm and not any(user.has_perm(p) for p in ([perm] if isinstance(perm, str) else perm)):
            continue
        if staff_only and not user.is_staff:
            continue
        url = reverse(url_name)
        active = path == url if url == "/" else path.startswith(url)
        items.append({"name": url_name, "url": url, "label": label, "active": active})
    held = roles_of(user)
    user_roles = [Role(code).label for code in Role.values if code in held]
    return {"nav_items": items, "user_roles": user_roles}
