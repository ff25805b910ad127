"""Staff view of relatives' access: who the patient shares with, read only.

Grants are the patient's to give and revoke (on the web); the care team sees them for
the patients of their units, and every look is logged like other patient data.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careplan.admin import ActiveFilter, PatientRecordAdmin

from .models import RelativeGrant, Scope


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
