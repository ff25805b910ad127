"""Patients (staff) and the patient's own access log."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from .. import access
from ..models import AccessLog, Patient, Role
from .base import API, NOT_FOUND, ApiViewSetMixin, _log_page

# --- Patients (staff) and the patient's own access log ---------------------------------------


class PatientSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    responsible_unit = serializers.SerializerMethodField()
    contact_nurse = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "name",
            "first_name",
            "last_name",
            "phone",
            "email",
            "language",
            "needs_interpreter",
            "responsible_unit",
            "contact_nurse",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_responsible_unit(self, patient: Patient) -> str | None:
        relations = [r for r in patient.care_relations.all() if r.ended_at is None]
        return relations[0].unit.name if relations else None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_contact_nurse(self, patient: Patient) -> str | None:
        current = [a for a in patient.nurse_assignments.all() if a.ended_on is None]
        return current[0].nurse.get_full_name() if current else None


@extend_schema_view(
    list=extend_schema(summary="Patients your units are responsible for (staff)"),
    retrieve=extend_schema(
        summary="One patient", responses={200: PatientSerializer, 404: NOT_FOUND}
    ),
)
class PatientViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Staff only: the patients of their units. The personal identity number is not in the
    REST API (the schema never names it); a receiving system identifies the patient by the
    FHIR Patient resource (/fhir/Patient/{id}). Patients and relatives get nothing here."""

    serializer_class = PatientSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Patient.objects.none()
        user = self.request.user
        if user.role != Role.STAFF:
            return Patient.objects.none()
        qs = access.patients_for(user).prefetch_related(
            "care_relations__unit", "nurse_assignments__nurse"
        )
        return access.with_acting_unit(qs, user, patient_path="pk").order_by(
            "last_name", "first_name", "id"
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda p: p.pk)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        if request.user.role != Role.STAFF:
            raise NotFound
        patient = access.patient_for(request.user, pk, channel=API)
        return Response(self.get_serializer(patient).data)


class AccessLogSerializer(serializers.ModelSerializer):
    acting_unit = serializers.CharField(source="acting_unit.name", read_only=True, default=None)
    basis_text = serializers.CharField(source="get_basis_display", read_only=True)
    action_text = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = AccessLog
        fields = [
            "id",
            "at",
            "user_name",
            "role",
            "acting_unit",
            "basis",
            "basis_text",
            "object_type",
            "action",
            "action_text",
            "outcome",
            "channel",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Who read or changed your record (patient, newest first)"),
    retrieve=extend_schema(
        summary="One entry of your access log",
        responses={200: AccessLogSerializer, 404: NOT_FOUND},
    ),
)
class AccessLogViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The patient's own access log (the web page's rows). Nobody else reads it here."""

    serializer_class = AccessLogSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessLog.objects.none()
        user = self.request.user
        if user.role != Role.PATIENT:
            return AccessLog.objects.none()
        return (
            AccessLog.objects.filter(patient__user=user)
            .select_related("acting_unit")
            .order_by("-at", "-id")
        )
