"""Scores and alert rules: plain functions over an instrument definition and answers.

Numbers: a 0–10 ``scale`` item is its value; a ``single`` item scores its option's value
(numeric options); ``yesno`` scores yes = 1, no = 0. Reversed items score
``min + max - value``. Missing answers: a scale needs ``missing.min_answered`` answered
items (default: all of them for ``sum``, one for the others) or its score is ``None``;
``sum`` with ``prorate`` scales the answered sum up to all items
(``round(sum * n_items / n_answered, 1)``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .definition import SEVERITIES, _compare, item_map


def item_number(item: dict, answer) -> float | None:
    if answer is None:
        return None
    if item["type"] == "yesno":
        return 1.0 if answer == "yes" else 0.0
    try:
        return float(answer)
    except (TypeError, ValueError):
        return None


def item_range(item: dict) -> tuple[float, float]:
    if item["type"] == "scale":
        return float(item.get("min", 0)), float(item.get("max", 10))
    if item["type"] == "yesno":
        return 0.0, 1.0
    numbers = [float(o["value"]) for o in item.get("options", [])]
    return min(numbers), max(numbers)


def _tidy(value: float) -> float | int:
    value = round(value, 1)
    return int(value) if value == int(value) else value


def score_scale(scale: dict, items: dict[str, dict], answers: dict) -> float | int | None:
    """One scale's score, or ``None`` when too few items are answered."""
    members = scale["items"]
    method = scale["method"]
    if method == "count":
        total = 0
        answered = 0
        for member in members:
            answer = answers.get(member)
            if answer is None:
                continue
            answered += 1
            if isinstance(answer, list):
                total += len(answer)
            elif answer == "yes":
                total += 1
        return total if answered else None

    reversed_ = set(scale.get("reversed", []))
    values: list[float] = []
    for member in members:
        number = item_number(items[member], answers.get(member))
        if number is None:
            continue
        if member in reversed_:
            lo, hi = item_range(items[member])
            number = lo + hi - number
        values.append(number)
    missing = scale.get("missing", {}) or {}
    default_min = len(members) if method == "sum" else 1
    if len(values) < missing.get("min_answered", default_min) or not values:
        return None
    if method == "sum":
        total = sum(values)
        if missing.get("prorate") and len(values) < len(members):
            total = total * len(members) / len(values)
        return _tidy(total)
    if method == "mean":
        return _tidy(sum(values) / len(values))
    if method == "max":
        return _tidy(max(values))
    return _tidy(values[0])  # value


def score(definition: dict, answers: dict) -> dict[str, float | int | None]:
    """Every scale of the instrument: ``{scale_key: score or None}``."""
    items = item_map(definition)
    return {s["key"]: score_scale(s, items, answers) for s in definition.get("scales", [])}


def band(scale: dict, value) -> dict | None:
    """The band (mild/moderate/severe …) a score falls in."""
    if value is None:
        return None
    for b in scale.get("bands", []) or []:
        if b["min"] <= value <= b["max"]:
            return b
    return None


@dataclass(frozen=True)
class Triggered:
    key: str
    severity: int
    text: dict


def alerts(definition: dict, answers: dict, scores: dict) -> list[Triggered]:
    """The alert rules that hold for these answers and scores."""
    hits = []
    for rule in definition.get("alerts", []) or []:
        left = scores.get(rule["scale"]) if rule.get("scale") else answers.get(rule.get("item"))
        if _compare(left, rule["op"], rule.get("value")):
            hits.append(Triggered(rule["key"], SEVERITIES[rule["severity"]], rule["text"]))
    return hits
