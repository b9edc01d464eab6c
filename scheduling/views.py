from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from accounts import selectors as account_selectors


@permission_required("accounts.view_dashboard", raise_exception=True)
def dashboard(request):
    """The supervisors' dashboard: who holds the work and how much they can take."""
    managers = account_selectors.account_manager_list()
    return render(request, "scheduling/dashboard.html", {"managers": managers})
