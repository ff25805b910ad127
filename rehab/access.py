"""Access to rehabilitation plans, over ``careplan.access`` (same rules, same log).

A relative reaches a rehab plan only with the ``rehab_plan`` scope; staff through the
care relation; the patient always. One access-log row per call for anyone but the
patient, denied attempts too.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.http import Http404

from careplan import access
from careplan.models import AccessLog, CarePlan, CareRelation, Role, Scope

from .models import Referral, RehabPlan


def rehab_plans_for(user) -> QuerySet[RehabPlan]:
    """Rehab plans a user may list (relatives: only with the rehab_plan scope)."""
    return RehabPlan.objects.filter(patient__in=access.patients_for(user, scope=Scope.REHAB_PLAN))


def rehab_plan_for(
    user,
    care_plan_pk,
    *,
    write: bool = False,
    channel: str = AccessLog.Channel.WEB,
    action: str | None = None,
) -> tuple[CarePlan, RehabPlan | None]:
    """The care plan (with ``.reach``) and its rehab plan (None if not made yet).

    The row logged names the rehab plan when there is one, else the care plan."""
    plan = CarePlan.objects.select_related("patient").filter(pk=care_plan_pk).first()
    if plan is None:
        raise Http404
    rehab = RehabPlan.objects.select_related("patient", "care_plan").filter(care_plan=plan).first()
    plan.reach = access.authorize(
        user,
        plan.patient,
        rehab or plan,
        write=write,
        channel=channel,
        scope=Scope.REHAB_PLAN,
        action=action,
    )
    if rehab is not None:
        rehab.care_plan = plan
        rehab.patient = plan.patient
        rehab.reach = plan.reach
    return plan, rehab


def rehab_plan_by_id(
    user,
    pk,
    *,
    write: bool = False,
    channel: str = AccessLog.Channel.API,
    action: str | None = None,
) -> RehabPlan:
    """A rehab plan by its own id (the API), with ``.reach``; same checks and log row."""
    care_plan_id = RehabPlan.objects.filter(pk=pk).values_list("care_plan_id", flat=True).first()
    if care_plan_id is None:
        raise Http404
    _plan, rehab = rehab_plan_for(user, care_plan_id, write=write, channel=channel, action=action)
    return rehab


# --- Referrals -------------------------------------------------------------------------------


def referrals_for(user) -> QuerySet[Referral]:
    """Referrals staff may list (as the admin lists them): those of the patients their
    units are responsible for, and those sent to their rehabilitation unit. Each row
    carries ``acting_unit_id`` (the receiving unit, else the responsible one) for the
    log. Nobody else lists referrals."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.STAFF:
        return Referral.objects.none()
    units = access.staff_unit_ids(user)
    relation = CareRelation.objects.filter(
        patient_id=OuterRef("patient"), ended_at__isnull=True, unit_id__in=units
    ).values("unit_id")[:1]
    return (
        Referral.objects.filter(
            Q(to_unit_id__in=units) | Q(patient__in=access.patients_for(user).values("pk"))
        )
        .annotate(
            acting_unit_id=Case(
                When(to_unit_id__in=units, then=F("to_unit_id")),
                default=Subquery(relation),
                output_field=IntegerField(),
            )
        )
        .select_related("patient", "from_unit", "to_unit")
    )


def referral_for(
    user,
    pk,
    *,
    write: bool = False,
    channel: str = AccessLog.Channel.API,
    action: str | None = None,
) -> Referral:
    """One referral, for the receiving rehabilitation unit (on the basis of the referral
    itself, logged with that unit as acting unit) or the responsible unit's care team
    (``access.authorize``). The patient and relatives read it through the care plan, not
    here: 404. Only the receiving unit writes (decides): the care team 403, others 404.
    One access-log row, denied attempts too."""
    referral = (
        Referral.objects.select_related("patient", "assessment", "from_unit", "to_unit")
        .filter(pk=pk)
        .first()
    )
    if referral is None:
        raise Http404
    action = action or (AccessLog.Action.UPDATE if write else AccessLog.Action.VIEW)
    units = access.staff_unit_ids(user)
    referral.receiving = referral.to_unit_id in units
    if referral.receiving:
        access.log_access(
            user=user,
            patient=referral.patient,
            obj=referral,
            action=action,
            allowed=True,
            channel=channel,
            reach_=access.Reach(
                allowed=True,
                basis=AccessLog.Basis.CARE_RELATION,
                acting_unit_id=referral.to_unit_id,
                write=True,
            ),
        )
        return referral
    if write:
        # Only the receiving unit writes (decides): the care team gets 403, others 404.
        r = access.reach(user, referral.patient)
        access.log_access(
            user=user,
            patient=referral.patient,
            obj=referral,
            action=action,
            allowed=False,
            channel=channel,
            reach_=r,
        )
        if r.allowed and user.role == Role.STAFF:
            raise PermissionDenied
        raise Http404
    if getattr(user, "is_authenticated", False) and user.role != Role.STAFF:
        access.log_access(
            user=user,
            patient=referral.patient,
            obj=referral,
            action=action,
            allowed=False,
            channel=channel,
        )
        raise Http404
    access.authorize(
        user, referral.patient, referral, write=False, channel=channel, scope=None, action=action
    )
    return referral
