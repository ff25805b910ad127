"""The outbox, for operations: dead rows and retrying them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import outbox
from ..models import Outbox
from .filters import DefaultListFilter


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
        count = outbox.outbox_retry(rows=list(queryset))
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
