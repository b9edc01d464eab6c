"""REST API of people: departments and my notifications."""

from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from yekuo.api.filtering import ID_MAX

from . import services
from .models import Department, Notification


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "name_en", "is_active"]


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
    path("notifications/", NotificationList.as_view(), name="notification-list"),
    path("notifications/mark-read/", NotificationMarkRead.as_view(), name="notification-mark-read"),
]
