"""REST API of people: account managers with their load, departments, my notifications."""

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from yekuo.api.filtering import ID_MAX

from . import selectors, services
from .models import Department, Notification


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "name_en", "is_active"]


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


class NotificationSerializer(serializers.ModelSerializer):
    application = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "application", "text", "is_read", "read_at", "created_at"]

    def get_application(self, row) -> int | None:
        return row.application_id


class MarkReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX),
        allow_empty=False,
        max_length=1000,
        help_text=gettext_lazy("Ids of your notifications to mark as read."),
    )


class MarkReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=gettext_lazy("How many changed to read."))


class DepartmentList(generics.ListAPIView):
    serializer_class = DepartmentSerializer
    queryset = Department.objects.order_by("sort_order", "code")

    @extend_schema(summary=gettext_lazy("List the departments"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


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
            rows = selectors.account_manager_loads()
        elif user.has_perm("accounts.handle_applications"):
            rows = [r for r in selectors.account_manager_loads() if r.profile.user_id == user.pk]
        else:
            rows = []
        return Response(AccountManagerSerializer(rows, many=True).data)


class NotificationList(generics.ListAPIView):
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user).order_by(
            "-created_at", "-id"
        )

    @extend_schema(summary=gettext_lazy("Your notifications, newest first"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class NotificationMarkRead(APIView):
    serializer_class = MarkReadSerializer

    @extend_schema(
        summary=gettext_lazy("Mark your notifications as read"),
        request=MarkReadInputSerializer,
        responses=MarkReadSerializer,
    )
    def post(self, request):
        serializer = MarkReadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = services.notification_mark_read(
            notification_ids=serializer.validated_data["ids"], by=request.user
        )
        return Response({"marked": marked})


urlpatterns = [
    path("departments/", DepartmentList.as_view(), name="department-list"),
    path("account-managers/", AccountManagerList.as_view(), name="account-manager-list"),
    path("notifications/", NotificationList.as_view(), name="notification-list"),
    path("notifications/mark-read/", NotificationMarkRead.as_view(), name="notification-mark-read"),
]
