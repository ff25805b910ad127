"""The instrument file format, its validation, and validation of a patient's answers.

An instrument file (JSON) holds::

    {"id": "distress-thermometer", "version": 1, "kind": "prom" | "prem",
     "title": {"sv": …, "en": …}, "intro": {…}, "source": "…", "licence": "…",
     "pages": [{"key": …, "title": {…}, "items": [ITEM, …]}, …],
     "scales": [SCALE, …], "alerts": [ALERT, …]}

ITEM: ``id``, ``type`` (``scale`` 0–10 with ``min``/``max``/``anchors``, ``single``,
``multiple`` (e.g. a problem list), ``yesno``, ``text``), ``text``, ``help``,
``options`` (``[{"value", "text"}]`` for single/multiple), ``required``, ``max_length``
(text), ``when`` (shown only if ``{"item", "op", "value"}`` holds, op also
``answered``; hidden answers are
dropped and never required).

SCALE: ``key``, ``title``, ``method`` (``sum``, ``mean``, ``max``, ``value``, ``count``),
``items``, ``reversed`` (items scored ``min + max - answer``), ``min``/``max`` (the range
drawn), ``missing`` (``{"min_answered": n, "prorate": bool}``), ``bands``
(``[{"min", "max", "label"}]``), ``thresholds`` (``[{"value", "label"}]``).

ALERT: ``key``, ``scale`` or ``item``, ``op`` (``>=``, ``>``, ``<=``, ``<``, ``==``,
``includes``), ``value``, ``severity`` (``low``/``medium``/``high``), ``text``.

A LANGUAGE VERSION (``languages/<id>.v<N>.<lang>.json``, e.g. ``…v1.ar.json``)
is the original file of the same ``id`` and ``version`` with ``"language": "ar"`` and
``"status": "draft" | "reviewed"`` added and an ``ar`` text beside ``sv`` and ``en`` in
every text; nothing else may differ (``validate_language_version``), so its answers score
exactly like the original's and the two stay one series in trends and alerts. It is its
own instrument version: answered once, it is never edited either.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from careplan import content

ITEM_TYPES = {"scale", "single", "multiple", "yesno", "text"}
METHODS = {"sum", "mean", "max", "value", "count"}
OPS = {">=", ">", "<=", "<", "==", "includes"}
CONDITION_OPS = OPS | {"answered"}
SEVERITIES = {"low": 1, "medium": 2, "high": 3}
KINDS = {"prom", "prem"}
LANGS = ("sv", "en")
# The languages a language version may be in: the site's others (the original holds sv
# and en), so a new language in settings.LANGUAGES needs no change here.
VERSION_LANGS = tuple(code for code, _name in settings.LANGUAGES if code not in LANGS)
# A translation's status, as for every other translated text (careplan.content).
TEXT_STATUSES = content.STATUSES
# Keys of a language version that are about the translation, not the instrument: a
# review (draft → reviewed) is no edit of the version.
REVIEW_KEYS = content.META_KEYS
TEXT_MAX_LENGTH = 2000


class DefinitionError(ValueError):
    """A broken instrument file: ``errors`` name the file, the item and the reason."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _is_text(value) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(lang), str) and value.get(lang).strip() for lang in LANGS
    )


def items_of(definition: dict) -> list[dict]:
    return [item for page in definition.get("pages", []) for item in page.get("items", [])]


def item_map(definition: dict) -> dict[str, dict]:
    return {item["id"]: item for item in items_of(definition)}


def validate_definition(data: Any, *, where: str) -> dict:
    """Check an instrument; return it or raise ``DefinitionError`` naming each fault as
    ``<where>: <item or part>: <reason>``."""
    errors: list[str] = []

    def fault(part: str, reason: str) -> None:
        errors.append(f"{where}: {part}: {reason}")

    if not isinstance(data, dict):
        raise DefinitionError([f"{where}: top level: must be a JSON object"])
    if not isinstance(data.get("id"), str) or not data["id"].replace("-", "").isalnum():
        fault("id", "must be a slug (letters, digits, hyphens)")
    if not isinstance(data.get("version"), int) or data.get("version", 0) < 1:
        fault("version", "must be a whole number from 1")
    if data.get("kind") not in KINDS:
        fault("kind", f"must be one of {sorted(KINDS)}")
    if not _is_text(data.get("title")):
        fault("title", "needs Swedish and English text (sv, en)")
    for key in ("source", "licence"):
        if not isinstance(data.get(key), str) or not data.get(key).strip():
            fault(key, "a note is required")
    pages = data.get("pages")
    if not isinstance(pages, list) or not pages:
        fault("pages", "at least one page of items is required")
        pages = []

    seen: dict[str, dict] = {}
    for p, page in enumerate(pages):
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            fault(f"page {p + 1}", "must hold a list of items")
            continue
        if not _is_text(page.get("title")):
            fault(f"page {page.get('key', p + 1)}", "title needs sv and en text")
        for item in page["items"]:
            item_id = item.get("id") if isinstance(item, dict) else None
            label = f"item {item_id!r}"
            if not isinstance(item_id, str) or not item_id:
                fault(f"page {p + 1}", "an item has no id")
                continue
            if item_id in seen:
                fault(label, "id is used twice")
            seen[item_id] = item
            kind = item.get("type")
            if kind not in ITEM_TYPES:
                fault(label, f"type {kind!r} is not one of {sorted(ITEM_TYPES)}")
            if not _is_text(item.get("text")):
                fault(label, "text needs sv and en")
            if kind == "scale":
                lo, hi = item.get("min", 0), item.get("max", 10)
                if not (isinstance(lo, int) and isinstance(hi, int) and lo < hi):
                    fault(label, "min and max must be whole numbers with min < max")
                for anchor, text in (item.get("anchors") or {}).items():
                    if not str(anchor).lstrip("-").isdigit() or not lo <= int(anchor) <= hi:
                        fault(label, f"anchor {anchor!r} is outside {lo}–{hi}")
                    if not _is_text(text):
                        fault(label, f"anchor {anchor!r} needs sv and en text")
            if kind in ("single", "multiple"):
                options = item.get("options")
                if not isinstance(options, list) or not options:
                    fault(label, "needs options")
                else:
                    values = [o.get("value") for o in options if isinstance(o, dict)]
                    if len(values) != len(options) or len(set(map(str, values))) != len(values):
                        fault(label, "option values must be present and unique")
                    for o in options:
                        if isinstance(o, dict) and not _is_text(o.get("text")):
                            fault(label, f"option {o.get('value')!r} needs sv and en text")
            when = item.get("when")
            if when is not None:
                if not isinstance(when, dict) or when.get("item") not in seen:
                    fault(label, "condition must name an earlier item")
                elif when.get("op") not in CONDITION_OPS:
                    fault(label, f"condition op must be one of {sorted(CONDITION_OPS)}")
                elif when.get("item") == item_id:
                    fault(label, "condition cannot name the item itself")

    scale_keys: set[str] = set()
    for scale in data.get("scales", []) or []:
        key = scale.get("key") if isinstance(scale, dict) else None
        label = f"scale {key!r}"
        if not isinstance(key, str) or not key:
            fault("scales", "a scale has no key")
            continue
        if key in scale_keys:
            fault(label, "key is used twice")
        scale_keys.add(key)
        if scale.get("method") not in METHODS:
            fault(label, f"method must be one of {sorted(METHODS)}")
        if not _is_text(scale.get("title")):
            fault(label, "title needs sv and en")
        members = scale.get("items")
        if not isinstance(members, list) or not members:
            fault(label, "needs items")
            members = []
        for member in members:
            if member not in seen:
                fault(label, f"unknown item {member!r}")
            elif scale.get("method") != "count" and seen[member].get("type") not in (
                "scale",
                "single",
                "yesno",
            ):
                fault(label, f"item {member!r} has no number to score")
        if scale.get("method") == "value" and len(members) != 1:
            fault(label, "method value takes exactly one item")
        for member in scale.get("reversed", []) or []:
            if member not in members:
                fault(label, f"reversed item {member!r} is not in the scale")
        missing = scale.get("missing", {}) or {}
        if not isinstance(missing.get("min_answered", 1), int) or not (
            0 < missing.get("min_answered", 1) <= max(len(members), 1)
        ):
            fault(label, "missing.min_answered must be between 1 and the number of items")
        for band in scale.get("bands", []) or []:
            if not (
                isinstance(band, dict)
                and isinstance(band.get("min"), int | float)
                and isinstance(band.get("max"), int | float)
                and band["min"] <= band["max"]
                and _is_text(band.get("label"))
            ):
                fault(label, "each band needs min <= max and an sv/en label")
        for threshold in scale.get("thresholds", []) or []:
            if not isinstance(threshold.get("value"), int | float) or not _is_text(
                threshold.get("label")
            ):
                fault(label, "each threshold needs a number and an sv/en label")

    for alert in data.get("alerts", []) or []:
        key = alert.get("key") if isinstance(alert, dict) else None
        label = f"alert {key!r}"
        if not isinstance(key, str) or not key:
            fault("alerts", "an alert has no key")
            continue
        if alert.get("scale") not in scale_keys and alert.get("item") not in seen:
            fault(label, "must name a known scale or item")
        if alert.get("op") not in OPS:
            fault(label, f"op must be one of {sorted(OPS)}")
        if alert.get("severity") not in SEVERITIES:
            fault(label, f"severity must be one of {sorted(SEVERITIES)}")
        if not _is_text(alert.get("text")):
            fault(label, "text needs sv and en")
    if data.get("kind") == "prem" and data.get("alerts"):
        fault("alerts", "a PREM is reported in aggregate only and cannot raise alerts")

    if errors:
        raise DefinitionError(errors)
    return data


# --- Answers ---------------------------------------------------------------------------


def _compare(left, op: str, right) -> bool:
    if left is None:
        return False
    if op == "answered":
        return left not in ("", [])
    if op == "includes":
        return right in left if isinstance(left, list) else left == right
    if op == "==":
        return left == right
    try:
        left, right = float(left), float(right)
    except (TypeError, ValueError):
        return False
    return {">=": left >= right, ">": left > right, "<=": left <= right, "<": left < right}[op]


def is_shown(item: dict, answers: dict) -> bool:
    when = item.get("when")
    if not when:
        return True
    return _compare(answers.get(when["item"]), when["op"], when.get("value"))


def clean_answers(
    definition: dict, raw: dict[str, list[str]], *, item_ids: list[str] | None = None
) -> tuple[dict, dict[str, str]]:
    """Turn posted values (``{item_id: [values]}``) into typed answers.

    Returns (answers, errors): every valid answer is kept even when others fail, an
    unknown item or a value outside the item's range is an error for that item.
    ``item_ids`` limits the check to one page's items (the others are not looked at).
    """
    items = item_map(definition)
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item_id in raw:
        if item_id not in items:
            errors[item_id] = _("This question is not part of the questionnaire.")
    for item_id, item in items.items():
        if item_ids is not None and item_id not in item_ids:
            continue
        values = [v for v in raw.get(item_id, []) if str(v).strip() != ""]
        if not values:
            continue
        kind = item["type"]
        if kind in ("scale", "text") and len(values) > 1:
            # A list where one value belongs: refused, never trimmed to its first value.
            errors[item_id] = (
                _("Choose one number, not several.")
                if kind == "scale"
                else _("Write one answer, not several.")
            )
            continue
        if kind == "scale":
            lo, hi = item.get("min", 0), item.get("max", 10)
            try:
                number = int(str(values[0]).strip())
            except ValueError:
                errors[item_id] = _("Choose a number from %(min)s to %(max)s.") % {
                    "min": lo,
                    "max": hi,
                }
                continue
            if not lo <= number <= hi:
                errors[item_id] = _("Choose a number from %(min)s to %(max)s.") % {
                    "min": lo,
                    "max": hi,
                }
                continue
            answers[item_id] = number
        elif kind in ("single", "yesno"):
            allowed = (
                {str(o["value"]): o["value"] for o in item["options"]}
                if kind == "single"
                else {"yes": "yes", "no": "no"}
            )
            if str(values[0]) not in allowed or len(values) > 1:
                errors[item_id] = _("Choose one of the answers shown.")
                continue
            answers[item_id] = allowed[str(values[0])]
        elif kind == "multiple":
            allowed = {str(o["value"]): o["value"] for o in item["options"]}
            unknown = [v for v in values if str(v) not in allowed]
            if unknown:
                errors[item_id] = _("Choose among the answers shown.")
                continue
            answers[item_id] = [allowed[str(v)] for v in dict.fromkeys(map(str, values))]
        elif kind == "text":
            text = str(values[0]).strip()
            if "\x00" in text:  # PostgreSQL cannot store it (the web and API refuse it first)
                errors[item_id] = _("Remove the invisible control character (NUL) from the text.")
                continue
            limit = item.get("max_length", TEXT_MAX_LENGTH)
            if len(text) > limit:
                errors[item_id] = _("Write at most %(n)s characters.") % {"n": limit}
                continue
            answers[item_id] = text
    return answers, errors


def visible_answers(definition: dict, answers: dict) -> dict:
    """Drop answers to items whose condition does not hold (in page order)."""
    kept: dict[str, Any] = {}
    for item in items_of(definition):
        if item["id"] in answers and is_shown(item, kept):
            kept[item["id"]] = answers[item["id"]]
    return kept


def missing_required(definition: dict, answers: dict) -> list[str]:
    """Required items that are shown and not answered, in page order."""
    return [
        item["id"]
        for item in items_of(definition)
        if item.get("required") and is_shown(item, answers) and item["id"] not in answers
    ]


def language_of(data: dict) -> str:
    """The language a file is a language version in; "" for an original (sv and en)."""
    return data.get("language", "") if isinstance(data, dict) else ""


def _is_text_dict(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("sv"), str)


def _without(value, lang: str):
    if _is_text_dict(value):
        return {k: v for k, v in value.items() if k != lang}
    if isinstance(value, dict):
        return {k: _without(v, lang) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, lang) for v in value]
    return value


def _untranslated(value, lang: str, path: str) -> list[str]:
    if _is_text_dict(value):
        text = value.get(lang)
        return [] if isinstance(text, str) and text.strip() else [path or "top level"]
    if isinstance(value, dict):
        return [
            p for k, v in value.items() for p in _untranslated(v, lang, f"{path}.{k}".strip("."))
        ]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _untranslated(v, lang, f"{path}[{i}]")]
    return []


def content_of(data: dict) -> dict:
    """A language version without its review keys (what its checksum covers)."""
    return {k: v for k, v in data.items() if k not in REVIEW_KEYS}


def validate_language_version(data: dict, *, original: dict, where: str) -> dict:
    """Check a language version against its original: the same instrument in every
    respect (items, options, values, scales, alerts) plus a text in its language for every
    text. Returns it or raises ``DefinitionError``."""
    lang = language_of(data)
    errors: list[str] = []
    if lang not in VERSION_LANGS:
        errors.append(f"{where}: language: must be one of {list(VERSION_LANGS)}")
    if data.get("status") not in TEXT_STATUSES:
        errors.append(f"{where}: status: must be one of {list(TEXT_STATUSES)}")
    if errors:
        raise DefinitionError(errors)
    for path in _untranslated(data, lang, ""):
        errors.append(f"{where}: {path}: needs {lang} text")
    own = {k: v for k, v in content_of(data).items() if k != "language"}
    if _without(own, lang) != original:
        errors.append(
            f"{where}: differs from {data['id']} v{data['version']} in more than its {lang} "
            "texts (its answers would not score like the original's): load a new version"
        )
    if errors:
        raise DefinitionError(errors)
    return data
