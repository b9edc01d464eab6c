from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.roles import Role, roles_of

from . import selectors
from .forms import WorkspaceFilterForm


def home(request):
    """The workspace: the applications the signed-in person answers for, and news."""
    user = request.user
    profile = getattr(user, "account_manager", None)
    form = WorkspaceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    applications = selectors.workspace_applications(
        user,
        state=filters.get("state", ""),
        severity=filters.get("severity", ""),
        search=filters.get("q", ""),
    )
    page = Paginator(applications, selectors.WORKSPACE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    notifications, unread = account_selectors.notifications_unread(user=user)
    context = {
        "form": form,
        "page": page,
        "rows": selectors.workspace_rows(page.object_list, today=timezone.localdate()),
        "query": query.urlencode(),
        "notifications": notifications,
        "unread": unread,
        "roles": roles_of(user),
        "Role": Role,
        "profile": profile,
        "profile_regions": list(profile.regions.all()) if profile else [],
    }
    return render(request, "applications/home.html", context)
