"""Staff view of the care map and of relatives' access, read only.

The map, grants and invitations are the patient's to change (on the web); the care team
of the responsible unit sees them for the patients of their units, and every look is
logged like other patient data (``PatientRecordAdmin``).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careplan import access
from careplan.admin import STAFF, ActiveFilter, PatientRecordAdmin, RecordInline

from . import services, svg
from .models import CareMap, CareMapEntry, EntryKind, Invitation, RelativeGrant, Scope


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
    )
    extra = 1
    add_by = change_by = delete_by = STAFF


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


# --- On the care team's worklist (admin index) ---------------------------------------------------


def support_worklist(user, *, limit: int = 10) -> dict | None:
    """Relatives flagged as needing support (children in particular) and patients who
    marked missing support, for the patients of my units.

    Three queries: the flagged entries, the maps with missing support, and the access-log
    rows (one per patient shown).
    """
    from careplan import access
    from careplan.admin import is_care_staff
    from careplan.models import AccessLog

    from .models import CareMapEntry

    if not is_care_staff(user) or not access.staff_unit_ids(user):
        return None
    patients = access.patients_for(user).values("pk")
    flagged = list(
        access.with_acting_unit(
            CareMapEntry.objects.needing_support().filter(care_map__patient__in=patients),
            user,
            patient_path="care_map__patient",
        )
        .select_related("care_map__patient")
        .order_by("-updated_at", "-id")[:limit]
    )
    missing = list(
        access.with_acting_unit(
            CareMap.objects.filter(patient__in=patients).exclude(missing_support=""), user
        )
        .select_related("patient")
        .order_by("-updated_at", "-id")[:limit]
    )
    rows: dict[int, tuple[int, int | None, object]] = {}
    for patient_id, obj in [(e.care_map.patient_id, e) for e in flagged] + [
        (m.patient_id, m) for m in missing
    ]:
        rows.setdefault(patient_id, (patient_id, obj.acting_unit_id, obj))
    access.log_list(user=user, rows=rows.values(), channel=AccessLog.Channel.ADMIN)
    return {"relatives_needing_support": flagged, "missing_support": missing}
