"""Care plans, their sections and calendar, the units' own links and the plan templates."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .. import access, selectors, services
from ..models import (
    CalendarEvent,
    CarePlan,
    CareUnit,
    PlanChange,
    PlanSection,
    PlanTemplate,
    PlanTemplateSection,
    UnitLink,
)
from .base import (
    STAFF,
    SUPERUSER,
    Action,
    PatientRecordAdmin,
    RecordInline,
    RoleAdminMixin,
    plan_pdf_url,
)
from .filters import WhenFilter
from .forms import (
    CalendarEventForm,
    CarePlanChangeForm,
    PlanChoiceField,
    PlanCreateForm,
    PlanSectionForm,
    call_service,
)
from .translations import LacksReviewFilter, TranslationReviewMixin


class PlanSectionInline(RecordInline, admin.StackedInline):
    """The plan's sections, individualised by the nurse (``services.plan_update``)."""

    model = PlanSection
    form = PlanSectionForm
    fields = ("title_sv", "title_en", "personal_note", "body_sv", "body_en", "version")
    extra = 0
    can_delete = False
    change_by = STAFF
    classes = ["collapse"]


class CalendarEventInline(RecordInline, admin.TabularInline):
    """The plan's calendar (``services.event_create``/``event_update``/``event_delete``)."""

    model = CalendarEvent
    form = CalendarEventForm
    fields = ("kind", "title", "starts_at", "ends_at", "location", "added_by", "submission")
    readonly_fields = ("added_by",)
    extra = 1
    # Deleting asks first: from the entry's own page (the admin's confirmation page).
    add_by = change_by = STAFF
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    @admin.display(description=_("added by"))
    def added_by(self, obj: CalendarEvent) -> str:
        return obj.added_by_label() if obj.created_by_id else "–"


class PlanChangeInline(RecordInline, admin.TabularInline):
    """The plan's history as the patient sees it, newest first."""

    model = PlanChange
    fields = ("at", "by", "what")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-at", "-id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


@admin.register(CarePlan)
class CarePlanAdmin(PatientRecordAdmin):
    add_by = change_by = STAFF
    form = CarePlanChangeForm
    change_form_template = "admin/careplan/careplan/change_form.html"
    list_display = ("title", "patient", "phase", "status", "established_on", "updated_at")
    list_select_related = ("patient",)
    list_filter = ("status", "phase")
    search_fields = ("title", "patient__first_name", "patient__last_name")
    readonly_fields = ("patient_display", "template", "created_by", "created_at")
    fieldsets = [
        (
            None,
            {"fields": ("patient_display", "title", "diagnosis", "phase", "status", "version")},
        ),
        (
            _("Register dates"),
            {"fields": ("contact_nurse_offered_on", "established_on", "template")},
        ),
        (_("After treatment"), {"fields": ("followup_plan", "treatment_summary")}),
        (_("Record"), {"fields": ("created_by", "created_at")}),
    ]
    inlines = [PlanSectionInline, CalendarEventInline, PlanChangeInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("template", "created_by")

    @admin.display(description=_("patient"))
    def patient_display(self, obj: CarePlan) -> str:
        patient = obj.patient
        return format_html(
            '<a href="{}">{}</a> ({})',
            reverse("admin:careplan_patient_change", args=[patient.pk]),
            patient,
            patient.personnummer_masked,
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["pdf_url"] = plan_pdf_url(obj)
            context["can_establish"] = obj.status == CarePlan.Status.DRAFT and (
                self.has_change_permission(request, obj)
            )
            context["establish_url"] = reverse("admin:careplan_careplan_establish", args=[obj.pk])
            context["reader_language"] = obj.patient.get_language_display()
            context["translation_gaps"] = selectors.plan_translation_gaps(obj, obj.patient.language)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_record(self, request, obj, form, change) -> None:
        """Nothing yet: the plan and its sections are saved together in ``save_related``
        through ``services.plan_update`` (one version check, one history, one notice)."""

    def save_related(self, request, form, formsets, change):
        plan: CarePlan = form.instance
        sections: list[services.SectionEdit] = []
        for formset in formsets:
            if formset.model is PlanSection:
                formset.save(commit=False)  # the admin's change message reads its lists
                sections += [
                    services.SectionEdit(
                        section=f.instance,
                        fields={n: f.cleaned_data[n] for n in f.changed_data if n != "version"},
                        version=f.cleaned_data.get("version"),
                    )
                    for f in formset.forms
                    if f.instance.pk and f.has_changed()
                ]
        # The forms checked the versions under the plan's lock (``CarePlanChangeForm``,
        # ``PlanSectionForm``); the service checks them again and writes only real changes.
        services.plan_update(
            plan=plan,
            by=request.user,
            fields={n: form.cleaned_data[n] for n in form.changed_data if n != "version"},
            version=form.cleaned_data.get("version"),
            sections=sections,
        )
        with translation.override(plan.patient.language):
            for formset in formsets:
                if formset.model is CalendarEvent:
                    formset.save(commit=False)
                    keys = {
                        id(f.instance): f.cleaned_data.get("submission")
                        for f in formset.forms
                        if hasattr(f, "cleaned_data")
                    }
                    for event in formset.deleted_objects:
                        services.event_delete(event=event, by=request.user)
                    for event in formset.new_objects:
                        services.event_create(
                            event=event, by=request.user, submission_key=keys.get(id(event))
                        )
                    for event, _changed in formset.changed_objects:
                        services.event_update(event=event, by=request.user)
                elif formset.model is not PlanSection:
                    self.save_formset(request, form, formset, change)

    # --- "Create plan from template" and "Establish plan"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/establish/",
                self.admin_site.admin_view(require_POST(self.establish_view)),
                name="careplan_careplan_establish",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PlanCreateForm(
            request.POST if request.method == "POST" else None,
            patients=access.patients_for(request.user),
        )
        if form.is_bound:
            if form.is_valid():
                plan = call_service(
                    form,
                    services.plan_create_from_template,
                    by=request.user,
                    **form.cleaned_data,
                )
                if plan is not None:
                    self.log(request, plan, Action.CREATE)
                    self.log_addition(request, plan, [{"added": {}}])
                    self.message_user(
                        request,
                        gettext(
                            "The care plan was created from the template. Individualise "
                            "it, then establish it with the patient."
                        ),
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self.change_url(plan))
            else:
                self.log_refused_patient(request, form)
        return self.render_form_page(
            request,
            form=form,
            title=gettext("Create care plan from template"),
            submit_label=gettext("Create care plan"),
        )

    def establish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        plan = self.get_object(request, unquote(object_id))
        if not self.has_change_permission(request, plan):
            raise PermissionDenied
        self.log(request, plan, Action.UPDATE)
        try:
            # Not in the patient's language: a refusal is read by the nurse.
            services.plan_establish(plan=plan, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
        else:
            self.message_user(request, gettext("The care plan is established."), messages.SUCCESS)
        return HttpResponseRedirect(self.change_url(plan))


@admin.register(CalendarEvent)
class CalendarEventAdmin(PatientRecordAdmin):
    patient_path = "plan__patient"
    add_by = change_by = delete_by = STAFF
    form = CalendarEventForm
    list_display = ("starts_at", "title", "kind", "patient_display", "location", "added_by")
    list_select_related = ("plan__patient", "created_by")
    list_filter = (WhenFilter, "kind")
    search_fields = ("title", "plan__patient__first_name", "plan__patient__last_name")
    readonly_fields = ("added_by",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "updated_by")

    def get_readonly_fields(self, request, obj=None):
        # An entry stays in its plan; "added by" is set by the service.
        return ("plan", "added_by") if obj is not None else ("added_by",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "plan":
            plans = (
                access.plans_for(request.user)
                .exclude(status=CarePlan.Status.CLOSED)
                .select_related("patient")
            )
            return db_field.formfield(form_class=PlanChoiceField, queryset=plans)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description=_("patient"), ordering="plan__patient__last_name")
    def patient_display(self, obj: CalendarEvent) -> str:
        return str(obj.plan.patient)

    @admin.display(description=_("added by"))
    def added_by(self, obj: CalendarEvent) -> str:
        return obj.added_by_label() if obj.created_by_id else "–"

    def save_record(self, request, obj, form, change) -> None:
        with translation.override(obj.plan.patient.language):
            if change:
                services.event_update(event=obj, by=request.user)
            else:
                services.event_create(
                    event=obj,
                    by=request.user,
                    submission_key=form.cleaned_data.get("submission"),
                )

    def delete_record(self, request, obj) -> None:
        with translation.override(obj.plan.patient.language):
            services.event_delete(event=obj, by=request.user)


# --- Unit content: local links, plan templates, units, users --------------------------------


@admin.register(UnitLink)
class UnitLinkAdmin(RoleAdminMixin, admin.ModelAdmin):
    """A unit's own links, shown in the plan; staff manage their units' links."""

    add_by = change_by = delete_by = STAFF
    # Links are https unless typed otherwise (Django 6 default, without the warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("title", "unit", "section_key", "url")
    list_select_related = ("unit",)
    list_filter = ("section_key",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(unit_id__in=access.staff_unit_ids(request.user))

    def can_write(self, request, obj) -> bool:
        return request.user.is_superuser or bool(access.staff_unit_ids(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit" and not request.user.is_superuser:
            kwargs["queryset"] = CareUnit.objects.filter(pk__in=access.staff_unit_ids(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class PlanTemplateSectionInline(TranslationReviewMixin, RoleAdminMixin, admin.StackedInline):
    model = PlanTemplateSection
    fields = ("key", "order", "title_sv", "title_en", "body_sv", "body_en", "language_versions")
    readonly_fields = ("language_versions",)
    extra = 0
    add_by = change_by = delete_by = SUPERUSER
    classes = ["collapse"]


@admin.register(PlanTemplate)
class PlanTemplateAdmin(TranslationReviewMixin, RoleAdminMixin, admin.ModelAdmin):
    """The diagnosis templates: read by the care team, edited by superusers; a reviewer
    marks a language version reviewed (template and sections; plan sections still carrying
    the same text follow)."""

    add_by = change_by = delete_by = SUPERUSER
    list_display = (
        "title_sv",
        "title_en",
        "diagnosis_area",
        "version",
        "is_active",
        "language_versions",
    )
    list_filter = ("diagnosis_area", "is_active", LacksReviewFilter)
    inlines = [PlanTemplateSectionInline]
