"""The care team's rehabilitation work in the admin, over ``careplan.admin``'s
``PatientRecordAdmin`` (unit-scoped querysets, one access-log row per access).

- Needs assessments: a form with the latest screening results and a suggested level
  beside it; advanced needs are referred to a rehabilitation unit in the same step.
- Rehabilitation plans: goals, KVÅ-coded interventions, follow-ups, self-care advice,
  history; the patient's PDF; reports per unit and period with CSV export.
- Referrals: the receiving rehabilitation unit sees incoming referrals and accepts or
  declines them with a reason.
- The KVÅ catalogue and the self-care advice library (read by staff, kept by superusers).
"""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from careplan import access
from careplan.admin import (
    STAFF,
    SUPERUSER,
    PatientRecordAdmin,
    RecordInline,
    RoleAdminMixin,
)
from careplan.admin.forms import DATE_INPUT, PatientChoiceField, PlanChoiceField, call_service
from careplan.admin.translations import LacksReviewFilter, TranslationReviewMixin
from careplan.models import AccessLog, CarePlan, CareRelation, CareUnit, Patient

from . import (
    comment_admin,  # noqa: F401  (registers the comments' admin)
    services,
)
from .models import (
    AssessmentReason,
    FollowUp,
    Goal,
    Intervention,
    KvaCode,
    Level,
    NeedsAssessment,
    Referral,
    RehabPlan,
    RehabPlanHistory,
    SelfCareAdvice,
)

Action = AccessLog.Action


# --- Catalogues ---------------------------------------------------------------------------


@admin.register(KvaCode)
class KvaCodeAdmin(RoleAdminMixin, admin.ModelAdmin):
    """The KVÅ catalogue: read by the care team; ``manage.py import_kva`` keeps it."""

    add_by = change_by = SUPERUSER
    list_display = ("code", "title_sv", "valid_from", "valid_to", "source")
    search_fields = ("code", "title_sv")
    list_filter = ("valid_to",)

    def get_urls(self):
        return [
            path(
                "search/",
                self.admin_site.admin_view(self.search_view),
                name="rehab_kvacode_search",
            ),
            *super().get_urls(),
        ]

    def search_view(self, request: HttpRequest) -> HttpResponse:
        """``?q=`` → codes valid today whose code starts with, or whose title contains,
        the text (at most 20, by code). Catalogue data only, no patient data."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse({"results": kva_search(request.GET.get("q", ""))})


def kva_search(text: str, *, limit: int = 20) -> list[dict]:
    text = (text or "").strip()
    if len(text) < 2:
        return []
    code = KvaCode.normalize(text)
    rows = (
        KvaCode.objects.valid_on(timezone.localdate())
        .filter(Q(code__startswith=code) | Q(title_sv__icontains=text))
        .order_by("code")
        .values_list("code", "title_sv")[:limit]
    )
    return [{"code": c, "title": t} for c, t in rows]


class KvaSearchInput(forms.TextInput):
    """The code as text (works without JavaScript, typed codes get a clear error), with
    suggestions from the catalogue as one types (``rehab/kva-search.js``: code or title,
    retired codes left out)."""

    class Media:
        js = ["rehab/kva-search.js"]

    def get_context(self, name, value, attrs):
        attrs = {
            **(attrs or {}),
            "list": "kva-options",
            "autocomplete": "off",
            "data-kva-search": reverse("admin:rehab_kvacode_search"),
            "placeholder": gettext("Code or words, e.g. AW019 or fatigue"),
        }
        return super().get_context(name, value, attrs)


@admin.register(SelfCareAdvice)
class SelfCareAdviceAdmin(TranslationReviewMixin, RoleAdminMixin, admin.ModelAdmin):
    add_by = change_by = delete_by = SUPERUSER
    list_display = ("title_sv", "area", "is_active", "language_versions")
    list_filter = ("area", "is_active", LacksReviewFilter)
    readonly_fields = ("language_versions",)
    search_fields = ("title_sv", "title_en")


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
