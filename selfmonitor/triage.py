"""Symptom advice and triage rules as data (``selfmonitor/symptoms/triage.v<N>.json``).

A guide holds ``levels`` (``self_care`` < ``call_today`` < ``call_now``) and ``rules``::

    {"key": "fever-in-treatment", "symptom": "fever", "min_severity": 2,
     "when": "in_treatment" | "not_in_treatment" (optional),
     "level": "call_now", "advice": {"sv": …, "en": …}, "source": "…"}

A symptom reported at severity *s* gets, among the rules for it whose ``min_severity``
is at most *s* and whose condition holds, the most urgent one (then the one with the
highest ``min_severity``). Every symptom of the report instrument must have a rule at
severity 1 in and out of treatment, so every answer gets advice; the loader checks it.

"In treatment" (for fever and infection, the red flag of cancer care) is true when the
patient's plan is in the treatment phase or the patient says they get, or got in the last
four weeks, cancer medicine (chemotherapy): the app cannot tell chemotherapy from other
treatment on its own, and a false "no" is the dangerous error.
"""

from __future__ import annotations

from dataclasses import dataclass

from .definition import LANGS, DefinitionError, _is_text, item_map

LEVELS = ("self_care", "call_today", "call_now")
RANK = {level: n for n, level in enumerate(LEVELS, 1)}
CONDITIONS = {"in_treatment", "not_in_treatment"}


def validate_guide(data, *, instrument: dict, where: str) -> dict:
    errors: list[str] = []

    def fault(part: str, reason: str) -> None:
        errors.append(f"{where}: {part}: {reason}")

    if not isinstance(data, dict):
        raise DefinitionError([f"{where}: top level: must be a JSON object"])
    if not isinstance(data.get("version"), int) or data["version"] < 1:
        fault("version", "must be a whole number from 1")
    if not _is_text(data.get("review_note")):
        fault("review_note", "needs sv and en text")
    for level in LEVELS:
        if not _is_text((data.get("levels") or {}).get(level, {}).get("title")):
            fault(f"level {level}", "needs a title in sv and en")
    symptoms = {
        item_id
        for item_id, item in item_map(instrument).items()
        if item["type"] == "single" and item_id != "since"
    }
    keys: set[str] = set()
    covered: dict[str, set[str]] = {s: set() for s in symptoms}
    for n, rule in enumerate(data.get("rules") or []):
        key = rule.get("key") if isinstance(rule, dict) else None
        label = f"rule {key or n + 1!r}"
        if not isinstance(key, str) or not key:
            fault(label, "has no key")
            continue
        if key in keys:
            fault(label, "key is used twice")
        keys.add(key)
        if rule.get("symptom") not in symptoms:
            fault(label, f"unknown symptom {rule.get('symptom')!r}")
        if rule.get("min_severity") not in (1, 2, 3):
            fault(label, "min_severity must be 1, 2 or 3")
        if rule.get("level") not in LEVELS:
            fault(label, f"level must be one of {list(LEVELS)}")
        if rule.get("when") is not None and rule["when"] not in CONDITIONS:
            fault(label, f"when must be one of {sorted(CONDITIONS)}")
        if not _is_text(rule.get("advice")):
            fault(label, "advice needs sv and en")
        if not isinstance(rule.get("source"), str) or not rule["source"].strip():
            fault(label, "a source is required")
        if rule.get("min_severity") == 1 and rule.get("symptom") in covered:
            covered[rule["symptom"]] |= (
                {rule["when"]} if rule.get("when") else {"in_treatment", "not_in_treatment"}
            )
    for symptom, conditions in sorted(covered.items()):
        if conditions != CONDITIONS:
            fault(f"symptom {symptom!r}", "needs advice from severity 1, in and out of treatment")
    if errors:
        raise DefinitionError(errors)
    return data


@dataclass(frozen=True)
class Advice:
    symptom: str
    severity: int
    rule: str
    level: str
    text: dict  # {"sv": …, "en": …}
    source: str

    def as_json(self) -> dict:
        return {
            "symptom": self.symptom,
            "severity": self.severity,
            "rule": self.rule,
            "level": self.level,
            "text": {lang: self.text[lang] for lang in LANGS},
            "source": self.source,
        }


def advise(
    guide: dict,
    symptoms: dict[str, int],
    *,
    in_treatment: bool,
    unit_texts: dict[str, tuple[dict, str]] | None = None,
) -> list[Advice]:
    """The advice for each reported ``{symptom: severity}``, most urgent first.

    ``unit_texts`` (``{rule_key: ({"sv", "en"}, source)}``) is the unit's own wording."""
    unit_texts = unit_texts or {}
    condition = "in_treatment" if in_treatment else "not_in_treatment"
    out = []
    for symptom, severity in symptoms.items():
        fits = [
            r
            for r in guide["rules"]
            if r["symptom"] == symptom
            and r["min_severity"] <= severity
            and r.get("when", condition) == condition
        ]
        if not fits:
            continue
        rule = max(fits, key=lambda r: (RANK[r["level"]], r["min_severity"]))
        text, source = unit_texts.get(rule["key"], (rule["advice"], rule["source"]))
        out.append(Advice(symptom, severity, rule["key"], rule["level"], text, source))
    out.sort(key=lambda a: -RANK[a.level])
    return out


def overall(advice: list[Advice]) -> str:
    return max((a.level for a in advice), key=RANK.__getitem__, default="self_care")


def guide_versions(definition: dict, translations: dict | None, shipped: dict) -> dict:
    """A guide's ``translations`` (careplan/content.py) updated from a languages file
    (``symptoms/languages/triage.v<N>.json``: ``{"languages": {lang: {"review_note",
    "levels": {level: title}, "advice": {rule: text}}}}``). Keys: "review_note",
    "levels.<level>", "advice.<rule>". Plain dicts: usable from a data migration."""
    from django.conf import settings

    from careplan.content import ORIGINAL, loaded

    known = {code for code, _name in settings.LANGUAGES}
    texts: dict[str, dict[str, str]] = {"review_note": {}}
    for lang, version in (shipped.get("languages") or {}).items():
        if lang == ORIGINAL or lang not in known:
            continue
        texts["review_note"][lang] = version.get("review_note", "")
        for k, title in (version.get("levels") or {}).items():
            texts.setdefault(f"levels.{k}", {})[lang] = title
        for k, advice in (version.get("advice") or {}).items():
            texts.setdefault(f"advice.{k}", {})[lang] = advice
    # English lives in the definition: only its status is kept in ``translations``.
    texts["review_note"]["en"] = (definition.get("review_note") or {}).get("en", "")
    return loaded(translations, texts)
