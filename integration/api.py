"""REST API of the webhook subscriptions (``/api/v1/webhooks/``): a system subscribes,
reads its delivery log, rotates its secret, resumes and replays.

Events name any application of the province, so only those who may read every
application (supervisors, administrators: ``accounts.supervise_applications``) subscribe;
each sees and changes the subscriptions it owns.
"""

from django.core.validators import URLValidator
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from yekuo.api.filtering import ChoicesFilter, FilterSet

from . import services
from .models import Delivery, DeliveryStatus, EventType, Subscription


class MaySubscribe(permissions.BasePermission):
    message = gettext_lazy("Only supervisors and administrators subscribe to events.")

    def has_permission(self, request, view):
        return request.user.has_perm("accounts.supervise_applications")


class JsonBooleanField(serializers.BooleanField):
    """true or false, as JSON writes them (not 0, 1, "yes")."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class JsonStringField(serializers.CharField):
    """A JSON string (not a number turned into one)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class SubscriptionSerializer(serializers.ModelSerializer):
    is_active = JsonBooleanField(required=False)
    name = JsonStringField(max_length=80)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        required=False,
        max_length=len(EventType.values),
        help_text=gettext_lazy("The events sent to it; empty or absent for every event."),
    )
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = JsonStringField(
        max_length=500,
        validators=[
            URLValidator(
                schemes=["http", "https"],
                message=gettext_lazy(
                    "Give an http or https address, e.g. https://crm.example.cn/hooks."
                ),
            )
        ],
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "name",
            "url",
            "event_types",
            "is_active",
            "paused_at",
            "paused_reason",
            "owner",
            "created_at",
        ]
        read_only_fields = ["id", "paused_at", "paused_reason", "owner", "created_at"]


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=gettext_lazy("Signs every delivery (Standard Webhooks); keep it secret."),
    )
    previous_secret_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret", "previous_secret_expires_at"]


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.event_id")
    type = serializers.CharField(source="event.type")
    subject = serializers.CharField(source="event.subject")
    occurred_at = serializers.DateTimeField(source="event.occurred_at")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event_id",
            "type",
            "subject",
            "occurred_at",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "replay_of",
        ]


class ReplayRangeSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()


class ReplayedSerializer(serializers.Serializer):
    replayed = serializers.IntegerField(help_text=gettext_lazy("How many deliveries were made."))


# The defaults (signed in, a read token only reads) and the role.
PERMISSIONS = [*api_settings.DEFAULT_PERMISSION_CLASSES, MaySubscribe]


def _own(request, pk: int) -> Subscription:
    return get_object_or_404(Subscription, pk=pk, owner=request.user)


class SubscriptionList(generics.ListCreateAPIView):
    permission_classes = PERMISSIONS
    serializer_class = SubscriptionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return Subscription.objects.filter(owner=self.request.user).select_related("owner")

    @extend_schema(summary=gettext_lazy("Your webhook subscriptions"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary=gettext_lazy("Subscribe an address to events; the answer holds its secret"),
        responses={201: SubscriptionWithSecretSerializer},
    )
    def post(self, request, *args, **kwargs):
        serializer = SubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_create(
            name=serializer.validated_data["name"],
            url=serializer.validated_data["url"],
            event_types=serializer.validated_data.get("event_types", []),
            is_active=serializer.validated_data.get("is_active", True),
            by=request.user,
        )
        return Response(
            SubscriptionWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED
        )


class SubscriptionDetail(APIView):
    permission_classes = PERMISSIONS
    serializer_class = SubscriptionWithSecretSerializer

    @extend_schema(summary=gettext_lazy("One of your subscriptions, with its secret"))
    def get(self, request, pk: int):
        return Response(SubscriptionWithSecretSerializer(_own(request, pk)).data)

    @extend_schema(
        summary=gettext_lazy("Change the name, address, event types or active flag"),
        request=SubscriptionSerializer,
    )
    def patch(self, request, pk: int):
        subscription = _own(request, pk)
        serializer = SubscriptionSerializer(subscription, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changed = services.subscription_update(
            subscription_id=subscription.pk,
            changes=dict(serializer.validated_data),
            by=request.user,
        )
        return Response(SubscriptionWithSecretSerializer(changed).data)


class SubscriptionRotateSecret(APIView):
    permission_classes = PERMISSIONS
    serializer_class = SubscriptionWithSecretSerializer

    @extend_schema(
        summary=gettext_lazy(
            "Give the subscription a new secret; the old one signs as well during the overlap"
        ),
        request=None,
    )
    def post(self, request, pk: int):
        subscription = services.subscription_rotate_secret(
            subscription_id=_own(request, pk).pk, by=request.user
        )
        return Response(SubscriptionWithSecretSerializer(subscription).data)


class SubscriptionResume(APIView):
    permission_classes = PERMISSIONS
    serializer_class = SubscriptionWithSecretSerializer

    @extend_schema(
        summary=gettext_lazy("Resume a paused subscription: what waited is sent"), request=None
    )
    def post(self, request, pk: int):
        subscription = services.subscription_resume(
            subscription_id=_own(request, pk).pk, by=request.user
        )
        return Response(SubscriptionWithSecretSerializer(subscription).data)


class SubscriptionReplay(APIView):
    permission_classes = PERMISSIONS
    serializer_class = ReplayedSerializer

    @extend_schema(
        summary=gettext_lazy("Send again every event of a time range [since, until)"),
        request=ReplayRangeSerializer,
    )
    def post(self, request, pk: int):
        serializer = ReplayRangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        replayed = services.deliveries_replay_range(
            subscription_id=_own(request, pk).pk, by=request.user, **serializer.validated_data
        )
        return Response({"replayed": replayed})


class DeliveryFilter(FilterSet):
    status = ChoicesFilter(choices=DeliveryStatus.choices)
    type = filters.ChoiceFilter(field_name="event__type", choices=EventType.choices)


class DeliveryList(generics.ListAPIView):
    permission_classes = PERMISSIONS
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        subscription = _own(self.request, self.kwargs["pk"])
        return subscription.deliveries.select_related("event").order_by("-id")

    @extend_schema(summary=gettext_lazy("The delivery log of a subscription, newest first"))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DeliveryReplay(APIView):
    permission_classes = PERMISSIONS
    serializer_class = DeliverySerializer

    @extend_schema(
        summary=gettext_lazy("Send a delivery's event again, as a new delivery"),
        request=None,
        responses={201: DeliverySerializer},
    )
    def post(self, request, pk: int):
        delivery = get_object_or_404(Delivery, pk=pk, subscription__owner=request.user)
        replay = services.delivery_replay(delivery_id=delivery.pk, by=request.user)
        return Response(DeliverySerializer(replay).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("webhooks/subscriptions/", SubscriptionList.as_view(), name="webhook-subscription-list"),
    path(
        "webhooks/subscriptions/<int:pk>/",
        SubscriptionDetail.as_view(),
        name="webhook-subscription-detail",
    ),
    path(
        "webhooks/subscriptions/<int:pk>/rotate-secret/",
        SubscriptionRotateSecret.as_view(),
        name="webhook-subscription-rotate-secret",
    ),
    path(
        "webhooks/subscriptions/<int:pk>/resume/",
        SubscriptionResume.as_view(),
        name="webhook-subscription-resume",
    ),
    path(
        "webhooks/subscriptions/<int:pk>/replay/",
        SubscriptionReplay.as_view(),
        name="webhook-subscription-replay",
    ),
    path(
        "webhooks/subscriptions/<int:pk>/deliveries/",
        DeliveryList.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        "webhooks/deliveries/<int:pk>/replay/",
        DeliveryReplay.as_view(),
        name="webhook-delivery-replay",
    ),
]
