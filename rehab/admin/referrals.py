"""Referrals: the receiving rehabilitation unit sees incoming referrals and accepts or
declines them with a reason."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from careplan import access
from careplan.admin import (
    PatientRecordAdmin,
)
from careplan.admin.forms import call_service
from careplan.models import AccessLog, CareRelation

from .. import services
from ..models import (
    Referral,
)

Action = AccessLog.Action


# --- Referrals -----------------------------------------------------------------------------


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept")), ("decline", _("Decline"))],
        widget=forms.RadioSelect,
    )
    decision_reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Required when you decline."),
    )


class IncomingFilter(admin.SimpleListFilter):
    title = _("direction")
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        return [("incoming", _("Incoming to my units")), ("sent", _("Sent by my units"))]

    def queryset(self, request, queryset):
        units = access.staff_unit_ids(request.user)
        if self.value() == "incoming":
            return queryset.filter(to_unit_id__in=units)
        if self.value() == "sent":
            return queryset.filter(from_unit_id__in=units)
        return queryset


@admin.register(Referral)
class ReferralAdmin(PatientRecordAdmin):
    """Referrals my units sent (patients we are responsible for) and those sent to my
    rehabilitation unit. The receiving unit reads a referral on the basis of the
    referral itself (logged with the receiving unit as acting unit)."""

    list_display = ("patient", "from_unit", "to_unit", "status", "sent_at", "decided_at")
    list_select_related = ("patient", "from_unit", "to_unit")
    list_filter = (IncomingFilter, "status")
    readonly_fields = (
        "patient",
        "assessment_summary",
        "from_unit",
        "to_unit",
        "reason",
        "status",
        "sent_at",
        "sent_by",
        "decided_at",
        "decided_by",
        "decision_reason",
    )
    fields = readonly_fields
    change_form_template = "admin/rehab/referral/change_form.html"

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request).select_related(
            "patient", "assessment", "from_unit", "to_unit", "sent_by", "decided_by"
        )
        user = request.user
        if not access.is_care_staff(user):
            return qs.none()
        units = access.staff_unit_ids(user)
        relation = CareRelation.objects.filter(
            patient_id=OuterRef("patient"), ended_at__isnull=True, unit_id__in=units
        ).values("unit_id")[:1]
        qs = qs.annotate(
            acting_unit_id=Case(
                When(to_unit_id__in=units, then=F("to_unit_id")),
                default=Subquery(relation),
                output_field=IntegerField(),
            )
        )
        if user.is_superuser:
            return qs
        return qs.filter(
            Q(to_unit_id__in=units) | Q(patient__in=access.patients_for(user).values("pk"))
        )

    def acting_unit_of(self, request, obj) -> int | None:
        if obj.to_unit_id in access.staff_unit_ids(request.user):
            return obj.to_unit_id
        return super().acting_unit_of(request, obj)

    def can_write(self, request, obj) -> bool:
        return obj is not None and obj.to_unit_id in access.staff_unit_ids(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # decided through "Accept or decline"

    @admin.display(description=_("needs assessment"))
    def assessment_summary(self, obj: Referral) -> str:
        a = obj.assessment
        return (
            f"{a.get_level_display()} ({timezone.localtime(a.assessed_at):%Y-%m-%d}): {a.summary}"
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["can_decide"] = obj.status == Referral.Status.SENT and self.can_write(
                request, obj
            )
            context["decide_url"] = reverse("admin:rehab_referral_decide", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="rehab_referral_decide",
            ),
            *super().get_urls(),
        ]

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        object_id = unquote(object_id)
        referral = (
            self.get_queryset(request).filter(pk=object_id).first()
            if str(object_id).isdigit()
            else None
        )
        if referral is None:
            self._log_denied(request, object_id, None)
            raise Http404(gettext("No such record in your care units."))
        if not self.can_write(request, referral):
            self.log(request, referral, Action.UPDATE, allowed=False)
            raise PermissionDenied
        form = DecisionForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            accept = form.cleaned_data["decision"] == "accept"
            done = call_service(
                form,
                services.referral_decide,
                referral=referral,
                by=request.user,
                accept=accept,
                reason=form.cleaned_data["decision_reason"],
            )
            if done is not None:
                self.log(request, referral, Action.UPDATE)
                self.message_user(
                    request,
                    gettext("The referral was accepted.")
                    if accept
                    else gettext("The referral was declined."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self.change_url(referral))
        self.log(request, referral, Action.VIEW)
        return self.render_form_page(
            request,
            form=form,
            title=gettext("Accept or decline the referral"),
            submit_label=gettext("Save decision"),
            obj=referral,
            intro=f"{referral.patient} ({referral.patient.personnummer_masked}): {referral.reason}",
        )
