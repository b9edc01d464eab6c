from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import selectors
from .network import client_address

# Error codes of a refused (not a failed) sign-in: answered 429 Too Many Requests.
LOCKED_CODES = {"locked", "address_locked"}


# Up to this many people a field offers them in a list; beyond it (a province has
# thousands of staff) the user types the name or sign-in name, and the page stays small.
PERSON_SELECT_MAX = 200


class PersonChoiceField(forms.ModelChoiceField):
    """A person: chosen in a list, or typed by name or sign-in name where there are too
    many to list (:meth:`fit`). A number is the user's key, as links and older forms
    send it."""

    default_error_messages = {
        "invalid_choice": _("There is no one called “%(value)s” here."),
        "ambiguous": _("Several people are called “%(value)s”: type the sign-in name instead."),
    }

    def label_from_instance(self, obj):
        return str(obj)

    def fit(self, limit: int | None = None) -> None:
        """Offer the people in a list if there are at most ``limit`` (``PERSON_SELECT_MAX``);
        otherwise ask for the name in a text box. One query, of at most ``limit`` + 1 rows
        and the columns their names need, read as tuples: a person is made only to be
        listed (a province's dashboard made 400 people per page only to count them)."""
        limit = limit or PERSON_SELECT_MAX
        names = ("id", "username", "display_name", "first_name", "last_name")
        rows = list(self.queryset.values_list(*names)[: limit + 1])
        if len(rows) > limit:
            self.widget = forms.TextInput(
                attrs={"placeholder": _("Name or sign-in name"), "autocomplete": "off"}
            )
            return
        model = self.queryset.model
        people = (model(**dict(zip(names, row, strict=True))) for row in rows)
        blank = [] if self.empty_label is None else [("", self.empty_label)]
        self.choices = [*blank, *((p.pk, self.label_from_instance(p)) for p in people)]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if text.isdigit():
            return super().to_python(text)
        found = list(self.queryset.filter(Q(username=text) | Q(display_name=text))[:3])
        exact = [user for user in found if user.username == text]
        if exact or len(found) == 1:
            return (exact or found)[0]
        code = "ambiguous" if found else "invalid_choice"
        raise forms.ValidationError(self.error_messages[code], code=code, params={"value": text})


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
