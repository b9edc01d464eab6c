from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yekuo.admin import ReadOnlyAdminMixin
from yekuo.domain import BusinessType, VoltageClass

from . import cpm, explanations, selectors, services
from .messages import describe_network_error
from .models import (
    ActivityTemplate,
    ArchivedDeviation,
    ArchivedProposal,
    CalendarOverride,
    CalendarYear,
    Crew,
    CrewCapacityChange,
    Deviation,
    DeviationAnswer,
    DeviationCause,
    LearnedDuration,
    NetworkTemplate,
    Proposal,
)


class ActivityTemplateInlineFormSet(forms.BaseInlineFormSet):
    """Validate the template as a whole through the engine before anything is saved."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        activities = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        activities.sort(key=lambda activity: activity.sort_order)
        try:
            self.compiled = cpm.load_network(selectors.network_data(activities))
        except cpm.NetworkError as exc:
            raise ValidationError(describe_network_error(exc), code=exc.code) from exc


class ActivityTemplateInline(admin.TabularInline):
    model = ActivityTemplate
    formset = ActivityTemplateInlineFormSet
    extra = 0
    fields = (
        "sort_order",
        "code",
        "name",
        "stage",
        "department",
        "joint_departments",
        "party",
        "duration",
        "learned",
        "shortest_duration",
        "kind",
        "tail",
        "head",
        "lead",
        "is_dummy",
        "predecessors",
        "parallel_with",
        "clock",
        "milestone",
        "crew_kind",
        "crew_units",
    )
    readonly_fields = ("learned",)

    def get_queryset(self, request):
        # The activity's learned duration as a whole (no group), read with the rows.
        learned = LearnedDuration.objects.filter(
            template=OuterRef("template"),
            code=OuterRef("code"),
            department="",
            is_current=True,
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                learned_median=Subquery(learned.values("median")[:1]),
                learned_p80=Subquery(learned.values("p80")[:1]),
                learned_count=Subquery(learned.values("count")[:1]),
            )
        )

    @admin.display(description=_("learned from history"))
    def learned(self, obj) -> str:
        if getattr(obj, "learned_count", None) is None:
            return "—"
        return _("median %(median).1f · P80 %(p80).1f · %(count)d finished") % {
            "median": obj.learned_median,
            "p80": obj.learned_p80,
            "count": obj.learned_count,
        }


class NetworkTemplateForm(forms.ModelForm):
    business_types = forms.MultipleChoiceField(
        label=_("business types"),
        choices=BusinessType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    voltage_classes = forms.MultipleChoiceField(
        label=_("voltage classes"),
        choices=VoltageClass.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = NetworkTemplate
        fields = [
            "code",
            "version",
            "name",
            "business_types",
            "customer_class",
            "voltage_classes",
            "is_active",
            "notes",
        ]


@admin.register(NetworkTemplate)
class NetworkTemplateAdmin(admin.ModelAdmin):
    form = NetworkTemplateForm
    inlines = [ActivityTemplateInline]
    list_display = ("name", "code", "version", "customer_class", "voltage_list", "is_active")
    list_filter = ("is_active", "customer_class")
    search_fields = ("name", "code")
    actions = ["new_version"]

    @admin.display(description=_("voltage classes"))
    def voltage_list(self, obj):
        return "、".join(obj.voltage_classes)

    def has_delete_permission(self, request, obj=None):
        # Applications refer to the version they were planned with: retire, never delete.
        return False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            compiled = getattr(formset, "compiled", None)
            if compiled is not None:
                schedule = compiled.evaluate()
                self.message_user(
                    request,
                    _(
                        "The network is valid: %(count)d activities, %(days)d working days, "
                        "critical path %(path)s."
                    )
                    % {
                        "count": len(schedule.activities),
                        "days": schedule.duration,
                        "path": " → ".join(schedule.critical.first(1)[0]),
                    },
                    messages.SUCCESS,
                )

    @admin.action(description=_("Copy as a new, inactive version"))
    def new_version(self, request, queryset):
        for template in queryset:
            template = services.template_new_version(template_id=template.pk)
            self.message_user(
                request,
                _("Created %(template)s; edit it, then activate it and retire the old one.")
                % {"template": template},
            )


class CalendarChangeMixin:
    """Every change of the calendar's data makes the processes rebuild their calendar."""

    by_field = "created_by"

    def save_model(self, request, obj, form, change):
        setattr(obj, self.by_field, request.user)
        super().save_model(request, obj, form, change)
        transaction.on_commit(services.calendar_changed)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(services.calendar_changed)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(services.calendar_changed)

    def changelist_view(self, request, extra_context=None):
        guessed = selectors.calendar_estimated_years(today=timezone.localdate())
        if guessed:
            self.message_user(
                request,
                _(
                    "Estimated calendar years (statutory holidays by rule, no make-up working "
                    "days): %(years)s. Enter the official notice as overrides, then confirm "
                    "the year."
                )
                % {"years": ", ".join(map(str, guessed))},
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)


class CrewCapacityChangeInline(admin.TabularInline):
    model = CrewCapacityChange
    extra = 1
    fields = ("first_day", "last_day", "capacity", "reason", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")

    def has_delete_permission(self, request, obj=None):
        return False  # nothing is deleted: a change that no longer holds is overridden


@admin.register(Crew)
class CrewAdmin(admin.ModelAdmin):
    list_display = ("region", "department", "kind", "capacity", "meeting_weekday", "is_active")
    list_filter = ("kind", "region", "department", "is_active")
    list_select_related = ("region", "department")
    inlines = [CrewCapacityChangeInline]

    def has_delete_permission(self, request, obj=None):
        return False  # set it inactive instead

    def save_formset(self, request, form, formset, change):
        for change_row in formset.save(commit=False):
            if change_row.pk is None:
                change_row.created_by = request.user
            change_row.save()
        formset.save_m2m()


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(CalendarChangeMixin, admin.ModelAdmin):
    list_display = ("day", "is_working", "note", "created_by", "created_at")
    list_filter = ("is_working",)
    date_hierarchy = "day"
    search_fields = ("note",)


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarChangeMixin, admin.ModelAdmin):
    by_field = "confirmed_by"
    list_display = ("year", "source", "confirmed_by", "confirmed_at")


class ProposalInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Proposal
    extra = 0
    can_delete = False
    fields = ("kind", "what", "new_finish", "days_recovered", "status", "decided_by")
    readonly_fields = fields

    @admin.display(description=_("what to do"))
    def what(self, proposal) -> str:
        return selectors.proposal_text(proposal)


@admin.register(DeviationCause)
class DeviationCauseAdmin(admin.ModelAdmin):
    list_display = ("name", "name_en", "code", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("name", "name_en", "code")

    def has_delete_permission(self, request, obj=None):
        # Answered deviations keep their cause: retire it, never delete it.
        return False


class DeviationAnswerInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeviationAnswer
    extra = 0
    can_delete = False
    fields = (
        "at",
        "by",
        "cause",
        "responsible_party",
        "responsible_department",
        "party_reason",
        "planned_action",
        "action_due",
    )


@admin.register(Deviation)
class DeviationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Deviations as the sweep found them (read-only: the sweep and the services own them)."""

    list_display = (
        "application",
        "activity",
        "severity",
        "delay",
        "department",
        "status",
        "detected_at",
    )
    list_filter = ("severity", "status", "department", "cause", "responsible_party")
    search_fields = ("application__number", "application__customer__name")
    list_select_related = ("application", "application__customer", "activity", "department")
    readonly_fields = ["explanation", *(f.name for f in Deviation._meta.fields)]
    inlines = [DeviationAnswerInline, ProposalInline]

    @admin.display(description=_("explanation"))
    def explanation(self, deviation) -> str:
        return explanations.deviation_text(deviation)


@admin.register(ArchivedDeviation)
class ArchivedDeviationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Resolved deviations moved to the archive (yekuo.archive), as they were."""

    list_display = ("application", "activity", "severity", "delay", "detected_at", "resolved_at")
    list_filter = ("severity",)
    search_fields = ("application__number",)
    list_select_related = ("application", "activity")
    readonly_fields = [f.name for f in ArchivedDeviation._meta.fields]


@admin.register(ArchivedProposal)
class ArchivedProposalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Decided proposals moved to the archive (yekuo.archive), as they were."""

    list_display = ("application", "deviation_id", "kind", "status", "days_recovered")
    list_filter = ("kind", "status")
    search_fields = ("application__number",)
    list_select_related = ("application",)
    readonly_fields = [f.name for f in ArchivedProposal._meta.fields]


@admin.register(LearnedDuration)
class LearnedDurationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What each template activity really takes, learned nightly; read-only."""

    list_display = (
        "template",
        "code",
        *LearnedDuration.GROUP_FIELDS,
        "median",
        "p80",
        "count",
        "is_current",
        "learned_at",
    )
    list_filter = ("is_current", "template")
    search_fields = ("code", "department", "region")
    list_select_related = ("template",)
    readonly_fields = [f.name for f in LearnedDuration._meta.fields]
