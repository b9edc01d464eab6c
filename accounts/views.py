from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from . import services
from .forms import LoginForm, NotificationSettingsForm


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, so a link or a prefetch cannot sign anyone out)."""


@login_not_required
def admin_login(request):
    """Send the admin's sign-in to the one sign-in page, which counts and limits failures.

    A signed-in person without admin rights is told so instead of being sent round in
    a loop between the two sign-in pages.
    """
    if request.user.is_authenticated:
        if request.user.is_staff:
            return redirect(url_has_allowed_next(request) or "admin:index")
        raise PermissionDenied(_("The administration is for administrators only."))
    query = urlencode({"next": url_has_allowed_next(request) or reverse("admin:index")})
    return redirect(f"{reverse('login')}?{query}")


def url_has_allowed_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_POST
def notifications_read(request):
    """Mark the notifications the form names as read (only the signed-in person's), then go back."""
    ids = []
    for value in request.POST.getlist("notification"):
        try:
            ids.append(int(value))
        except ValueError:
            continue
    changed = services.notification_mark_read(notification_ids=ids, by=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked as read.",
            "%(count)d notifications marked as read.",
            changed,
        )
        % {"count": changed},
    )
    return redirect(url_has_allowed_next(request) or "home")


def notification_settings(request):
    """Let the signed-in person choose what reaches them by mail."""
    user = request.user
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST)
        if form.is_valid():
            services.notification_preferences_set(user=user, **form.cleaned_data)
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notification_settings")
    else:
        form = NotificationSettingsForm(
            initial={"mail_events": user.mail_events, "daily_digest": user.daily_digest}
        )
    return render(
        request,
        "accounts/notification_settings.html",
        {
            "form": form,
            "watches_dashboard": user.has_perm("accounts.view_dashboard")
            or user.has_perm("accounts.lead_department"),
        },
    )
