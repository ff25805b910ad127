"""The access log, read only."""

from __future__ import annotations

from django.contrib import admin

from .. import access
from ..models import AccessLog
from .base import STAFF, CappedCountPaginator, RoleAdminMixin


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
