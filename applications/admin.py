"""The administrators' view of customers and applications.

Nothing here deletes, and the stage is never edited as a field: transitions go through
``services.application_transition`` (permission, guards, locking, the log row), from the
buttons on the change page.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from scheduling.models import Activity, Baseline
from yekuo.admin import ReadOnlyAdminMixin
from yekuo.celery import enqueue_on_commit
from yekuo.domain import WHOLE_PROCESS, Clock, CustomerClass
from yekuo.errors import DomainError, InvalidInput

from . import selectors, services
from .forms import ProgressForm
from .models import (
    Application,
    AssignmentChange,
    CapacityMeasure,
    Complaint,
    Customer,
    CustomerLink,
    CustomerLinkVisit,
    Document,
    DocumentRequirement,
    FollowUp,
    KpiSnapshot,
    PostCompletionReview,
    StageTransition,
    TimeLimit,
    transition_label,
)
from .tasks import sweep_deviations


class AdminProgressForm(ProgressForm):
    """Progress on one activity of the application, chosen from a list."""

    activity = forms.TypedChoiceField(label=gettext_lazy("Activity"), coerce=int)

    def __init__(self, *args, activities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].choices = [(a.pk, str(a)) for a in activities]


class ReadOnlyInlineMixin(ReadOnlyAdminMixin):
    """An append-only record shown under its application: no add, no change, no delete."""

    extra = 0
    can_delete = False


class StageTransitionInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = StageTransition
    fields = ("at", "transition", "from_state", "to_state", "by", "note")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class AssignmentChangeInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = AssignmentChange
    fields = (
        "at",
        "from_manager",
        "to_manager",
        "reason",
        "by",
        "is_override",
        "overridden_checks",
        "override_reason",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_manager", "to_manager", "by")


class ActivityInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Activity
    fields = (
        "code",
        "name",
        "stage",
        "department",
        "party",
        "duration",
        "baseline_start",
        "baseline_finish",
        "actual_start",
        "actual_finish",
        "forecast_finish",
        "forecast_tf",
        "forecast_ff",
        "is_critical",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # Dummies carry logic only; the engine's view of them is in the baseline.
        return super().get_queryset(request).filter(is_dummy=False).select_related("department")


class BaselineInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Baseline
    fields = ("version", "duration", "planned_duration", "reason", "approved_by", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("approved_by")


class DocumentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Document
    fields = (
        "kind",
        "original_name",
        "content_type",
        "size",
        "uploaded_by",
        "uploaded_at",
        "is_withdrawn",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


class PostCompletionReviewInline(ReadOnlyInlineMixin, admin.StackedInline):
    model = PostCompletionReview
    fields = (
        ("quality", "safety", "efficiency", "satisfaction"),
        "findings",
        ("reviewed_by", "reviewed_at"),
    )
    readonly_fields = (
        "quality",
        "safety",
        "efficiency",
        "satisfaction",
        "findings",
        "reviewed_by",
        "reviewed_at",
    )


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "region", "industry")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("name", "credit_code")
    search_help_text = gettext_lazy("Search by name or unified social credit code.")
    fields = (
        "name",
        "credit_code",
        "region",
        "industry",
        "address",
        "contact_name",
        "contact_phone",
        "created_at",
    )
    readonly_fields = ("credit_code", "created_at")

    def has_add_permission(self, request):
        # A customer comes in with its first application (services.application_create).
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "customer",
        "state",
        "customer_class",
        "voltage_class",
        "account_manager",
        "committed_finish_date",
        "forecast_finish_date",
        "total_float",
    )
    list_filter = (
        "state",
        "customer_class",
        "voltage_class",
        "region",
        ("account_manager", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("customer", "account_manager")
    search_fields = ("number", "customer__name", "customer__credit_code")
    search_help_text = gettext_lazy(
        "Search by application number, customer name or unified social credit code."
    )
    date_hierarchy = "accepted_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "customer",
                    "region",
                    "business_type",
                    "customer_class",
                    "voltage_class",
                    "requested_capacity_kva",
                    "supply_type",
                    "is_important",
                )
            },
        ),
        (
            gettext_lazy("Stage"),
            {
                "fields": (
                    "state",
                    "suspended_from",
                    "version",
                    "energized_at",
                    "closed_at",
                    "cancelled_at",
                    "cancel_reason",
                )
            },
        ),
        (gettext_lazy("Account manager"), {"fields": ("account_manager", "assigned_at")}),
        (
            gettext_lazy("Schedule"),
            {
                "fields": (
                    "template",
                    "start_date",
                    "committed_duration",
                    "committed_finish_date",
                    "forecast_finish_date",
                    "total_float",
                    "time_limits",
                )
            },
        ),
        (
            gettext_lazy("Record"),
            {"fields": ("accepted_at", "created_by", "created_at", "updated_at")},
        ),
    )
    # Everything but the importance flag: the stage changes by transitions only, the plan
    # by re-plans, the manager by reassignment, each through its service.
    readonly_fields = (
        "number",
        "customer",
        "region",
        "business_type",
        "customer_class",
        "voltage_class",
        "requested_capacity_kva",
        "supply_type",
        "state",
        "suspended_from",
        "version",
        "energized_at",
        "closed_at",
        "cancelled_at",
        "cancel_reason",
        "account_manager",
        "assigned_at",
        "template",
        "start_date",
        "committed_duration",
        "committed_finish_date",
        "forecast_finish_date",
        "total_float",
        "time_limits",
        "accepted_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    inlines = [
        StageTransitionInline,
        AssignmentChangeInline,
        ActivityInline,
        BaselineInline,
        DocumentInline,
        PostCompletionReviewInline,
    ]

    def has_add_permission(self, request):
        # Applications are accepted through services.application_create and its checks.
        return False

    def has_delete_permission(self, request, obj=None):
        # An application is cancelled, never removed (DESIGN §3).
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("customer", "region", "account_manager", "template", "created_by")
        )

    @admin.display(description=gettext_lazy("time limits (utility working days used)"))
    def time_limits(self, obj):
        readings = selectors.application_time_limits(obj, today=timezone.localdate())
        labels = {**dict(Clock.choices), WHOLE_PROCESS: _("Whole process")}
        parts = []
        for clock, reading in readings.items():
            if reading.limit is None:
                used = _("%(used)s days") % {"used": reading.used}
            else:
                used = _("%(used)s of %(limit)s days") % {
                    "used": reading.used,
                    "limit": reading.limit,
                }
            parts.append(f"{labels.get(clock, clock)} {used}")
        return "；".join(parts)

    def save_model(self, request, obj, form, change):
        # Only the importance flag is editable, and it goes through the service (which
        # counts it as a change, so a transition form read before it is refused).
        if change and "is_important" in form.changed_data:
            services.application_update(
                application_id=obj.pk,
                changes={"is_important": obj.is_important},
                by=request.user,
            )

    # Transitions -----------------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/transition/<str:name>/",
                self.admin_site.admin_view(require_POST(self.transition_view)),
                name="{}_{}_transition".format(*info),
            ),
            path(
                "<path:object_id>/progress/",
                self.admin_site.admin_view(require_POST(self.progress_view)),
                name="{}_{}_progress".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        application = self.get_object(request, unquote(object_id))
        if application is not None:
            # The guards read the activities and the review; fetch them once for all.
            prefetch_related_objects([application], "activities", "review")
            extra_context.update(
                transitions=selectors.application_transitions(application, request.user),
                transitions_version=application.version,
                progress_form=AdminProgressForm(
                    activities=self._open_activities(application),
                    initial={"version": application.version},
                ),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _open_activities(application):
        return [a for a in application.activities.all() if not a.is_dummy and not a.actual_finish]

    def _application_and_change_url(self, request, object_id):
        """Return the application (None when missing) and its change page, or refuse."""
        application = self.get_object(request, unquote(object_id))
        if application is None:
            return None, None
        if not self.has_view_or_change_permission(request, application):
            raise PermissionDenied
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[quote(application.pk)],
            current_app=self.admin_site.name,
        )
        return application, change_url

    def _refusal(self, request, exc: DomainError) -> None:
        """Show a service's refusal: each field's messages, or its one message."""
        if isinstance(exc, InvalidInput):
            for field_messages in exc.errors.values():
                for message in field_messages:
                    self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, exc.message, messages.ERROR)

    def progress_view(self, request, object_id):
        """Record progress on one activity (POST only) through the progress service."""
        application, change_url = self._application_and_change_url(request, object_id)
        if application is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = AdminProgressForm(request.POST, activities=self._open_activities(application))
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                for message in errors:
                    self.message_user(
                        request, f"{label}: {message}" if label else message, messages.ERROR
                    )
            return HttpResponseRedirect(change_url)
        try:
            activity = services.activity_progress_record(
                activity_id=form.cleaned_data["activity"],
                application_id=application.pk,
                by=request.user,
                **form.progress(),
            )
        except DomainError as exc:
            self._refusal(request, exc)
        else:
            self.message_user(
                request,
                _("%(activity)s: progress recorded; the forecast is updated.")
                % {"activity": activity},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(change_url)

    def transition_view(self, request, object_id, name):
        """Apply the transition ``name`` (POST only) and go back to the change page."""
        application, change_url = self._application_and_change_url(request, object_id)
        if application is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        try:
            version = int(request.POST["version"])
        except (KeyError, ValueError):
            self.message_user(
                request,
                _(
                    "The form did not say which version of the application it was read at: "
                    "reload the page and try again."
                ),
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        try:
            application = services.application_transition(
                application_id=application.pk,
                transition=name,
                by=request.user,
                note=request.POST.get("note", ""),
                expected_version=version,
            )
        except DomainError as exc:
            self._refusal(request, exc)
        else:
            self.message_user(
                request,
                _("%(number)s: “%(transition)s” applied; the state is now “%(state)s”.")
                % {
                    "number": application.number,
                    "transition": transition_label(name),
                    "state": application.get_state_display(),
                },
                messages.SUCCESS,
            )
        return HttpResponseRedirect(change_url)


@admin.register(StageTransition)
class StageTransitionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The log is append-only: written by the transition service, never edited."""

    list_display = ("at", "application_number", "transition", "from_state", "to_state", "by")
    list_filter = ("transition", "to_state")
    list_select_related = ("application", "by")
    search_fields = ("application__number",)
    search_help_text = gettext_lazy("Search by application number.")
    date_hierarchy = "at"

    @admin.display(description=gettext_lazy("application"), ordering="application__number")
    def application_number(self, obj):
        return obj.application.number


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """问责 follow-up items: raised and closed through the services (page or API)."""

    list_display = ("due_on", "application_number", "owner", "status", "closed_by", "closed_at")
    list_filter = ("status",)
    list_select_related = ("review__application", "owner", "closed_by")
    search_fields = ("review__application__number", "description")
    search_help_text = gettext_lazy("Search by application number or the description.")
    date_hierarchy = "due_on"

    @admin.display(description=gettext_lazy("application"), ordering="review__application__number")
    def application_number(self, obj):
        return obj.review.application.number


@admin.register(CapacityMeasure)
class CapacityMeasureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The measures levellings proposed and what became of them (decided on the dashboard
    or through the API: accepting one records a crew capacity change)."""

    list_display = (
        "region",
        "crew",
        "kind",
        "first_day",
        "last_day",
        "applications_helped",
        "days_saved",
        "commitments_kept",
        "status",
        "decided_by",
    )
    list_filter = ("status", "kind", "region")
    list_select_related = ("region", "crew__region", "crew__department", "decided_by")
    date_hierarchy = "first_day"


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customer complaints, recorded on the application page or through the API (the
    service checks who may record them); read here."""

    list_display = (
        "received_on",
        "application_number",
        "channel",
        "category",
        "substantiated",
        "department",
        "handled_by",
    )
    list_filter = ("channel", "category", "substantiated", "department")
    list_select_related = ("application", "department", "handled_by")
    search_fields = ("application__number", "text")
    search_help_text = gettext_lazy("Search by application number or the complaint's text.")
    date_hierarchy = "received_on"

    @admin.display(description=gettext_lazy("application"), ordering="application__number")
    def application_number(self, obj):
        return obj.application.number


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):
    list_display = ("customer_class", "clock", "working_days")
    list_editable = ("working_days",)
    list_filter = ("customer_class", "clock")

    def has_delete_permission(self, request, obj=None):
        # Without its row a clock has no limit at all; change the number instead.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Every application of the class reads its clocks against the new limit at once.
        enqueue_on_commit(sweep_deviations)


class DocumentRequirementForm(forms.ModelForm):
    customer_classes = forms.MultipleChoiceField(
        label=gettext_lazy("customer classes"),
        choices=CustomerClass.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every class."),
    )

    class Meta:
        model = DocumentRequirement
        fields = (
            "kind",
            "stage",
            "business_type",
            "customer_classes",
            "is_required",
            "note",
            "sort_order",
            "is_active",
        )


@admin.register(DocumentRequirement)
class DocumentRequirementAdmin(admin.ModelAdmin):
    """The one-time notice: which documents an application needs, by which stage.

    A change reaches applications accepted from then on; accepted ones keep their list.
    """

    form = DocumentRequirementForm
    list_display = (
        "kind",
        "stage",
        "business_type_text",
        "customer_classes_text",
        "is_required",
        "is_active",
        "sort_order",
    )
    list_editable = ("is_required", "is_active", "sort_order")
    list_filter = ("stage", "business_type", "is_required", "is_active")

    @admin.display(description=gettext_lazy("business type"), ordering="business_type")
    def business_type_text(self, obj):
        return obj.get_business_type_display() or _("every business type")

    @admin.display(description=gettext_lazy("customer classes"))
    def customer_classes_text(self, obj):
        labels = dict(CustomerClass.choices)
        return "、".join(str(labels.get(c, c)) for c in obj.customer_classes) or _("every class")

    def has_delete_permission(self, request, obj=None):
        # Applications keep the list they were accepted with; retire a line by
        # clearing "active" instead.
        return False


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The nightly figures behind the trend charts (read-only: the snapshot task owns them)."""

    list_display = (
        "day",
        "scope",
        "manager",
        "department",
        "active",
        "finished",
        "on_time",
        "average_cycle_days",
        "deviations_red",
        "limits_exceeded",
    )
    list_filter = ("scope", "department")
    date_hierarchy = "day"
    list_select_related = ("manager", "department")
    readonly_fields = [f.name for f in KpiSnapshot._meta.fields]


@admin.register(CustomerLink)
class CustomerLinkAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The customers' progress links: made and revoked on the application's link page."""

    list_display = ("application", "created_at", "created_by", "expires_at", "revoked_at")
    search_fields = ("application__number",)
    list_select_related = ("application", "created_by")
    exclude = ("nonce",)


@admin.register(CustomerLinkVisit)
class CustomerLinkVisitAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every use of a customer's link: openings, refused uses and the customer's requests."""

    list_display = ("at", "application", "kind", "ip_address", "handled_at", "handled_by")
    list_filter = ("kind",)
    search_fields = ("application__number", "ip_address")
    list_select_related = ("application", "handled_by")
    date_hierarchy = "at"
