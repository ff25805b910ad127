"""Patients and their named contact nurses in the admin."""

from __future__ import annotations

import functools
from html import escape

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import access, rendering, services
from ..models import CarePlan, CareRelation, ContactNurseAssignment, Patient
from . import overview
from .base import STAFF, Action, DefaultList, PatientRecordAdmin, RecordInline
from .filters import ActiveFilter, ContactNurseFilter, MyUnitFilter
from .forms import ContactNurseForm, PatientAddForm, PatientChangeForm, call_service
from .results import per_page, row_route, row_url


class ContactNurseHistoryInline(RecordInline, admin.TabularInline):
    model = ContactNurseAssignment
    fk_name = "patient"
    fields = ("nurse", "unit", "started_on", "ended_on", "direct_phone", "reachable")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("contact nurse history")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("nurse", "unit")


class CareRelationHistoryInline(RecordInline, admin.TabularInline):
    model = CareRelation
    fk_name = "patient"
    fields = ("unit", "started_at", "ended_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("responsible units (history)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit")


@functools.cache
def _list_columns() -> dict[str, Subquery]:
    """The patient's responsible unit, contact nurse and open plan, as subqueries: built
    once per process (building them cost ~1 ms a page; a query that uses an expression
    resolves a copy of it, so one object serves every request)."""
    relation = CareRelation.objects.filter(patient=OuterRef("pk"), ended_at__isnull=True)
    nurse = (
        ContactNurseAssignment.objects.filter(patient=OuterRef("pk"), ended_on__isnull=True)
        .annotate(name=Concat("nurse__first_name", Value(" "), "nurse__last_name"))
        .values("name")
    )
    open_plan = (
        CarePlan.objects.filter(patient=OuterRef("pk"))
        .exclude(status=CarePlan.Status.CLOSED)
        .values("status")
    )
    return {
        "responsible_unit_name": Subquery(relation.values("unit__name")[:1]),
        "contact_nurse_name": Subquery(nurse[:1]),
        "open_plan_status": Subquery(open_plan[:1]),
    }


def _overview_rows():
    """The list's overview link of one page (route and text looked up once)."""
    url = row_route("admin:careplan_patient_overview")
    text = escape(gettext("Overview"))
    # format_html's escaping, written out (a list page has 25 of these)
    return lambda obj: mark_safe(f'<a href="{escape(url(obj.pk))}">{text}</a>')  # noqa: S308


def _plan_rows():
    """The list's open plan status of one page (labels translated once)."""
    labels = rendering.choice_labels(CarePlan.Status)

    def row(obj: Patient) -> str:
        status = getattr(obj, "open_plan_status", None)
        if not status:
            return "–"
        # A str, not the lazy label: the list compares it with the empty values.
        return labels.get(status) or str(CarePlan.Status(status).label)

    return row


def _default_list(units: tuple[int, ...]):
    """The patient list's default view for these units: Django's change list queryset
    (``PatientAdmin.get_queryset`` scoped to the units, the model's order, the
    ``list_only`` fields)."""
    return (
        access.in_units(Patient.objects.all(), units, patient_path="")
        .annotate(**_list_columns())
        .order_by("last_name", "first_name", "id")
        .only(*PatientAdmin.list_only)
    )


@admin.register(Patient)
class PatientAdmin(PatientRecordAdmin):
    patient_path = ""
    add_by = change_by = STAFF
    form = PatientChangeForm
    add_form = PatientAddForm
    change_form_template = "admin/careplan/patient/change_form.html"
    list_display = (
        "name_display",
        "personnummer_display",
        "unit_display",
        "contact_nurse_display",
        "plan_display",
        "overview_link",
    )
    list_display_links = ("name_display",)
    list_only = ("first_name", "last_name", "personnummer")
    default_list = DefaultList(_default_list)
    list_filter = (ContactNurseFilter, MyUnitFilter)
    search_fields = ("first_name", "last_name")
    readonly_fields = ("login_display", "unit_display", "contact_nurse_display")
    inlines = [ContactNurseHistoryInline, CareRelationHistoryInline]
    actions = ["invite_to_log_in"]

    _contact = (_("Contact"), {"fields": ("phone", "email", "address")})
    _needs = (_("Language"), {"fields": ("language", "needs_interpreter")})

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ("first_name", "last_name", "personnummer", "unit")}),
                self._contact,
                self._needs,
            ]
        return [
            (None, {"fields": ("first_name", "last_name", "personnummer")}),
            self._contact,
            self._needs,
            (
                _("Care"),
                {"fields": ("unit_display", "contact_nurse_display", "login_display")},
            ),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            # The add form offers my units only; the class is made per request.
            kwargs["form"] = type(
                "PatientAddForm",
                (self.add_form,),
                {"unit_ids": access.staff_unit_ids(request.user)},
            )
        return super().get_form(request, obj, change=change, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**_list_columns())

    @admin.display(description=_("name"), ordering="last_name")
    def name_display(self, obj: Patient) -> str:
        return f"{obj.last_name}, {obj.first_name}"

    @per_page(lambda model_admin: _overview_rows())
    @admin.display(description=_("overview"))
    def overview_link(self, obj: Patient) -> str:
        return _overview_rows()(obj)

    @admin.display(description=_("personal identity number"))
    def personnummer_display(self, obj: Patient) -> str:
        return obj.personnummer_masked

    @admin.display(description=_("responsible unit"), ordering="responsible_unit_name")
    def unit_display(self, obj: Patient) -> str:
        return getattr(obj, "responsible_unit_name", None) or "–"

    @admin.display(description=_("contact nurse"), ordering="contact_nurse_name")
    def contact_nurse_display(self, obj: Patient) -> str:
        name = getattr(obj, "contact_nurse_name", None)
        if name:
            return name
        if obj.pk is None:
            return "–"
        return format_html(
            '<a href="{}">{}</a>',
            row_url("admin:careplan_patient_contact_nurse", obj.pk),
            gettext("Not named – name one"),
        )

    @per_page(lambda model_admin: _plan_rows())
    @admin.display(description=_("care plan"))
    def plan_display(self, obj: Patient) -> str:
        return _plan_rows()(obj)

    @admin.display(description=_("login"))
    def login_display(self, obj: Patient) -> str:
        return obj.user.email if obj.user_id else gettext("No login yet")

    def save_record(self, request, obj, form, change) -> None:
        if change:
            obj.save()
            return
        fields = {
            name: getattr(obj, name)
            for name in PatientChangeForm.Meta.fields
            if name not in ("first_name", "last_name", "personnummer")
        }
        patient = services.patient_register(
            unit=form.cleaned_data["unit"],
            by=request.user,
            first_name=obj.first_name,
            last_name=obj.last_name,
            personnummer=obj.personnummer,
            **fields,
        )
        obj.pk = patient.pk
        obj._state = patient._state
        obj.acting_unit_id = form.cleaned_data["unit"].pk

    @admin.action(description=_("Send login invitation by e-mail"))
    def invite_to_log_in(self, request: HttpRequest, queryset) -> None:
        for patient in queryset:
            try:
                services.patient_login_invite(patient=patient, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(
                    request,
                    " ".join(exc.messages if hasattr(exc, "messages") else [str(exc)]),
                    messages.ERROR,
                )
                continue
            self.log(request, patient, Action.UPDATE)
            self.message_user(
                request,
                gettext("A login invitation was sent to %(patient)s.") % {"patient": patient},
                messages.SUCCESS,
            )

    # --- "Name contact nurse"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/overview/",
                self.admin_site.admin_view(overview.patient_overview),
                name="careplan_patient_overview",
            ),
            path(
                "<path:object_id>/contact-nurse/",
                self.admin_site.admin_view(self.contact_nurse_view),
                name="careplan_patient_contact_nurse",
            ),
            *super().get_urls(),
        ]

    def contact_nurse_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        patient = self.get_object(request, unquote(object_id))
        if not self.has_change_permission(request, patient):
            raise PermissionDenied
        current = patient.contact_nurse_assignment()
        form = ContactNurseForm(
            request.POST if request.method == "POST" else None,
            unit_ids=[patient.acting_unit_id],
            initial={"nurse": request.user.pk},
        )
        if form.is_bound and form.is_valid():
            assignment = call_service(
                form,
                services.contact_nurse_assign,
                patient=patient,
                by=request.user,
                **form.cleaned_data,
            )
            if assignment is not None:
                self.log(request, patient, Action.UPDATE)
                self.message_user(
                    request,
                    gettext("%(nurse)s is now the contact nurse of %(patient)s.")
                    % {"nurse": assignment.nurse, "patient": patient},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self.change_url(patient))
        self.log(request, patient, Action.VIEW)
        intro = (
            gettext(
                "Now: %(nurse)s since %(since)s. Naming someone else ends that assignment; "
                "the history is kept."
            )
            % {"nurse": current.nurse, "since": current.started_on}
            if current
            else gettext("The patient has no named contact nurse yet.")
        )
        return self.render_form_page(
            request,
            form=form,
            title=gettext("Name contact nurse"),
            submit_label=gettext("Name contact nurse"),
            obj=patient,
            intro=intro,
        )


@admin.register(ContactNurseAssignment)
class ContactNurseAssignmentAdmin(PatientRecordAdmin):
    """History of named contact nurses. Naming one goes through the service; an
    assignment is never edited (history)."""

    add_by = STAFF
    list_display = ("patient", "nurse", "unit", "started_on", "ended_on", "direct_phone")
    list_select_related = ("patient", "nurse", "unit")
    list_filter = (ActiveFilter,)
    search_fields = ("patient__first_name", "patient__last_name")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("nurse", "unit", "created_by")

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ContactNurseForm(
            request.POST if request.method == "POST" else None,
            unit_ids=access.staff_unit_ids(request.user),
            patients=access.patients_for(request.user),
            refuse_if_named=True,
        )
        if form.is_bound:
            if form.is_valid():
                data = form.cleaned_data
                assignment = call_service(
                    form, services.contact_nurse_assign, by=request.user, **data
                )
                if assignment is not None:
                    self.log(request, assignment, Action.CREATE)
                    self.log_addition(request, assignment, [{"added": {}}])
                    self.message_user(
                        request,
                        gettext("%(nurse)s is now the contact nurse of %(patient)s.")
                        % {"nurse": assignment.nurse, "patient": assignment.patient},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:careplan_contactnurseassignment_changelist")
                    )
            elif form.refused_assignment is not None:
                # The message names the current nurse: that is a read of the record.
                self.log(request, form.refused_assignment, Action.VIEW)
            else:
                self.log_refused_patient(request, form)
        return self.render_form_page(
            request,
            form=form,
            title=gettext("Name contact nurse"),
            submit_label=gettext("Name contact nurse"),
        )
