from base64 import b32encode
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
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

from yekuo.qr import qr_svg

from . import mfa, selectors, services
from .forms import (
    LOCKED_CODES,
    LoginForm,
    NotificationSettingsForm,
    OneTimeCodeForm,
    PasswordConfirmForm,
)
from .network import client_address
from .sessions import recent_password_required, stamp_password_confirmed


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


TWO_STEP_PAGE = "accounts/two_step.html"


def mfa_verify(request):
    """The second step of the sign-in (两步验证): the code of the person's authenticator app.

    Wrong codes count as failed sign-ins: at the lockout limit the session is signed out
    and the sign-in page refuses that user name from this address for the cool-off.
    """
    target = url_has_allowed_next(request) or reverse(settings.LOGIN_REDIRECT_URL)
    device = selectors.mfa_device(user=request.user)
    if device is None or request.user.is_verified():
        return redirect(target)
    form = OneTimeCodeForm(request.POST or None)
    if form.is_valid():
        address = client_address(request)
        if services.mfa_code_check(
            device=device, token=form.cleaned_data["code"], ip_address=address
        ):
            django_otp.login(request, device)
            return redirect(target)
        failures = selectors.login_recent_failures(
            username=request.user.get_username(), ip_address=address
        )
        if failures >= settings.LOGIN_FAILURE_LIMIT:
            logout(request)
            messages.error(
                request,
                _("Too many wrong codes. Try again in %(minutes)d minutes.")
                % {"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
            )
            return redirect("login")
        form.add_error("code", _("This code is not correct, or it has been used already."))
    return render(
        request,
        TWO_STEP_PAGE,
        {"form": form, "next": target, "verify": True},
        status=400 if form.is_bound else 200,
    )


def mfa_enrol(request):
    """Enrol an authenticator app: the QR code and the secret, confirmed with a first code."""
    target = url_has_allowed_next(request) or reverse("mfa_settings")
    if not request.user.is_verified() and selectors.mfa_device(user=request.user) is not None:
        # A new device replaces the old one: only once the old one has given its code.
        return redirect(f"{reverse('mfa_verify')}?{urlencode({'next': target})}")
    device = services.mfa_enrolment_start(user=request.user)
    form = OneTimeCodeForm(request.POST or None)
    if form.is_valid():
        if services.mfa_enrolment_confirm(device=device, token=form.cleaned_data["code"]):
            django_otp.login(request, device)
            request.session[mfa.STEP] = mfa.VERIFY
            messages.success(request, _("Two-step sign-in is on: each sign-in asks for a code."))
            return redirect(target)
        form.add_error("code", _("This code is not correct. Check the app's clock and try again."))
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        TWO_STEP_PAGE,
        {
            "form": form,
            "next": target,
            "enrol": True,
            "required": mfa.required_for(request.user),
            "qr_svg": qr_svg(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
        status=400 if form.is_bound else 200,
    )


def mfa_settings(request):
    """The person's two-step sign-in: on or off, enrol, or remove the device."""
    return render(
        request,
        TWO_STEP_PAGE,
        {
            "device": selectors.mfa_device(user=request.user),
            "required": mfa.required_for(request.user),
        },
    )


@require_POST
@recent_password_required
def mfa_remove(request):
    """Remove one's own device (after the password once more); not for required roles."""
    if mfa.required_for(request.user):
        raise PermissionDenied(_("Your role requires two-step sign-in."))
    services.mfa_devices_remove(users=[request.user], by=request.user)
    request.session[mfa.STEP] = mfa.NONE
    messages.success(request, _("Two-step sign-in is off."))
    return redirect("mfa_settings")
