"""REST API of deviations and their corrective proposals (``/api/v1/deviations/``)."""

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from applications import services as application_services
from applications.guards import is_supervisor, may_answer_deviation
from applications.idempotency import idempotent
from scheduling.models import Deviation, DeviationCause, Proposal, ResponsibleParty, Severity
from scheduling.serializers import (
    AnswerInputSerializer,
    DeviationCauseSerializer,
    DeviationDetailSerializer,
    DeviationSerializer,
    DeviationSummarySerializer,
    DismissInputSerializer,
)
from yekuo.api.filtering import BooleanFilter, ChoicesFilter, FilterSet, IntegerFilter
from yekuo.api.schema import IDEMPOTENCY_KEY
from yekuo.errors import NotPermitted

from . import selectors


class DeviationFilter(FilterSet):
    status = ChoicesFilter(choices=Deviation.Status.choices)
    severity = ChoicesFilter(choices=Severity.choices)
    application = IntegerFilter(field_name="application_id")
    department = IntegerFilter(field_name="department_id")
    critical = BooleanFilter()
    detected_after = filters.DateFilter(field_name="detected_at", lookup_expr="date__gte")
    detected_before = filters.DateFilter(field_name="detected_at", lookup_expr="date__lte")
    cause = filters.CharFilter(
        field_name="cause__code", help_text=gettext_lazy("Code of the cause.")
    )
    party = ChoicesFilter(field_name="responsible_party", choices=ResponsibleParty.choices)
    responsible_department = IntegerFilter(field_name="responsible_department_id")
    updated_since = filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=gettext_lazy("Changed at or after this moment (ISO 8601, with its offset)."),
    )


class DeviationList(generics.ListAPIView):
    serializer_class = DeviationSerializer
    filterset_class = DeviationFilter

    def get_queryset(self):
        return selectors.visible_deviations(self.request.user).order_by("-detected_at", "-id")

    @extend_schema(summary=gettext_lazy("List the deviations of the applications you may read"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DeviationSummary(generics.GenericAPIView):
    """The unresolved deviations counted by cause and by responsible party."""

    filterset_class = DeviationFilter
    serializer_class = DeviationSummarySerializer
    pagination_class = None

    def get_queryset(self):
        return selectors.visible_deviations(self.request.user)

    @extend_schema(
        summary=gettext_lazy(
            "Count the unresolved deviations (open, acknowledged) by cause and by party"
        ),
        responses=DeviationSummarySerializer,
    )
    def get(self, request):
        deviations = self.filter_queryset(self.get_queryset())
        return Response(selectors.deviation_counts(deviations))


class DeviationCauseList(generics.ListAPIView):
    serializer_class = DeviationCauseSerializer
    pagination_class = None

    def get_queryset(self):
        return DeviationCause.objects.filter(is_active=True)

    @extend_schema(summary=gettext_lazy("List the causes a deviation may be put down to"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def visible_deviation(request, deviation_id: int):
    """Return a live deviation ``request.user`` may read (the ones they may act on)."""
    return get_object_or_404(selectors.visible_deviations(request.user), pk=deviation_id)


class DeviationDetail(APIView):
    serializer_class = DeviationDetailSerializer

    @extend_schema(
        summary=gettext_lazy("Read a deviation with its proposals"),
        responses=DeviationDetailSerializer,
    )
    def get(self, request, deviation_id: int):
        deviation = selectors.readable_deviation(request.user, deviation_id)
        if deviation is None:
            raise NotFound()
        return Response(DeviationDetailSerializer(deviation).data)


class DeviationHistoryFilter(FilterSet):
    application = IntegerFilter(
        field_name="application_id",
        required=True,
        help_text=gettext_lazy("Id of the application (required)."),
    )


class DeviationHistory(generics.GenericAPIView):
    """The resolved deviations of one application, the archived ones included."""

    serializer_class = DeviationSerializer
    filterset_class = DeviationHistoryFilter
    pagination_class = None

    def get_queryset(self):
        return selectors.visible_deviations(self.request.user)

    @extend_schema(
        summary=gettext_lazy(
            "List the resolved deviations of an application, archived or not, the last "
            "resolved first"
        ),
        responses=DeviationSerializer(many=True),
    )
    def get(self, request):
        # The filter validates the application id (400 when missing or not a number), and
        # gives it as read ("12.0" is 12).
        filters_ = self.filterset_class(
            request.query_params, queryset=self.get_queryset(), request=request
        )
        if not filters_.is_valid():
            raise translate_validation(filters_.errors)
        rows = selectors.deviation_history_of(
            request.user, application_id=filters_.form.cleaned_data["application"]
        )
        return Response(DeviationSerializer(rows, many=True).data)


class DeviationAcknowledge(APIView):
    serializer_class = DeviationDetailSerializer
    problem_statuses = {"post": [409]}

    @extend_schema(
        summary=gettext_lazy(
            "Answer a deviation (cause, responsible party, action, due day): the first "
            "answer acknowledges it, a later one corrects it"
        ),
        request=AnswerInputSerializer,
        responses=DeviationDetailSerializer,
    )
    def post(self, request, deviation_id: int):
        deviation = visible_deviation(request, deviation_id)
        if not may_answer_deviation(request.user, deviation):
            # Before the input's checks: the answer is not theirs to give, right or wrong.
            raise NotPermitted(_("You may not answer this deviation."))
        serializer = AnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application_services.deviation_acknowledge(
            deviation_id=deviation_id, by=request.user, **serializer.validated_data
        )
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
        analysed = is_supervisor(request.user)
        if analysed:
            # Outside the request's transaction: a stale proposal is superseded, and its
            # successors stored, even though accepting it is refused.
            application_services.proposal_analyse_now(proposal_id=proposal_id)

        def perform():
            application_services.proposal_accept(
                proposal_id=proposal_id, by=request.user, analysed=analysed
            )
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
        application_services.proposal_dismiss(
            proposal_id=proposal_id, reason=serializer.validated_data["reason"], by=request.user
        )
        return Response(DeviationDetailSerializer(visible_deviation(request, deviation_id)).data)


urlpatterns = [
    path("deviations/", DeviationList.as_view(), name="deviation-list"),
    path("deviations/summary/", DeviationSummary.as_view(), name="deviation-summary"),
    path("deviations/history/", DeviationHistory.as_view(), name="deviation-history"),
    path("deviation-causes/", DeviationCauseList.as_view(), name="deviation-cause-list"),
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
]
