"""The care team's workspace: the Django admin, scoped to the user's care units.

Who may do what comes from the role, not from Django's per-model permissions: every
active staff member works in the admin (``RoleAdminMixin``), and what they see is what
their care units are responsible for (``PatientRecordAdmin.get_queryset`` over
``access.patients_for``). Superusers see everything; writing patient data needs a care
relation for them too.

Every access to patient data through the admin leaves access-log rows
(``PatientRecordAdmin``, channel ``admin``): a list one row per patient shown (the
autocomplete and a form's patient/plan pickers too), a change page one ``view`` row, a
save one ``update``/``create`` row, an object of another unit opened by URL a 404 and a
``denied`` row, a delete refused to the own unit a ``denied`` row. Writes go through ``careplan/services.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth import admin as auth_admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from . import access, admin_overview, messaging, services
from .admin_forms import (
    CalendarEventForm,
    CarePlanChangeForm,
    ContactNurseForm,
    MessageAnswerForm,
    PatientAddForm,
    PatientChangeForm,
    PlanChoiceField,
    PlanCreateForm,
    PlanSectionForm,
    UserChangeForm,
    UserCreationForm,
    call_service,
)
from .models import (
    AccessLog,
    CalendarEvent,
    CarePlan,
    CareRelation,
    CareUnit,
    ContactNurseAssignment,
    EventChangeRequest,
    Message,
    MessageThread,
    Outbox,
    Patient,
    PlanChange,
    PlanSection,
    PlanTemplate,
    PlanTemplateSection,
    Role,
    StaffMembership,
    UnitLink,
    User,
)

Action = AccessLog.Action

#: Values for ``RoleAdminMixin.view_by`` and friends.
STAFF = "staff"
SUPERUSER = "superuser"


def is_care_staff(user) -> bool:
    """Works in the admin: an active user with admin access and the care team role."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.role == Role.STAFF
    )


def plan_pdf_url(plan: CarePlan) -> str:
    try:
        return reverse("plan_pdf", args=[plan.pk])
    except NoReverseMatch:
        return f"/plan/{plan.pk}/print.pdf"


# --- Permissions from the role ------------------------------------------------------------


class RoleAdminMixin:
    """Permissions from the role. ``view_by``/``add_by``/``change_by``/``delete_by`` are
    ``STAFF`` (every care team member), ``SUPERUSER`` or ``None`` (nobody, superusers
    included). Objects are limited by ``get_queryset``; patient data adds a check per
    object (``PatientRecordAdmin.can_write``). Works for ModelAdmin and inlines."""

    view_by: str | None = STAFF
    add_by: str | None = None
    change_by: str | None = None
    delete_by: str | None = None

    def role_allows(self, request: HttpRequest, who: str | None) -> bool:
        user = request.user
        if who is None or not is_care_staff(user):
            return False
        return who == STAFF or user.is_superuser

    def can_write(self, request: HttpRequest, obj) -> bool:
        return True

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.role_allows(request, self.view_by)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.role_allows(request, self.view_by) or self.has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.role_allows(request, self.add_by) and self.can_write(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.role_allows(request, self.change_by) and self.can_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return self.role_allows(request, self.delete_by) and self.can_write(request, obj)


class RecordInline(RoleAdminMixin):
    """An inline on a patient-data page: writes need the parent in one of my units
    (the parent comes from ``PatientRecordAdmin.get_queryset``, so it carries
    ``acting_unit_id``)."""

    def can_write(self, request: HttpRequest, obj) -> bool:
        return obj is None or getattr(obj, "acting_unit_id", None) is not None


# --- Patient data: scoping and the access log, once ---------------------------------------


# Django admin's msgid (a variable, so makemessages leaves it in Django's catalogue).
_DJANGO_ACTION_LABEL = "Select this object for an action - {}"


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows: a page load never counts a 20 000-patient unit.

    The lists are for finding (search and filters narrow them); beyond the cap the page
    says "more than 1 000" and offers the first pages. ``capped`` tells the template."""

    cap = 1000

    @cached_property
    def count(self) -> int:
        # Only the rows, not the annotations or the order: the count is the same.
        n = self.object_list.order_by().values("pk")[: self.cap + 1].count()
        self.capped = n > self.cap
        return n


def patient_path_of(model) -> str | None:
    """The lookup from ``model`` to its patient ("" for Patient itself), or ``None`` when
    the model is not patient data (units, users, codes)."""
    if model is Patient:
        return ""
    names = {f.name for f in model._meta.get_fields() if f.concrete}  # forward fields only
    for lookup in ("patient", "plan__patient", "care_map__patient"):
        if lookup.split("__")[0] in names:
            return lookup
    return None


class LoggedAutocompleteJsonView(AutocompleteJsonView):
    """``/admin/autocomplete/`` lists records like a change list: one ``list`` row per
    patient shown (Django's view serves any registered admin's search, whatever form
    asks)."""

    def serialize_result(self, obj, to_field_name):
        self._shown.append(obj)
        return super().serialize_result(obj, to_field_name)

    def get(self, request, *args, **kwargs):
        self._shown: list = []
        response = super().get(request, *args, **kwargs)
        if isinstance(self.model_admin, PatientRecordAdmin):
            self.model_admin.log_shown(request, self._shown)
        return response


def _autocomplete_view(request: HttpRequest) -> HttpResponse:
    return LoggedAutocompleteJsonView.as_view(admin_site=admin.site)(request)


admin.site.autocomplete_view = _autocomplete_view  # read by admin.site.get_urls()


class PatientRecordAdmin(RoleAdminMixin, admin.ModelAdmin):
    """A ModelAdmin over patient data, scoped to the user's care units and logged.

    ``patient_path`` is the lookup from the model to its Patient ("" for Patient).
    Subclasses that write through a service override ``save_record``/``delete_record``;
    the logging stays here.
    """

    patient_path = "patient"
    show_full_result_count = False  # one COUNT query per list, not two
    paginator = CappedCountPaginator  # and that one reads at most 1 001 rows
    list_per_page = 25  # a page of 100 rows costs ~60 ms of template work

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj):
        """Django's row checkbox, the same HTML without a form-widget template render per
        row (a quarter of a list page's CPU)."""
        label = gettext(_DJANGO_ACTION_LABEL)  # Django's own catalogue translates it
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(label, obj),
        )

    # --- scope

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        if self.patient_path:
            qs = qs.select_related(self.patient_path)
        user = request.user
        qs = access.with_acting_unit(qs, user, patient_path=self.patient_path or "pk")
        if not is_care_staff(user):
            return qs.none()
        if user.is_superuser:
            return qs
        lookup = f"{self.patient_path}__in" if self.patient_path else "pk__in"
        return qs.filter(**{lookup: access.patients_for(user).values("pk")})

    def patient_of(self, obj) -> Patient:
        target = obj
        for part in filter(None, self.patient_path.split("__")):
            target = getattr(target, part)
        return target

    def patient_id_of(self, obj) -> int:
        if not self.patient_path:
            return obj.pk
        *hops, last = self.patient_path.split("__")
        target = obj
        for part in hops:
            target = getattr(target, part)
        return getattr(target, f"{last}_id")

    def acting_unit_of(self, request: HttpRequest, obj) -> int | None:
        """My unit responsible for the object's patient (annotated by get_queryset)."""
        if not hasattr(obj, "acting_unit_id"):
            obj.acting_unit_id = access.reach(request.user, self.patient_of(obj)).acting_unit_id
        return obj.acting_unit_id

    def can_write(self, request: HttpRequest, obj) -> bool:
        """Writing patient data needs a care relation, for superusers too."""
        if obj is None:
            return bool(access.staff_unit_ids(request.user))
        return self.acting_unit_of(request, obj) is not None

    # --- the access log

    def log(self, request: HttpRequest, obj, action: str, *, allowed: bool = True) -> None:
        unit_id = self.acting_unit_of(request, obj) if allowed else None
        basis = AccessLog.Basis.CARE_RELATION if unit_id else AccessLog.Basis.NONE
        access.log_access(
            user=request.user,
            patient=self.patient_of(obj),
            obj=obj,
            action=action,
            allowed=allowed,
            channel=AccessLog.Channel.ADMIN,
            reach_=access.Reach(allowed=allowed, basis=basis, acting_unit_id=unit_id),
        )

    def log_shown(self, request: HttpRequest, objects: Iterable) -> None:
        """One ``list`` row per patient shown, in one query."""
        rows: dict[int, tuple[int, int | None, object]] = {}
        for obj in objects:
            patient_id = self.patient_id_of(obj)
            rows.setdefault(patient_id, (patient_id, getattr(obj, "acting_unit_id", None), obj))
        access.log_list(user=request.user, rows=rows.values(), channel=AccessLog.Channel.ADMIN)

    def log_choices(self, request: HttpRequest, form) -> None:
        """A form's pickers of patient data (a patient or a plan select, a raw id field
        offers none) list patients: one ``list`` row per patient offered, in one query
        per picker plus one insert."""
        rows: dict[int, tuple[int, int | None, object]] = {}
        for field in form.fields.values():
            queryset = getattr(field, "queryset", None)
            lookup = patient_path_of(queryset.model) if queryset is not None else None
            if lookup is None:
                continue
            if "acting_unit_id" not in queryset.query.annotations:
                queryset = access.with_acting_unit(
                    queryset, request.user, patient_path=lookup or "pk"
                )
            model = queryset.model
            for pk, patient_id, unit_id in queryset.order_by().values_list(
                "pk", lookup or "pk", "acting_unit_id"
            ):
                if patient_id is not None:
                    rows.setdefault(patient_id, (patient_id, unit_id, model(pk=pk)))
        access.log_list(user=request.user, rows=rows.values(), channel=AccessLog.Channel.ADMIN)

    def get_object(self, request: HttpRequest, object_id, from_field=None):
        """Only objects of my units; anything else is a 404 and, if it exists, a denied
        row. A write to a read-only object is a 403 and a denied row."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            self._log_denied(request, object_id, from_field)
            raise Http404(gettext("No such record in your care units."))
        if request.method == "POST" and not (
            self.has_change_permission(request, obj) or self.has_delete_permission(request, obj)
        ):
            self.log_denial(request, obj, Action.UPDATE)
            raise PermissionDenied
        return obj

    def log_denial(self, request: HttpRequest, obj, action: str) -> None:
        """Write the denied row now, or after the rollback of the view's transaction."""
        request._careplan_denied = True
        pending = getattr(request, "_careplan_denials", None)
        if pending is None:
            self.log(request, obj, action, allowed=False)
        else:
            pending.append(lambda: self.log(request, obj, action, allowed=False))

    def keeping_denials(self, view, request: HttpRequest, *args, **kwargs):
        """The admin runs a POST in a transaction, rolled back when access is denied: the
        denied rows are written after it."""
        request._careplan_denials = []
        try:
            return view(request, *args, **kwargs)
        finally:
            pending, request._careplan_denials = request._careplan_denials, None
            for write in pending:
                write()

    def _log_denied(self, request: HttpRequest, object_id, from_field) -> None:
        field = self.opts.pk if from_field is None else self.opts.get_field(from_field)
        try:
            value = field.to_python(object_id)
        except (ValidationError, ValueError):
            return
        qs = self.model._default_manager.all()
        if self.patient_path:
            qs = qs.select_related(self.patient_path)
        other = qs.filter(**{field.name: value}).first()
        if other is not None:
            action = Action.UPDATE if request.method == "POST" else Action.VIEW
            self.log_denial(request, other, action)

    # --- hooks of the admin views

    def changelist_view(self, request: HttpRequest, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", None) and response.context_data.get("cl")
        if cl is not None:
            # The page's rows: evaluated here, the template reuses the cached result.
            self.log_shown(request, cl.result_list)
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self.keeping_denials(
            super().changeform_view, request, object_id, form_url, extra_context
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            self.log(request, obj, Action.VIEW)
        adminform = context.get("adminform")
        if adminform is not None:
            self.log_choices(request, adminform.form)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def history_view(self, request: HttpRequest, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        self._log_rendered(request, response)
        return response

    def delete_view(self, request: HttpRequest, object_id, extra_context=None):
        try:
            response = self.keeping_denials(super().delete_view, request, object_id, extra_context)
        except PermissionDenied:
            # A record of my unit that may not be deleted: the refusal is logged too.
            if not getattr(request, "_careplan_denied", False):
                obj = self.get_queryset(request).filter(pk=unquote(object_id)).first()
                if obj is not None:
                    self.log_denial(request, obj, Action.DELETE)
            raise
        if request.method != "POST":
            self._log_rendered(request, response)
        return response

    def _log_rendered(self, request: HttpRequest, response: HttpResponse) -> None:
        obj = getattr(response, "context_data", None) and response.context_data.get("object")
        if obj is not None:
            self.log(request, obj, Action.VIEW)

    def save_model(self, request, obj, form, change):
        self.save_record(request, obj, form, change)
        self.log(request, obj, Action.UPDATE if change else Action.CREATE)

    def save_record(self, request, obj, form, change) -> None:
        obj.save()

    def delete_model(self, request, obj):
        self.log(request, obj, Action.DELETE)
        self.delete_record(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def delete_record(self, request, obj) -> None:
        obj.delete()

    # --- pages of our own (forms that call a service)

    def render_form_page(
        self,
        request: HttpRequest,
        *,
        form,
        title: str,
        submit_label: str,
        obj=None,
        intro: str = "",
        details_template: str = "",
        details: dict | None = None,
    ) -> TemplateResponse:
        self.log_choices(request, form)
        context = {
            "details_template": details_template,
            **(details or {}),
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "original": obj,
            "intro": intro,
            "submit_label": submit_label,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/careplan/form_page.html", context)

    def log_refused_patient(self, request: HttpRequest, form, field: str = "patient") -> None:
        """A patient of another unit posted into a form: log the denied attempt."""
        if field not in form.errors:
            return
        try:
            pk = int(request.POST.get(field, ""))
        except ValueError:
            return
        patient = Patient.objects.filter(pk=pk).first()
        if patient is not None and not access.reach(request.user, patient).allowed:
            access.log_access(
                user=request.user,
                patient=patient,
                obj=patient,
                action=Action.CREATE,
                allowed=False,
                channel=AccessLog.Channel.ADMIN,
            )

    def change_url(self, obj) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])


# --- List filters -------------------------------------------------------------------------


class MyUnitFilter(admin.SimpleListFilter):
    """For staff of several units: the patients one of them is responsible for."""

    title = _("responsible unit")
    parameter_name = "unit"
    patient_path = ""

    def lookups(self, request, model_admin):
        units = access.staff_unit_ids(request.user)
        if len(units) < 2:
            return []
        return [(u.pk, u.name) for u in CareUnit.objects.filter(pk__in=units)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        prefix = f"{self.patient_path}__" if self.patient_path else ""
        return queryset.filter(
            **{
                f"{prefix}care_relations__unit_id": self.value(),
                f"{prefix}care_relations__ended_at__isnull": True,
            }
        )


class ContactNurseFilter(admin.SimpleListFilter):
    title = _("contact nurse")
    parameter_name = "contact_nurse"

    def lookups(self, request, model_admin):
        return [("named", _("Named")), ("none", _("Not named"))]

    def queryset(self, request, queryset):
        named = Exists(
            ContactNurseAssignment.objects.filter(patient=OuterRef("pk"), ended_on__isnull=True)
        )
        if self.value() == "named":
            return queryset.filter(named)
        if self.value() == "none":
            return queryset.filter(~named)
        return queryset


class DefaultListFilter(admin.SimpleListFilter):
    """A list filter that starts on ``default`` (a worklist view) and offers no
    Django "All" entry of its own: ``lookups`` lists every choice, an "all" one too."""

    default = ""

    def value(self):
        return super().value() or self.default

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class WhenFilter(DefaultListFilter):
    """Upcoming entries unless asked otherwise."""

    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", _("Upcoming")), ("past", _("Past")), ("all", _("All"))]

    default = "upcoming"

    def queryset(self, request, queryset):
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gte=today)
        if self.value() == "past":
            return queryset.filter(starts_at__lt=today).order_by("-starts_at")
        return queryset


class ActiveFilter(admin.SimpleListFilter):
    """Current or ended, for rows with an end field."""

    title = _("current")
    parameter_name = "current"
    end_field = "ended_on"

    def lookups(self, request, model_admin):
        return [("yes", _("Current")), ("no", _("Ended"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(**{f"{self.end_field}__isnull": True})
        if self.value() == "no":
            return queryset.filter(**{f"{self.end_field}__isnull": False})
        return queryset


# --- Patients -----------------------------------------------------------------------------


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
        return (
            super()
            .get_queryset(request)
            .annotate(
                responsible_unit_name=Subquery(relation.values("unit__name")[:1]),
                contact_nurse_name=Subquery(nurse[:1]),
                open_plan_status=Subquery(open_plan[:1]),
            )
        )

    @admin.display(description=_("name"), ordering="last_name")
    def name_display(self, obj: Patient) -> str:
        return f"{obj.last_name}, {obj.first_name}"

    @admin.display(description=_("overview"))
    def overview_link(self, obj: Patient) -> str:
        url = reverse("admin:careplan_patient_overview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Overview"))

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
            reverse("admin:careplan_patient_contact_nurse", args=[obj.pk]),
            gettext("Not named – name one"),
        )

    @admin.display(description=_("care plan"))
    def plan_display(self, obj: Patient) -> str:
        status = getattr(obj, "open_plan_status", None)
        return CarePlan.Status(status).label if status else "–"

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
                self.admin_site.admin_view(admin_overview.patient_overview),
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


# --- Care plans ---------------------------------------------------------------------------


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


class PlanTemplateSectionInline(RoleAdminMixin, admin.StackedInline):
    model = PlanTemplateSection
    fields = ("key", "order", "title_sv", "title_en", "body_sv", "body_en")
    extra = 0
    add_by = change_by = delete_by = SUPERUSER
    classes = ["collapse"]


@admin.register(PlanTemplate)
class PlanTemplateAdmin(RoleAdminMixin, admin.ModelAdmin):
    """The diagnosis templates: read by the care team, edited by superusers."""

    add_by = change_by = delete_by = SUPERUSER
    list_display = ("title_sv", "title_en", "diagnosis_area", "version", "is_active")
    list_filter = ("diagnosis_area", "is_active")
    inlines = [PlanTemplateSectionInline]


class StaffMembershipInline(RoleAdminMixin, admin.TabularInline):
    model = StaffMembership
    extra = 0
    add_by = change_by = delete_by = SUPERUSER
    verbose_name = _("staff member")
    verbose_name_plural = _("staff")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(role=Role.STAFF)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "unit")


@admin.register(CareUnit)
class CareUnitAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Superusers manage units and their staff; staff see their own units."""

    add_by = change_by = delete_by = SUPERUSER
    list_display = ("name", "kind", "hsa_id", "phone", "reachable")
    list_filter = ("kind",)
    # Unit staff keep their phone and opening hours true: patients' symptom advice says
    # "call 1177" outside them.
    fieldsets = (
        (None, {"fields": ("name", "kind", "hsa_id", "email", "address")}),
        (
            _("Phone"),
            {
                "fields": (
                    "phone",
                    "reachable",
                    ("phone_opens", "phone_closes"),
                    "phone_weekdays",
                )
            },
        ),
    )
    search_fields = ("name", "hsa_id")
    inlines = [StaffMembershipInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=access.staff_unit_ids(request.user))


# allauth's own admin shows an authenticator's data (the TOTP secret, the recovery seed)
# to superusers, editable: ours shows who, what kind and when, never the data.
import allauth.mfa.admin  # noqa: E402,F401  (registers allauth's first, to replace it)
from allauth.mfa.models import Authenticator  # noqa: E402

admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(RoleAdminMixin, admin.ModelAdmin):
    view_by = delete_by = SUPERUSER  # a superuser may remove a lost authenticator
    list_display = ("user", "type", "created_at", "last_used_at")
    list_filter = ("type", "created_at", "last_used_at")
    fields = ("user", "type", "created_at", "last_used_at")
    readonly_fields = fields


@admin.register(User)
class UserAdmin(RoleAdminMixin, auth_admin.UserAdmin):
    """Accounts: superusers only (staff role and units)."""

    view_by = add_by = change_by = delete_by = SUPERUSER
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "role", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_superuser", "is_active")
    search_fields = ("email", "first_name", "last_name", "hsa_id")
    filter_horizontal = ()
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "title", "language")}),
        (
            _("Role and access"),
            {"fields": ("role", "hsa_id", "is_active", "is_staff", "is_superuser")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "first_name",
                    "last_name",
                    "role",
                    "hsa_id",
                    "title",
                    "is_staff",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    inlines = [StaffMembershipInline]


# --- The access log -----------------------------------------------------------------------


@admin.register(AccessLog)
class AccessLogAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Read only for everyone, superusers included: the log is append-only. Staff see the
    rows of their units' patients."""

    view_by = STAFF
    actions = None
    show_full_result_count = False
    paginator = CappedCountPaginator  # the log grows by a row per staff read
    list_display = (
        "at",
        "user_name",
        "role",
        "acting_unit",
        "patient",
        "object_type",
        "object_id",
        "action",
        "outcome",
        "channel",
    )
    list_select_related = ("acting_unit", "patient")
    list_filter = ("outcome", "channel", "action", ("at", admin.DateFieldListFilter))
    search_fields = ("user_name", "patient__first_name", "patient__last_name")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(patient_id__in=access.patients_for(request.user).values("pk"))


# --- Operations: the outbox -----------------------------------------------------------------


class OutboxStatusFilter(DefaultListFilter):
    """Dead rows (the ones needing attention) unless asked otherwise."""

    title = _("status")
    parameter_name = "status"
    default = Outbox.Status.DEAD

    def lookups(self, request, model_admin):
        return [*Outbox.Status.choices, ("all", _("All"))]

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(status=self.value())


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    """For operations, not the care team: superusers, and staff given the
    ``careplan.view_outbox`` permission (``change_outbox`` to retry). Rows hold ids and
    keys, never patient data. Dead rows show their last error; "retry" sends them again."""

    actions = ["retry"]
    list_display = (
        "created_at",
        "task",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
    )
    list_filter = (OutboxStatusFilter, "task")
    search_fields = ("dedupe_key", "task")
    ordering = ("-created_at",)
    readonly_fields = (
        "task",
        "kwargs",
        "dedupe_key",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "next_attempt_at",
        "done_at",
        "last_error",
    )
    show_full_result_count = False

    @staticmethod
    def _ops(request: HttpRequest, perm: str) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.has_perm(f"careplan.{perm}_outbox"))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._ops(request, "view")

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._ops(request, "view")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # rows are changed only by the retry action

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return self._ops(request, "change")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("last error"))
    def short_error(self, obj: Outbox) -> str:
        return obj.last_error[:120]

    @admin.action(description=_("Retry the selected entries now"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset) -> None:
        count = services.outbox_retry(rows=list(queryset))
        self.message_user(
            request,
            ngettext(
                "%(count)d entry will be sent again.",
                "%(count)d entries will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


# --- The worklist on the admin index --------------------------------------------------------


def staff_worklist(user, *, days: int = 7, limit: int = 10) -> dict | None:
    """The short "my worklist" on the admin index: patients of my units without a named
    contact nurse, draft plans not yet established, entries in the next ``days`` days.

    Five queries (four lists, the fourth rehab's due reassessments, and the access-log
    rows, one per patient shown).
    """
    if not is_care_staff(user) or not access.staff_unit_ids(user):
        return None
    patients = access.patients_for(user)
    named = ContactNurseAssignment.objects.filter(patient=OuterRef("pk"), ended_on__isnull=True)
    no_nurse = list(
        access.with_acting_unit(patients.filter(~Exists(named)), user, patient_path="pk").order_by(
            "last_name", "first_name"
        )[:limit]
    )
    drafts = list(
        access.with_acting_unit(
            CarePlan.objects.filter(patient__in=patients.values("pk"), status="draft"), user
        )
        .select_related("patient")
        .order_by("created_at")[:limit]
    )
    now = timezone.now()
    events = list(
        access.with_acting_unit(
            CalendarEvent.objects.filter(
                plan__patient__in=patients.values("pk"),
                starts_at__gte=now,
                starts_at__lt=now + dt.timedelta(days=days),
            ),
            user,
            patient_path="plan__patient",
        )
        .select_related("plan__patient")
        .order_by("starts_at")[:limit]
    )
    from rehab.services import worklist_reassessments  # rehab's part of the worklist

    reassessments = worklist_reassessments(patients, user, limit=limit)
    rows: dict[int, tuple[int, int | None, object]] = {}
    shown = [(p.pk, p) for p in no_nurse] + [(p.patient_id, p) for p in drafts]
    shown += [(e.plan.patient_id, e) for e in events]
    shown += [(p.pk, p) for p in reassessments]
    for patient_id, obj in shown:
        rows.setdefault(patient_id, (patient_id, obj.acting_unit_id, obj))
    access.log_list(user=user, rows=rows.values(), channel=AccessLog.Channel.ADMIN)
    return {
        "no_contact_nurse": no_nurse,
        "draft_plans": drafts,
        "upcoming_events": events,
        "rehab_reassessments": reassessments,
        "days": days,
    }


# --- Messages: the care team's inbox ----------------------------------------------------------


class WaitingFilter(DefaultListFilter):
    """Threads waiting for the care team's answer (the default), or all."""

    title = _("answer")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [
            ("yes", _("Waiting for an answer")),
            ("unread", _("Unread")),
            ("all", _("All")),
        ]

    default = "yes"

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(awaiting_reply_since__isnull=False)
        if self.value() == "unread":
            return queryset.filter(last_patient_message_at__isnull=False).filter(
                models.Q(staff_read_at__isnull=True)
                | models.Q(staff_read_at__lt=models.F("last_patient_message_at"))
            )
        return queryset


class ThreadUnitFilter(MyUnitFilter):
    patient_path = "patient"


class MessageInline(RecordInline, admin.StackedInline):
    """The thread's messages, oldest first; never changed (answers are new messages)."""

    model = Message
    fields = ("created_at", "author_display", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("conversation")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    @admin.display(description=_("from"))
    def author_display(self, obj: Message) -> str:
        label = obj.author_label()
        return label if not obj.from_patient else gettext("%(name)s (patient)") % {"name": label}


@admin.register(MessageThread)
class MessageThreadAdmin(PatientRecordAdmin):
    """Threads of the patients my units are responsible for now (wherever a thread was
    first addressed), waiting ones first, the longest waiting first. Answer and mark
    handled on the thread's page; both go through ``careplan.messaging``."""

    change_by = STAFF
    form = MessageAnswerForm
    list_display = (
        "subject",
        "patient_name",
        "waiting_display",
        "unread_display",
        "escalated_display",
        "status",
        "last_message_at",
    )
    list_select_related = ("patient",)
    list_filter = (WaitingFilter, ThreadUnitFilter, "status")
    search_fields = ("subject", "patient__first_name", "patient__last_name")
    ordering = (
        models.F("awaiting_reply_since").asc(nulls_last=True),
        "-last_message_at",
        "-id",
    )
    readonly_fields = (
        "patient_display",
        "subject",
        "unit",
        "status",
        "awaiting_reply_since",
        "escalated_at",
        "handled_at",
        "created_at",
    )
    fieldsets = [
        (
            None,
            {
                "fields": (
                    "patient_display",
                    "subject",
                    "unit",
                    "status",
                    "awaiting_reply_since",
                    "escalated_at",
                    "handled_at",
                    "created_at",
                )
            },
        ),
        (_("Answer the patient"), {"fields": ("answer", "mark_handled", "submission")}),
    ]
    inlines = [MessageInline]
    actions = ["mark_handled"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit", "handled_by")

    @admin.action(description=_("Mark handled"))
    def mark_handled(self, request: HttpRequest, queryset) -> None:
        done = 0
        for thread in queryset:
            if not self.can_write(request, thread):
                continue
            messaging.thread_mark_handled(thread=thread, by=request.user)
            self.log(request, thread, Action.UPDATE)
            done += 1
        self.message_user(
            request,
            ngettext("%(count)d thread marked handled.", "%(count)d threads marked handled.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj: MessageThread) -> str:
        return f"{obj.patient.last_name}, {obj.patient.first_name}"

    @admin.display(description=_("patient"))
    def patient_display(self, obj: MessageThread) -> str:
        patient = obj.patient
        return format_html(
            '<a href="{}">{}</a> ({}) · <a href="{}">{}</a>',
            reverse("admin:careplan_patient_change", args=[patient.pk]),
            patient,
            patient.personnummer_masked,
            reverse("admin:careplan_patient_overview", args=[patient.pk]),
            gettext("Patient overview"),
        )

    @admin.display(description=_("waiting since"), ordering="awaiting_reply_since")
    def waiting_display(self, obj: MessageThread) -> str:
        if obj.awaiting_reply_since is None:
            return "–"
        return format_html(
            '<time datetime="{}">{}</time>',
            obj.awaiting_reply_since.isoformat(),
            timezone.localtime(obj.awaiting_reply_since).strftime("%Y-%m-%d %H:%M"),
        )

    @admin.display(description=_("unread"), boolean=True)
    def unread_display(self, obj: MessageThread) -> bool:
        return obj.unread_for_staff

    @admin.display(description=_("escalated"), boolean=True)
    def escalated_display(self, obj: MessageThread) -> bool:
        return obj.escalated_at is not None and obj.awaiting_reply_since is not None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and request.method == "GET":
            # The unit has now seen the patient's latest message.
            messaging.thread_mark_read(thread=obj, by=request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_record(self, request, obj, form, change) -> None:
        answer = form.cleaned_data.get("answer") or ""
        if answer.strip():
            messaging.message_send(
                by=request.user,
                thread=obj,
                body=answer,
                submission_key=form.cleaned_data.get("submission"),
            )
            obj.refresh_from_db()
        if form.cleaned_data.get("mark_handled"):
            messaging.thread_mark_handled(thread=obj, by=request.user)

    def log(self, request, obj, action, *, allowed=True):
        # Answering adds a message: the row says "create" rather than "change".
        if action == Action.UPDATE and getattr(request, "_careplan_answered", False):
            action = Action.CREATE
        super().log(request, obj, action, allowed=allowed)

    def save_model(self, request, obj, form, change):
        request._careplan_answered = bool((form.cleaned_data.get("answer") or "").strip())
        super().save_model(request, obj, form, change)

    def response_change(self, request, obj):
        if request._careplan_answered:
            self.message_user(
                request,
                gettext("Your answer was sent. The patient is told that something new is waiting."),
                messages.SUCCESS,
            )
        if "_continue" not in request.POST and "_save" in request.POST:
            return HttpResponseRedirect(reverse("admin:careplan_messagethread_changelist"))
        return super().response_change(request, obj)


class ChangeRequestOpenFilter(DefaultListFilter):
    """Open requests unless asked otherwise: the worklist."""

    title = _("status")
    parameter_name = "status"
    default = "open"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("done", _("Handled")), ("all", _("All"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(handled_at__isnull=True)
        if self.value() == "done":
            return queryset.filter(handled_at__isnull=False)
        return queryset


@admin.register(EventChangeRequest)
class EventChangeRequestAdmin(PatientRecordAdmin):
    """Patients' requests to change the care team's calendar entries: handle one by
    changing the entry (link) and writing a note on what was done."""

    change_by = STAFF
    list_display = ("created_at", "patient_display", "event", "text", "handled_at")
    list_select_related = ("patient", "event")
    list_filter = (ChangeRequestOpenFilter,)
    fields = ("patient_display", "event_link", "text", "created_at", "note", "handled_at")
    readonly_fields = ("patient_display", "event_link", "text", "created_at", "handled_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.handled_at is not None:
            return (*self.readonly_fields, "note")
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "note" in form.base_fields:
            form.base_fields["note"].required = True
        return form

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_display(self, obj) -> str:
        return str(obj.patient)

    @admin.display(description=_("calendar entry"))
    def event_link(self, obj) -> str:
        url = reverse("admin:careplan_calendarevent_change", args=[obj.event_id])
        when = timezone.localtime(obj.event.starts_at).strftime("%Y-%m-%d %H:%M")
        return format_html('<a href="{}">{} {}</a>', url, when, obj.event.title)

    def save_record(self, request, obj, form, change) -> None:
        if obj.handled_at is None:
            services.event_change_request_handle(
                change_request=obj, by=request.user, note=form.cleaned_data["note"]
            )
