"""The KVÅ catalogue (with the search the intervention form uses) and the self-care
advice library: read by staff, kept by superusers."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext

from careplan.admin import (
    SUPERUSER,
    RoleAdminMixin,
)
from careplan.admin.translations import LacksReviewFilter, TranslationReviewMixin

from ..models import (
    KvaCode,
    SelfCareAdvice,
)

# --- Catalogues ---------------------------------------------------------------------------


@admin.register(KvaCode)
class KvaCodeAdmin(RoleAdminMixin, admin.ModelAdmin):
    """The KVÅ catalogue: read by the care team; ``manage.py import_kva`` keeps it."""

    add_by = change_by = SUPERUSER
    list_display = ("code", "title_sv", "valid_from", "valid_to", "source")
    search_fields = ("code", "title_sv")
    list_filter = ("valid_to",)

    def get_urls(self):
        return [
            path(
                "search/",
                self.admin_site.admin_view(self.search_view),
                name="rehab_kvacode_search",
            ),
            *super().get_urls(),
        ]

    def search_view(self, request: HttpRequest) -> HttpResponse:
        """``?q=`` → codes valid today whose code starts with, or whose title contains,
        the text (at most 20, by code). Catalogue data only, no patient data."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse({"results": kva_search(request.GET.get("q", ""))})


def kva_search(text: str, *, limit: int = 20) -> list[dict]:
    text = (text or "").strip()
    if len(text) < 2:
        return []
    code = KvaCode.normalize(text)
    rows = (
        KvaCode.objects.valid_on(timezone.localdate())
        .filter(Q(code__startswith=code) | Q(title_sv__icontains=text))
        .order_by("code")
        .values_list("code", "title_sv")[:limit]
    )
    return [{"code": c, "title": t} for c, t in rows]


class KvaSearchInput(forms.TextInput):
    """The code as text (works without JavaScript, typed codes get a clear error), with
    suggestions from the catalogue as one types (``rehab/kva-search.js``: code or title,
    retired codes left out)."""

    class Media:
        js = ["rehab/kva-search.js"]

    def get_context(self, name, value, attrs):
        attrs = {
            **(attrs or {}),
            "list": "kva-options",
            "autocomplete": "off",
            "data-kva-search": reverse("admin:rehab_kvacode_search"),
            "placeholder": gettext("Code or words, e.g. AW019 or fatigue"),
        }
        return super().get_context(name, value, attrs)


@admin.register(SelfCareAdvice)
class SelfCareAdviceAdmin(TranslationReviewMixin, RoleAdminMixin, admin.ModelAdmin):
    add_by = change_by = delete_by = SUPERUSER
    list_display = ("title_sv", "area", "is_active", "language_versions")
    list_filter = ("area", "is_active", LacksReviewFilter)
    readonly_fields = ("language_versions",)
    search_fields = ("title_sv", "title_en")
