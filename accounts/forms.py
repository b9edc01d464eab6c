from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import selectors
from .network import client_address

# Error codes of a refused (not a failed) sign-in: answered 429 Too Many Requests.
LOCKED_CODES = {"locked", "address_locked"}


class LoginForm(AuthenticationForm):
    """The sign-in form: says how many failures are counted and refuses password guessing.

    Failures are counted per user name and address, and per address across user names
    (against trying one password on many names). A lock from one address leaves the real
    person free to sign in from another.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The user name or password is not correct."),
        "locked": _(
            "Too many failed sign-ins for this user name. Try again in %(minutes)d minutes."
        ),
        "address_locked": _(
            "Too many failed sign-ins from your network address. Try again in %(minutes)d minutes."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        address = client_address(self.request)
        limit = settings.LOGIN_FAILURE_LIMIT
        minutes = {"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES}
        if (
            selectors.login_address_failures(ip_address=address)
            >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
        ):
            raise forms.ValidationError(
                self.error_messages["address_locked"], code="address_locked", params=minutes
            )
        if (
            username
            and selectors.login_recent_failures(username=username, ip_address=address) >= limit
        ):
            raise forms.ValidationError(
                self.error_messages["locked"], code="locked", params=minutes
            )
        try:
            return super().clean()
        except forms.ValidationError as exc:
            if username and getattr(exc, "code", None) == "invalid_login":
                failures = selectors.login_recent_failures(username=username, ip_address=address)
                left = max(0, limit - failures)
                raise forms.ValidationError(
                    [
                        self.error_messages["invalid_login"],
                        ngettext(
                            "%(failures)d failed attempt counted; "
                            "%(left)d more and sign-in is locked for %(minutes)d minutes.",
                            "%(failures)d failed attempts counted; "
                            "%(left)d more and sign-in is locked for %(minutes)d minutes.",
                            failures,
                        )
                        % {
                            "failures": failures,
                            "left": left,
                            "minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES,
                        },
                    ],
                    code="invalid_login",
                ) from exc
            raise

    def get_invalid_login_error(self):
        return forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class PasswordConfirmForm(forms.Form):
    """The signed-in person's password once more, before a sensitive action.

    A wrong password counts as a failed sign-in from this address, and the lock applies.
    """

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, request, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        user = self.request.user
        address = client_address(self.request)
        failures = selectors.login_recent_failures(username=user.get_username(), ip_address=address)
        if failures >= settings.LOGIN_FAILURE_LIMIT:
            raise forms.ValidationError(
                LoginForm.error_messages["locked"],
                code="locked",
                params={"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
            )
        password = self.cleaned_data.get("password")
        if (
            password
            and authenticate(self.request, username=user.get_username(), password=password) != user
        ):
            raise forms.ValidationError(_("The password is not correct."), code="invalid")
        return self.cleaned_data


class NotificationSettingsForm(forms.Form):
    """What reaches a person by mail besides the in-app list."""

    mail_events = forms.BooleanField(
        required=False,
        label=_("Mail me what needs me"),
        help_text=_(
            "An application assigned to you, a new red deviation or an exceeded time limit "
            "of your applications, an escalation."
        ),
    )
    daily_digest = forms.BooleanField(
        required=False,
        label=_("Daily digest"),
        help_text=_("Supervisors: one summary each morning of what changed in your scope."),
    )


class OneTimeCodeForm(forms.Form):
    """The 6-digit code of the authenticator app (two-step sign-in)."""

    code = forms.RegexField(
        label=_("Code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits the app shows.")},
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "maxlength": "7",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()
