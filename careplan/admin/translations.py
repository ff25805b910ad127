"""Review of content language versions (careplan/content.py), one mixin for every kind
of content: a column with each language's status, a filter "no reviewed version in …"
and one action per language "Mark the … version reviewed", offered only to reviewers
(care staff with ``careplan.review_translation``; superusers have it). The languages come
from settings.LANGUAGES: the next language needs no code here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html_join
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _

from .. import access, content, services


def _name(lang: str) -> str:
    return get_language_info(lang)["name_translated"]


class LacksReviewFilter(admin.SimpleListFilter):
    title = gettext_lazy("no reviewed version in")
    parameter_name = "lacks_review"

    def lookups(self, request, model_admin):
        return [(lang, _name(lang)) for lang in content.translated_languages()]

    def queryset(self, request, queryset):
        lang = self.value()
        if lang in content.translated_languages():
            return queryset.filter(content.lacking_review_q(lang))
        return queryset


def _review_action(lang: str):
    def action(modeladmin, request, queryset):
        done = 0
        for obj in queryset:
            try:
                services.translation_review(obj=obj, lang=lang, by=request.user)
            except PermissionDenied:
                raise
            except ValidationError as exc:
                modeladmin.message_user(
                    request, f"{obj}: {' '.join(exc.messages)}", messages.WARNING
                )
            else:
                done += 1
        if done:
            modeladmin.message_user(
                request,
                _("%(n)s text(s) marked reviewed in %(language)s.")
                % {"n": done, "language": _name(lang)},
                messages.SUCCESS,
            )

    action.__name__ = f"review_{lang}"
    action.allowed_permissions = ("review",)
    action.short_description = gettext_lazy("Mark the %(language)s version reviewed") % {
        "language": lang
    }
    return action


class TranslationReviewMixin:
    """For a ModelAdmin of content with a ``translations`` field."""

    def has_review_permission(self, request) -> bool:
        return access.can_review_translations(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_review_permission(request):
            return actions
        for lang in content.translated_languages():
            func = _review_action(lang)
            description = _("Mark the %(language)s version reviewed") % {"language": _name(lang)}
            actions[func.__name__] = (func, func.__name__, description)
        return actions

    @admin.display(description=gettext_lazy("language versions"))
    def language_versions(self, obj) -> str:
        rows = []
        for lang in content.translated_languages():
            version = (obj.translations or {}).get(lang)
            if not version:
                rows.append((lang, _("none")))
            elif version.get("status") == content.REVIEWED:
                rows.append(
                    (
                        lang,
                        _("reviewed by %(name)s %(when)s")
                        % {
                            "name": version.get("reviewed_by_name", ""),
                            "when": (version.get("reviewed_at") or "")[:10],
                        },
                    )
                )
            else:
                rows.append((lang, _("draft")))
        return format_html_join(", ", "{}: {}", rows)
