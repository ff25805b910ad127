"""REST API (DRF) for messages between the patient and the care team, and the user's own
notifications: ``/api/v1/threads/`` and ``/api/v1/notifications/``.

Checked and logged as the rest of the API (``careplan.api``): every thread goes through
``access.thread_for``, writes call ``careplan.messaging``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from . import access, messaging
from .api import (
    API,
    FORBIDDEN,
    IDEMPOTENCY_KEY,
    NOT_FOUND,
    Action,
    ApiViewSetMixin,
    PatientRefSerializer,
    _api_validation_error,
    _idempotency_key,
    _log_page,
)
from .models import Message, MessageThread, Notification, Patient, Role


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(
        source="author_label", read_only=True, help_text="Name (and title for the care team)."
    )

    class Meta:
        model = Message
        fields = ["id", "from_patient", "author", "body", "created_at"]
        read_only_fields = fields


class ThreadSerializer(serializers.ModelSerializer):
    patient = PatientRefSerializer(read_only=True)
    unit = serializers.CharField(source="unit.name", read_only=True)
    waiting_for_answer = serializers.SerializerMethodField()

    class Meta:
        model = MessageThread
        fields = [
            "id",
            "patient",
            "unit",
            "subject",
            "status",
            "created_at",
            "last_message_at",
            "waiting_for_answer",
            "awaiting_reply_since",
            "escalated_at",
            "handled_at",
        ]
        read_only_fields = fields

    def get_waiting_for_answer(self, thread: MessageThread) -> bool:
        return thread.awaiting_reply_since is not None


class ThreadDetailSerializer(ThreadSerializer):
    messages = MessageSerializer(many=True, read_only=True)
    answer_within_days = serializers.SerializerMethodField(
        help_text="When the patient can expect an answer; if urgent, call the unit, 1177 or 112."
    )

    class Meta(ThreadSerializer.Meta):
        fields = [*ThreadSerializer.Meta.fields, "answer_within_days", "messages"]
        read_only_fields = fields

    def get_answer_within_days(self, thread: MessageThread) -> int:
        return settings.CAREPLAN_ANSWER_WITHIN_DAYS


class ThreadCreateSerializer(serializers.Serializer):
    patient = serializers.IntegerField(
        required=False, min_value=1, help_text="Care team only: the patient to write to."
    )
    subject = serializers.CharField(allow_blank=True, trim_whitespace=False)
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)


class NotificationSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "label", "url", "created_at", "read_at"]
        read_only_fields = fields


def _send_message(**kwargs) -> Message:
    try:
        return messaging.message_send(**kwargs)
    except DjangoValidationError as exc:
        raise _api_validation_error(exc) from exc


@extend_schema_view(
    list=extend_schema(summary="Message threads you may see"),
    retrieve=extend_schema(
        summary="One thread with its messages",
        responses={200: ThreadDetailSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Start a thread (the patient; the care team names the patient)",
        request=ThreadCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ThreadDetailSerializer, 400: OpenApiResponse(), 403: FORBIDDEN},
    ),
)
class ThreadViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Threads between a patient and the responsible care team. Staff see those of the
    patients their units are responsible for now; relatives with the ``messages`` part
    read; writing is for the patient and the care team."""

    serializer_class = ThreadSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MessageThread.objects.none()
        user = self.request.user
        threads = access.threads_for(user).select_related("patient", "unit")
        return access.with_acting_unit(threads, user).order_by("-last_message_at", "-id")

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda thread: thread.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        thread = access.thread_for(request.user, pk, channel=API)
        messaging.thread_mark_read(thread=thread, by=request.user)
        return Response(ThreadDetailSerializer(thread, context=self.get_serializer_context()).data)

    def create(self, request: Request, *args, **kwargs) -> Response:
        user = request.user
        if user.role == Role.PATIENT:
            patient = Patient.objects.filter(user=user).first()
            if patient is None:
                raise NotFound()
        elif user.role == Role.STAFF:
            raw = request.data.get("patient") if hasattr(request.data, "get") else None
            if not (isinstance(raw, int | str) and str(raw).isdigit()):
                raise serializers.ValidationError({"patient": [_("Name the patient.")]})
            patient = access.patient_for(
                user, int(raw), write=True, channel=API, action=Action.CREATE
            )
        else:
            raise PermissionDenied()
        data = ThreadCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = _send_message(
            by=user,
            patient=patient,
            subject=data.validated_data["subject"],
            body=data.validated_data["body"],
            submission_key=_idempotency_key(request),
        )
        thread = access.thread_for(user, message.thread_id, channel=API, action=Action.CREATE)
        body = ThreadDetailSerializer(thread, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Write in a thread (the patient, or the care team answering)",
        request=MessageCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: MessageSerializer, 400: OpenApiResponse(), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="messages")
    def messages(self, request: Request, pk: str, **kwargs) -> Response:
        thread = access.thread_for(request.user, pk, write=True, channel=API, action=Action.CREATE)
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = _send_message(
            by=request.user,
            thread=thread,
            body=data.validated_data["body"],
            submission_key=_idempotency_key(request),
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark a thread handled (care team)",
        request=None,
        responses={200: ThreadSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="handled")
    def handled(self, request: Request, pk: str, **kwargs) -> Response:
        thread = access.thread_for(request.user, pk, write=True, channel=API, action=Action.UPDATE)
        if request.user.role != Role.STAFF:
            raise PermissionDenied()
        thread = messaging.thread_mark_handled(thread=thread, by=request.user)
        return Response(ThreadSerializer(thread, context=self.get_serializer_context()).data)


@extend_schema_view(list=extend_schema(summary="Your notifications, newest first"))
class NotificationViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """The logged-in user's own notifications (no patient data: a kind and a link)."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user).order_by(
            "-created_at", "-id"
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response.data["unread"] = request.user.unread_notifications
        return response

    @extend_schema(summary="Mark one notification read", request=None)
    @action(detail=True, methods=["post"], url_path="read")
    def read(self, request: Request, pk: str, **kwargs) -> Response:
        notification = self.get_queryset().filter(pk=pk).first()
        if notification is None:
            raise NotFound()
        messaging.notifications_mark_read(user=request.user, ids=[notification.pk])
        notification.refresh_from_db()
        return Response(self.get_serializer(notification).data)

    @extend_schema(summary="Mark all your notifications read", request=None, responses={204: None})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request, **kwargs) -> Response:
        messaging.notifications_mark_read(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
