"""Patient and relative web: the rehabilitation plan inside the care plan.

The patient reads it and marks it as agreed; a relative reads it only with the
``rehab_plan`` scope; staff may look too (and are logged). Reached through
``rehab/access.py`` (one access-log row per request for anyone but the patient).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from careplan import access
from careplan.forms import submission_field
from careplan.models import AccessLog, CarePlan, Role
from careplan.views import Shared

from . import pdf, services
from .access import rehab_plan_for
from .models import Area, RehabPlan, RehabPlanComment

Action = AccessLog.Action


class CommentForm(forms.Form):
    """The patient's comment or question on the plan. Emptiness and length are checked by
    the service (one message for web and API); the browser's maxlength only helps."""

    submission = submission_field()
    text = forms.CharField(
        label=gettext_lazy("Your comment or question"),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": RehabPlanComment.MAX_LENGTH}),
        strip=False,
        required=False,
        help_text=lazy(
            lambda: (
                _("Your care team reads it and answers here. At most %(max)s characters.")
                % {"max": RehabPlanComment.MAX_LENGTH}
            ),
            str,
        )(),
    )


def _rehab_context(
    plan, rehab: RehabPlan | None, *, comment_form: CommentForm | None = None
) -> dict:
    ctx = {"plan": plan, "patient": plan.patient, "shared": Shared.of(plan.reach), "rehab": rehab}
    if rehab is None:
        return ctx
    if plan.reach.is_self:
        ctx["comment_form"] = comment_form or CommentForm()
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
        comments=list(rehab.comments.all()),
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


def _refuse_staff(user, care_plan_pk) -> None:
    """Staff answer comments in the admin, never write one as the patient: a denied row
    (403 for the patient's care team, 404 for anyone else)."""
    plan = CarePlan.objects.select_related("patient").filter(pk=care_plan_pk).first()
    if plan is None:
        raise Http404
    r = access.reach(user, plan.patient)
    access.log_access(
        user=user,
        patient=plan.patient,
        obj=plan,
        action=Action.CREATE,
        allowed=False,
        channel=AccessLog.Channel.WEB,
        reach_=r,
    )
    raise PermissionDenied if r.allowed else Http404


@require_POST
@login_required
def rehab_plan_comment(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient sends a comment or question on the plan. Relatives with the rehab
    scope read the comments but get 403 here; staff answer in the admin (403 here)."""
    if request.user.role == Role.STAFF:
        _refuse_staff(request.user, pk)
    plan, rehab = rehab_plan_for(request.user, pk, write=True, action=Action.CREATE)
    if rehab is None:
        raise Http404
    if not plan.reach.is_self:
        raise PermissionDenied
    form = CommentForm(request.POST)
    comment = None
    if form.is_valid():
        try:
            comment = services.rehab_plan_comment_create(
                rehab_plan=rehab,
                by=request.user,
                text=form.cleaned_data["text"],
                submission_key=form.cleaned_data.get("submission"),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc.messages)
    if comment is not None:
        notice = _("Thank you. Your care team has your comment and will answer here.")
        if request.htmx:
            ctx = {**_rehab_context(plan, rehab), "comment_notice": notice}
            return render(request, "rehab/rehab_plan.html#comments", ctx)
        messages.success(request, notice)
        return redirect(f"{reverse('rehab_plan', args=[plan.pk])}#comments")
    ctx = _rehab_context(plan, rehab, comment_form=form)
    if request.htmx:
        return render(request, "rehab/rehab_plan.html#comments", ctx)
    return render(request, "rehab/rehab_plan.html", ctx, status=400)
