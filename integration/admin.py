from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from yekuo.admin import ReadOnlyAdminMixin
from yekuo.errors import DomainError, InvalidInput

from . import services
from .models import (
    ArchivedDelivery,
    ArchivedEvent,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    Subscription,
)


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(label=_("address"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )

    class Meta:
        model = Subscription
        fields = ["name", "owner", "url", "event_types", "is_active"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Who is told of what. Made and changed through the integration services, so the
    admin and the API check the same; deactivated, never deleted."""

    form = SubscriptionForm
    list_display = ("name", "url", "owner", "is_active", "paused_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url", "owner__username")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    actions = ["resume", "rotate_secret"]
    readonly_fields = (
        "secret",
        "previous_secret_expires_at",
        "paused_at",
        "paused_reason",
        "created_at",
        "created_by",
    )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                saved = services.subscription_update(
                    subscription_id=obj.pk,
                    changes={
                        "name": data["name"],
                        "url": data["url"],
                        "event_types": list(data["event_types"]),
                        "is_active": data["is_active"],
                    },
                    by=request.user,
                )
            else:
                saved = services.subscription_create(
                    name=data["name"],
                    url=data["url"],
                    event_types=list(data["event_types"]),
                    owner=data["owner"],
                    by=request.user,
                )
        except InvalidInput as exc:
            # The form checked the same; a race (a field changed meanwhile) lands here.
            messages.error(request, exc.message)
            return
        obj.pk, obj.secret = saved.pk, saved.secret
        obj._state.adding = False

    @admin.action(description=_("Resume the selected paused subscriptions"))
    def resume(self, request, queryset):
        resumed = 0
        for subscription in queryset.filter(paused_at__isnull=False):
            try:
                services.subscription_resume(subscription_id=subscription.pk, by=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
                continue
            resumed += 1
        messages.success(
            request,
            ngettext("%(n)d subscription resumed.", "%(n)d subscriptions resumed.", resumed)
            % {"n": resumed},
        )

    @admin.action(description=_("Give the selected subscriptions a new secret"))
    def rotate_secret(self, request, queryset):
        for subscription in queryset:
            services.subscription_rotate_secret(subscription_id=subscription.pk, by=request.user)
        messages.success(
            request,
            _(
                "New secrets made; the previous ones sign as well for the overlap. Open a "
                "subscription to read its new secret."
            ),
        )


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "type", "subject", "event_id")
    list_filter = ("type",)
    search_fields = ("event_id", "subject")
    date_hierarchy = "occurred_at"
    readonly_fields = ("event_id", "type", "application", "subject", "data", "occurred_at")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The delivery log: each event to each subscriber, its attempts and last answer."""

    list_display = (
        "created_at",
        "event",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = (
        "status",
        "subscription",
        ("event__type", admin.AllValuesFieldListFilter),
    )
    search_fields = ("event__event_id", "event__subject")
    list_select_related = ("event", "subscription")
    actions = ["replay"]
    readonly_fields = (
        "event",
        "subscription",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "replay_of",
        "replayed_by",
        "created_at",
    )

    @admin.action(description=_("Send the selected deliveries again"))
    def replay(self, request, queryset):
        replayed = 0
        for delivery in queryset.exclude(status=DeliveryStatus.PENDING).order_by("event_id"):
            try:
                services.delivery_replay(delivery_id=delivery.pk, by=request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
                continue
            replayed += 1
        messages.success(
            request,
            ngettext("%(n)d delivery sent again.", "%(n)d deliveries sent again.", replayed)
            % {"n": replayed},
        )


@admin.register(ArchivedEvent)
class ArchivedEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Events whose deliveries finished long ago, moved to the archive (yekuo.archive)."""

    list_display = ("occurred_at", "type", "subject", "event_id")
    list_filter = ("type",)
    search_fields = ("event_id", "subject")
    readonly_fields = [f.name for f in ArchivedEvent._meta.fields]


@admin.register(ArchivedDelivery)
class ArchivedDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The archived events' deliveries: their attempts and last answers, for audit."""

    list_display = (
        "created_at",
        "event_id",
        "subscription",
        "status",
        "attempts",
        "last_status_code",
        "delivered_at",
    )
    list_filter = ("status", "subscription")
    list_select_related = ("subscription",)
    readonly_fields = [f.name for f in ArchivedDelivery._meta.fields]
