"""REST API for self-monitoring, with FHIR R4 export.

Objects through ``selfmonitor.access`` / ``careplan.access`` like on the web: no relation
404, read-only asked to write 403, an access-log row (channel ``api``) for anyone but
the patient; lists one row per patient shown. Writes call ``selfmonitor.services``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response as ApiResponse

from careplan import access
from careplan.api import FORBIDDEN, NOT_FOUND, ApiViewSetMixin, _api_validation_error, _log_page
from careplan.fhir_views import FHIR_RENDERERS
from careplan.models import AccessLog, Role

from . import access as sm_access
from . import fhir, services
from .models import Alert, Assignment, Instrument, Response, Schedule

API = AccessLog.Channel.API
Action = AccessLog.Action
FHIR = OpenApiResponse(description="A FHIR R4 resource (JSON).")


class QuestionnaireInstrumentSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True, help_text="In the request's language.")

    class Meta:
        model = Instrument
        fields = [
            "id",
            "key",
            "version",
            "language",
            "text_status",
            "kind",
            "title",
            "definition",
            "loaded_at",
        ]
        read_only_fields = fields


class QuestionnaireAssignmentSerializer(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.key", read_only=True)
    instrument_version = serializers.IntegerField(source="instrument.version", read_only=True)
    title = serializers.CharField(source="instrument.title", read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="scheduled, open, completed, expired or cancelled."
    )

    class Meta:
        model = Assignment
        fields = [
            "id",
            "patient",
            "instrument",
            "instrument_version",
            "title",
            "status",
            "available_at",
            "due_at",
            "expires_at",
        ]
        read_only_fields = fields


class AnswerSerializer(serializers.Serializer):
    answers = serializers.DictField(
        help_text="item id -> value (number, option value, 'yes'/'no', text) or a list of "
        "option values for a multiple choice."
    )
    submit = serializers.BooleanField(
        default=False, help_text="false: keep as a draft; true: send (validated, scored)."
    )


class QuestionnaireResponseSerializer(serializers.ModelSerializer):
    instrument = serializers.CharField(source="instrument.key", read_only=True)
    instrument_version = serializers.IntegerField(source="instrument.version", read_only=True)
    entered_on_behalf = serializers.BooleanField(read_only=True)
    status = serializers.CharField(read_only=True, help_text="draft or completed.")

    class Meta:
        model = Response
        fields = [
            "id",
            "assignment",
            "patient",
            "instrument",
            "instrument_version",
            "status",
            "answers",
            "scores",
            "submitted_at",
            "entered_on_behalf",
        ]
        read_only_fields = fields


class AlertSerializer(serializers.ModelSerializer):
    text = serializers.CharField(read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id",
            "patient",
            "response",
            "rule",
            "severity",
            "text",
            "created_at",
            "acknowledge_by",
            "acknowledged_at",
            "note",
            "escalated_at",
        ]
        read_only_fields = fields


class AcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(help_text="What was done.")


def _raw(answers: dict) -> dict[str, list[str]]:
    return {
        str(k): [str(x) for x in v] if isinstance(v, list) else ([] if v is None else [str(v)])
        for k, v in answers.items()
    }


@extend_schema_view(
    list=extend_schema(summary="Questionnaire instruments (latest versions)"),
    retrieve=extend_schema(
        summary="One instrument version", responses={200: QuestionnaireInstrumentSerializer}
    ),
    fhir=extend_schema(summary="The instrument as a FHIR Questionnaire", responses={200: FHIR}),
)
class InstrumentViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """No patient data: every logged-in user may read the instruments."""

    serializer_class = QuestionnaireInstrumentSerializer
    queryset = Instrument.objects.order_by("key", "-version")

    @action(detail=True, methods=["get"], renderer_classes=FHIR_RENDERERS)
    def fhir(self, request: Request, pk: str, **kwargs) -> ApiResponse:
        return ApiResponse(fhir.questionnaire(self.get_object()))


class AssignmentSendSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    instrument = serializers.CharField(help_text="Instrument key, e.g. distress-thermometer")
    due_days = serializers.IntegerField(min_value=1, max_value=90, default=7)
    expire_days = serializers.IntegerField(min_value=1, max_value=180, default=14)

    def validate(self, attrs):
        if attrs["expire_days"] < attrs["due_days"]:
            raise serializers.ValidationError(
                {"expire_days": _("The questionnaire cannot expire before it is due.")}
            )
        return attrs


@extend_schema_view(
    list=extend_schema(summary="Questionnaires sent that you may answer or enter"),
    create=extend_schema(
        summary="Send a questionnaire to a patient (staff of the responsible unit)",
        request=AssignmentSendSerializer,
        responses={
            201: QuestionnaireAssignmentSerializer,
            400: OpenApiResponse(description="Unknown questionnaire or invalid days"),
            404: NOT_FOUND,
        },
    ),
    retrieve=extend_schema(
        summary="One questionnaire sent",
        responses={200: QuestionnaireAssignmentSerializer, 404: NOT_FOUND},
    ),
    answers=extend_schema(
        summary="Save answers as a draft, or send them",
        request=AnswerSerializer,
        responses={
            200: QuestionnaireResponseSerializer,
            400: OpenApiResponse(description="Errors per item; valid answers kept"),
            409: OpenApiResponse(description="Already answered: nothing stored (code conflict)"),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    ),
)
class AssignmentViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Patient: their own; staff: their units' patients (never a PREM); relatives none
    (they read results only)."""

    serializer_class = QuestionnaireAssignmentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assignment.objects.none()
        user = self.request.user
        if user.role == Role.RELATIVE:
            return Assignment.objects.none()
        qs = Assignment.objects.filter(patient__in=access.patients_for(user)).select_related(
            "instrument"
        )
        if user.role != Role.PATIENT:
            qs = qs.exclude(instrument__kind=Instrument.Kind.PREM)
        return access.with_acting_unit(qs, user).order_by("-available_at", "-id")

    def list(self, request: Request, *args, **kwargs) -> ApiResponse:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda a: a.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request: Request, *args, **kwargs) -> ApiResponse:
        """Staff of the responsible unit send a questionnaire (the admin's service)."""
        body = AssignmentSendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if request.user.role != Role.STAFF:
            raise Http404
        patient = access.patient_for(
            request.user, data["patient"], write=True, channel=API, action=AccessLog.Action.CREATE
        )
        instrument = Instrument.current(data["instrument"])
        if instrument is None:
            raise serializers.ValidationError({"instrument": _("No such questionnaire.")})
        try:
            assignment = services.assignment_send(
                patient=patient,
                instrument=instrument,
                by=request.user,
                due_days=data["due_days"],
                expire_days=data["expire_days"],
            )
        except DjangoValidationError as exc:
            return ApiResponse(
                {"detail": " ".join(exc.messages), "code": "invalid"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return ApiResponse(
            QuestionnaireAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED
        )

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> ApiResponse:
        assignment = sm_access.assignment_for(request.user, pk, channel=API)
        return ApiResponse(self.get_serializer(assignment).data)

    @action(detail=True, methods=["post"])
    def answers(self, request: Request, pk: str, **kwargs) -> ApiResponse:
        assignment = sm_access.assignment_for(request.user, pk, write=True, channel=API)
        body = AnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        raw = _raw(body.validated_data["answers"])
        service = (
            services.response_submit
            if body.validated_data["submit"]
            else services.response_save_draft
        )
        try:
            outcome = service(assignment=assignment, by=request.user, raw=raw)
        except DjangoValidationError as exc:
            return ApiResponse(
                {"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST
            )
        data = QuestionnaireResponseSerializer(outcome.response).data
        if outcome.already:
            # Answers to a questionnaire already completed: nothing stored, the stored
            # answer returned beside the conflict.
            return ApiResponse(
                {
                    "detail": _("This questionnaire is already answered."),
                    "code": "conflict",
                    "response": data,
                },
                status=status.HTTP_409_CONFLICT,
            )
        if outcome.errors or outcome.missing:
            return ApiResponse(
                {"errors": outcome.errors, "missing": outcome.missing, "response": data},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return ApiResponse(data)


@extend_schema_view(
    list=extend_schema(summary="Completed answers you may read (PREMs: the patient's own)"),
    retrieve=extend_schema(
        summary="One completed answer",
        responses={200: QuestionnaireResponseSerializer, 404: NOT_FOUND},
    ),
    fhir=extend_schema(summary="As a FHIR QuestionnaireResponse", responses={200: FHIR}),
    observations=extend_schema(
        summary="Its scores as FHIR Observations (a Bundle)", responses={200: FHIR}
    ),
)
class ResponseViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = QuestionnaireResponseSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Response.objects.none()
        user = self.request.user
        qs = sm_access.responses_for(user).select_related("instrument", "patient")
        return access.with_acting_unit(qs, user).order_by("-submitted_at", "-id")

    def list(self, request: Request, *args, **kwargs) -> ApiResponse:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda r: r.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> ApiResponse:
        return ApiResponse(
            self.get_serializer(sm_access.response_for(request.user, pk, channel=API)).data
        )

    def _export(self, pk: str) -> Response:
        return sm_access.response_for(self.request.user, pk, channel=API)

    @action(detail=True, methods=["get"], renderer_classes=FHIR_RENDERERS)
    def fhir(self, request: Request, pk: str, **kwargs) -> ApiResponse:
        return ApiResponse(fhir.questionnaire_response(self._export(pk)))

    @action(detail=True, methods=["get"], renderer_classes=FHIR_RENDERERS)
    def observations(self, request: Request, pk: str, **kwargs) -> ApiResponse:
        return ApiResponse(fhir.observation_bundle(self._export(pk)))


@extend_schema_view(
    list=extend_schema(summary="Open alerts of your units (most severe, oldest first)"),
    retrieve=extend_schema(summary="One alert", responses={200: AlertSerializer, 404: NOT_FOUND}),
    acknowledge=extend_schema(
        summary="Acknowledge with a note (care team)",
        request=AcknowledgeSerializer,
        responses={
            200: AlertSerializer,
            400: OpenApiResponse(description="No note"),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    ),
)
class AlertViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The care team's worklist (list: staff only). One alert may be read by whoever may
    read its answers; only the care team acknowledges (a relative gets 403)."""

    serializer_class = AlertSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        user = self.request.user
        if user.role != Role.STAFF:
            return Alert.objects.none()
        qs = Alert.objects.worklist().filter(patient__in=access.patients_for(user))
        return access.with_acting_unit(qs, user)

    def list(self, request: Request, *args, **kwargs) -> ApiResponse:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda a: a.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> ApiResponse:
        alert = sm_access.alert_for(request.user, pk, channel=API)
        return ApiResponse(self.get_serializer(alert).data)

    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str, **kwargs) -> ApiResponse:
        alert = sm_access.alert_for(request.user, pk, write=True, channel=API)
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alert = services.alert_acknowledge(
                alert=alert, by=request.user, note=body.validated_data["note"]
            )
        except DjangoValidationError as exc:
            return ApiResponse(
                {"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST
            )
        return ApiResponse(self.get_serializer(alert).data)


# --- Schedules -----------------------------------------------------------------------------


class ScheduleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Schedule
        fields = [
            "id",
            "patient",
            "instrument_key",
            "trigger",
            "phase",
            "every_days",
            "due_days",
            "expire_days",
            "active",
            "created_at",
        ]
        read_only_fields = fields


class ScheduleCreateSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    instrument_key = serializers.SlugField(max_length=60, help_text="A questionnaire's key.")
    trigger = serializers.ChoiceField(choices=Schedule.Trigger.choices)
    phase = serializers.ChoiceField(
        choices=Schedule._meta.get_field("phase").choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="With trigger phase_change: only when the plan enters this phase.",
    )
    every_days = serializers.IntegerField(
        min_value=1, max_value=3650, required=False, allow_null=True, default=None
    )
    due_days = serializers.IntegerField(min_value=0, max_value=365, default=7)
    expire_days = serializers.IntegerField(min_value=0, max_value=365, default=14)


@extend_schema_view(
    list=extend_schema(summary="Questionnaire schedules of your units' patients (staff)"),
    retrieve=extend_schema(
        summary="One patient's questionnaire schedule",
        responses={200: ScheduleSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Schedule a questionnaire for a patient (staff of the responsible unit)",
        request=ScheduleCreateSerializer,
        responses={
            201: ScheduleSerializer,
            400: OpenApiResponse(description="Unknown questionnaire or invalid days"),
            404: NOT_FOUND,
        },
    ),
    deactivate=extend_schema(
        summary="Stop a schedule (what was already sent stays)",
        request=None,
        responses={200: ScheduleSerializer, 404: NOT_FOUND},
    ),
)
class ScheduleViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Staff of the responsible unit: a patient's questionnaire schedules, made and
    stopped with the services the admin uses; everyone else nothing."""

    serializer_class = ScheduleSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Schedule.objects.none()
        return sm_access.schedules_for(self.request.user).order_by("-created_at", "-id")

    def list(self, request: Request, *args, **kwargs) -> ApiResponse:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda s: s.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> ApiResponse:
        return ApiResponse(self.get_serializer(sm_access.schedule_for(request.user, pk)).data)

    def create(self, request: Request, *args, **kwargs) -> ApiResponse:
        body = ScheduleCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if request.user.role != Role.STAFF:
            raise Http404
        patient = access.patient_for(
            request.user,
            data.pop("patient"),
            write=True,
            channel=API,
            action=AccessLog.Action.CREATE,
        )
        try:
            schedule = services.schedule_save(
                schedule=Schedule(patient=patient, **data), by=request.user, creating=True
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return ApiResponse(self.get_serializer(schedule).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str, **kwargs) -> ApiResponse:
        schedule = sm_access.schedule_for(
            request.user, pk, write=True, action=AccessLog.Action.UPDATE
        )
        services.schedule_deactivate(schedule=schedule, by=request.user)
        return ApiResponse(self.get_serializer(schedule).data)
