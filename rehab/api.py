"""REST API for rehabilitation plans and the KVÅ catalogue (registered in
``careplan/api_urls.py``).

Objects are reached through ``rehab/access.py`` over ``careplan.access``: no relation
gives 404, read-only asked to write gives 403, everyone but the patient leaves one
access-log row (channel ``api``); lists one row per patient shown. Writes call
``rehab/services.py``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from careplan import access as core_access
from careplan.api import NOT_FOUND, ApiViewSetMixin, _api_validation_error, _log_page
from careplan.fhir_views import FHIR_RENDERERS
from careplan.models import AccessLog, CareUnit

from . import fhir, services
from .access import referral_for, referrals_for, rehab_plan_by_id, rehab_plans_for
from .models import (
    Area,
    FollowUp,
    Goal,
    Intervention,
    KvaCode,
    NeedsAssessment,
    Referral,
    RehabPlan,
)

API = AccessLog.Channel.API
Action = AccessLog.Action


class KvaCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = KvaCode
        fields = ["code", "title_sv", "valid_from", "valid_to", "note", "source"]
        read_only_fields = fields


class GoalSerializer(serializers.ModelSerializer):
    # null until evaluated (the model stores ""; the schema's enum has no "").
    evaluation = serializers.ChoiceField(
        choices=Goal.Evaluation.choices, allow_null=True, read_only=True
    )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["evaluation"] = instance.evaluation or None
        return data

    class Meta:
        model = Goal
        fields = [
            "id",
            "area",
            "text",
            "success_measure",
            "evaluation",
            "evaluated_on",
            "evaluation_note",
        ]
        read_only_fields = fields


class InterventionSerializer(serializers.ModelSerializer):
    kva = serializers.CharField(source="kva.code", help_text="KVÅ code, e.g. AU010")
    kva_title = serializers.CharField(source="kva.title_sv", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = Intervention
        fields = [
            "id",
            "area",
            "kva",
            "kva_title",
            "description",
            "profession",
            "unit",
            "unit_name",
            "starts_on",
            "ends_on",
            "status",
        ]
        read_only_fields = ["id", "kva_title", "unit_name"]


class InterventionCreateSerializer(serializers.Serializer):
    area = serializers.ChoiceField(choices=Intervention._meta.get_field("area").choices)
    kva = serializers.CharField(max_length=10, allow_blank=True, help_text="KVÅ code")
    description = serializers.CharField(max_length=300)
    profession = serializers.ChoiceField(choices=Intervention._meta.get_field("profession").choices)
    unit = serializers.PrimaryKeyRelatedField(queryset=CareUnit.objects.all())
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=Intervention.Status.choices, default=Intervention.Status.PLANNED
    )


class GoalCreateSerializer(serializers.Serializer):
    area = serializers.ChoiceField(choices=Area.choices)
    text = serializers.CharField(max_length=2000, help_text="The goal in the patient's words")
    success_measure = serializers.CharField(max_length=2000)


class GoalEvaluateSerializer(serializers.Serializer):
    goal = serializers.IntegerField(help_text="The goal's id (in this plan)")
    evaluation = serializers.ChoiceField(choices=Goal.Evaluation.choices)
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
    evaluated_on = serializers.DateField(required=False)


class FollowUpCreateSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    what = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class FollowUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUp
        fields = ["id", "due_on", "what", "done_on"]
        read_only_fields = fields


class RehabPlanSerializer(serializers.ModelSerializer):
    patient = serializers.IntegerField(source="patient_id", read_only=True)
    is_agreed = serializers.BooleanField(read_only=True)

    class Meta:
        model = RehabPlan
        fields = ["id", "care_plan", "patient", "is_agreed", "agreed_at", "updated_at"]
        read_only_fields = fields


class RehabPlanDetailSerializer(RehabPlanSerializer):
    goals = GoalSerializer(many=True, read_only=True)
    interventions = serializers.SerializerMethodField()
    follow_ups = FollowUpSerializer(many=True, read_only=True)

    class Meta(RehabPlanSerializer.Meta):
        fields = [
            *RehabPlanSerializer.Meta.fields,
            "summary_assessment",
            "timetable",
            "self_care_text",
            "goals",
            "interventions",
            "follow_ups",
        ]
        read_only_fields = fields

    def get_interventions(self, rehab: RehabPlan) -> list[dict]:
        items = rehab.interventions.select_related("kva", "unit")
        return InterventionSerializer(items, many=True).data


@extend_schema_view(
    list=extend_schema(summary="KVÅ codes in the catalogue (valid today unless ?all=1)"),
)
class KvaCodeViewSet(ApiViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = KvaCodeSerializer
    queryset = KvaCode.objects.all()

    def get_queryset(self):
        qs = KvaCode.objects.order_by("code")
        if self.request.query_params.get("all") == "1":
            return qs
        return qs.valid_on(timezone.localdate())


@extend_schema_view(
    list=extend_schema(summary="Rehabilitation plans you may see"),
    retrieve=extend_schema(
        summary="One rehabilitation plan with goals, interventions and follow-ups",
        responses={200: RehabPlanDetailSerializer, 404: NOT_FOUND},
    ),
)
class RehabPlanViewSet(ApiViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Staff: plans of their units' patients; patient: their own; relative: only with
    the ``rehab_plan`` part shared."""

    serializer_class = RehabPlanSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RehabPlan.objects.none()
        user = self.request.user
        return core_access.with_acting_unit(rehab_plans_for(user), user).order_by("id")

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda r: r.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        rehab = rehab_plan_by_id(request.user, pk)
        return Response(RehabPlanDetailSerializer(rehab).data)

    @extend_schema(
        summary="The patient marks the plan as agreed (refused without goals)",
        request=None,
        responses={200: RehabPlanDetailSerializer, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def agree(self, request: Request, pk: str, **kwargs) -> Response:
        rehab = rehab_plan_by_id(request.user, pk, write=True, action=Action.UPDATE)
        if not rehab.reach.is_self:
            raise PermissionDenied
        try:
            services.rehab_plan_agree(rehab_plan=rehab, by=request.user)
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(RehabPlanDetailSerializer(rehab).data)

    @extend_schema(
        summary="Add a KVÅ-coded intervention (care team)",
        request=InterventionCreateSerializer,
        responses={201: InterventionSerializer, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def interventions(self, request: Request, pk: str, **kwargs) -> Response:
        rehab = rehab_plan_by_id(request.user, pk, write=True, action=Action.CREATE)
        if rehab.reach.is_self:
            raise PermissionDenied
        data = InterventionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        code = KvaCode.normalize(fields.pop("kva"))
        try:
            kva = KvaCode.objects.filter(code=code).first()
            if kva is None:
                KvaCode.resolve(code)  # raises the clear message
            item = Intervention(rehab_plan=rehab, kva=kva, **fields)
            services.intervention_save(intervention=item, by=request.user, creating=True)
            services.rehab_plan_update(
                rehab_plan=rehab, by=request.user, what=f"{kva.code} {item.description}"
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(InterventionSerializer(item).data, status=status.HTTP_201_CREATED)

    def _care_team_plan(self, pk: str, action: str) -> RehabPlan:
        rehab = rehab_plan_by_id(self.request.user, pk, write=True, action=action)
        if rehab.reach.is_self:
            raise PermissionDenied
        return rehab

    @extend_schema(
        summary="Add a goal (care team)",
        request=GoalCreateSerializer,
        responses={201: GoalSerializer, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def goals(self, request: Request, pk: str, **kwargs) -> Response:
        rehab = self._care_team_plan(pk, Action.CREATE)
        body = GoalCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            goal = Goal(rehab_plan=rehab, order=rehab.goals.count(), **body.validated_data)
            goal.full_clean()
            goal.save()
            services.rehab_plan_update(rehab_plan=rehab, by=request.user, what=goal.text[:300])
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(GoalSerializer(goal).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Evaluate a goal: reached, partly or not reached (care team)",
        request=GoalEvaluateSerializer,
        responses={200: GoalSerializer, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="evaluate-goal")
    def evaluate_goal(self, request: Request, pk: str, **kwargs) -> Response:
        rehab = self._care_team_plan(pk, Action.UPDATE)
        body = GoalEvaluateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        goal = rehab.goals.filter(pk=data["goal"]).first()
        if goal is None:
            raise serializers.ValidationError({"goal": [_("No such goal in this plan.")]})
        try:
            goal = services.goal_evaluate(
                goal=goal,
                by=request.user,
                evaluation=data["evaluation"],
                note=data["note"],
                on=data.get("evaluated_on"),
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(GoalSerializer(goal).data)

    @extend_schema(
        summary="Add a follow-up date (care team)",
        request=FollowUpCreateSerializer,
        responses={201: FollowUpSerializer, 400: OpenApiResponse(), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="follow-ups")
    def follow_ups(self, request: Request, pk: str, **kwargs) -> Response:
        rehab = self._care_team_plan(pk, Action.CREATE)
        body = FollowUpCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            follow_up = FollowUp(rehab_plan=rehab, **body.validated_data)
            follow_up.full_clean()
            follow_up.save()
            services.rehab_plan_update(
                rehab_plan=rehab,
                by=request.user,
                what=f"{follow_up.due_on:%Y-%m-%d} {follow_up.what}".strip(),
                content_changed=False,
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(FollowUpSerializer(follow_up).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="FHIR R4 Bundle: CarePlan (rehabilitation), Goal, ServiceRequest/Procedure",
        responses={200: OpenApiResponse(description="A FHIR Bundle (collection)")},
    )
    @action(detail=True, methods=["get"], renderer_classes=FHIR_RENDERERS)
    def fhir(self, request: Request, pk: str, **kwargs) -> Response:
        rehab = rehab_plan_by_id(request.user, pk, action=Action.EXPORT)
        return Response(fhir.rehab_plan_bundle(rehab), content_type="application/fhir+json")


# --- Referrals -------------------------------------------------------------------------------


class ReferralSerializer(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.__str__", read_only=True)
    from_unit_name = serializers.CharField(source="from_unit.name", read_only=True)
    to_unit_name = serializers.CharField(source="to_unit.name", read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "patient",
            "patient_name",
            "assessment",
            "from_unit",
            "from_unit_name",
            "to_unit",
            "to_unit_name",
            "reason",
            "status",
            "sent_at",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields


class ReferralCreateSerializer(serializers.Serializer):
    assessment = serializers.IntegerField(help_text="The needs assessment the referral rests on.")
    to_unit = serializers.IntegerField(help_text="The rehabilitation unit referred to.")
    reason = serializers.CharField(max_length=5000)


class ReferralAcceptSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ReferralDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000)


def _decision(name: str, request_serializer) -> dict:
    return extend_schema(
        summary=name,
        request=request_serializer,
        responses={
            200: ReferralSerializer,
            400: OpenApiResponse(description="Already decided, or invalid fields."),
            403: OpenApiResponse(description="Only the receiving rehabilitation unit decides."),
            404: NOT_FOUND,
        },
    )


@extend_schema_view(
    list=extend_schema(
        summary="Referrals of your units' patients and those sent to your rehabilitation unit "
        "(staff)"
    ),
    retrieve=extend_schema(
        summary="One referral (the care team or the receiving unit)",
        responses={200: ReferralSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary="Refer to a rehabilitation unit on a needs assessment (care team)",
        request=ReferralCreateSerializer,
        responses={
            201: ReferralSerializer,
            400: OpenApiResponse(description="Invalid"),
            403: OpenApiResponse(description="Not the care team"),
            404: NOT_FOUND,
        },
    ),
    accept=_decision("Accept (the receiving rehabilitation unit)", ReferralAcceptSerializer),
    decline=_decision(
        "Decline with a reason (the receiving rehabilitation unit)", ReferralDeclineSerializer
    ),
)
class ReferralViewSet(ApiViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Staff only, as in the admin: the care team of the patient's responsible unit and
    the receiving rehabilitation unit read; the care team refers, the receiving unit
    accepts or declines (``rehab/services.py``). Every read and decision is logged."""

    serializer_class = ReferralSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Referral.objects.none()
        return referrals_for(self.request.user).order_by("-sent_at", "-id")

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        _log_page(request.user, page, patient_id_of=lambda r: r.patient_id)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str, *args, **kwargs) -> Response:
        return Response(self.get_serializer(referral_for(request.user, pk)).data)

    def create(self, request: Request, *args, **kwargs) -> Response:
        body = ReferralCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        assessment = (
            NeedsAssessment.objects.select_related("patient").filter(pk=data["assessment"]).first()
        )
        if assessment is None:
            raise serializers.ValidationError({"assessment": [_("No such needs assessment.")]})
        reach = core_access.authorize(
            request.user,
            assessment.patient,
            assessment,
            write=True,
            channel=API,
            scope=None,
            action=Action.CREATE,
        )
        if reach.is_self:
            raise PermissionDenied
        to_unit = CareUnit.objects.filter(pk=data["to_unit"]).first()
        if to_unit is None:
            raise serializers.ValidationError({"to_unit": [_("Choose a rehabilitation unit.")]})
        try:
            referral = services.referral_send(
                assessment=assessment, to_unit=to_unit, by=request.user, reason=data["reason"]
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(self.get_serializer(referral).data, status=status.HTTP_201_CREATED)

    def _decide(self, pk: str, *, accept: bool, reason: str) -> Response:
        referral = referral_for(self.request.user, pk, write=True, action=Action.UPDATE)
        try:
            referral = services.referral_decide(
                referral=referral, by=self.request.user, accept=accept, reason=reason
            )
        except DjangoValidationError as exc:
            raise _api_validation_error(exc) from exc
        return Response(self.get_serializer(referral).data)

    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str, **kwargs) -> Response:
        body = ReferralAcceptSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decide(pk, accept=True, reason=body.validated_data["reason"])

    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str, **kwargs) -> Response:
        body = ReferralDeclineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._decide(pk, accept=False, reason=body.validated_data["reason"])
