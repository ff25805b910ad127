"""Needs assessments: a form with the latest screening results and a suggested level
beside it; advanced needs are referred to a rehabilitation unit in the same step."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from careplan import access
from careplan.admin import (
    STAFF,
    PatientRecordAdmin,
)
from careplan.admin.forms import PatientChoiceField, call_service
from careplan.models import AccessLog, CareUnit, Patient

from .. import services
from ..models import (
    AssessmentReason,
    Level,
    NeedsAssessment,
)

Action = AccessLog.Action


# --- Needs assessment ---------------------------------------------------------------------


class AssessmentForm(forms.Form):
    patient = PatientChoiceField(queryset=Patient.objects.none(), label=_("Patient"))
    level = forms.ChoiceField(
        label=_("Level"),
        choices=[("", "---------"), *Level.choices],
        error_messages={
            "invalid_choice": _("Choose one of the three levels: basic, particular or advanced."),
            "required": _("Choose the level of the patient's needs."),
        },
    )
    reason = forms.ChoiceField(
        label=_("Occasion"), choices=AssessmentReason.choices, initial=AssessmentReason.INITIAL
    )
    needs_physical = forms.CharField(
        label=_("Physical needs"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    needs_psychological = forms.CharField(
        label=_("Psychological needs"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    needs_social = forms.CharField(
        label=_("Social needs"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    needs_existential = forms.CharField(
        label=_("Existential needs"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    summary = forms.CharField(
        label=_("Summary"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write a summary of the assessment.")},
    )
    refer_to = forms.ModelChoiceField(
        label=_("Refer to rehabilitation unit"),
        queryset=CareUnit.objects.filter(kind=CareUnit.Kind.REHABILITATION),
        required=False,
        help_text=_("Required for advanced needs."),
    )
    referral_reason = forms.CharField(
        label=_("Reason for referral"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, patients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients

    def clean(self):
        data = super().clean()
        if data.get("level") == Level.AVANCERAD:
            if not data.get("refer_to"):
                self.add_error(
                    "refer_to", _("Advanced needs: choose the rehabilitation unit to refer to.")
                )
            if not (data.get("referral_reason") or "").strip():
                self.add_error("referral_reason", _("Write the reason for the referral."))
        return data


@admin.register(NeedsAssessment)
class NeedsAssessmentAdmin(PatientRecordAdmin):
    """Assessments are records: made new when needs change, never edited."""

    add_by = STAFF
    list_display = ("patient", "level", "reason", "kva", "assessed_at", "assessed_by", "unit")
    list_select_related = ("patient", "kva", "assessed_by", "unit")
    list_filter = ("level", "reason")
    search_fields = ("patient__first_name", "patient__last_name")
    readonly_fields = (
        "patient",
        "plan",
        "plan_phase",
        "unit",
        "level",
        "suggested_level",
        "reason",
        "kva",
        "needs_physical",
        "needs_psychological",
        "needs_social",
        "needs_existential",
        "summary",
        "assessed_at",
        "assessed_by",
    )

    def get_queryset(self, request):
        # PatientRecordAdmin already selects the patient, so the changelist skips
        # list_select_related: name the rest here.
        return super().get_queryset(request).select_related("kva", "assessed_by", "unit")

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        patients = access.patients_for(request.user)
        data = request.POST if request.method == "POST" else None
        initial = {}
        patient = None
        chosen = (data or request.GET).get("patient")
        if chosen and str(chosen).isdigit():
            patient = patients.filter(pk=int(chosen)).first()
            if patient is None:
                other = Patient.objects.filter(pk=int(chosen)).first()
                if other is not None:
                    self._log_patient(request, other, allowed=False)
            else:
                initial["patient"] = patient.pk
                reason = request.GET.get("reason")
                if reason in AssessmentReason.values:
                    initial["reason"] = reason
        form = AssessmentForm(data, patients=patients, initial=initial)
        screening = services.latest_screening(patient) if patient else []
        suggestion = services.suggest_level(screening) if patient else None
        if form.is_bound and form.is_valid():
            d = form.cleaned_data
            assessment = call_service(
                form,
                self._record,
                by=request.user,
                data=d,
                suggested_level=suggestion.level if suggestion else "",
            )
            if assessment is not None:
                self.log(request, assessment, Action.CREATE)
                self.message_user(
                    request,
                    gettext("The assessment was recorded (KVÅ %(code)s).")
                    % {"code": assessment.kva.code},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self.change_url(assessment))
        elif form.is_bound:
            self.log_refused_patient(request, form)
        if patient is not None:
            self._log_patient(request, patient, allowed=True)
        self.log_choices(request, form)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Assess rehabilitation needs"),
            "submit_label": gettext("Record the assessment"),
            "form": form,
            "patient": patient,
            "screening": screening,
            "suggestion": suggestion,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/rehab/assessment_form.html", context)

    @staticmethod
    def _log_patient(request: HttpRequest, patient: Patient, *, allowed: bool) -> None:
        """The form shows the patient's screening results: a read of the record."""
        access.log_access(
            user=request.user,
            patient=patient,
            obj=patient,
            action=Action.VIEW,
            allowed=allowed,
            channel=AccessLog.Channel.ADMIN,
            reach_=access.reach(request.user, patient) if allowed else None,
        )

    @staticmethod
    @transaction.atomic
    def _record(*, by, data, suggested_level) -> NeedsAssessment:
        """Assessment and referral together, or neither."""
        assessment = services.assessment_record(
            patient=data["patient"],
            by=by,
            level=data["level"],
            summary=data["summary"],
            reason=data["reason"],
            suggested_level=suggested_level,
            needs={
                area: data.get(field, "") for area, field in NeedsAssessment.NEED_FIELDS.items()
            },
        )
        if data.get("refer_to"):
            services.referral_send(
                assessment=assessment,
                to_unit=data["refer_to"],
                by=by,
                reason=data.get("referral_reason", ""),
            )
        return assessment
