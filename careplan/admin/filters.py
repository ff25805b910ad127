"""List filters shared by the admins of careplan and the other apps."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import access
from ..models import CareUnit, ContactNurseAssignment


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
