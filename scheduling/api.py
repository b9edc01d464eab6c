"""REST API of schedules, progress, deviations, templates and the what-if computations."""

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.response import Response
from rest_framework.views import APIView

from applications import services as application_services
from applications.api import visible_application
from applications.models import Application
from yekuo.api.concurrency import etag, if_match_version
from yekuo.api.filtering import BooleanFilter, FilterSet, IntegerFilter
from yekuo.api.idempotency import idempotent
from yekuo.api.schema import IDEMPOTENCY_KEY, IF_MATCH
from yekuo.errors import StaleVersion

from . import selectors, services
from .cpm import NetworkError
from .models import Activity, Deviation, NetworkTemplate, Proposal, Severity
from .serializers import (
    DelayAnalysisSerializer,
    DelayQuerySerializer,
    DeviationDetailSerializer,
    DeviationSerializer,
    DismissInputSerializer,
    NetworkScheduleSerializer,
    NetworkTemplateDetailSerializer,
    NetworkTemplateSerializer,
    ProgressInputSerializer,
    ScheduleSerializer,
)


def schedule_response(application_id: int) -> Response:
    application = Application.objects.get(pk=application_id)
    data = selectors.application_schedule(application, today=timezone.localdate())
    return Response(ScheduleSerializer(data).data, headers={"ETag": etag(application.version)})


class ApplicationSchedule(APIView):
    serializer_class = ScheduleSerializer

    @extend_schema(
        summary=gettext_lazy(
            "The schedule: baseline, actual and forecast dates, ES…FF, critical paths"
        ),
        responses=ScheduleSerializer,
    )
    def get(self, request, application_id: int):
        visible_application(request, application_id)
        return schedule_response(application_id)


class ActivityProgress(APIView):
    serializer_class = ScheduleSerializer
    problem_statuses = {"patch": [409, 412, 428]}

    @extend_schema(
        summary=gettext_lazy(
            "Record progress on an activity: actual start, finish, remaining days"
        ),
        description=gettext_lazy(
            "The parts sent are recorded in the order start, finish, remaining, in one "
            "transaction: all of them or none. Answers the application's schedule."
        ),
        request=ProgressInputSerializer,
        responses=ScheduleSerializer,
        parameters=[IF_MATCH],
    )
    def patch(self, request, application_id: int, code: str):
        visible_application(request, application_id)
        activity = get_object_or_404(
            Activity.objects.filter(is_dummy=False), application_id=application_id, code=code
        )
        version = if_match_version(request)
        serializer = ProgressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            # The application row is locked while the version is compared, so no change can
            # slip in between the check and the progress records.
            current = (
                Application.objects.select_for_update()
                .values_list("version", flat=True)
                .get(pk=application_id)
            )
            if current != version:
                raise StaleVersion(
                    _(
                        "The application changed since you read it (version %(current)s, "
                        "you had %(yours)s): reload it and try again."
                    )
                    % {"current": current, "yours": version}
                )
            common = {
                "activity_id": activity.pk,
                "application_id": application_id,
                "by": request.user,
                "note": data["note"],
            }
            if "actual_start" in data:
                application_services.activity_record_start(on=data["actual_start"], **common)
            if "actual_finish" in data:
                application_services.activity_record_finish(
                    on=data["actual_finish"], passed=data["passed"], **common
                )
            if "remaining" in data:
                application_services.activity_set_remaining(remaining=data["remaining"], **common)
        return schedule_response(application_id)


class DeviationFilter(FilterSet):
    status = filters.MultipleChoiceFilter(choices=Deviation.Status.choices)
    severity = filters.MultipleChoiceFilter(choices=Severity.choices)
    application = IntegerFilter(field_name="application_id")
    department = IntegerFilter(field_name="department_id")
    critical = BooleanFilter()
    detected_after = filters.DateFilter(field_name="detected_at", lookup_expr="date__gte")
    detected_before = filters.DateFilter(field_name="detected_at", lookup_expr="date__lte")


class DeviationList(generics.ListAPIView):
    serializer_class = DeviationSerializer
    filterset_class = DeviationFilter

    def get_queryset(self):
        return selectors.visible_deviations(self.request.user).order_by("-detected_at", "-id")

    @extend_schema(summary=gettext_lazy("List the deviations of the applications you may read"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def visible_deviation(request, deviation_id: int):
    return get_object_or_404(
        selectors.visible_deviations(request.user).prefetch_related(
            "proposals", "proposals__decided_by"
        ),
        pk=deviation_id,
    )


class DeviationDetail(APIView):
    serializer_class = DeviationDetailSerializer

    @extend_schema(
        summary=gettext_lazy("Read a deviation with its proposals"),
        responses=DeviationDetailSerializer,
    )
    def get(self, request, deviation_id: int):
        return Response(DeviationDetailSerializer(visible_deviation(request, deviation_id)).data)


class DeviationAcknowledge(APIView):
    serializer_class = DeviationDetailSerializer
    problem_statuses = {"post": [409]}

    @extend_schema(
        summary=gettext_lazy("Acknowledge a deviation: you have seen it and are on it"),
        request=None,
        responses=DeviationDetailSerializer,
    )
    def post(self, request, deviation_id: int):
        visible_deviation(request, deviation_id)
        services.deviation_acknowledge(deviation_id=deviation_id, by=request.user)
        return Response(DeviationDetailSerializer(visible_deviation(request, deviation_id)).data)


def visible_proposal(request, deviation_id: int, proposal_id: int) -> Proposal:
    visible_deviation(request, deviation_id)
    return get_object_or_404(Proposal, pk=proposal_id, deviation_id=deviation_id)


class ProposalAccept(APIView):
    serializer_class = DeviationDetailSerializer
    problem_statuses = {"post": [409, 422]}

    @extend_schema(
        summary=gettext_lazy("Accept a corrective proposal (supervisors)"),
        request=None,
        responses=DeviationDetailSerializer,
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, deviation_id: int, proposal_id: int):
        visible_proposal(request, deviation_id, proposal_id)

        def perform():
            services.proposal_accept(proposal_id=proposal_id, by=request.user)
            return Response(
                DeviationDetailSerializer(visible_deviation(request, deviation_id)).data
            )

        return idempotent(request, perform)


class ProposalDismiss(APIView):
    serializer_class = DeviationDetailSerializer
    problem_statuses = {"post": [409]}

    @extend_schema(
        summary=gettext_lazy("Dismiss a corrective proposal, saying why"),
        request=DismissInputSerializer,
        responses=DeviationDetailSerializer,
    )
    def post(self, request, deviation_id: int, proposal_id: int):
        visible_proposal(request, deviation_id, proposal_id)
        serializer = DismissInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.proposal_dismiss(
            proposal_id=proposal_id, reason=serializer.validated_data["reason"], by=request.user
        )
        return Response(DeviationDetailSerializer(visible_deviation(request, deviation_id)).data)


class NetworkTemplateList(generics.ListAPIView):
    serializer_class = NetworkTemplateSerializer
    queryset = NetworkTemplate.objects.order_by("customer_class", "code", "-version")

    @extend_schema(summary=gettext_lazy("List the network templates"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NetworkTemplateDetail(generics.RetrieveAPIView):
    serializer_class = NetworkTemplateDetailSerializer
    lookup_url_kwarg = "template_id"

    def get_queryset(self):
        from django.db.models import Prefetch

        from .models import ActivityTemplate

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


def _network_problem(error: NetworkError) -> exceptions.ValidationError:
    return exceptions.ValidationError({"network": [f"{error.code}: {error.message}"]})


NETWORK_DESCRIPTION = gettext_lazy(
    "The body is a network JSON (activities in AON or AOA form, optional planned_duration); "
    "the answer is what `python manage.py compute_schedule` prints for it."
)


class ComputeSchedule(APIView):
    serializer_class = NetworkScheduleSerializer

    @extend_schema(
        summary=gettext_lazy("What-if: the CPM schedule of a network"),
        description=NETWORK_DESCRIPTION,
        request=OpenApiTypes.OBJECT,
        responses=NetworkScheduleSerializer,
    )
    def post(self, request):
        try:
            return Response(selectors.network_schedule(request.data))
        except NetworkError as error:
            raise _network_problem(error) from error


class AnalyseDelay(APIView):
    serializer_class = DelayAnalysisSerializer

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
            result = selectors.network_delay_analysis(
                request.data,
                activity=query.validated_data["activity"],
                delay=query.validated_data["delay"],
            )
        except NetworkError as error:
            raise _network_problem(error) from error
        return Response(result)


urlpatterns = [
    path(
        "applications/<int:application_id>/schedule/",
        ApplicationSchedule.as_view(),
        name="application-schedule",
    ),
    path(
        "applications/<int:application_id>/activities/<str:code>/",
        ActivityProgress.as_view(),
        name="application-activity",
    ),
    path("deviations/", DeviationList.as_view(), name="deviation-list"),
    path("deviations/<int:deviation_id>/", DeviationDetail.as_view(), name="deviation-detail"),
    path(
        "deviations/<int:deviation_id>/acknowledge/",
        DeviationAcknowledge.as_view(),
        name="deviation-acknowledge",
    ),
    path(
        "deviations/<int:deviation_id>/proposals/<int:proposal_id>/accept/",
        ProposalAccept.as_view(),
        name="proposal-accept",
    ),
    path(
        "deviations/<int:deviation_id>/proposals/<int:proposal_id>/dismiss/",
        ProposalDismiss.as_view(),
        name="proposal-dismiss",
    ),
    path("network-templates/", NetworkTemplateList.as_view(), name="network-template-list"),
    path(
        "network-templates/<int:template_id>/",
        NetworkTemplateDetail.as_view(),
        name="network-template-detail",
    ),
    path("schedule/compute/", ComputeSchedule.as_view(), name="schedule-compute"),
    path("schedule/analyse-delay/", AnalyseDelay.as_view(), name="schedule-analyse-delay"),
]
