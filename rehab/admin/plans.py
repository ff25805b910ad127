"""Rehabilitation plans (goals, KVÅ-coded interventions, follow-ups, self-care advice,
history, the patient's PDF, reports per unit and period with CSV export) and the
patient's comments on them."""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from careplan import access
from careplan.admin import (
    STAFF,
    PatientRecordAdmin,
    RecordInline,
)
from careplan.admin.forms import DATE_INPUT, PlanChoiceField
from careplan.models import AccessLog, CarePlan, CareUnit

from .. import services
from ..models import (
    AssessmentReason,
    FollowUp,
    Goal,
    Intervention,
    KvaCode,
    RehabPlan,
    RehabPlanHistory,
    SelfCareAdvice,
)
from .catalogues import KvaSearchInput

Action = AccessLog.Action


# --- The rehabilitation plan ---------------------------------------------------------------


class GoalInline(RecordInline, admin.StackedInline):
    model = Goal
    fields = (
        ("area", "order"),
        "text",
        "success_measure",
        ("evaluation", "evaluated_on"),
        "evaluation_note",
    )
    extra = 1
    add_by = change_by = delete_by = STAFF
    formfield_overrides = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "evaluated_on":
            kwargs["widget"] = DATE_INPUT
        if db_field.name in ("text", "success_measure", "evaluation_note"):
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class KvaField(forms.CharField):
    """A KVÅ code typed as text; the catalogue row comes back (validity is checked
    against the intervention's start date by ``Intervention.clean``)."""

    default_error_messages = {"required": _("Give a KVÅ code.")}

    def clean(self, value):
        value = super().clean(value)
        # A suggestion may be picked as "AW019 Title": the code is the first word.
        code = KvaCode.normalize((value or "").split(" ", 1)[0])
        row = KvaCode.objects.filter(code=code).first()
        if row is None:
            raise ValidationError(
                _("%(code)s is not a KVÅ code in the catalogue.") % {"code": code}
            )
        return row


class InterventionForm(forms.ModelForm):
    kva = KvaField(label=_("KVÅ code"), max_length=300, widget=KvaSearchInput)

    class Meta:
        model = Intervention
        fields = (
            "area",
            "kva",
            "description",
            "profession",
            "unit",
            "starts_on",
            "ends_on",
            "status",
        )
        widgets = {"starts_on": DATE_INPUT, "ends_on": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.kva_id:
            self.initial["kva"] = self.instance.kva.code


class InterventionInline(RecordInline, admin.StackedInline):
    model = Intervention
    form = InterventionForm
    fields = (
        ("area", "kva"),
        "description",
        ("profession", "unit"),
        ("starts_on", "ends_on", "status"),
    )
    extra = 1
    add_by = change_by = delete_by = STAFF

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("kva", "unit")

    def get_formset(self, request, obj=None, **kwargs):
        """The performing unit: one ``services.intervention_units`` allows (the staff's
        own units without a plan yet), or one this plan already names."""
        formset = super().get_formset(request, obj, **kwargs)
        if obj is None:
            units = request.user.care_units.all()
        else:
            units = services.intervention_units(patient=obj.patient, by=request.user) | (
                CareUnit.objects.filter(pk__in=obj.interventions.values("unit_id"))
            )
        formset.form.base_fields["unit"].queryset = units.distinct().order_by("name")
        return formset


class FollowUpInline(RecordInline, admin.TabularInline):
    model = FollowUp
    fields = ("due_on", "what", "done_on")
    extra = 1
    add_by = change_by = delete_by = STAFF

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("due_on", "done_on"):
            kwargs["widget"] = DATE_INPUT
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class HistoryInline(RecordInline, admin.TabularInline):
    model = RehabPlanHistory
    fields = ("at", "by", "what")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


class RehabPlanForm(forms.ModelForm):
    class Meta:
        model = RehabPlan
        fields = (
            "care_plan",
            "summary_assessment",
            "timetable",
            "self_care_advice",
            "self_care_text",
        )
        widgets = {"self_care_advice": forms.CheckboxSelectMultiple}


class ReportForm(forms.Form):
    unit = forms.ModelChoiceField(queryset=CareUnit.objects.none(), label=_("Unit"))
    start = forms.DateField(label=_("From"), widget=DATE_INPUT)
    end = forms.DateField(label=_("To"), widget=DATE_INPUT)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The period cannot end before it starts."))
        return data


@admin.register(RehabPlan)
class RehabPlanAdmin(PatientRecordAdmin):
    add_by = change_by = STAFF
    form = RehabPlanForm
    change_form_template = "admin/rehab/rehabplan/change_form.html"
    change_list_template = "admin/rehab/rehabplan/change_list.html"
    list_display = ("patient", "care_plan", "agreed_display", "updated_at")
    list_select_related = ("patient", "care_plan")
    search_fields = ("patient__first_name", "patient__last_name")
    inlines = [GoalInline, InterventionInline, FollowUpInline, HistoryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("care_plan")

    def get_readonly_fields(self, request, obj=None):
        return ("care_plan", "agreed_at") if obj is not None else ()

    def get_fields(self, request, obj=None):
        fields = [
            "care_plan",
            "summary_assessment",
            "timetable",
            "self_care_advice",
            "self_care_text",
        ]
        return [*fields, "agreed_at"] if obj is not None else fields

    def get_inlines(self, request, obj):
        # Goals and interventions can be filled in on the first save; the history only
        # exists once the plan does.
        return self.inlines if obj is not None else [GoalInline, InterventionInline, FollowUpInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "care_plan":
            plans = (
                access.plans_for(request.user)
                .exclude(status=CarePlan.Status.CLOSED)
                .filter(rehab_plan__isnull=True)
                .select_related("patient")
            )
            return db_field.formfield(form_class=PlanChoiceField, queryset=plans)
        if db_field.name == "self_care_advice":
            kwargs["queryset"] = SelfCareAdvice.objects.filter(is_active=True)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("agreed"), boolean=True)
    def agreed_display(self, obj: RehabPlan) -> bool:
        return obj.agreed_at is not None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["pdf_url"] = reverse("rehab_plan_pdf", args=[obj.care_plan_id])
            # Needs changed: a new assessment (the old ones are kept).
            context["reassess_url"] = (
                reverse("admin:rehab_needsassessment_add")
                + f"?patient={obj.patient_id}&reason={AssessmentReason.NEEDS_CHANGED}"
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_record(self, request, obj, form, change) -> None:
        with translation.override(obj.care_plan.patient.language):
            if change:
                obj.save()
                return
            created = services.rehab_plan_create(
                care_plan=obj.care_plan,
                by=request.user,
                summary_assessment=obj.summary_assessment,
                timetable=obj.timetable,
                self_care_text=obj.self_care_text,
            )
        obj.pk = created.pk
        obj._state = created._state
        obj.patient = created.patient

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            return
        changed = form.has_changed() or any(fs.has_changed() for fs in formsets)
        if changed:
            with translation.override(form.instance.patient.language):
                services.rehab_plan_update(
                    rehab_plan=form.instance, by=request.user, content_changed=True
                )

    # --- reports

    def get_urls(self):
        return [
            path(
                "reports/",
                self.admin_site.admin_view(self.report_view),
                name="rehab_rehabplan_report",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not access.is_care_staff(request.user):
            raise PermissionDenied
        units = CareUnit.objects.filter(pk__in=access.staff_unit_ids(request.user))
        today = timezone.localdate()
        form = ReportForm(
            request.GET or None,
            units=units,
            initial={"start": today.replace(month=1, day=1), "end": today},
        )
        report = None
        if form.is_bound and form.is_valid():
            d = form.cleaned_data
            report = services.unit_report(unit=d["unit"], start=d["start"], end=d["end"])
            if request.GET.get("format") == "csv":
                return self._csv(request, report)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Rehabilitation report"),
            "form": form,
            "report": report,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/rehab/report.html", context)

    def _csv(self, request: HttpRequest, report: services.Report) -> HttpResponse:
        """The register export: aggregates only (no personal data); one access-log row
        per patient counted, action ``export``."""
        name = str(request.user)[:300]
        AccessLog.objects.bulk_create(
            AccessLog(
                user=request.user,
                user_name=name,
                role=request.user.role,
                acting_unit_id=report.unit.pk,
                basis=AccessLog.Basis.CARE_RELATION,
                patient_id=pid,
                object_type="RehabReport",
                object_id="",
                action=Action.EXPORT,
                outcome=AccessLog.Outcome.ALLOWED,
                channel=AccessLog.Channel.ADMIN,
            )
            for pid in report.patient_ids
        )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="rehab-{report.unit.hsa_id}-{report.start}-{report.end}.csv"'
        )
        writer = csv.writer(response)
        writer.writerows(report.csv_rows())
        return response
