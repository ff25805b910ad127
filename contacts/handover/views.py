"""The patient's part of a handover on the web: needs and wishes, added to a draft."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from careplan import access
from careplan.models import AccessLog

from . import access as handover_access
from . import services


class NeedsForm(forms.Form):
    needs_and_wishes = forms.CharField(
        label=gettext_lazy("My needs and wishes"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "What the new unit should know: what matters to you, what you need, what you wish for."
        ),
    )


@require_http_methods(["GET", "POST"])
@login_required
def handover_needs(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient adds needs and wishes to a draft handover (the sending unit's staff
    may too; anyone without a basis gets a 404, logged)."""
    handover = handover_access.handover_for(
        request.user,
        pk,
        write=request.method == "POST",
        channel=AccessLog.Channel.WEB,
    )
    plan = access.current_plan_for_patient_user(request.user)
    form = NeedsForm(
        request.POST if request.method == "POST" else None,
        initial={"needs_and_wishes": handover.needs_and_wishes},
    )
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                services.handover_update(
                    handover=handover,
                    by=request.user,
                    needs_and_wishes=form.cleaned_data["needs_and_wishes"],
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, _("Saved. The new unit will read it with the handover."))
                return redirect("plan_detail", plan.pk) if plan else redirect("home")
        status = 400
    return render(
        request,
        "contacts/handover_needs.html",
        {"handover": handover, "form": form, "plan": plan},
        status=status,
    )
