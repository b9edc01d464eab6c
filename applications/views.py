from datetime import date

from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.roles import Role, roles_of

from . import exports, kpi, selectors
from .forms import AssessmentPeriodForm, WorkspaceFilterForm


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
        time_limit=filters.get("time_limit", ""),
        search=filters.get("q", ""),
    )
    page = Paginator(applications, selectors.WORKSPACE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    notifications, unread = account_selectors.notifications_unread(user=user)
    context = {
        "form": form,
        "page": page,
        "rows": selectors.workspace_rows(page.object_list),
        "query": query.urlencode(),
        "notifications": notifications,
        "unread": unread,
        "roles": roles_of(user),
        "Role": Role,
        "profile": profile,
        "profile_regions": list(profile.regions.all()) if profile else [],
    }
    return render(request, "applications/home.html", context)


def _period_form(request) -> AssessmentPeriodForm:
    if "start" in request.GET or "end" in request.GET:
        return AssessmentPeriodForm(request.GET)
    today = timezone.localdate()
    return AssessmentPeriodForm({"start": date(today.year, 1, 1), "end": today})


@permission_required("accounts.view_assessment", raise_exception=True)
def assessment(request):
    """The assessment (考核) of a period per account manager and per department."""
    form = _period_form(request)
    result = None
    if form.is_valid():
        result = kpi.assessment(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    return render(
        request,
        "applications/assessment.html",
        {"form": form, "assessment": result, "scores": kpi.REVIEW_SCORES},
        status=200 if form.is_valid() else 400,
    )


EXPORTS = {
    "xlsx": (
        exports.assessment_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "csv": (exports.assessment_csv, "text/csv; charset=utf-8"),
}


@permission_required("accounts.view_assessment", raise_exception=True)
def assessment_export(request, extension):
    """The assessment of the period as an Excel or CSV download; bad dates show the page."""
    form = _period_form(request)
    if not form.is_valid():
        return assessment(request)
    result = kpi.assessment(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    write, content_type = EXPORTS[extension]
    response = HttpResponse(write(result), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.filename(result, extension)}"'
    )
    return response
