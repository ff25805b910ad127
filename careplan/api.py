"""REST API (DRF) for the care plan, its sections, the calendar and the contact nurse.

Every object goes through ``careplan/access.py``, as on the web: no relation gives 404, a
read-only relation asked to write gives 403, and everyone but the patient leaves an
access-log row (channel ``api``), denied attempts too. Lists write one row per patient
shown through ``access.log_list``. Writes call ``careplan/services.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from careplan.models import Scope

from . import access, content, services
from . import api_values as values
from .models import (
    AccessLog,
    CalendarEvent,
    CarePlan,
    ContactNurseAssignment,
    Patient,
    PlanSection,
    Role,
    calendar_date_error,
)

API = AccessLog.Channel.API
Action = AccessLog.Action

NOT_FOUND = OpenApiResponse(description="No such object, or no relation to its patient.")
FORBIDDEN = OpenApiResponse(
    description="Not logged in, staff without two-factor authentication, or read-only access."
)


# --- Helpers ------------------------------------------------------------------------------


def _accept_language(request: Request) -> str | None:
    """The first supported language of an explicit ``Accept-Language`` header."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _q in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return None


def _api_validation_error(exc: DjangoValidationError) -> serializers.ValidationError:
    """A model's ``full_clean`` error as a 400 body, field by field."""
    detail = serializers.as_serializer_error(exc)
    if NON_FIELD_ERRORS in detail:
        detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
    return serializers.ValidationError(detail)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A UUID you make for this one submit. Sending the same request again with the "
        "same key (a retry after a timeout, a double click) stores nothing new and answers "
        "with what the first one stored."
    ),
)


def _idempotency_key(request: Request) -> uuid.UUID | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise serializers.ValidationError(
            {
                "Idempotency-Key": [
                    _("Give a UUID, for example %(example)s.") % {"example": uuid.uuid4()}
                ]
            }
        ) from None


def _log_page(user, objects: Iterable, *, patient_id_of: Callable[[object], int]) -> None:
    """One access-log row per patient on the page (naming the first object shown), one
    query. Rows carry ``acting_unit_id`` from ``access.with_acting_unit``."""
    first: dict[int, object] = {}
    for obj in objects:
        first.setdefault(patient_id_of(obj), obj)
    access.log_list(
        user=user,
        rows=[(pid, getattr(obj, "acting_unit_id", None), obj) for pid, obj in first.items()],
        channel=API,
    )


class ApiViewSetMixin:
    """Shared by every viewset here: an explicit ``Accept-Language`` header wins over the
    user's saved language (messages, labels, section texts), and ids are numbers. Extra
    actions take ``**kwargs``: the router adds ``format`` for a suffix (``…/fhir.json``)."""

    lookup_value_regex = r"\d+"

    def initial(self, request: Request, *args, **kwargs) -> None:
        language = _accept_language(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        super().initial(request, *args, **kwargs)  # type: ignore[misc]


# --- Serializers --------------------------------------------------------------------------


class PatientRefSerializer(serializers.Serializer):
    """Whose plan it is: id and name only (never the personal identity number)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class SectionSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True, help_text="In the request's language.")
    body = serializers.CharField(read_only=True, help_text="In the request's language.")
    body_language = serializers.SerializerMethodField(
        help_text=(
            "The language ``body`` is in: the request's if the text has a version in it, "
            "else sv (the original)."
        )
    )
    body_status = serializers.SerializerMethodField(
        help_text=(
            "draft or reviewed for a translated body (show a draft with the notice and the "
            "Swedish original, body_sv); null for the original."
        )
    )

    class Meta:
        model = PlanSection
        fields = [
            "id",
            "plan",
            "key",
            "order",
            "title",
            "body",
            "body_language",
            "body_status",
            "personal_note",
            "title_sv",
            "title_en",
            "body_sv",
            "body_en",
            "updated_at",
            "version",
        ]
        read_only_fields = fields

    def get_body_language(self, section: PlanSection) -> str:
        return content.shown(section, "body").lang

    def get_body_status(self, section: PlanSection) -> str | None:
        return content.shown(section, "body").status


class SectionUpdateSerializer(serializers.ModelSerializer):
    """What the care team may change in a section, and the version it was read at."""

    version = serializers.IntegerField(
        min_value=1,
        help_text=(
            "The section's version as you read it. If someone saved it since, nothing is "
            "saved and the answer is 409 with the section as saved now."
        ),
    )

    class Meta:
        model = PlanSection
        fields = ["personal_note", "body_sv", "body_en", "version"]
        extra_kwargs = {name: {"required": False} for name in fields if name != "version"}

    def validate(self, attrs: dict) -> dict:
        if not set(attrs) - {"version"}:
            raise serializers.ValidationError(
                _("Give at least one of personal_note, body_sv or body_en.")
            )
        return attrs


# Parts of the plan itself that belong to the ``plan_sections`` scope (as on the web).
SECTION_FIELDS = ("diagnosis", "treatment_summary", "followup_plan")


class PlanSerializer(serializers.ModelSerializer):
    """Diagnosis, treatment summary and follow-up plan are null for a relative who was
    not given the plan's sections (the context's ``sections_shared(plan)`` says)."""

    patient = PatientRefSerializer(read_only=True)
    diagnosis = serializers.CharField(
        read_only=True, allow_null=True, help_text="null unless the sections are shared with you."
    )
    treatment_summary = serializers.CharField(
        read_only=True, allow_null=True, help_text="null unless the sections are shared with you."
    )
    followup_plan = serializers.CharField(
        read_only=True, allow_null=True, help_text="null unless the sections are shared with you."
    )
    phase_label = serializers.CharField(source="get_phase_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = CarePlan
        fields = [
            "id",
            "patient",
            "title",
            "diagnosis",
            "phase",
            "phase_label",
            "status",
            "status_label",
            "contact_nurse_offered_on",
            "established_on",
            "followup_plan",
            "treatment_summary",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, plan: CarePlan) -> dict:
        """DRF's output for the fields above, written out (``careplan.api_values``; DRF's
        path cost 10 ms a page of 50). ``test_plan_representation_is_drfs`` compares."""
        sections_shared = self.context.get("sections_shared")
        shared = sections_shared is not None and sections_shared(plan)
        patient = plan.patient
        return {
            "id": plan.pk,
            "patient": {"id": patient.pk, "name": patient.name},
            "title": values.text(plan.title),
            "diagnosis": values.text(plan.diagnosis) if shared else None,
            "phase": values.choice(plan.phase),
            "phase_label": values.choice_label(CarePlan.Phase, plan.phase),
            "status": values.choice(plan.status),
            "status_label": values.choice_label(CarePlan.Status, plan.status),
            "contact_nurse_offered_on": values.date(plan.contact_nurse_offered_on),
            "established_on": values.date(plan.established_on),
            "followup_plan": values.text(plan.followup_plan) if shared else None,
            "treatment_summary": values.text(plan.treatment_summary) if shared else None,
            "created_at": values.datetime(plan.created_at),
            "updated_at": values.datetime(plan.updated_at),
        }


# What PlanSerializer reads (not the patient's contact details, nor the plan's template).
PLAN_LIST_COLUMNS = (
    *services.PLAN_FIELDS,
    "created_at",
    "updated_at",
    "patient__first_name",
    "patient__last_name",
)


class PlanDetailSerializer(PlanSerializer):
    sections = serializers.SerializerMethodField(
        help_text="null when the patient has not shared the plan's sections with you."
    )

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "sections"]
        read_only_fields = fields

    def to_representation(self, plan: CarePlan) -> dict:
        return {**super().to_representation(plan), "sections": self.get_sections(plan)}

    @extend_schema_field(SectionSerializer(many=True, allow_null=True))
    def get_sections(self, plan: CarePlan) -> list | None:
        if not self.context.get("show_sections"):
            return None
        return SectionSerializer(plan.sections.all(), many=True, context=self.context).data


class CalendarDateTimeField(serializers.DateTimeField):
    """DRF's, but a date it cannot even convert (year 1: ``OverflowError``, a 500) is the
    calendar's clear 400 message."""

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except OverflowError:
            raise serializers.ValidationError(calendar_date_error()) from None


class EventSerializer(serializers.ModelSerializer):
    plan = serializers.IntegerField(
        source="plan_id", help_text="The care plan. Given on create; an entry never moves."
    )
    created_by = serializers.CharField(
        source="added_by_label", read_only=True, help_text="Who added it: name (title)."
    )
    is_past = serializers.BooleanField(read_only=True)
    starts_at = CalendarDateTimeField()
    ends_at = CalendarDateTimeField(required=False, allow_null=True)

    class Meta:
        model = CalendarEvent
        fields = [
            "id",
            "plan",
            "kind",
            "title",
            "starts_at",
            "ends_at",
            "location",
            "note",
            "created_by",
            "is_past",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class EventListParams(serializers.Serializer):
    plan = serializers.IntegerField(required=False, min_value=1)


@extend_schema_serializer(many=False)
class ContactNurseSerializer(serializers.ModelSerializer):
    """The patient's current named contact nurse (kontaktsjuksköterska)."""

    name = serializers.CharField(source="nurse.get_full_name", read_only=True)
    title = serializers.CharField(source="nurse.title", read_only=True)
    direct_phone = serializers.CharField(
        source="phone", read_only=True, help_text="The nurse's direct line, else the unit's."
    )
    reachable = serializers.CharField(source="when_reachable", read_only=True)
    unit = serializers.CharField(source="unit.name", read_only=True)
    unit_phone = serializers.CharField(source="unit.phone", read_only=True)

    class Meta:
        model = ContactNurseAssignment
        fields = [
            "patient",
            "name",
            "title",
            "direct_phone",
            "reachable",
            "unit",
            "unit_phone",
            "started_on",
        ]
        read_only_fields = fields


class ContactNurseParams(serializers.Serializer):
    plan = serializers.IntegerField(required=False, min_value=1)
    patient = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict) -> dict:
        if ("plan" in attrs) == ("patient" in attrs):
            raise serializers.ValidationError(_("Give either a plan or a patient."))
        return attrs


# --- Care plans -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Care plans you may see"),
    retrieve=extend_schema(
        summary="One care plan with its sections",
        responses={200: PlanDetailSerializer, 404: NOT_FOUND},
    ),
)
class PlanViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Staff: plans of their units' patients; patient: their own; relative: shared ones
    (the sections only with the ``plan_sections`` part)."""

    serializer_class = PlanSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CarePlan.objects.none()
        user = self.request.user
        plans = access.plans_for(user, scope=access.ANY_SCOPE).select_related("patient")
        return access.with_acting_unit(plans.only(*PLAN_LIST_COLUMNS), user)

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda plan: plan.patient_id)
        shared = access.relative_scopes(request.user)  # relatives: one query

        def sections_shared(plan: CarePlan) -> bool:
            return shared is None or Scope.PLAN_SECTIONS in shared.get(plan.patient_id, ())

        context = {**self.get_serializer_context(), "sections_shared": sections_shared}
        return self.get_paginated_response(PlanSerializer(page, many=True, context=context).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        plan = access.plan_for(request.user, pk, channel=API, scope=access.ANY_SCOPE)
        show_sections = plan.reach.covers(Scope.PLAN_SECTIONS)
        context = {
            **self.get_serializer_context(),
            "show_sections": show_sections,
            "sections_shared": lambda _plan: show_sections,
        }
        return Response(PlanDetailSerializer(plan, context=context).data)


@extend_schema_view(
    retrieve=extend_schema(
        summary="One plan section", responses={200: SectionSerializer, 404: NOT_FOUND}
    ),
    partial_update=extend_schema(
        summary="Change a section's personal note or texts (care team)",
        request=SectionUpdateSerializer,
        responses={
            200: SectionSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(description="Saved by someone else since you read it."),
        },
    ),
)
class SectionViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """A plan's sections are listed in the plan; the care team edits them one by one."""

    serializer_class = SectionSerializer

    def get_queryset(self):
        # Objects are reached only through access.section_for; this names the model.
        return PlanSection.objects.none()

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        section = access.section_for(request.user, pk, channel=API)
        return Response(SectionSerializer(section, context=self.get_serializer_context()).data)

    def partial_update(self, request: Request, pk: str, *args, **kwargs) -> Response:
        section = access.section_for(request.user, pk, write=True, channel=API)
        data = SectionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = fields.pop("version")
        try:
            section = services.section_update(
                section=section, by=request.user, fields=fields, version=version
            )
        except services.EditConflict as exc:
            return Response(
                {
                    "detail": _(
                        "Someone else saved this section after you read it (version "
                        "%(yours)s, now %(now)s). Nothing was saved: read it again, merge "
                        "your change and send it with the new version."
                    )
                    % {"yours": version, "now": exc.current.version},
                    "code": "conflict",
                    "current": SectionSerializer(
                        exc.current, context=self.get_serializer_context()
                    ).data,
                },
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(SectionSerializer(section, context=self.get_serializer_context()).data)


# --- Calendar ---------------------------------------------------------------------------


ID_PARAM = {"type": "integer", "minimum": 1}
PLAN_PARAM = OpenApiParameter(
    "plan", ID_PARAM, description="Only this care plan's calendar (404 when you may not see it)."
)


@extend_schema_view(
    list=extend_schema(summary="Calendar entries you may see", parameters=[PLAN_PARAM]),
    retrieve=extend_schema(
        summary="One calendar entry", responses={200: EventSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Add a calendar entry (patient or care team)",
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: EventSerializer,
            400: OpenApiResponse(description="Invalid entry."),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    ),
    update=extend_schema(
        summary="Change a calendar entry",
        responses={200: EventSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        summary="Change part of a calendar entry",
        responses={200: EventSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Remove a calendar entry",
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)
class EventViewSet(ApiViewSetMixin, viewsets.ModelViewSet):
    """The plan's calendar. Patient and care team write; relatives with the ``calendar``
    part read."""

    serializer_class = EventSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CalendarEvent.objects.none()
        user = self.request.user
        events = access.events_for(user).select_related("plan", "created_by")
        return access.with_acting_unit(events, user, patient_path="plan__patient")

    def list(self, request: Request, *args, **kwargs) -> Response:
        params = EventListParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        plan_id = params.validated_data.get("plan")
        if plan_id is None:
            page = self.paginate_queryset(self.get_queryset())
            _log_page(request.user, page, patient_id_of=lambda event: event.plan.patient_id)
        else:
            # One plan's calendar: the plan check writes the one access-log row.
            plan = access.plan_for(
                request.user, plan_id, channel=API, scope=Scope.CALENDAR, action=Action.LIST
            )
            events = CalendarEvent.objects.filter(plan=plan).select_related("created_by")
            page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        event = access.event_for(request.user, pk, channel=API)
        return Response(self.get_serializer(event).data)

    def create(self, request: Request, *args, **kwargs) -> Response:
        # Access first, so a read-only relative gets 403 whatever else is wrong.
        raw = request.data.get("plan") if hasattr(request.data, "get") else None
        plan = None
        if isinstance(raw, int | str) and str(raw).isdigit():
            plan = self._plan_to_write(int(raw))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        plan_id = fields.pop("plan_id")
        if plan is None or plan.pk != plan_id:
            plan = self._plan_to_write(plan_id)
        key = _idempotency_key(request)
        try:
            event = services.event_create(
                event=CalendarEvent(plan=plan, **fields), by=request.user, submission_key=key
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(self.get_serializer(event).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        event = access.event_for(request.user, pk, write=True, channel=API)
        serializer = self.get_serializer(event, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if fields.pop("plan_id", event.plan_id) != event.plan_id:
            raise serializers.ValidationError(
                {"plan": [_("An entry cannot be moved to another plan.")]}
            )
        for name, value in fields.items():
            setattr(event, name, value)
        event = self._save(services.event_update, event)
        return Response(self.get_serializer(event).data)

    def destroy(self, request: Request, pk: str, *args, **kwargs) -> Response:
        event = access.event_for(request.user, pk, write=True, channel=API, action=Action.DELETE)
        services.event_delete(event=event, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _plan_to_write(self, plan_id: int) -> CarePlan:
        return access.plan_for(
            self.request.user,
            plan_id,
            write=True,
            channel=API,
            scope=Scope.CALENDAR,
            action=Action.CREATE,
        )

    def _save(self, service, event: CalendarEvent) -> CalendarEvent:
        try:
            return service(event=event, by=self.request.user)
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc


# --- Contact nurse ----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="The current contact nurse of a plan's patient, or of a patient",
        parameters=[
            OpenApiParameter("plan", ID_PARAM, description="A care plan (give this or patient)."),
            OpenApiParameter("patient", ID_PARAM, description="A patient (give this or plan)."),
        ],
        responses={
            200: ContactNurseSerializer,
            400: OpenApiResponse(description="Neither or both of plan and patient given."),
            403: FORBIDDEN,
            404: OpenApiResponse(description="No relation, or no contact nurse named yet."),
        },
    ),
)
class ContactNurseViewSet(ApiViewSetMixin, viewsets.GenericViewSet):
    """Relatives see it only with the ``contact_nurse`` part."""

    serializer_class = ContactNurseSerializer
    pagination_class = None

    def get_queryset(self):
        # Reached only through access.plan_for / patient_for; this names the model.
        return ContactNurseAssignment.objects.none()

    def list(self, request: Request, *args, **kwargs) -> Response:
        params = ContactNurseParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        if "plan" in params.validated_data:
            patient = access.plan_for(
                request.user, params.validated_data["plan"], channel=API, scope=Scope.CONTACT_NURSE
            ).patient
        else:
            patient = access.patient_for(
                request.user,
                params.validated_data["patient"],
                channel=API,
                scope=Scope.CONTACT_NURSE,
            )
        assignment = patient.contact_nurse_assignment()
        if assignment is None:
            raise NotFound(_("No contact nurse has been named yet."))
        return Response(self.get_serializer(assignment).data)


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
