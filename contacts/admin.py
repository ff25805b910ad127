"""Staff view of the care map and of relatives' access, read only.

The map, grants and invitations are the patient's to change (on the web); the care team
of the responsible unit sees them for the patients of their units, and every look is
logged like other patient data (``PatientRecordAdmin``).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from careplan import access
from careplan.admin import STAFF, ActiveFilter, PatientRecordAdmin, RecordInline
from careplan.admin.forms import call_service
from careplan.models import AccessLog

from . import services, svg
from .fhir import handover_bundle, handover_document_full
from .handover import access as handover_access
from .handover import services as handover_services
from .handover.forms import (
    SBAR_FIELDS,
    HandoverAcceptForm,
    HandoverCreateForm,
    HandoverDeclineForm,
    HandoverTextForm,
)
from .handover.pdf import handover_pdf
from .handover.reports import handover_report
from .models import CareMap, CareMapEntry, EntryKind, Handover, Invitation, RelativeGrant, Scope

Action = AccessLog.Action


class GrantStateFilter(ActiveFilter):
    title = _("state")
    parameter_name = "state"
    end_field = "revoked_at"

    def lookups(self, request, model_admin):
        return [("yes", _("Not revoked")), ("no", _("Revoked"))]


@admin.register(RelativeGrant)
class RelativeGrantAdmin(PatientRecordAdmin):
    """ "Who has access": no add, change or delete for anyone in the admin."""

    list_display = ("patient", "relative", "scopes_display", "valid_until", "last_seen_at", "state")
    list_select_related = ("patient", "relative")
    list_filter = (GrantStateFilter,)
    search_fields = ("patient__first_name", "patient__last_name")
    fields = (
        "patient",
        "relative",
        "scopes_display",
        "valid_until",
        "revoked_at",
        "created_at",
        "last_seen_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("relative")

    @admin.display(description=_("shared parts"))
    def scopes_display(self, obj: RelativeGrant) -> str:
        labels = dict(Scope.choices)
        return ", ".join(str(labels.get(s, s)) for s in obj.scopes or []) or "–"

    @admin.display(description=_("state"))
    def state(self, obj: RelativeGrant) -> str:
        if obj.revoked_at is not None:
            return str(_("Revoked"))
        if obj.valid_until is not None and obj.valid_until < timezone.localdate():
            return str(_("Expired"))
        return str(_("Active"))


class NeedsSupportFilter(admin.SimpleListFilter):
    title = _("support")
    parameter_name = "support"

    def lookups(self, request, model_admin):
        return [
            ("relatives", _("Relatives who need support")),
            ("missing", _("Patient misses support")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "relatives":
            return queryset.filter(flagged__gt=0)
        if self.value() == "missing":
            return queryset.exclude(missing_support="")
        return queryset


class CareMapEntryInline(RecordInline, admin.TabularInline):
    """People and care contacts, drawn together with the patient
    (``services.care_map_entry_save``/``care_map_entry_delete``: every change a version)."""

    model = CareMapEntry
    fields = (
        "kind",
        "name",
        "relation",
        "closeness",
        "direction",
        "frequency",
        "phone",
        "email",
        "is_child",
        "needs_support",
        "note",
        "remove_link",
    )
    readonly_fields = ("remove_link",)
    extra = 1
    # Removing a person asks first, on its own page (``CareMapAdmin.remove_entry_view``).
    add_by = change_by = STAFF

    @admin.display(description="")
    def remove_link(self, obj: CareMapEntry) -> str:
        if obj.pk is None:
            return ""
        url = reverse("admin:contacts_caremap_remove_entry", args=[obj.care_map_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Remove…"))


@admin.register(CareMap)
class CareMapAdmin(PatientRecordAdmin):
    """The care map of a patient of my units: the picture, the list, earlier versions
    (``?version=N``), who has access and open invitations. The responsible unit's staff
    may draw the map together with the patient; sharing stays the patient's. Logged."""

    add_by = change_by = STAFF
    change_form_template = "admin/contacts/caremap/change_form.html"
    list_display = ("patient", "version", "flagged", "misses_support", "updated_at")
    list_filter = (NeedsSupportFilter,)
    search_fields = ("patient__first_name", "patient__last_name")
    fields = ("patient", "version", "updated_at", "missing_support")
    inlines = [CareMapEntryInline]

    def get_readonly_fields(self, request, obj=None):
        return ("version", "updated_at") if obj is None else ("patient", "version", "updated_at")

    def get_urls(self):
        return [
            path(
                "<path:object_id>/entry/<int:entry_id>/remove/",
                self.admin_site.admin_view(self.remove_entry_view),
                name="contacts_caremap_remove_entry",
            ),
            *super().get_urls(),
        ]

    def remove_entry_view(self, request, object_id, entry_id: int):
        """Remove a person from the care map: a page says what happens, the POST does it."""
        care_map = self.get_object(request, unquote(object_id))
        entry = care_map.entries.filter(pk=entry_id).first()
        if entry is None:
            raise Http404
        if not self.has_change_permission(request, care_map):
            self.log(request, care_map, Action.UPDATE, allowed=False)
            raise PermissionDenied
        back = self.change_url(care_map)
        if request.method == "POST":
            name = entry.name
            services.care_map_entry_delete(entry=entry, by=request.user)
            self.log(request, care_map, Action.UPDATE)
            self.message_user(
                request,
                gettext("Removed from the care map: %(name)s") % {"name": name},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(back)
        self.log(request, care_map, Action.VIEW)
        return TemplateResponse(
            request,
            "admin/careplan/confirm.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": care_map,
                "title": gettext("Remove from the care map?"),
                "what": entry.name,
                "consequence": gettext(
                    "%(name)s is taken off the patient's care map. Earlier versions keep "
                    "them; the patient sees the change in the map's history."
                )
                % {"name": entry.name},
                "yes": gettext("Yes, remove"),
                "back": back,
            },
        )

    def get_fields(self, request, obj=None):
        return ("patient",) if obj is None else self.fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "patient":
            kwargs["queryset"] = access.patients_for(request.user).filter(care_map__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_record(self, request, obj, form, change) -> None:
        if not change:
            obj.pk = services.care_map_of(obj.patient).pk
            return
        if "missing_support" in form.changed_data:
            services.care_map_support_update(
                care_map=obj, missing_support=obj.missing_support, by=request.user
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is not CareMapEntry:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for entry in formset.deleted_objects:
            services.care_map_entry_delete(entry=entry, by=request.user)
        for entry in formset.new_objects:
            services.care_map_entry_save(entry=entry, by=request.user, creating=True)
        for entry, _changed in formset.changed_objects:
            services.care_map_entry_save(entry=entry, by=request.user, creating=False)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                flagged=Count(
                    "entries",
                    filter=Q(entries__kind=EntryKind.PERSON)
                    & (Q(entries__needs_support=True) | Q(entries__is_child=True)),
                )
            )
        )

    @admin.display(description=_("relatives who need support"), ordering="flagged")
    def flagged(self, obj: CareMap) -> int:
        return obj.flagged

    @admin.display(description=_("misses support"), boolean=True)
    def misses_support(self, obj: CareMap) -> bool:
        return bool(obj.missing_support)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._map_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _map_context(self, request, obj: CareMap) -> dict:
        versions = list(obj.versions.select_related("created_by").defer("snapshot"))
        shown = None
        number = request.GET.get("version", "")
        if number.isdigit():
            shown = obj.versions.filter(number=int(number)).first()
        if shown is not None:
            entries = shown.snapshot.get("entries", [])
            missing = shown.snapshot.get("missing_support", "")
        else:
            entries = [e.as_snapshot() for e in obj.entries.all()]
            missing = obj.missing_support
        labels = dict(Scope.choices)
        grants = list(
            RelativeGrant.objects.active().filter(patient=obj.patient).select_related("relative")
        )
        for g in grants:
            g.scope_labels = ", ".join(str(labels.get(s, s)) for s in g.scopes or [])
        return {
            "map_svg": svg.render(entries, patient_name=obj.patient.first_name),
            "map_entries": [
                {
                    **e,
                    "description": svg.describe(e),
                    "flagged": e.get("kind") == EntryKind.PERSON
                    and (e.get("is_child") or e.get("needs_support")),
                }
                for e in entries
            ],
            "map_missing_support": missing,
            "map_versions": versions,
            "map_version_shown": shown,
            "map_grants": grants,
            "map_invitations": list(Invitation.objects.pending().filter(patient=obj.patient)),
        }


# --- Active handovers ------------------------------------------------------------------------


class HandoverDirectionFilter(admin.SimpleListFilter):
    title = _("direction")
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        return [("inbox", _("To my units (inbox)")), ("sent", _("From my units"))]

    def queryset(self, request, queryset):
        units = access.staff_unit_ids(request.user)
        if self.value() == "inbox":
            return queryset.filter(to_unit__in=units)
        if self.value() == "sent":
            return queryset.filter(from_unit__in=units)
        return queryset


@admin.register(Handover)
class HandoverAdmin(PatientRecordAdmin):
    """Handovers of my units: the sender's drafts and sent ones, and the receiving unit's
    inbox (sent to one of my units: open the summary, accept with a contact nurse or
    decline with a reason). Every change goes through a service; every look is logged,
    with the basis the user reached it by (``contacts.handover.access``)."""

    # Writes happen on our own pages through the services; ``can_write`` decides per
    # handover (the standard change form is replaced by the summary page).
    add_by = change_by = STAFF
    list_display = ("patient", "from_unit", "to_unit", "state", "sent_at", "accepted_at")
    list_select_related = ("patient", "from_unit", "to_unit")
    list_filter = (HandoverDirectionFilter, "state")
    search_fields = ("patient__first_name", "patient__last_name")

    # --- scope and log: the narrow handover rule instead of the care relation alone

    def get_queryset(self, request):
        if not access.is_care_staff(request.user):
            return Handover.objects.none()
        return handover_access.handovers_for(request.user).select_related(
            "patient", "from_unit", "to_unit"
        )

    def acting_unit_of(self, request, obj):
        if not hasattr(obj, "acting_unit_id"):
            obj.acting_unit_id = handover_access.handover_reach(request.user, obj).acting_unit_id
        return obj.acting_unit_id

    def can_write(self, request, obj) -> bool:
        if obj is None:
            return bool(access.staff_unit_ids(request.user))
        return handover_access.handover_reach(request.user, obj).write

    def log(self, request, obj, action: str, *, allowed: bool = True) -> None:
        r = handover_access.handover_reach(request.user, obj) if allowed else access.NO_REACH
        access.log_access(
            user=request.user,
            patient=obj.patient,
            obj=obj,
            action=action,
            allowed=allowed,
            channel=AccessLog.Channel.ADMIN,
            reach_=r,
        )

    def log_shown(self, request, objects) -> None:
        handover_access.log_handover_list(
            user=request.user, handovers=objects, channel=AccessLog.Channel.ADMIN
        )

    # --- pages

    def get_urls(self):
        def view(fn, name):
            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(fn),
                name=f"contacts_handover_{name}",
            )

        return [
            view(self.edit_view, "edit"),
            view(self.send_view, "send"),
            view(self.cancel_view, "cancel"),
            view(self.accept_view, "accept"),
            view(self.decline_view, "decline"),
            view(self.complete_view, "complete"),
            path(
                "<path:object_id>/summary.pdf",
                self.admin_site.admin_view(self.pdf_view),
                name="contacts_handover_pdf",
            ),
            view(self.fhir_view, "fhir"),
            path(
                "report/",
                self.admin_site.admin_view(self.report_view),
                name="contacts_handover_report",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        patients = access.patients_for(request.user)
        initial = {}
        patient_id = request.GET.get("patient", "")
        if patient_id.isdigit():
            patient = patients.filter(pk=int(patient_id)).first()
            if patient is not None:
                initial = {
                    "patient": patient.pk,
                    "assessment": handover_services.handover_current_assessment(patient),
                }
        form = HandoverCreateForm(
            request.POST if request.method == "POST" else None, patients=patients, initial=initial
        )
        if form.is_bound and form.is_valid():
            data = dict(form.cleaned_data)
            # Started from the handover list (no patient chosen beforehand): the current
            # assessment is filled in as from the patient's page, unless one was written.
            filled = not (data.get("assessment") or "").strip()
            if filled:
                data["assessment"] = handover_services.handover_current_assessment(data["patient"])
            handover = call_service(
                form, handover_services.handover_create, by=request.user, **data
            )
            if handover is not None:
                self.log(request, handover, Action.CREATE)
                self.message_user(
                    request, gettext("The handover is saved as a draft."), messages.SUCCESS
                )
                if filled and data["assessment"]:
                    self.message_user(
                        request,
                        gettext(
                            "The current assessment was filled in from the latest scores "
                            "and the rehabilitation plan. Check it before you send."
                        ),
                        messages.INFO,
                    )
                return HttpResponseRedirect(self.change_url(handover))
        elif form.is_bound:
            self.log_refused_patient(request, form)
        return self.render_form_page(
            request,
            form=form,
            title=gettext("New handover"),
            submit_label=gettext("Save draft"),
            intro=gettext(
                "Your unit stays responsible until the receiving unit confirms contact with "
                "the patient. The patient can add needs and wishes while it is a draft."
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        handover = self.get_object(request, unquote(object_id))
        units = access.staff_unit_ids(request.user)
        self.log(request, handover, Action.VIEW)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(handover),
            "original": handover,
            "handover": handover,
            "events": list(handover.events.select_related("by")),
            "is_sender": handover.from_unit_id in units,
            "is_receiver": handover.to_unit_id in units,
            "pdf_url": reverse("admin:contacts_handover_pdf", args=[handover.pk]),
            "fhir_url": reverse("admin:contacts_handover_fhir", args=[handover.pk]),
            "grace": getattr(handover, "acting_unit_id", None) is not None
            and handover_access.handover_reach(request.user, handover).basis
            == handover_access.BASIS_GRACE,
        }
        return TemplateResponse(request, "admin/contacts/handover/summary.html", context)

    def _answer(self, request, object_id, *, title, submit, form_class, service, intro="", **kw):
        handover = self.get_object(request, unquote(object_id))
        form_kwargs = kw.pop("form_kwargs", {})
        form = form_class(request.POST if request.method == "POST" else None, **form_kwargs)
        if request.method == "POST" and form.is_valid():
            done = call_service(
                form, service, handover=handover, by=request.user, **kw, **form.cleaned_data
            )
            if done is not None:
                self.log(request, handover, Action.UPDATE)
                self.message_user(
                    request,
                    gettext("The handover is %(state)s.")
                    % {"state": done.get_state_display().lower()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self.change_url(done))
        else:
            self.log(request, handover, Action.VIEW)
        return self.render_form_page(
            request, form=form, title=title, submit_label=submit, obj=handover, intro=intro
        )

    def edit_view(self, request, object_id):
        handover = self.get_object(request, unquote(object_id))
        initial = {name: getattr(handover, name) for name in SBAR_FIELDS}
        form = HandoverTextForm(request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST" and form.is_valid():
            changed = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
            done = (
                call_service(
                    form,
                    handover_services.handover_update,
                    handover=handover,
                    by=request.user,
                    **changed,
                )
                if changed
                else handover
            )
            if done is not None:
                self.log(request, handover, Action.UPDATE)
                return HttpResponseRedirect(self.change_url(handover))
        else:
            self.log(request, handover, Action.VIEW)
        return self.render_form_page(
            request,
            form=form,
            title=gettext("Change the handover"),
            submit_label=gettext("Save"),
            obj=handover,
        )

    def _post_only(self, request, object_id, service, done_message):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:contacts_handover_change", args=[object_id]))
        handover = self.get_object(request, unquote(object_id))
        try:
            service(handover=handover, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            self.log(request, handover, Action.UPDATE, allowed=False)
            self.message_user(
                request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR
            )
        else:
            self.log(request, handover, Action.UPDATE)
            self.message_user(request, done_message, messages.SUCCESS)
        return HttpResponseRedirect(self.change_url(handover))

    def send_view(self, request, object_id):
        if request.method != "POST":
            # Sending is far-reaching: a page says what will happen, then the POST sends.
            handover = self.get_object(request, unquote(object_id))
            self.log(request, handover, Action.VIEW)
            return TemplateResponse(
                request,
                "admin/careplan/confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "original": handover,
                    "title": gettext("Send the handover?"),
                    "what": str(handover),
                    "consequence": gettext(
                        "%(unit)s can read the summary and accept or decline it. Your unit "
                        "stays responsible until they accept; the text can no longer be "
                        "changed once it is sent."
                    )
                    % {"unit": handover.to_unit},
                    "yes": gettext("Yes, send the handover"),
                    "back": self.change_url(handover),
                },
            )
        return self._post_only(
            request, object_id, handover_services.handover_send, gettext("The handover is sent.")
        )

    def cancel_view(self, request, object_id):
        return self._post_only(
            request,
            object_id,
            handover_services.handover_cancel,
            gettext("The handover is cancelled."),
        )

    def complete_view(self, request, object_id):
        return self._post_only(
            request,
            object_id,
            handover_services.handover_complete,
            gettext("The handover is completed."),
        )

    def pdf_view(self, request, object_id):
        from django.http import HttpResponse
        from django.utils.http import content_disposition_header
        from django.utils.translation import get_language

        handover = self.get_object(request, unquote(object_id))
        access.log_access(
            user=request.user,
            patient=handover.patient,
            obj=handover,
            action=Action.PRINT,
            allowed=True,
            channel=AccessLog.Channel.PDF,
            reach_=handover_access.handover_reach(request.user, handover),
        )
        response = HttpResponse(
            handover_pdf(handover, language=get_language() or "sv"),
            content_type="application/pdf",
        )
        stem = gettext("handover")
        response["Content-Disposition"] = content_disposition_header(
            False, f"{stem}-{timezone.localdate():%Y-%m-%d}.pdf"
        )
        return response

    def fhir_view(self, request, object_id):
        from django.http import JsonResponse

        handover = self.get_object(request, unquote(object_id))
        reach = handover_access.handover_reach(request.user, handover)
        access.log_access(
            user=request.user,
            patient=handover.patient,
            obj=handover,
            action=Action.EXPORT,
            allowed=True,
            channel=AccessLog.Channel.ADMIN,
            reach_=reach,
        )
        return JsonResponse(
            handover_bundle(handover, full=handover_document_full(handover, reach)),
            content_type="application/fhir+json",
        )

    def report_view(self, request):
        import datetime as dt

        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        try:
            start = dt.date.fromisoformat(request.GET.get("start", ""))
        except ValueError:
            start = today - dt.timedelta(days=365)
        try:
            end = dt.date.fromisoformat(request.GET.get("end", ""))
        except ValueError:
            end = today
        rows = handover_report(unit_ids=access.staff_unit_ids(request.user), start=start, end=end)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Handover report"),
            "rows": rows,
            "start": start,
            "end": end,
        }
        return TemplateResponse(request, "admin/contacts/handover/report.html", context)

    def accept_view(self, request, object_id):
        handover = self.get_object(request, unquote(object_id))
        return self._answer(
            request,
            object_id,
            title=gettext("Accept the handover"),
            submit=gettext("Accept: we are responsible now"),
            form_class=HandoverAcceptForm,
            form_kwargs={"unit_id": handover.to_unit_id},
            service=handover_services.handover_accept,
            intro=gettext(
                "Accept when your unit has made contact with the patient. From then on your "
                "unit is responsible and the nurse you name is the patient's contact nurse."
            ),
        )

    def decline_view(self, request, object_id):
        return self._answer(
            request,
            object_id,
            title=gettext("Decline the handover"),
            submit=gettext("Decline"),
            form_class=HandoverDeclineForm,
            service=_decline,
        )


def _decline(*, handover, by, decline_reason: str):
    return handover_services.handover_decline(handover=handover, by=by, reason=decline_reason)
