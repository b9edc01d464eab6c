"""REST API of schedules, progress, deviations, templates and the what-if computations."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, permissions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from yekuo.api.filtering import BooleanFilter, FilterSet, IntegerFilter
from yekuo.api.problems import ComputationTooLong, NetworkTooLarge

from . import selectors, services
from .cpm import NetworkError, NetworkTooLargeError, TimeBudgetExceededError, ValueOutOfBoundsError
from .models import (
    ActivityTemplate,
    Crew,
    CrewCapacityChange,
    CrewKind,
    LearnedDuration,
    NetworkTemplate,
)
from .serializers import (
    CrewCapacityChangeSerializer,
    CrewSerializer,
    DelayAnalysisSerializer,
    DelayQuerySerializer,
    LearnedDurationSerializer,
    NetworkScheduleSerializer,
    NetworkTemplateDetailSerializer,
    NetworkTemplateSerializer,
)


class NetworkTemplateList(generics.ListAPIView):
    serializer_class = NetworkTemplateSerializer
    queryset = NetworkTemplate.objects.order_by("customer_class", "code", "-version")

    @extend_schema(summary=gettext_lazy("List the network templates"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class LearnedDurationFilter(FilterSet):
    template = IntegerFilter(field_name="template_id", help_text=gettext_lazy("Template id."))
    code = filters.CharFilter(help_text=gettext_lazy("Activity code in its template."))
    current = BooleanFilter(
        field_name="is_current",
        help_text=gettext_lazy("Only the estimates of the last learning run (true) or older."),
    )


class LearnedDurationList(generics.ListAPIView):
    """The template activities' durations learned nightly from the finished activities:
    per activity as a whole (group fields empty) and per department, region, voltage and
    customer class where the history suffices."""

    serializer_class = LearnedDurationSerializer
    filterset_class = LearnedDurationFilter
    queryset = LearnedDuration.objects.order_by(
        "template", "code", *LearnedDuration.GROUP_FIELDS, "id"
    )

    @extend_schema(summary=gettext_lazy("List the durations learned from history"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NetworkTemplateDetail(generics.RetrieveAPIView):
    serializer_class = NetworkTemplateDetailSerializer
    lookup_url_kwarg = "template_id"

    def get_queryset(self):
        return NetworkTemplate.objects.prefetch_related(
            Prefetch(
                "activities",
                queryset=ActivityTemplate.objects.select_related("department").order_by(
                    "sort_order", "id"
                ),
            )
        )

    @extend_schema(summary=gettext_lazy("Read a network template with its activities"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MayPlanCrews(permissions.BasePermission):
    """Everyone signed in reads the crews; supervisors and administrators change them."""

    message = gettext_lazy("Only supervisors and administrators change crews and capacities.")

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or request.user.has_perm(
            "accounts.supervise_applications"
        )


CREW_PERMISSIONS = [*api_settings.DEFAULT_PERMISSION_CLASSES, MayPlanCrews]


class CrewFilter(FilterSet):
    region = filters.CharFilter(field_name="region__code", help_text=gettext_lazy("Region code."))
    department = filters.CharFilter(
        field_name="department__code", help_text=gettext_lazy("Department code.")
    )
    kind = filters.ChoiceFilter(choices=CrewKind.choices)
    active = BooleanFilter(field_name="is_active")


class CrewList(generics.ListCreateAPIView):
    """The crews (and review meetings) each region's applications share, with the capacity
    the levelling of shared capacity schedules their work against."""

    permission_classes = CREW_PERMISSIONS
    serializer_class = CrewSerializer
    filterset_class = CrewFilter
    queryset = Crew.objects.select_related("region", "department").order_by(
        "region__code", "department__code", "kind", "id"
    )

    @extend_schema(summary=gettext_lazy("List the shared crews and review meetings"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary=gettext_lazy("Add a crew (or a region's review meeting)"))
    def post(self, request, *args, **kwargs):
        serializer = CrewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        crew = services.crew_create(**serializer.validated_data, by=request.user)
        return Response(CrewSerializer(crew).data, status=status.HTTP_201_CREATED)


class CrewDetail(APIView):
    permission_classes = CREW_PERMISSIONS
    serializer_class = CrewSerializer

    @extend_schema(summary=gettext_lazy("Read a crew"))
    def get(self, request, pk: int):
        return Response(CrewSerializer(get_object_or_404(Crew, pk=pk)).data)

    @extend_schema(summary=gettext_lazy("Change a crew's capacity, meeting weekday or flag"))
    def patch(self, request, pk: int):
        crew = get_object_or_404(Crew, pk=pk)
        serializer = CrewSerializer(crew, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changed = services.crew_update(
            crew_id=crew.pk, changes=dict(serializer.validated_data), by=request.user
        )
        return Response(CrewSerializer(changed).data)


class CrewCapacityChangeList(generics.ListCreateAPIView):
    permission_classes = CREW_PERMISSIONS
    serializer_class = CrewCapacityChangeSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CrewCapacityChange.objects.none()
        crew = get_object_or_404(Crew, pk=self.kwargs["pk"])
        return crew.capacity_changes.select_related("created_by").order_by("first_day", "id")

    @extend_schema(summary=gettext_lazy("A crew's capacity changes (away, lent, extra days)"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(summary=gettext_lazy("Record a crew's capacity over some days"))
    def post(self, request, *args, **kwargs):
        crew = get_object_or_404(Crew, pk=self.kwargs["pk"])
        serializer = CrewCapacityChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = services.crew_capacity_change_add(
            crew_id=crew.pk, **serializer.validated_data, by=request.user
        )
        return Response(CrewCapacityChangeSerializer(change).data, status=status.HTTP_201_CREATED)


def _network_problem(error: NetworkError) -> exceptions.APIException:
    """Return the problem of a refused network: 413 beyond the size limits, 503 out of
    time, 400 otherwise (an out-of-bounds value under its own field)."""
    message = f"{error.code}: {error.message}"
    if isinstance(error, NetworkTooLargeError):
        return NetworkTooLarge({error.field: [message]})
    if isinstance(error, TimeBudgetExceededError):
        return ComputationTooLong(message)
    if isinstance(error, ValueOutOfBoundsError):
        where = error.field if error.activity is None else f"{error.activity}.{error.field}"
        return exceptions.ValidationError({where: [message]})
    return exceptions.ValidationError({"network": [message]})


NETWORK_DESCRIPTION = gettext_lazy(
    "The body is a network JSON (activities in AON or AOA form, optional planned_duration); "
    "the answer is what `python manage.py compute_schedule` prints for it, except that the "
    "critical paths are counted in `critical_path_count` (a string of digits above "
    "2^53 − 1) and at most the first CRITICAL_PATHS_LISTED (20) of them are listed, "
    "`critical_paths_truncated` saying whether some were left out. A network of more than "
    "NETWORK_MAX_ACTIVITIES (2,000) activities or NETWORK_MAX_LINKS (20,000) links is "
    "refused with 413; a duration, lag or planned duration over NETWORK_MAX_DAYS (3,650) "
    "working days with 400; a computation longer than COMPUTE_TIME_BUDGET_SECONDS with 503 "
    "and Retry-After."
)


# A network over the size limits (413) or a computation out of its time budget (503).
BOUNDED_STATUSES = {"post": [413, 503]}


class ComputeSchedule(APIView):
    serializer_class = NetworkScheduleSerializer
    changes_nothing = True  # a what-if: read-only tokens may ask for it
    problem_statuses = BOUNDED_STATUSES

    @extend_schema(
        summary=gettext_lazy("What-if: the CPM schedule of a network"),
        description=NETWORK_DESCRIPTION,
        request=OpenApiTypes.OBJECT,
        responses=NetworkScheduleSerializer,
    )
    def post(self, request):
        try:
            return Response(selectors.client_network_schedule(request.data))
        except NetworkError as error:
            raise _network_problem(error) from error


class AnalyseDelay(APIView):
    serializer_class = DelayAnalysisSerializer
    changes_nothing = True  # a what-if: read-only tokens may ask for it
    problem_statuses = BOUNDED_STATUSES

    @extend_schema(
        summary=gettext_lazy("What-if: the effect of one activity taking longer"),
        description=gettext_lazy(
            "The body is a network JSON; `activity` and `delay` (working days) are query "
            "parameters. The answer is what `python manage.py analyse_delay` prints."
        ),
        parameters=[
            OpenApiParameter("activity", str, required=True),
            OpenApiParameter("delay", int, required=True),
        ],
        request=OpenApiTypes.OBJECT,
        responses=DelayAnalysisSerializer,
    )
    def post(self, request):
        query = DelayQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            result = selectors.client_network_delay_analysis(
                request.data,
                activity=query.validated_data["activity"],
                delay=query.validated_data["delay"],
            )
        except NetworkError as error:
            raise _network_problem(error) from error
        return Response(result)


urlpatterns = [
    path("network-templates/", NetworkTemplateList.as_view(), name="network-template-list"),
    path("learned-durations/", LearnedDurationList.as_view(), name="learned-duration-list"),
    path("crews/", CrewList.as_view(), name="crew-list"),
    path("crews/<int:pk>/", CrewDetail.as_view(), name="crew-detail"),
    path(
        "crews/<int:pk>/capacity-changes/",
        CrewCapacityChangeList.as_view(),
        name="crew-capacity-change-list",
    ),
    path(
        "network-templates/<int:template_id>/",
        NetworkTemplateDetail.as_view(),
        name="network-template-detail",
    ),
    path("schedule/compute/", ComputeSchedule.as_view(), name="schedule-compute"),
    path("schedule/analyse-delay/", AnalyseDelay.as_view(), name="schedule-analyse-delay"),
]
