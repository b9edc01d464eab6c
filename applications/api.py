"""REST API of applications and customers (``/api/v1/``).

Views are thin: input serializers check types, the services decide and write, the
selectors read within the user's scope (an application a user may not read is 404).
"""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from django_filters.rest_framework import FilterSet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling import selectors as schedule_selectors
from scheduling.models import Activity
from scheduling.serializers import ProgressInputSerializer, ScheduleSerializer
from yekuo.api.concurrency import etag, if_match_version
from yekuo.api.schema import IDEMPOTENCY_KEY, IF_MATCH
from yekuo.errors import InvalidInput

from . import assignment, selectors, services
from .filters import ApplicationFilter
from .idempotency import idempotent
from .models import Application, CapacityMeasure, Document, DocumentKind, PostCompletionReview
from .serializers import (
    ApplicationCreateSerializer,
    ApplicationSerializer,
    ApplicationUpdateSerializer,
    BaselineSerializer,
    CapacityMeasureSerializer,
    ComplaintInputSerializer,
    ComplaintSerializer,
    CustomerSerializer,
    FollowUpCloseSerializer,
    FollowUpInputSerializer,
    FollowUpSerializer,
    PlanComparisonSerializer,
    ReassignInputSerializer,
    ReplanInputSerializer,
    ReplanResultSerializer,
    TransitionInputSerializer,
    TransitionsSerializer,
)


def visible_application(request, application_id: int):
    """Return the application if ``request.user`` may read it; 404 otherwise."""
    return get_object_or_404(selectors.api_applications(request.user), pk=application_id)


def application_response(application, request, *, status_code=status.HTTP_200_OK):
    """Return the application as read now, with its ETag (and Location when created)."""
    if isinstance(application, int):
        application = selectors.api_application(application)
    selectors.flag_open_deviations([application])
    headers = {"ETag": etag(application.version)}
    if status_code == status.HTTP_201_CREATED:
        headers["Location"] = request.build_absolute_uri(
            reverse("api:application-detail", args=[application.pk])
        )
    return Response(ApplicationSerializer(application).data, status=status_code, headers=headers)


class ApplicationListCreate(generics.ListCreateAPIView):
    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter
    problem_statuses = {"post": [422]}

    def get_queryset(self):
        return selectors.api_applications(self.request.user)

    def paginate_queryset(self, queryset):
        # Every list is paginated (REST_FRAMEWORK's pagination class): the flags of the
        # page's rows only.
        return selectors.flag_open_deviations(super().paginate_queryset(queryset))

    @extend_schema(
        summary=gettext_lazy("List the applications you may read"),
        description=gettext_lazy("Filter, search and order; pages of `page_size` (at most 200)."),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Accept a new application"),
        request=ApplicationCreateSerializer,
        responses={201: ApplicationSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, *args, **kwargs):
        def perform():
            serializer = ApplicationCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            application = services.application_create(
                **serializer.validated_data, one_time_notice=False, by=request.user
            )
            return application_response(application.pk, request, status_code=201)

        return idempotent(request, perform)


class ApplicationDetail(APIView):
    serializer_class = ApplicationSerializer
    problem_statuses = {"patch": [409, 412, 428]}

    @extend_schema(
        summary=gettext_lazy("Read an application; its ETag is its version"),
        responses=ApplicationSerializer,
    )
    def get(self, request, application_id: int):
        return application_response(visible_application(request, application_id), request)

    @extend_schema(
        summary=gettext_lazy("Change the editable details of an application"),
        request=ApplicationUpdateSerializer,
        responses=ApplicationSerializer,
        parameters=[IF_MATCH],
    )
    def patch(self, request, application_id: int):
        visible_application(request, application_id)
        version = if_match_version(request)
        serializer = ApplicationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.application_update(
            application_id=application_id,
            changes=dict(serializer.validated_data),
            by=request.user,
            expected_version=version,
        )
        return application_response(application_id, request)


class ApplicationTransitions(APIView):
    serializer_class = TransitionsSerializer
    problem_statuses = {"post": [409, 412, 422, 428]}

    @extend_schema(
        summary=gettext_lazy(
            "The transitions leaving the current state, and why each is not possible"
        ),
        responses=TransitionsSerializer,
    )
    def get(self, request, application_id: int):
        application = get_object_or_404(
            selectors.api_applications(request.user).prefetch_related("activities"),
            pk=application_id,
        )
        specs = selectors.application_transitions(application, request.user)
        transitions = []
        for spec in specs:
            reasons = list(spec.refusals)
            if not spec.permitted:
                reasons.insert(
                    0,
                    _("You may not apply “%(transition)s” to %(number)s.")
                    % {"transition": spec.label, "number": application.number},
                )
            transitions.append(
                {
                    "name": spec.name,
                    "label": spec.label,
                    "available": spec.available,
                    "reasons": reasons,
                }
            )
        data = {
            "state": application.state,
            "state_label": application.get_state_display(),
            "version": application.version,
            "transitions": transitions,
        }
        return Response(
            TransitionsSerializer(data).data, headers={"ETag": etag(application.version)}
        )

    @extend_schema(
        summary=gettext_lazy("Apply a transition"),
        request=TransitionInputSerializer,
        responses=ApplicationSerializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
    )
    def post(self, request, application_id: int):
        visible_application(request, application_id)

        def perform():
            version = if_match_version(request)
            serializer = TransitionInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.application_transition(
                application_id=application_id,
                transition=serializer.validated_data["transition"],
                note=serializer.validated_data["note"],
                by=request.user,
                expected_version=version,
            )
            return application_response(application_id, request)

        return idempotent(request, perform)


class CustomerList(generics.ListAPIView):
    serializer_class = CustomerSerializer

    def get_queryset(self):
        return selectors.visible_customers(self.request.user).order_by("name", "id")

    @extend_schema(summary=gettext_lazy("List the customers you may read"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CustomerDetail(generics.RetrieveAPIView):
    serializer_class = CustomerSerializer
    lookup_url_kwarg = "customer_id"

    def get_queryset(self):
        return selectors.visible_customers(self.request.user)

    @extend_schema(summary=gettext_lazy("Read a customer"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class AccountManagerSerializer(serializers.Serializer):
    """An account manager with the weighted load of active applications and the capacity."""

    id = serializers.IntegerField(source="profile.user_id")
    username = serializers.CharField(source="profile.user.username")
    name = serializers.CharField(source="profile.user.__str__")
    department = serializers.CharField(source="profile.user.department.code", allow_null=True)
    regions = serializers.SerializerMethodField()
    voltage_classes = serializers.ListField(
        source="profile.voltage_classes", child=serializers.CharField()
    )
    load = serializers.IntegerField(
        help_text=gettext_lazy("Weighted active applications (important or dual source: 2).")
    )
    capacity = serializers.IntegerField()
    free = serializers.IntegerField()

    def get_regions(self, row) -> list[str]:
        return [region.code for region in row.profile.regions.all()]


class AccountManagerList(APIView):
    """Supervisors see every active manager; a manager sees their own row; others none."""

    serializer_class = AccountManagerSerializer

    @extend_schema(
        summary=gettext_lazy("Account managers with their load and capacity"),
        responses=AccountManagerSerializer(many=True),
    )
    def get(self, request):
        user = request.user
        if user.has_perm("accounts.view_accountmanagerprofile"):
            rows = assignment.account_manager_loads()
        elif user.has_perm("accounts.handle_applications"):
            rows = [r for r in assignment.account_manager_loads() if r.profile.user_id == user.pk]
        else:
            rows = []
        return Response(AccountManagerSerializer(rows, many=True).data)


def schedule_response(application_id: int) -> Response:
    application = Application.objects.get(pk=application_id)
    data = schedule_selectors.application_schedule(application, today=timezone.localdate())
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
            "A start may come with a finish or with the remaining days. All or "
            "nothing is recorded, and the application is analysed again before the answer: "
            "its schedule, as it stands after the change."
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
        services.activity_progress_record(
            activity_id=activity.pk,
            application_id=application_id,
            start=data.get("actual_start"),
            finish=data.get("actual_finish"),
            passed=data["passed"],
            remaining=data.get("remaining"),
            note=data["note"],
            expected_version=version,
            by=request.user,
        )
        return schedule_response(application_id)


class ProgressImportEntrySerializer(ProgressInputSerializer):
    """One entry of an import: which activity of which application, and its progress."""

    number = serializers.CharField(max_length=20, help_text=gettext_lazy("Application number."))
    code = serializers.CharField(max_length=20, help_text=gettext_lazy("Activity code."))


class ProgressImportInputSerializer(serializers.Serializer):
    entries = ProgressImportEntrySerializer(
        many=True, allow_empty=False, max_length=services.PROGRESS_IMPORT_MAX
    )


class ProgressImportResultSerializer(serializers.Serializer):
    recorded = serializers.IntegerField(help_text=gettext_lazy("How many entries were recorded."))


class ProgressImport(APIView):
    serializer_class = ProgressImportResultSerializer
    problem_statuses = {"post": [409]}

    @extend_schema(
        summary=gettext_lazy("Record many progress entries at once, all or none"),
        description=gettext_lazy(
            "For a field system's daily sync: each entry names an application by its number "
            "and an activity by its code, with what the progress of one activity takes. The "
            "entries are recorded in their order; one refused entry refuses them all, its "
            "error under entries.<index>.<field> naming the row. Send an Idempotency-Key to "
            "retry safely."
        ),
        request=ProgressImportInputSerializer,
        responses=ProgressImportResultSerializer,
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request):
        serializer = ProgressImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entries = [
            {
                "number": entry["number"],
                "code": entry["code"],
                "start": entry.get("actual_start"),
                "finish": entry.get("actual_finish"),
                "passed": entry["passed"],
                "remaining": entry.get("remaining"),
                "note": entry["note"],
            }
            for entry in serializer.validated_data["entries"]
        ]

        def perform() -> Response:
            recorded = services.activity_progress_import(entries=entries, by=request.user)
            return Response({"recorded": recorded})

        return idempotent(request, perform)


class ApplicationReplan(APIView):
    serializer_class = ReplanResultSerializer
    problem_statuses = {"post": [409, 412, 422, 428]}

    @extend_schema(
        summary=gettext_lazy("Re-plan: approve changed activities as the next plan version"),
        description=gettext_lazy(
            "Supervisors only, while the application is in progress. Durations, shortest "
            "durations, logic (events or predecessors with lags) and departments per "
            "activity code; every problem is reported under its key (durations.K, "
            "logic.P …) and nothing is stored unless all of it holds. The application is "
            "analysed again before the answer."
        ),
        request=ReplanInputSerializer,
        responses=ReplanResultSerializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
    )
    def post(self, request, application_id: int):
        visible_application(request, application_id)

        def perform():
            version = if_match_version(request)
            serializer = ReplanInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.application_replan(
                application_id=application_id,
                by=request.user,
                expected_version=version,
                **serializer.validated_data,
            )
            application = Application.objects.get(pk=application_id)
            data = {
                "baseline": selectors.plan_versions(application_id).b,
                "schedule": schedule_selectors.application_schedule(
                    application, today=timezone.localdate()
                ),
            }
            return Response(
                ReplanResultSerializer(data).data, headers={"ETag": etag(application.version)}
            )

        return idempotent(request, perform)


class ApplicationReassign(APIView):
    serializer_class = ApplicationSerializer
    problem_statuses = {"post": [403, 412, 422, 428]}

    @extend_schema(
        summary=gettext_lazy("Give the application another account manager"),
        description=gettext_lazy(
            "Supervisors only, with the reason. The manager must pass the checks automatic "
            "assignment applies (active, serves the region, qualified for the voltage "
            "class, room for the application); each one failed is reported under "
            "`manager`. A supervisor may override them with `override` and "
            "`override_reason`; the checks passed over are stored with the change."
        ),
        request=ReassignInputSerializer,
        responses=ApplicationSerializer,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
    )
    def post(self, request, application_id: int):
        visible_application(request, application_id)

        def perform():
            version = if_match_version(request)
            serializer = ReassignInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.application_reassign(
                application_id=application_id,
                by=request.user,
                expected_version=version,
                **serializer.validated_data,
            )
            return application_response(application_id, request)

        return idempotent(request, perform)


class ApplicationBaselines(APIView):
    serializer_class = BaselineSerializer

    @extend_schema(
        summary=gettext_lazy("The plan versions (baselines), oldest first"),
        responses=BaselineSerializer(many=True),
    )
    def get(self, request, application_id: int):
        visible_application(request, application_id)
        versions = selectors.plan_versions(application_id)
        return Response(BaselineSerializer(versions.baselines, many=True).data)


class ApplicationBaselineComparison(APIView):
    serializer_class = PlanComparisonSerializer
    problem_statuses = {"get": [400]}

    @extend_schema(
        summary=gettext_lazy("Two plan versions compared: what moved, Tc and finish"),
        description=gettext_lazy(
            "Versions a and b; by default the latest (b) against the one before it (a)."
        ),
        parameters=[
            OpenApiParameter("a", int, required=False, description=gettext_lazy("Version a.")),
            OpenApiParameter("b", int, required=False, description=gettext_lazy("Version b.")),
        ],
        responses=PlanComparisonSerializer,
    )
    def get(self, request, application_id: int):
        visible_application(request, application_id)
        chosen, errors = {}, {}
        for name in ("a", "b"):
            value = request.query_params.get(name)
            if value is None or value == "":
                continue
            if not value.isdigit():
                errors[name] = [_("Give a plan version number.")]
            else:
                chosen[name] = int(value)
        if errors:
            raise InvalidInput(errors)
        versions = selectors.plan_versions(application_id, **chosen)
        c = versions.comparison
        data = {
            "a": versions.a,
            "b": versions.b,
            "duration_before": c.duration_before,
            "duration_after": c.duration_after,
            "finish_before": versions.a.finish,
            "finish_after": versions.b.finish,
            "activities": [
                {
                    "code": row.code,
                    "name": row.name,
                    "changed": list(row.changed),
                    "before": row.before,
                    "after": row.after,
                }
                for row in c.moved
            ],
        }
        return Response(PlanComparisonSerializer(data).data)


class ApplicationComplaints(APIView):
    serializer_class = ComplaintSerializer
    problem_statuses = {"post": [403]}

    @extend_schema(
        summary=gettext_lazy("The customer complaints about an application, newest first"),
        responses=ComplaintSerializer(many=True),
    )
    def get(self, request, application_id: int):
        application = visible_application(request, application_id)
        rows = application.complaints.select_related("handled_by", "department", "recorded_by")
        return Response(ComplaintSerializer(rows, many=True).data)

    @extend_schema(
        summary=gettext_lazy("Record a customer complaint about an application"),
        request=ComplaintInputSerializer,
        responses={201: ComplaintSerializer},
    )
    def post(self, request, application_id: int):
        visible_application(request, application_id)
        serializer = ComplaintInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        complaint = services.complaint_record(
            application_id=application_id, by=request.user, **serializer.validated_data
        )
        return Response(ComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED)


class DocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "original_name",
            "content_type",
            "size",
            "uploaded_by",
            "uploaded_at",
            "download",
        ]

    def get_download(self, row) -> str:
        return reverse("api:application-document-file", args=[row.application_id, row.pk])


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField(help_text=gettext_lazy("The scanned document (PDF or image)."))


class ApplicationDocuments(APIView):
    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser]
    problem_statuses = {"post": [403, 409]}

    @extend_schema(
        summary=gettext_lazy("The documents handed in for an application (not withdrawn)"),
        responses=DocumentSerializer(many=True),
    )
    def get(self, request, application_id: int):
        visible_application(request, application_id)
        rows = Document.objects.filter(
            application_id=application_id, is_withdrawn=False
        ).select_related("uploaded_by")
        return Response(DocumentSerializer(rows, many=True).data)

    @extend_schema(
        summary=gettext_lazy("Upload a document of an application (multipart/form-data)"),
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    def post(self, request, application_id: int):
        visible_application(request, application_id)
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def perform() -> Response:
            document = services.document_upload(
                application_id=application_id, by=request.user, **serializer.validated_data
            )
            return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

        return idempotent(request, perform)


class ApplicationDocumentFile(APIView):
    @extend_schema(
        summary=gettext_lazy("Download a document of an application you may read"),
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, application_id: int, document_id: int):
        visible_application(request, application_id)
        document = get_object_or_404(
            Document, pk=document_id, application_id=application_id, is_withdrawn=False
        )
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )


class ReviewSerializer(serializers.ModelSerializer):
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PostCompletionReview
        fields = [
            "quality",
            "safety",
            "efficiency",
            "satisfaction",
            "findings",
            "reviewed_by",
            "reviewed_at",
        ]
        read_only_fields = ["reviewed_by", "reviewed_at"]


class ApplicationReview(APIView):
    serializer_class = ReviewSerializer
    problem_statuses = {"get": [404], "put": [403, 409, 412, 428]}

    @extend_schema(summary=gettext_lazy("The post-completion review (问效), once recorded"))
    def get(self, request, application_id: int):
        application = visible_application(request, application_id)
        review = PostCompletionReview.objects.filter(application=application).first()
        if review is None:
            raise NotFound(_("The review of this application has not been recorded."))
        return Response(ReviewSerializer(review).data)

    @extend_schema(
        summary=gettext_lazy("Record the post-completion review of an energized application"),
        description=gettext_lazy(
            "Scores 1 to 5 and the findings; once only. Send the application's ETag in If-Match."
        ),
        request=ReviewSerializer,
        responses={201: ReviewSerializer},
        parameters=[IF_MATCH],
    )
    def put(self, request, application_id: int):
        visible_application(request, application_id)
        version = if_match_version(request)
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.application_record_review(
            application_id=application_id,
            by=request.user,
            expected_version=version,
            **serializer.validated_data,
        )
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class FollowUpList(APIView):
    serializer_class = FollowUpSerializer

    @extend_schema(
        summary=gettext_lazy("The open follow-up items you answer for or watch, due first"),
        responses=FollowUpSerializer(many=True),
    )
    def get(self, request):
        items = selectors.open_follow_ups(request.user)
        return Response(FollowUpSerializer(items, many=True).data)


class ApplicationFollowUps(APIView):
    serializer_class = FollowUpSerializer
    problem_statuses = {"post": [403, 409]}

    @extend_schema(
        summary=gettext_lazy("Raise a follow-up item from an application's review"),
        request=FollowUpInputSerializer,
        responses={201: FollowUpSerializer},
    )
    def post(self, request, application_id: int):
        visible_application(request, application_id)
        serializer = FollowUpInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.follow_up_raise(
            application_id=application_id, by=request.user, **serializer.validated_data
        )
        return Response(FollowUpSerializer(item).data, status=status.HTTP_201_CREATED)


class FollowUpClose(APIView):
    serializer_class = FollowUpSerializer
    problem_statuses = {"post": [403, 409]}

    @extend_schema(
        summary=gettext_lazy("Close a follow-up item with a note"),
        request=FollowUpCloseSerializer,
        responses=FollowUpSerializer,
    )
    def post(self, request, follow_up_id: int):
        serializer = FollowUpCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.follow_up_close(
            follow_up_id=follow_up_id, note=serializer.validated_data["note"], by=request.user
        )
        return Response(FollowUpSerializer(item).data)


class CapacityMeasureFilter(FilterSet):
    region = filters.CharFilter(field_name="region__code", help_text=gettext_lazy("Region code."))
    status = filters.ChoiceFilter(choices=CapacityMeasure.Status.choices)
    kind = filters.ChoiceFilter(choices=CapacityMeasure.Kind.choices)


class CapacityMeasureList(generics.ListAPIView):
    """Measures the last levelling of each region found would relieve its shared crews (an
    extra crew day, an extra review meeting), each with its effect on every application of
    the region, the most helpful first."""

    serializer_class = CapacityMeasureSerializer
    filterset_class = CapacityMeasureFilter
    queryset = CapacityMeasure.objects.select_related(
        "region", "crew__department", "crew__region", "lender__department", "lender__region"
    )

    @extend_schema(summary=gettext_lazy("List the measures that would relieve shared crews"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CapacityMeasureDecision(APIView):
    """Accept (the crew's capacity on its days is recorded and the region levelled again)
    or dismiss a proposed measure; supervisors only."""

    serializer_class = CapacityMeasureSerializer
    problem_statuses = {"post": [403, 404, 409]}
    decide = None

    @extend_schema(request=None, responses=CapacityMeasureSerializer)
    def post(self, request, measure_id: int):
        get_object_or_404(CapacityMeasure, pk=measure_id)
        measure = self.decide(measure_id=measure_id, by=request.user)
        return Response(CapacityMeasureSerializer(measure).data)


class CapacityMeasureAccept(CapacityMeasureDecision):
    decide = staticmethod(services.capacity_measure_accept)

    @extend_schema(
        summary=gettext_lazy("Accept a measure: record the crew's capacity on its days"),
        request=None,
        responses=CapacityMeasureSerializer,
    )
    def post(self, request, measure_id: int):
        return super().post(request, measure_id)


class CapacityMeasureDismiss(CapacityMeasureDecision):
    decide = staticmethod(services.capacity_measure_dismiss)

    @extend_schema(
        summary=gettext_lazy("Dismiss a measure"), request=None, responses=CapacityMeasureSerializer
    )
    def post(self, request, measure_id: int):
        return super().post(request, measure_id)


urlpatterns = [
    path("applications/", ApplicationListCreate.as_view(), name="application-list"),
    path("capacity-measures/", CapacityMeasureList.as_view(), name="capacity-measure-list"),
    path(
        "capacity-measures/<int:measure_id>/accept/",
        CapacityMeasureAccept.as_view(),
        name="capacity-measure-accept",
    ),
    path(
        "capacity-measures/<int:measure_id>/dismiss/",
        CapacityMeasureDismiss.as_view(),
        name="capacity-measure-dismiss",
    ),
    path("progress/import/", ProgressImport.as_view(), name="progress-import"),
    path(
        "applications/<int:application_id>/",
        ApplicationDetail.as_view(),
        name="application-detail",
    ),
    path(
        "applications/<int:application_id>/transitions/",
        ApplicationTransitions.as_view(),
        name="application-transitions",
    ),
    path(
        "applications/<int:application_id>/replan/",
        ApplicationReplan.as_view(),
        name="application-replan",
    ),
    path(
        "applications/<int:application_id>/reassign/",
        ApplicationReassign.as_view(),
        name="application-reassign",
    ),
    path(
        "applications/<int:application_id>/baselines/",
        ApplicationBaselines.as_view(),
        name="application-baselines",
    ),
    path(
        "applications/<int:application_id>/baselines/compare/",
        ApplicationBaselineComparison.as_view(),
        name="application-baseline-comparison",
    ),
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
    path(
        "applications/<int:application_id>/documents/",
        ApplicationDocuments.as_view(),
        name="application-documents",
    ),
    path(
        "applications/<int:application_id>/documents/<int:document_id>/file/",
        ApplicationDocumentFile.as_view(),
        name="application-document-file",
    ),
    path(
        "applications/<int:application_id>/review/",
        ApplicationReview.as_view(),
        name="application-review",
    ),
    path(
        "applications/<int:application_id>/complaints/",
        ApplicationComplaints.as_view(),
        name="application-complaints",
    ),
    path(
        "applications/<int:application_id>/follow-ups/",
        ApplicationFollowUps.as_view(),
        name="application-follow-ups",
    ),
    path("follow-ups/", FollowUpList.as_view(), name="follow-up-list"),
    path("follow-ups/<int:follow_up_id>/close/", FollowUpClose.as_view(), name="follow-up-close"),
    path("account-managers/", AccountManagerList.as_view(), name="account-manager-list"),
    path("customers/", CustomerList.as_view(), name="customer-list"),
    path("customers/<int:customer_id>/", CustomerDetail.as_view(), name="customer-detail"),
]
