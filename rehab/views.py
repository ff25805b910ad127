"""Patient and relative web: the rehabilitation plan inside the care plan.

The patient reads it and marks it as agreed; a relative reads it only with the
``rehab_plan`` scope; staff may look too (and are logged). Reached through
``rehab/access.py`` (one access-log row per request for anyone but the patient).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from careplan.models import AccessLog
from careplan.views import Shared

from . import pdf, services
from .access import rehab_plan_for
from .models import Area, RehabPlan

Action = AccessLog.Action


def _rehab_context(plan, rehab: RehabPlan | None) -> dict:
    ctx = {"plan": plan, "patient": plan.patient, "shared": Shared.of(plan.reach), "rehab": rehab}
    if rehab is None:
        return ctx
    goals = list(rehab.goals.all())
    interventions = list(rehab.interventions.select_related("kva", "unit"))
    advice = list(rehab.self_care_advice.filter(is_active=True))
    by_area = []
    for area in Area:
        items = [a for a in advice if a.area == area]
        if items:
            by_area.append((area.label, items))
    ctx.update(
        goals=goals,
        interventions=interventions,
        advice_by_area=by_area,
        follow_ups=list(rehab.follow_ups.all()),
    )
    return ctx


@require_GET
@login_required
def rehab_plan(request: HttpRequest, pk: int) -> HttpResponse:
    plan, rehab = rehab_plan_for(request.user, pk)
    return render(request, "rehab/rehab_plan.html", _rehab_context(plan, rehab))


@require_POST
@login_required
def rehab_plan_agree(request: HttpRequest, pk: int) -> HttpResponse:
    plan, rehab = rehab_plan_for(request.user, pk, write=True, action=Action.UPDATE)
    if rehab is None or not plan.reach.is_self:
        raise PermissionDenied
    try:
        services.rehab_plan_agree(rehab_plan=rehab, by=request.user)
    except ValidationError as exc:
        ctx = {**_rehab_context(plan, rehab), "agree_error": " ".join(exc.messages)}
        template = "rehab/rehab_plan.html#agree" if request.htmx else "rehab/rehab_plan.html"
        return render(request, template, ctx, status=400 if not request.htmx else 200)
    notice = _("Thank you. The rehabilitation plan is marked as agreed.")
    if request.htmx:
        return render(
            request,
            "rehab/rehab_plan.html#agree",
            {**_rehab_context(plan, rehab), "notice": notice},
        )
    messages.success(request, notice)
    return redirect("rehab_plan", pk=plan.pk)


@require_GET
@login_required
def rehab_plan_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    plan, rehab = rehab_plan_for(
        request.user, pk, channel=AccessLog.Channel.PDF, action=Action.PRINT
    )
    if rehab is None:
        return redirect("rehab_plan", pk=plan.pk)
    data = pdf.rehab_plan_pdf(rehab, language=get_language() or "sv")
    response = HttpResponse(data, content_type="application/pdf")
    stem = _("rehabilitation-plan")
    filename = f"{stem}-{timezone.localdate():%Y-%m-%d}.pdf"
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response
