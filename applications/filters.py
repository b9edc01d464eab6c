"""Filters of the application list of the API (django-filter)."""

from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from scheduling.models import Severity
from yekuo.api.filtering import BooleanFilter, ChoicesFilter, FilterSet, IntegerFilter
from yekuo.domain import CustomerClass, VoltageClass

from . import selectors
from .models import ApplicationState, TimeLimitStatus


class StableOrderingFilter(filters.OrderingFilter):
    """Order as asked, then by id, so that pages neither repeat nor skip rows on ties."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "id")
        return qs


class ApplicationFilter(FilterSet):
    state = ChoicesFilter(
        choices=ApplicationState.choices, help_text=_("One or more states (repeat the parameter).")
    )
    customer_class = ChoicesFilter(choices=CustomerClass.choices)
    voltage_class = ChoicesFilter(choices=VoltageClass.choices)
    manager = IntegerFilter(
        field_name="account_manager_id", help_text=_("The user id of the account manager.")
    )
    unassigned = BooleanFilter(
        field_name="account_manager", lookup_expr="isnull", help_text=_("Without a manager.")
    )
    department = IntegerFilter(
        method="filter_department",
        help_text=_("Department id: applications with unfinished work owned by it."),
    )
    region = filters.CharFilter(field_name="region__code", help_text=_("Service region code."))
    created_after = filters.DateFilter(
        field_name="accepted_at", lookup_expr="date__gte", help_text=_("Accepted on or after.")
    )
    created_before = filters.DateFilter(
        field_name="accepted_at", lookup_expr="date__lte", help_text=_("Accepted on or before.")
    )
    committed_after = filters.DateFilter(field_name="committed_finish_date", lookup_expr="gte")
    committed_before = filters.DateFilter(field_name="committed_finish_date", lookup_expr="lte")
    deviation = filters.ChoiceFilter(
        choices=[(Severity.RED, Severity.RED.label), (Severity.AMBER, Severity.AMBER.label)],
        method="filter_deviation",
        help_text=_("Applications with an open deviation of this severity."),
    )
    time_limit_status = ChoicesFilter(
        choices=TimeLimitStatus.choices,
        help_text=_("The worst time-limit clock as of the last deviation sweep."),
    )
    risk_below = filters.NumberFilter(
        field_name="risk__on_time",
        lookup_expr="lt",
        min_value=0,
        max_value=1,
        help_text=_(
            "Applications whose probability of keeping the commitment (risk forecast of the "
            "last analysis) is below this share, from 0 to 1."
        ),
    )
    updated_since = filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=_(
            "Changed at or after this moment (ISO 8601, with its offset): for incremental "
            "sync, order by updated_at and keep the last one seen."
        ),
    )
    search = filters.CharFilter(
        method="filter_search",
        help_text=_("Part of the number, of the customer's name or of its credit code."),
    )
    ordering = StableOrderingFilter(
        fields=(
            ("accepted_at", "accepted_at"),
            ("number", "number"),
            ("committed_finish_date", "committed_finish_date"),
            ("forecast_finish_date", "forecast_finish_date"),
            ("total_float", "total_float"),
            ("risk__on_time", "risk_on_time"),
            ("customer__name", "customer_name"),
            ("updated_at", "updated_at"),
        )
    )

    def filter_department(self, queryset, name, value: int):
        return selectors.with_unfinished_work_of(queryset, value)

    def filter_deviation(self, queryset, name, value: str):
        return selectors.with_open_deviation(queryset, value)

    def filter_search(self, queryset, name, value: str):
        return selectors.search_applications(queryset, value)
