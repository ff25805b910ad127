"""The patient's comments and questions on the rehabilitation plan in the admin (over
``careplan.admin``'s ``PatientRecordAdmin``: unit-scoped, one access-log row per access):
the care team answers one, or marks it read, through
``rehab.services.rehab_plan_comment_handle``. Registered when ``rehab.admin`` is imported.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from careplan.admin import STAFF, PatientRecordAdmin

from .. import services
from ..models import RehabPlanComment

# --- The patient's comments on the plan -----------------------------------------------------


class CommentOpenFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("done", _("Handled")), ("all", _("All"))]

    def choices(self, changelist):
        # "Open" is the default: the bare list shows what waits.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": (self.value() or "open") == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "open"
        if value == "open":
            return queryset.filter(handled_at__isnull=True)
        if value == "done":
            return queryset.filter(handled_at__isnull=False)
        return queryset


@admin.register(RehabPlanComment)
class RehabPlanCommentAdmin(PatientRecordAdmin):
    """Patients' comments and questions on their rehabilitation plans: handle one with
    an answer the patient reads on the plan's page, or without one (marked as read).
    Handled comments are read-only."""

    change_by = STAFF
    list_display = ("created_at", "patient", "short_text", "handled_at")
    list_select_related = ("patient",)
    list_filter = (CommentOpenFilter,)
    fields = ("patient", "plan_link", "text", "created_at", "answer", "handled_at")
    readonly_fields = ("patient", "plan_link", "text", "created_at", "handled_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("rehab_plan")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.handled_at is not None:
            return (*self.readonly_fields, "answer")
        return self.readonly_fields

    @admin.display(description=_("comment"))
    def short_text(self, obj: RehabPlanComment) -> str:
        return obj.text[:120]

    @admin.display(description=_("rehabilitation plan"))
    def plan_link(self, obj: RehabPlanComment) -> str:
        url = reverse("admin:rehab_rehabplan_change", args=[obj.rehab_plan_id])
        overview = reverse("admin:careplan_patient_overview", args=[obj.patient_id])
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            url,
            gettext("Open the rehabilitation plan"),
            overview,
            gettext("Patient overview"),
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.handled_at is None:
            context["title"] = gettext("Answer the comment, or mark it as read")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_record(self, request, obj, form, change) -> None:
        if obj.handled_at is None:
            services.rehab_plan_comment_handle(
                comment=obj, by=request.user, answer=form.cleaned_data.get("answer", "")
            )
