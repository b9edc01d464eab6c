from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from . import services
from .forms import LOCKED_CODES, LoginForm, NotificationSettingsForm, PasswordConfirmForm
from .sessions import stamp_password_confirmed


@method_decorator(login_not_required, name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if any(error.code in LOCKED_CODES for error in form.non_field_errors().as_data()):
            # Refused without looking at the password: tell clients to slow down.
            response.status_code = 429
        return response


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, so a link or a prefetch cannot sign anyone out)."""


FORM_PAGE = "accounts/password_form.html"
MESSAGE_PAGE = "accounts/password_message.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = FORM_PAGE
    extra_context = {"submit": gettext_lazy("Change my password")}


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = MESSAGE_PAGE
    extra_context = {"message": gettext_lazy("Your password has been changed.")}


class PasswordResetView(auth_views.PasswordResetView):
    template_name = FORM_PAGE
    extra_context = {
        "intro": gettext_lazy(
            "Enter the mail address of your account: we send a link to set a new password."
        ),
        "submit": gettext_lazy("Send the link"),
    }


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = MESSAGE_PAGE
    extra_context = {
        "message": gettext_lazy(
            "If an account has this mail address, a link to set a new password is on its "
            "way. It can be used once."
        )
    }


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = FORM_PAGE
    extra_context = {"submit": gettext_lazy("Set my password")}


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = MESSAGE_PAGE
    extra_context = {
        "message": gettext_lazy("Your password is set. You can sign in with it now."),
        "sign_in": True,
    }


def password_confirm(request):
    """Ask for the password again before a sensitive action, then go back to ``next``."""
    target = url_has_allowed_next(request) or reverse("home")
    if request.method == "POST":
        form = PasswordConfirmForm(request.POST, request=request)
        if form.is_valid():
            stamp_password_confirmed(request.session, now=timezone.now())
            return redirect(target)
    else:
        form = PasswordConfirmForm(request=request)
    return render(
        request,
        FORM_PAGE,
        {
            "form": form,
            "title": _("Confirm your password"),
            "intro": _("This action needs your password once more."),
            "submit": _("Confirm"),
            "next": target,
        },
        status=400 if form.is_bound else 200,
    )


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
