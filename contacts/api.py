"""REST API for the care map, relatives' access and invitations, with FHIR exports.

As everywhere: objects are reached through ``careplan.access`` (no relation: 404; a
read-only relation asked to write: 403), everyone but the patient leaves an access-log row
(channel ``api``), lists one row per patient shown. The map, the grants and the
invitations are the patient's to change: staff read them, relatives never write.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from careplan import access
from careplan.api import FORBIDDEN, NOT_FOUND, ApiViewSetMixin, _api_validation_error, _log_page
from careplan.models import AccessLog, Patient, Role

from . import fhir, services
from .models import CareMapEntry, Invitation, RelativeGrant, Scope

API = AccessLog.Channel.API
Action = AccessLog.Action


def _authorize_read(user, patient: Patient, obj, *, action: str | None = None):
    """The same check as every ``careplan.access`` helper, for this app's objects. The
    care map is not a shared part: relatives do not reach it (``scope=None``)."""
    return access.authorize(user, patient, obj, write=False, channel=API, scope=None, action=action)


def _check_patient_writes(user, patient: Patient, obj, *, action: str) -> None:
    """Only the patient changes the map and the sharing. Others: 404 without a relation
    to the patient, 403 with one (staff, a relative); a denied row either way."""
    if patient.user_id == user.pk:
        return
    r = access.reach(user, patient)
    access.log_access(
        user=user, patient=patient, obj=obj, action=action, allowed=False, channel=API, reach_=r
    )
    if not r.allowed:
        raise Http404
    raise PermissionDenied


def _patient_of_user(user) -> Patient:
    patient = Patient.objects.filter(user=user).first() if user.role == Role.PATIENT else None
    if patient is None:
        raise PermissionDenied
    return patient


# --- Serializers -------------------------------------------------------------------------------


class CareMapEntrySerializer(serializers.ModelSerializer):
    patient = serializers.IntegerField(source="care_map.patient_id", read_only=True)
    flagged = serializers.BooleanField(read_only=True)

    class Meta:
        model = CareMapEntry
        fields = [
            "id",
            "patient",
            "kind",
            "name",
            "relation",
            "closeness",
            "direction",
            "frequency",
            "phone",
            "email",
            "note",
            "is_child",
            "needs_support",
            "flagged",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "patient", "flagged", "created_at", "updated_at"]


class SharedPartsField(serializers.ListField):
    child = serializers.ChoiceField(choices=Scope.choices)

    def __init__(self, **kwargs):
        super().__init__(allow_empty=False, **kwargs)


class RelativeGrantSerializer(serializers.ModelSerializer):
    relative = serializers.CharField(source="relative.__str__", read_only=True)
    scopes = SharedPartsField()
    active = serializers.SerializerMethodField()

    class Meta:
        model = RelativeGrant
        fields = [
            "id",
            "patient",
            "relative",
            "scopes",
            "valid_until",
            "revoked_at",
            "created_at",
            "last_seen_at",
            "active",
        ]
        read_only_fields = ["id", "patient", "relative", "revoked_at", "created_at", "last_seen_at"]

    def get_active(self, grant: RelativeGrant) -> bool:
        from django.utils import timezone

        return grant.revoked_at is None and (
            grant.valid_until is None or grant.valid_until >= timezone.localdate()
        )


class RelativeGrantUpdateSerializer(serializers.Serializer):
    scopes = SharedPartsField()
    valid_until = serializers.DateField(required=False, allow_null=True)


class InvitationSerializer(serializers.ModelSerializer):
    """The token is never shown: it only travels in the e-mail."""

    scopes = SharedPartsField()
    # "state", not "status": the schema has other "status" choice sets (plans, threads).
    state = serializers.ChoiceField(
        source="status", choices=Invitation.Status.choices, read_only=True
    )
    entry = serializers.PrimaryKeyRelatedField(
        queryset=CareMapEntry.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = Invitation
        fields = [
            "id",
            "patient",
            "entry",
            "name",
            "email",
            "scopes",
            "valid_until",
            "state",
            "created_at",
            "expires_at",
            "accepted_at",
        ]
        read_only_fields = ["id", "patient", "state", "created_at", "expires_at", "accepted_at"]

    def get_fields(self) -> dict:
        """The ``entry`` choices (the browsable API's form lists them) are the requesting
        patient's own care map only: nobody else may pick, or see, anyone's entries."""
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "role", None) == Role.PATIENT:
            fields["entry"].queryset = CareMapEntry.objects.filter(care_map__patient__user=user)
        return fields


# --- The care map ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="People and care contacts on the care maps you may see"),
    retrieve=extend_schema(
        summary="One entry", responses={200: CareMapEntrySerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Add to your care map (patient)",
        responses={201: CareMapEntrySerializer, 403: FORBIDDEN},
    ),
    partial_update=extend_schema(
        summary="Change an entry (patient)",
        responses={200: CareMapEntrySerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    update=extend_schema(
        summary="Change an entry (patient)",
        responses={200: CareMapEntrySerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Remove an entry (patient)", responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND}
    ),
    fhir=extend_schema(
        summary="The entry as FHIR R4 RelatedPerson (person) or Organization (care contact)",
        responses={200: OpenApiResponse(description="A FHIR resource (JSON)."), 404: NOT_FOUND},
    ),
)
class CareMapEntryViewSet(ApiViewSetMixin, viewsets.ModelViewSet):
    """Patient: their own map, read and write. Staff of the responsible unit: read.
    Relatives: nothing (the map is not a part a patient shares)."""

    serializer_class = CareMapEntrySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CareMapEntry.objects.none()
        user = self.request.user
        if user.role == Role.RELATIVE:
            return CareMapEntry.objects.none()
        entries = CareMapEntry.objects.filter(
            care_map__patient__in=access.patients_for(user)
        ).select_related("care_map")
        return access.with_acting_unit(entries, user, patient_path="care_map__patient").order_by(
            "care_map_id", "closeness", "name", "id"
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda e: e.care_map.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _entry(self, pk, *, write: bool = False, action: str | None = None) -> CareMapEntry:
        entry = CareMapEntry.objects.select_related("care_map__patient").filter(pk=pk).first()
        if entry is None:
            raise Http404
        if write:
            _check_patient_writes(
                self.request.user, entry.care_map.patient, entry, action=action or Action.UPDATE
            )
        else:
            _authorize_read(self.request.user, entry.care_map.patient, entry, action=action)
        return entry

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        return Response(self.get_serializer(self._entry(pk)).data)

    @action(detail=True, methods=["get"])
    def fhir(self, request: Request, pk: str, **kwargs) -> Response:
        entry = self._entry(pk, action=Action.EXPORT)
        return Response(fhir.care_map_entry(entry))

    def create(self, request: Request, *args, **kwargs) -> Response:
        patient = _patient_of_user(request.user)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = CareMapEntry(care_map=services.care_map_of(patient), **serializer.validated_data)
        try:
            entry = services.care_map_entry_save(entry=entry, by=request.user, creating=True)
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        entry = self._entry(pk, write=True)
        serializer = self.get_serializer(entry, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        for name, value in serializer.validated_data.items():
            setattr(entry, name, value)
        try:
            entry = services.care_map_entry_save(entry=entry, by=request.user, creating=False)
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(self.get_serializer(entry).data)

    def destroy(self, request: Request, pk: str, *args, **kwargs) -> Response:
        entry = self._entry(pk, write=True, action=Action.DELETE)
        services.care_map_entry_delete(entry=entry, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Relatives' access -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Relatives' access you may see"),
    retrieve=extend_schema(
        summary="One access", responses={200: RelativeGrantSerializer, 404: NOT_FOUND}
    ),
    partial_update=extend_schema(
        summary="Change what is shared, or until when (patient)",
        request=RelativeGrantUpdateSerializer,
        responses={
            200: RelativeGrantSerializer,
            400: OpenApiResponse(description="Unknown part."),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    ),
    revoke=extend_schema(
        summary="End the access now (patient)",
        request=None,
        responses={200: RelativeGrantSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    fhir=extend_schema(
        summary="The access as a FHIR R4 Consent",
        responses={200: OpenApiResponse(description="A FHIR Consent (JSON)."), 404: NOT_FOUND},
    ),
)
class RelativeGrantViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Patient: who has access to what (and changes or ends it). Staff of the responsible
    unit: who has access. A relative: the access given to them."""

    serializer_class = RelativeGrantSerializer
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RelativeGrant.objects.none()
        user = self.request.user
        if user.role == Role.RELATIVE:
            grants = RelativeGrant.objects.active().filter(relative=user)
        else:
            grants = RelativeGrant.objects.filter(patient__in=access.patients_for(user))
        grants = grants.select_related("relative").order_by("patient_id", "-created_at", "-id")
        return access.with_acting_unit(grants, user)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda g: g.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _grant(self, pk, *, write: bool = False, action: str | None = None) -> RelativeGrant:
        user = self.request.user
        grant = RelativeGrant.objects.select_related("patient", "relative").filter(pk=pk).first()
        if grant is None:
            raise Http404
        if user.role == Role.RELATIVE and grant.relative_id == user.pk and not write:
            # The relative reads the access given to them while it lasts.
            r = access.reach(user, grant.patient)
            access.log_access(
                user=user,
                patient=grant.patient,
                obj=grant,
                action=action or Action.VIEW,
                allowed=r.allowed,
                channel=API,
                reach_=r,
            )
            if not r.allowed:
                raise Http404
            return grant
        if write:
            _check_patient_writes(user, grant.patient, grant, action=action or Action.UPDATE)
        else:
            _authorize_read(user, grant.patient, grant, action=action)
        return grant

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        return Response(self.get_serializer(self._grant(pk)).data)

    def partial_update(self, request: Request, pk: str, *args, **kwargs) -> Response:
        grant = self._grant(pk, write=True)
        data = RelativeGrantUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            grant = services.grant_update(
                grant=grant,
                by=request.user,
                scopes=data.validated_data["scopes"],
                valid_until=data.validated_data.get("valid_until", grant.valid_until),
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(self.get_serializer(grant).data)

    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str, **kwargs) -> Response:
        grant = self._grant(pk, write=True)
        grant = services.grant_revoke(grant=grant, by=request.user)
        return Response(self.get_serializer(grant).data)

    @action(detail=True, methods=["get"])
    def fhir(self, request: Request, pk: str, **kwargs) -> Response:
        return Response(fhir.grant_consent(self._grant(pk, action=Action.EXPORT)))


# --- Invitations -------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Invitations you may see"),
    create=extend_schema(
        summary="Invite a relative by e-mail (patient)",
        responses={
            201: InvitationSerializer,
            400: OpenApiResponse(
                description="Own address, duplicate, unknown part or a date in the past."
            ),
            403: FORBIDDEN,
        },
    ),
    cancel=extend_schema(
        summary="Withdraw an invitation (patient)",
        request=None,
        responses={200: InvitationSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class InvitationViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    serializer_class = InvitationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        user = self.request.user
        if user.role == Role.RELATIVE:
            return Invitation.objects.none()
        invitations = Invitation.objects.filter(patient__in=access.patients_for(user)).order_by(
            "-created_at", "-id"
        )
        return access.with_acting_unit(invitations, user)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda i: i.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request: Request, *args, **kwargs) -> Response:
        patient = _patient_of_user(request.user)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            invitation, _token = services.invitation_create(
                patient=patient,
                by=request.user,
                email=data["email"],
                scopes=data["scopes"],
                valid_until=data.get("valid_until"),
                name=data.get("name", ""),
                entry=data.get("entry"),
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str, **kwargs) -> Response:
        patient = _patient_of_user(request.user)
        invitation = Invitation.objects.filter(pk=pk, patient=patient).first()
        if invitation is None:
            raise Http404
        invitation = services.invitation_cancel(invitation=invitation, by=request.user)
        return Response(self.get_serializer(invitation).data)
