"""The admin's base classes: permissions from the role, scoping to the user's care units,
and the access log. The other apps' admins build on them.

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

import html
from collections.abc import Callable, Iterable

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from .. import access
from ..access import is_care_staff  # re-exported (it was defined here)
from ..models import AccessLog, CarePlan, Patient
from ..prepared import Prepared, prepared
from .results import per_page

Action = AccessLog.Action

#: Values for ``RoleAdminMixin.view_by`` and friends.
STAFF = "staff"
SUPERUSER = "superuser"


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


def _checkbox_rows():
    """The row checkbox of one page (its label translated once)."""
    label = gettext(_DJANGO_ACTION_LABEL)  # Django's own catalogue translates it

    def row(obj):
        # format_html's escaping, written out (a list page renders 25 of these)
        return mark_safe(  # noqa: S308 - the object and its key are escaped
            f'<input type="checkbox" name="{helpers.ACTION_CHECKBOX_NAME}" '
            f'value="{html.escape(str(obj.pk))}" class="action-select" '
            f'aria-label="{label.format(html.escape(str(obj)))}">'
        )

    return row


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


class DefaultList:
    """A list's default view (no query string) for a staff member of some units: its page
    of rows and its capped count, compiled once per process (``careplan.prepared``; the
    SQL with three subqueries and its count cost ~1 ms a page to build). ``build(units)``
    is the queryset Django's change list makes for those units, in its order, reading the
    list's ``list_only`` fields (or one giving the same rows: the inbox looks up each
    waiting thread's unit, ``access.in_units_per_row``); the unit ids are a value of the
    compiled SQL, so every request is scoped to its own units.
    ``tests/careplan/test_admin_page.py`` pins the patient list's SQL to Django's,
    ``tests/careplan/test_messages_admin.py`` the inbox's rows."""

    def __init__(self, build: Callable[[tuple[int, ...]], QuerySet]) -> None:
        self.build = build
        self._pages: dict[int, Prepared] = {}
        self._counts: dict[int, Prepared] = {}

    def page(self, units: tuple[int, ...], per_page: int) -> list:
        found = self._pages.get(per_page)
        if found is None:
            found = self._pages[per_page] = prepared(lambda units: self.build(units)[:per_page])
        return found(units=units)

    def count(self, units: tuple[int, ...], cap: int) -> int:
        found = self._counts.get(cap)
        if found is None:
            found = self._counts[cap] = prepared(
                lambda units: self.build(units).order_by().values("pk")[: cap + 1]
            )
        return found.count(units=units)


class RecordChangeList(ChangeList):
    """A patient-data list whose page reads only the admin's ``list_only`` fields (when it
    names them): not every column of the row (a message thread has nine timestamps), nor
    the joins its change page wants (the unit, who handled it). The count, the filters,
    the order and the actions' queryset are Django's; the default view of a list with a
    ``default_list`` (``DefaultList``) reads its page and count from compiled SQL."""

    def get_results(self, request: HttpRequest) -> None:
        default = self.model_admin.default_list
        user = request.user
        if (
            default is not None
            and not request.GET
            and not self.model_admin.show_full_result_count
            and is_care_staff(user)
            and not user.is_superuser
        ):
            self._default_results(request, default)
            return
        fields = self.model_admin.list_only
        if fields:
            related = sorted({name.rsplit("__", 1)[0] for name in fields if "__" in name})
            self.queryset = (
                self.queryset.select_related(None).select_related(*related).only(*fields)
            )
        super().get_results(request)

    def _default_results(self, request: HttpRequest, default: DefaultList) -> None:
        """Django's ``get_results`` for the first page of the default view, with the rows
        and the capped count from ``default``."""
        units = tuple(sorted(access.staff_unit_ids(request.user)))
        paginator = self.model_admin.get_paginator(request, self.queryset, self.list_per_page)
        cap = getattr(paginator, "cap", None)
        if cap is None:  # not a CappedCountPaginator: Django's count
            result_count = paginator.count
        else:
            result_count = default.count(units, cap)
            paginator.__dict__["count"] = result_count  # the cached_property's value
            paginator.capped = result_count > cap
        self.result_count = result_count
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.full_result_count = None
        self.result_list = default.page(units, self.list_per_page)
        self.can_show_all = result_count <= self.list_max_show_all
        self.multi_page = result_count > self.list_per_page
        self.paginator = paginator


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
    #: The fields the list's columns (and the row's ``__str__``) read, with the patient's
    #: as ``patient__first_name`` and so on; ``None`` reads whole rows (RecordChangeList).
    list_only: tuple[str, ...] | None = None
    #: The default view's page and count, compiled once (``DefaultList``), or ``None``.
    default_list: DefaultList | None = None

    def get_changelist(self, request: HttpRequest, **kwargs):
        return RecordChangeList

    @per_page(lambda model_admin: _checkbox_rows())
    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj):
        """Django's row checkbox, the same HTML without a form-widget template render per
        row (a quarter of a list page's CPU)."""
        return _checkbox_rows()(obj)

    # --- scope

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        if self.patient_path:
            qs = qs.select_related(self.patient_path)
        user = request.user
        if not is_care_staff(user):
            return qs.none()
        if user.is_superuser:
            return access.with_acting_unit(qs, user, patient_path=self.patient_path or "pk")
        # access.patients_for(user), as a join (served by indexes at national scale).
        return access.in_staff_units(qs, user, patient_path=self.patient_path)

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
