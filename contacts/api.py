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
from careplan.fhir_views import FHIR_RENDERERS
from careplan.models import AccessLog, CareUnit, Patient, Role, User

from . import fhir, services
from .handover import access as handover_access
from .handover import services as handover_services
from .models import CareMapEntry, CareMapVersion, Handover, Invitation, RelativeGrant, Scope

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

    @action(detail=True, methods=["get"], renderer_classes=FHIR_RENDERERS)
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

    @action(detail=True, methods=["get"], renderer_classes=FHIR_RENDERERS)
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
        invitation = Invitation.objects.select_related("patient").filter(pk=pk).first()
        if invitation is None:
            raise Http404
        # Anyone but the patient: a denied row, then 404 (no relation) or 403.
        _check_patient_writes(request.user, invitation.patient, invitation, action=Action.UPDATE)
        invitation = services.invitation_cancel(invitation=invitation, by=request.user)
        return Response(self.get_serializer(invitation).data)


# --- Invitation acceptance -----------------------------------------------------------------


class InvitationAcceptSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The token from the invitation link.")


class InvitationAcceptViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """A relative accepts an invitation (the same service as the web link)."""

    serializer_class = InvitationAcceptSerializer

    @extend_schema(
        summary="Accept an invitation (relative)",
        request=InvitationAcceptSerializer,
        responses={
            201: RelativeGrantSerializer,
            400: OpenApiResponse(
                description="Invalid, used, withdrawn or expired link, or the wrong account "
                "(code: invalid, used, cancelled, expired, role, self, ...)."
            ),
        },
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            grant = services.invitation_accept(
                token=body.validated_data["token"], user=request.user
            )
        except DjangoValidationError as exc:
            return Response(
                {"detail": " ".join(exc.messages), "code": exc.code or "invalid"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(RelativeGrantSerializer(grant).data, status=status.HTTP_201_CREATED)


# --- Care-map versions ---------------------------------------------------------------------


class CareMapVersionSerializer(serializers.ModelSerializer):
    patient = serializers.IntegerField(source="care_map.patient_id", read_only=True)
    created_by = serializers.CharField(source="created_by.get_full_name", read_only=True)

    class Meta:
        model = CareMapVersion
        fields = ["id", "patient", "number", "created_at", "created_by", "what"]
        read_only_fields = fields


class CareMapVersionDetailSerializer(CareMapVersionSerializer):
    snapshot = serializers.JSONField(read_only=True)

    class Meta(CareMapVersionSerializer.Meta):
        fields = [*CareMapVersionSerializer.Meta.fields, "snapshot"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="Saved versions of care maps you may read (newest first)"),
    retrieve=extend_schema(
        summary="One saved version with its entries",
        responses={200: CareMapVersionDetailSerializer, 404: NOT_FOUND},
    ),
)
class CareMapVersionViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Patient: their own; staff of the responsible unit: read; relatives: none."""

    serializer_class = CareMapVersionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CareMapVersion.objects.none()
        user = self.request.user
        if user.role == Role.RELATIVE:
            return CareMapVersion.objects.none()
        versions = (
            CareMapVersion.objects.filter(care_map__patient__in=access.patients_for(user))
            .select_related("care_map", "created_by")
            .defer("snapshot")
        )
        return access.with_acting_unit(versions, user, patient_path="care_map__patient").order_by(
            "care_map_id", "-number", "-id"
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda v: v.care_map.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        version = (
            CareMapVersion.objects.select_related("care_map__patient", "created_by")
            .filter(pk=pk)
            .first()
        )
        if version is None or request.user.role == Role.RELATIVE:
            raise Http404
        _authorize_read(request.user, version.care_map.patient, version)
        return Response(CareMapVersionDetailSerializer(version).data)


# --- Handovers -----------------------------------------------------------------------------


class HandoverSerializer(serializers.ModelSerializer):
    patient = serializers.IntegerField(source="patient_id", read_only=True)
    patient_name = serializers.CharField(source="patient.name", read_only=True)
    from_unit = serializers.IntegerField(source="from_unit_id", read_only=True)
    to_unit = serializers.PrimaryKeyRelatedField(queryset=CareUnit.objects.all())
    contact_nurse = serializers.IntegerField(
        source="contact_nurse_id", read_only=True, allow_null=True
    )

    class Meta:
        model = Handover
        fields = [
            "id",
            "patient",
            "patient_name",
            "from_unit",
            "to_unit",
            "state",
            "situation",
            "background",
            "assessment",
            "recommendation",
            "needs_and_wishes",
            "created_at",
            "sent_at",
            "accepted_at",
            "closed_at",
            "contact_nurse",
            "contact_made_on",
            "contact_how",
            "decline_reason",
        ]
        read_only_fields = [
            "id",
            "state",
            "created_at",
            "sent_at",
            "accepted_at",
            "closed_at",
            "contact_made_on",
            "contact_how",
            "decline_reason",
        ]


class HandoverCreateSerializer(HandoverSerializer):
    patient = serializers.IntegerField(help_text="The patient's id.")

    class Meta(HandoverSerializer.Meta):
        pass


class HandoverAcceptSerializer(serializers.Serializer):
    contact_nurse = serializers.IntegerField(help_text="The receiving unit's new contact nurse.")
    contact_made_on = serializers.DateField()
    contact_how = serializers.CharField(max_length=200)


class HandoverDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


def _state_move(name: str, request_serializer=None) -> dict:
    return extend_schema(
        summary=name,
        request=request_serializer,
        responses={
            200: HandoverSerializer,
            400: OpenApiResponse(description="Not allowed in this state, or invalid fields."),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )


@extend_schema_view(
    list=extend_schema(
        summary="Handovers of your units' patients and those sent to your units (staff)"
    ),
    retrieve=extend_schema(
        summary="One handover", responses={200: HandoverSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Start a draft handover (staff of the responsible unit)",
        request=HandoverCreateSerializer,
        responses={201: HandoverSerializer, 400: OpenApiResponse(description="Invalid")},
    ),
    fhir=extend_schema(
        summary="The handover as a FHIR document Bundle (the record only for the responsible "
        "unit: before acceptance the receiver gets the handover alone)",
        responses={200: OpenApiResponse(description="FHIR R4 Bundle (document)")},
    ),
    send=_state_move("Send the draft (sender)"),
    cancel=_state_move("Withdraw a draft or sent handover (sender)"),
    accept=_state_move(
        "Accept (receiver): contact made, new contact nurse", HandoverAcceptSerializer
    ),
    decline=_state_move("Decline with a reason (receiver)", HandoverDeclineSerializer),
    complete=_state_move("Close an accepted handover (receiver)"),
)
class HandoverViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Staff (and the patient, who reads their own as on the web). Who reads which
    handover follows ``contacts.handover.access``: the responsible unit, the receiving unit
    while it is sent, the sender during the read period; every read and move is logged.
    Moves call the same services as the admin (only staff of the right unit move)."""

    serializer_class = HandoverSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Handover.objects.none()
        return (
            handover_access.handovers_for(self.request.user)
            .select_related("patient")
            .order_by("-created_at", "-id")
        )

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        handover_access.log_handover_list(user=request.user, handovers=page, channel=API)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        handover = handover_access.handover_for(request.user, pk, channel=API)
        return Response(self.get_serializer(handover).data)

    def create(self, request: Request, *args, **kwargs) -> Response:
        body = HandoverCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if request.user.role != Role.STAFF:
            raise Http404
        patient = access.patient_for(
            request.user,
            data.pop("patient_id", data.pop("patient", None)),
            write=True,
            channel=API,
            action=Action.CREATE,
        )
        try:
            handover = handover_services.handover_create(patient=patient, by=request.user, **data)
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(self.get_serializer(handover).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"], renderer_classes=FHIR_RENDERERS)
    def fhir(self, request: Request, pk: str, **kwargs) -> Response:
        handover = handover_access.handover_for(request.user, pk, channel=API, action=Action.EXPORT)
        full = fhir.handover_document_full(handover, handover.reach)
        return Response(fhir.handover_bundle(handover, full=full))

    def _move(self, pk: str, service, **kwargs) -> Response:
        handover = handover_access.handover_for(self.request.user, pk, write=True, channel=API)
        try:
            handover = service(handover=handover, by=self.request.user, **kwargs)
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        except PermissionDenied as exc:
            raise Http404 from exc
        return Response(self.get_serializer(handover).data)

    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: str, **kwargs) -> Response:
        return self._move(pk, handover_services.handover_send)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str, **kwargs) -> Response:
        return self._move(pk, handover_services.handover_cancel)

    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str, **kwargs) -> Response:
        return self._move(pk, handover_services.handover_complete)

    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str, **kwargs) -> Response:
        body = HandoverDeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._move(
            pk, handover_services.handover_decline, reason=body.validated_data["reason"]
        )

    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str, **kwargs) -> Response:
        body = HandoverAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        nurse = User.objects.filter(pk=data["contact_nurse"], role=Role.STAFF).first()
        return self._move(
            pk,
            handover_services.handover_accept,
            contact_nurse=nurse,
            contact_made_on=data["contact_made_on"],
            contact_how=data["contact_how"],
        )
