"""Care units and their staff, user accounts and MFA authenticators (superusers)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.utils.translation import gettext_lazy as _

from .. import access
from ..models import CareUnit, Role, StaffMembership, User
from .base import SUPERUSER, RoleAdminMixin
from .forms import UserChangeForm, UserCreationForm


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
