from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from yekuo.admin import ReadOnlyAdminMixin
from yekuo.domain import VoltageClass

from .models import (
    AccountManagerProfile,
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

    def has_delete_permission(self, request, obj=None):
        # People are deactivated, never deleted: their names stay on the audit trail.
        return False


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


@admin.register(LoginAttempt)
class LoginAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "username", "succeeded", "ip_address")
    list_filter = ("succeeded",)
    search_fields = ("username", "ip_address")
    date_hierarchy = "at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "application", "is_read")
    list_filter = ("kind", "is_read")
    search_fields = ("recipient__username", "text")
    list_select_related = ("recipient", "application")
    readonly_fields = [f.name for f in Notification._meta.fields]
