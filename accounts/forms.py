from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import selectors


class LoginForm(AuthenticationForm):
    """The sign-in form: says how many failures are counted and refuses password guessing."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The user name or password is not correct."),
        "locked": _(
            "Too many failed sign-ins for this user name. Try again in %(minutes)d minutes."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        limit = settings.LOGIN_FAILURE_LIMIT
        if username and selectors.login_recent_failures(username=username) >= limit:
            raise forms.ValidationError(
                self.error_messages["locked"],
                code="locked",
                params={"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
            )
        try:
            return super().clean()
        except forms.ValidationError as exc:
            if username and getattr(exc, "code", None) == "invalid_login":
                failures = selectors.login_recent_failures(username=username)
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
