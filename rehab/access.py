"""Access to rehabilitation plans, over ``careplan.access`` (same rules, same log).

A relative reaches a rehab plan only with the ``rehab_plan`` scope; staff through the
care relation; the patient always. One access-log row per call for anyone but the
patient, denied attempts too.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from careplan import access
from careplan.models import AccessLog, CarePlan
from contacts.models import Scope

from .models import RehabPlan


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
