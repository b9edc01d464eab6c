import csv
import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from yekuo.admin import ReadOnlyAdminMixin
from yekuo.domain import VoltageClass
from yekuo.spreadsheets import safe_row

from . import audit, services
from .models import (
    AccountManagerProfile,
    ApiToken,
    ArchivedNotification,
    ChangeRecord,
    Department,
    LoginAttempt,
    Notification,
    Region,
    User,
)


class AccountManagerProfileForm(forms.ModelForm):
    voltage_classes = forms.MultipleChoiceField(
        label=_("qualified voltage classes"),
        choices=VoltageClass.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = AccountManagerProfile
        fields = ["user", "regions", "voltage_classes", "capacity", "is_active"]


# django-otp's own page would show every secret key to administrators and let them
# make devices for others: a lost device is reset from the users' list instead.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "display_name",
        "department",
        "is_active",
        "is_staff",
        "failed_login_count",
    )
    list_filter = ("department", "groups", "is_active", "is_staff")
    search_fields = ("username", "display_name", "first_name", "last_name", "email", "phone")
    readonly_fields = ("failed_login_count", "last_failed_login_at", "last_login", "date_joined")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("Utility"), {"fields": ("display_name", "department", "phone")}),
        (_("Sign-in failures"), {"fields": ("failed_login_count", "last_failed_login_at")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Utility"), {"fields": ("display_name", "department", "groups")}),
    )
    actions = ["unlock_sign_in", "reset_two_step"]

    @admin.action(description=_("Unlock sign-in (from every address)"), permissions=["change"])
    def unlock_sign_in(self, request, queryset):
        cleared = services.login_unlock(
            usernames=list(queryset.values_list("username", flat=True)), by=request.user
        )
        _report_unlocked(self, request, cleared)

    @admin.action(
        description=_("Reset two-step sign-in (lost phone: enrol again)"), permissions=["change"]
    )
    def reset_two_step(self, request, queryset):
        people = list(queryset)
        reset = services.mfa_devices_remove(users=people, by=request.user)
        for person in people:
            self.log_change(request, person, _("Two-step sign-in reset."))
        self.message_user(
            request,
            ngettext(
                "Two-step sign-in reset for %(count)d person: enrolment again at the next sign-in.",
                "Two-step sign-in reset for %(count)d people: enrolment again at the next sign-in.",
                reset,
            )
            % {"count": reset},
            messages.SUCCESS,
        )

    def has_delete_permission(self, request, obj=None):
        # People are deactivated, never deleted: their names stay on the audit trail.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and obj.is_active:
            # An account manager back at work has room for the applications waiting.
            transaction.on_commit(services.account_manager_capacity_changed)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "code", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("name", "name_en", "code")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "is_active")
    search_fields = ("name", "code")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccountManagerProfile)
class AccountManagerProfileAdmin(admin.ModelAdmin):
    form = AccountManagerProfileForm
    list_display = (
        "user",
        "capacity",
        "voltage_list",
        "region_list",
        "is_active",
        "last_assigned_at",
    )
    list_filter = ("is_active", "regions")
    search_fields = ("user__username", "user__display_name")
    filter_horizontal = ("regions",)
    autocomplete_fields = ("user",)
    readonly_fields = ("last_assigned_at", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("regions")

    @admin.display(description=_("qualified voltage classes"))
    def voltage_list(self, obj):
        return "、".join(obj.voltage_classes)

    @admin.display(description=_("service regions"))
    def region_list(self, obj):
        return "、".join(r.name for r in obj.regions.all())

    def has_delete_permission(self, request, obj=None):
        return False

    def save_related(self, request, form, formsets, change):
        # After the regions are saved: a new region, qualification or capacity may give
        # the applications waiting for a manager one.
        super().save_related(request, form, formsets, change)
        transaction.on_commit(services.account_manager_capacity_changed)


def _report_unlocked(model_admin, request, cleared: int) -> None:
    model_admin.message_user(
        request,
        ngettext(
            "%(count)d counted failure cleared: sign-in is open again.",
            "%(count)d counted failures cleared: sign-in is open again.",
            cleared,
        )
        % {"count": cleared},
        messages.SUCCESS,
    )


@admin.register(LoginAttempt)
class LoginAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "username", "succeeded", "ip_address", "cleared_at")
    list_filter = ("succeeded", ("cleared_at", admin.EmptyFieldListFilter))
    search_fields = ("username", "ip_address")
    date_hierarchy = "at"
    actions = ["unlock_pairs", "unlock_addresses"]

    def has_unlock_permission(self, request) -> bool:
        # The rows are read-only; unlocking is for those who may change people.
        return request.user.has_perm("accounts.change_user")

    @admin.action(
        description=_("Unlock these user names from these addresses"), permissions=["unlock"]
    )
    def unlock_pairs(self, request, queryset):
        pairs = set(queryset.values_list("username", "ip_address"))
        _report_unlocked(self, request, services.login_unlock(pairs=list(pairs), by=request.user))

    @admin.action(
        description=_("Unlock these addresses (for every user name)"), permissions=["unlock"]
    )
    def unlock_addresses(self, request, queryset):
        addresses = set(queryset.exclude(ip_address=None).values_list("ip_address", flat=True))
        cleared = services.login_unlock(ip_addresses=list(addresses), by=request.user)
        _report_unlocked(self, request, cleared)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "application", "is_read")
    list_filter = ("kind", "is_read")
    search_fields = ("recipient__username", "text")
    list_select_related = ("recipient", "application")
    readonly_fields = [f.name for f in Notification._meta.fields]


class ApiTokenForm(forms.ModelForm):
    days = forms.IntegerField(
        label=_("valid for (days)"),
        min_value=1,
        max_value=settings.API_TOKEN_MAX_DAYS,
        initial=settings.API_TOKEN_DEFAULT_DAYS,
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name", "scope"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens of the systems that use the API. The key is shown once, when made; a token
    is revoked, never deleted, so that who used the API stays on record."""

    list_display = (
        "name",
        "user",
        "scope",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("scope",)
    search_fields = ("name", "user__username", "prefix")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    actions = ["revoke"]
    readonly_fields = (
        "user",
        "name",
        "scope",
        "prefix",
        "created_at",
        "created_by",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return ["user", "name", "scope", "days"] if obj is None else list(self.readonly_fields)

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing of a token changes after it is made; revoke it instead
        token, key = services.api_token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            days=form.cleaned_data["days"],
            by=request.user,
        )
        obj.pk, obj.prefix, obj.name = token.pk, token.prefix, token.name
        obj._state.adding = False
        messages.warning(
            request,
            _("The key of “%(name)s”, shown only now: %(key)s") % {"name": token.name, "key": key},
        )

    def save_related(self, request, form, formsets, change):
        pass

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token_id=token.pk, by=request.user)
        self.message_user(request, _("Revoked: %(count)d.") % {"count": queryset.count()})

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail, written by the database: read, filtered and exported, never edited."""

    list_display = ("at", "table_name", "row_id", "action", "actor", "changes_text")
    list_filter = ("table_name", "action")
    search_fields = ("row_id", "actor__username", "actor__display_name")
    list_select_related = ("actor",)
    date_hierarchy = "at"
    actions = ["export_csv"]

    @admin.display(description=_("changes"))
    def changes_text(self, obj):
        return "；".join(
            f"{label}：{before} → {after}" for label, before, after in audit.changed_fields(obj)
        )

    @admin.action(description=_("Export the selected changes for auditors (CSV)"))
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="yekuo-changes-{stamp}.csv"'
        response.write("\ufeff")  # Excel reads UTF-8 with its mark
        writer = csv.writer(response)
        writer.writerow(["at", "table", "row", "action", "actor", "field", "before", "after"])
        for record in queryset.select_related("actor").order_by("at", "id"):
            for column, (before, after) in record.changes.items():
                writer.writerow(
                    safe_row(
                        [
                            timezone.localtime(record.at).isoformat(),
                            record.table_name,
                            record.row_id,
                            record.action,
                            record.actor.username if record.actor else "",
                            column,
                            json.dumps(before, ensure_ascii=False),
                            json.dumps(after, ensure_ascii=False),
                        ]
                    )
                )
        return response


@admin.register(ArchivedNotification)
class ArchivedNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Notifications read long ago, moved to the archive (yekuo.archive)."""

    list_display = ("created_at", "recipient", "kind", "application", "read_at")
    list_filter = ("kind",)
    search_fields = ("recipient__username", "text")
    list_select_related = ("recipient", "application")
    readonly_fields = [f.name for f in ArchivedNotification._meta.fields]
