"""FHIR R4 (validated against the R4B models in the tests), read only:

- an instrument version is a ``Questionnaire`` (pages as groups, 0–10 scales as integers
  with min/max, choices as codings, yes/no as boolean, conditions as ``enableWhen``);
- a completed answer is a ``QuestionnaireResponse`` (author: who entered it);
- each scale's score is an ``Observation`` derived from the response (category survey).

Plain dicts. No personnummer.
"""

from __future__ import annotations

from django.utils import timezone

from . import scoring
from .definition import item_map
from .models import Instrument, Response

BASE = "https://careplan.invalid/fhir"
SCALE_SYSTEM = f"{BASE}/CodeSystem/selfmonitor-scale"
OPTION_SYSTEM = f"{BASE}/CodeSystem/selfmonitor-option"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
OPS = {">=": ">=", ">": ">", "<=": "<=", "<": "<", "==": "=", "includes": "="}


def canonical(instrument: Instrument) -> str:
    return f"{BASE}/Questionnaire/{instrument.key}"


def _sv_en(text: dict) -> str:
    return text.get("sv") or text.get("en") or ""


def _translation(text: dict) -> dict:
    """The primary (Swedish) text with the English one as a translation extension."""
    out = {"text": _sv_en(text)}
    if text.get("en"):
        out["_text"] = {
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/translation",
                    "extension": [
                        {"url": "lang", "valueCode": "en"},
                        {"url": "content", "valueString": text["en"]},
                    ],
                }
            ]
        }
    return out


def _answer_value(item: dict, value) -> dict:
    kind = item["type"]
    if kind == "scale":
        return {"valueInteger": int(value)}
    if kind == "yesno":
        return {"valueBoolean": value == "yes"}
    if kind == "text":
        return {"valueString": str(value)}
    option = next((o for o in item.get("options", []) if o["value"] == value), None)
    return {
        "valueCoding": {
            "system": f"{OPTION_SYSTEM}/{item['id']}",
            "code": str(value),
            "display": _sv_en(option["text"]) if option else str(value),
        }
    }


def _enable_when(item: dict, items: dict) -> list[dict]:
    when = item["when"]
    if when["op"] == "answered":
        return [{"question": when["item"], "operator": "exists", "answerBoolean": True}]
    other = items[when["item"]]
    rule = {"question": when["item"], "operator": OPS[when["op"]]}
    value = _answer_value(other, when.get("value"))
    rule.update({k.replace("value", "answer", 1): v for k, v in value.items()})
    return [rule]


def _q_item(item: dict, items: dict) -> dict:
    kind = item["type"]
    out = {
        "linkId": item["id"],
        **_translation(item["text"]),
        "required": bool(item.get("required")),
    }
    if kind == "scale":
        out["type"] = "integer"
        out["extension"] = [
            {"url": MIN_VALUE, "valueInteger": item.get("min", 0)},
            {"url": MAX_VALUE, "valueInteger": item.get("max", 10)},
        ]
    elif kind == "yesno":
        out["type"] = "boolean"
    elif kind == "text":
        out["type"] = "text"
        out["maxLength"] = item.get("max_length", 2000)
    else:
        out["type"] = "choice"
        out["repeats"] = kind == "multiple"
        out["answerOption"] = [_answer_value(item, o["value"]) for o in item["options"]]
    if item.get("when"):
        out["enableWhen"] = _enable_when(item, items)
    return out


def questionnaire(instrument: Instrument) -> dict:
    definition = instrument.definition
    items = item_map(definition)
    return {
        "resourceType": "Questionnaire",
        "id": f"{instrument.key}-v{instrument.version}",
        "url": canonical(instrument),
        "version": str(instrument.version),
        "name": instrument.key.replace("-", "_"),
        "title": instrument.title_sv,
        "status": "active",
        "subjectType": ["Patient"],
        "date": instrument.loaded_at.isoformat(),
        "copyright": instrument.licence_note,
        "description": instrument.source_note,
        "item": [
            {
                "linkId": page["key"],
                "type": "group",
                **_translation(page["title"]),
                "item": [_q_item(i, items) for i in page["items"]],
            }
            for page in definition["pages"]
        ],
    }


def _who(user, response: Response) -> dict | None:
    if user is None:
        return None
    if user.pk == response.patient.user_id:
        return {"reference": f"Patient/{response.patient_id}"}
    return {"reference": f"Practitioner/{user.pk}", "display": user.get_full_name() or str(user)}


def questionnaire_response(response: Response) -> dict:
    definition = response.instrument.definition
    groups = []
    for page in definition["pages"]:
        answered = []
        for item in page["items"]:
            if item["id"] not in response.answers:
                continue
            value = response.answers[item["id"]]
            values = value if isinstance(value, list) else [value]
            answered.append(
                {
                    "linkId": item["id"],
                    "text": _sv_en(item["text"]),
                    "answer": [_answer_value(item, v) for v in values],
                }
            )
        if answered:
            groups.append({"linkId": page["key"], "text": _sv_en(page["title"]), "item": answered})
    data = {
        "resourceType": "QuestionnaireResponse",
        "id": f"response-{response.pk}",
        "questionnaire": f"{canonical(response.instrument)}|{response.instrument.version}",
        "status": "completed",
        "subject": {"reference": f"Patient/{response.patient_id}"},
        "authored": timezone.localtime(response.submitted_at).isoformat(),
        "source": {"reference": f"Patient/{response.patient_id}"},
        "item": groups,
    }
    if author := _who(response.entered_by, response):
        data["author"] = author
    return data


def observations(response: Response) -> list[dict]:
    """One Observation per scale with a score."""
    out = []
    for scale in response.instrument.definition.get("scales", []):
        value = response.scores.get(scale["key"])
        if value is None:
            continue
        obs = {
            "resourceType": "Observation",
            "id": f"response-{response.pk}-{scale['key']}",
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "survey",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [
                    {
                        "system": SCALE_SYSTEM,
                        "code": f"{response.instrument_key}.{scale['key']}",
                        "display": _sv_en(scale["title"]),
                    }
                ],
                "text": _sv_en(scale["title"]),
            },
            "subject": {"reference": f"Patient/{response.patient_id}"},
            "effectiveDateTime": timezone.localtime(response.submitted_at).isoformat(),
            "valueQuantity": {"value": value, "unit": "score"},
            "derivedFrom": [{"reference": f"QuestionnaireResponse/response-{response.pk}"}],
            "referenceRange": [
                {"low": {"value": scale.get("min", 0)}, "high": {"value": scale.get("max", 10)}}
            ],
        }
        found = scoring.band(scale, value)
        if found:
            obs["interpretation"] = [{"text": _sv_en(found["label"])}]
        out.append(obs)
    return out


def observation_bundle(response: Response) -> dict:
    entries = observations(response)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"{BASE}/Observation/{o['id']}", "resource": o} for o in entries],
    }
