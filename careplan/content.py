"""Language versions of the content patients read (one pattern for every kind of text).

Swedish is the original: it lives in the ``*_sv`` columns (or the ``sv`` key of a loaded
definition). Every other language is a *version* of it, kept on the same row in a JSON
field ``translations``::

    {"ar": {"title": "…", "body": "…", "status": "draft"},
     "fi": {"title": "…", "body": "…", "status": "reviewed",
            "reviewed_by": 12, "reviewed_by_name": "Karin Sjöström",
            "reviewed_at": "2026-11-30T05:10:00+01:00"}}

English texts predate this and stay in their ``*_en`` columns (the REST API, FHIR and the
admin forms read and write them there); their review status is kept in
``translations["en"]`` like any other language's. A language added to
``settings.LANGUAGES`` needs no code: its versions are new keys in the same field.

Why a JSON field and not a translations table: the texts are always read together with
their row (a plan page, a section, the PDF, the advice list), so a version costs no query
at all — page query counts stay exactly as they were, with no prefetch to forget — it is
copied with the row (a template section into a patient's plan section) by copying one
dict, and the same shape fits rows and loaded definitions (the triage guide). Filtering
"lacks a reviewed version in Arabic" is a JSON key lookup
(``translations__ar__status="reviewed"``), which Django supports on PostgreSQL and SQLite.
The reviewer is recorded by id and name (a JSON value is no foreign key; the name keeps the
record readable if the account goes).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language

ORIGINAL = "sv"
DRAFT = "draft"
REVIEWED = "reviewed"
STATUSES = (DRAFT, REVIEWED)
#: Keys of a version that are metadata, not text.
META_KEYS = frozenset({"status", "reviewed_by", "reviewed_by_name", "reviewed_at"})
#: The permission a reviewer needs (granted to the "Translation reviewers" group).
REVIEW_PERMISSION = "careplan.review_translation"


def languages() -> list[str]:
    """Every language content can have a version in (settings.LANGUAGES, original first)."""
    return [code for code, _name in settings.LANGUAGES]


def translated_languages() -> list[str]:
    """The languages other than the original."""
    return [code for code in languages() if code != ORIGINAL]


def reader_language(lang: str | None = None) -> str:
    return (lang or get_language() or ORIGINAL)[:2]


def _versions(obj) -> dict:
    return getattr(obj, "translations", None) or {}


def version_text(obj, field: str, lang: str) -> str:
    """``field`` of ``obj`` in ``lang`` ("" if the text has no version in it)."""
    if lang == ORIGINAL or hasattr(obj, f"{field}_{lang}"):
        return getattr(obj, f"{field}_{lang}", "") or ""
    return (_versions(obj).get(lang) or {}).get(field) or ""


def version_status(obj, lang: str) -> str | None:
    """``draft`` or ``reviewed`` for a translation; None for the original."""
    if lang == ORIGINAL:
        return None
    status = (_versions(obj).get(lang) or {}).get("status")
    return status if status in STATUSES else DRAFT


@dataclass(frozen=True)
class Shown:
    """A text as a reader sees it: in ``lang`` (the reader's, or Swedish as fallback)."""

    text: str
    lang: str
    #: ``draft``/``reviewed`` when the text is a translation, None for the original.
    status: str | None
    #: True when the reader's language has no version and Swedish is shown instead.
    fallback: bool

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    @property
    def dir(self) -> str:
        from django.utils.translation import get_language_info

        try:
            return "rtl" if get_language_info(self.lang)["bidi"] else "ltr"
        except KeyError:
            return "ltr"

    def __str__(self) -> str:
        return self.text


def shown(obj, field: str, lang: str | None = None) -> Shown:
    """``field`` of ``obj`` for a reader of ``lang`` (default: the active language)."""
    lang = reader_language(lang)
    if lang != ORIGINAL:
        text = version_text(obj, field, lang)
        if text:
            return Shown(text, lang, version_status(obj, lang), False)
    return Shown(getattr(obj, f"{field}_{ORIGINAL}", "") or "", ORIGINAL, None, lang != ORIGINAL)


def localized(obj, field: str, lang: str | None = None) -> str:
    return shown(obj, field, lang).text


def localized_language(obj, field: str, lang: str | None = None) -> str:
    return shown(obj, field, lang).lang


def lacks_review(obj, lang: str, fields: tuple[str, ...] = ("title", "body")) -> bool:
    """True when ``obj`` has no reviewed version in ``lang`` (the original never lacks)."""
    if lang == ORIGINAL:
        return False
    if not any(version_text(obj, f, lang) for f in fields if hasattr(obj, f"{f}_{ORIGINAL}")):
        return True
    return version_status(obj, lang) != REVIEWED


def with_versions(translations: dict | None, lang: str, texts: dict[str, str]) -> dict:
    """``translations`` with ``lang``'s texts set as a draft. A version whose texts did not
    change keeps its status and review (reloading a file does not undo a review)."""
    out = {k: dict(v) for k, v in (translations or {}).items()}
    old = out.get(lang) or {}
    same = all(old.get(k) == v for k, v in texts.items()) and old.get("status") in STATUSES
    if same:
        return out
    out[lang] = {**texts, "status": DRAFT}
    return out


def reviewed(translations: dict | None, lang: str, *, by) -> dict:
    """``translations`` with ``lang`` marked reviewed by ``by`` now."""
    out = {k: dict(v) for k, v in (translations or {}).items()}
    version = out.get(lang) or {}
    version.update(
        status=REVIEWED,
        reviewed_by=by.pk,
        reviewed_by_name=by.get_full_name() or by.get_username(),
        reviewed_at=timezone.localtime().isoformat(timespec="seconds"),
    )
    out[lang] = version
    return out


def without(translations: dict | None, langs) -> dict:
    """``translations`` without the versions of ``langs`` (their original changed)."""
    return {k: dict(v) for k, v in (translations or {}).items() if k not in set(langs)}


def lacking_review_q(lang: str, *, prefix: str = ""):
    """A Q for rows without a reviewed version in ``lang`` (PostgreSQL and SQLite)."""
    from django.db.models import Q

    key = f"{prefix}translations__{lang}__status"
    return ~Q(**{key: REVIEWED}) | Q(**{f"{key}__isnull": True})


def loaded(translations: dict | None, texts: dict[str, dict[str, str]], *, columns=("en",)) -> dict:
    """``translations`` updated from a data file's ``{field: {lang: text}}``: every
    language but the original becomes a draft version (a version that did not change keeps
    its review). Languages in ``columns`` keep their text in ``*_<lang>`` columns, so only
    their status is recorded here. Usable from data migrations (plain dicts only)."""
    out = translations or {}
    langs = {lang for by_lang in texts.values() for lang in by_lang if lang != ORIGINAL}
    for lang in sorted(langs):
        if lang in columns:
            version = {}
        else:
            version = {f: by_lang[lang] for f, by_lang in texts.items() if by_lang.get(lang)}
        if version or lang in columns:
            out = with_versions(out, lang, version)
    return out
