"""FHIR R4 (validated against the R4B models in the tests), read only:

- an instrument version is a ``Questionnaire`` (pages as groups, 0–10 scales as integers
  with min/max, choices as codings, yes/no as boolean, conditions as ``enableWhen``);
- a completed answer is a ``QuestionnaireResponse`` (author: who entered it);
- each scale's score is an ``Observation`` derived from the response (category survey).

Plain dicts. No personnummer (the Patient resource with it comes from
``careplan.fhir.patient_resource`` in staff exports). Ids go through
``careplan.fhir.fhir_id`` (a scale key ``low_mood`` gives ``response-2-low-mood``).
"""

from __future__ import annotations

from django.utils import timezone

from careplan.fhir import BASE, bundle, fhir_id, patient_ref, practitioner_ref, score_quantity

from . import scoring
from .definition import item_map
from .models import Instrument, Response

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
        return patient_ref(response.patient)
    return practitioner_ref(user)


def response_id(response: Response) -> str:
    return fhir_id("response", response.pk)


def observation_id(response: Response, scale_key: str) -> str:
    return fhir_id("response", response.pk, scale_key)


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
        "id": response_id(response),
        "questionnaire": f"{canonical(response.instrument)}|{response.instrument.version}",
        "status": "completed",
        "subject": patient_ref(response.patient),
        "authored": timezone.localtime(response.submitted_at).isoformat(),
        "source": patient_ref(response.patient),
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
            "id": observation_id(response, scale["key"]),
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
            "subject": patient_ref(response.patient),
            "effectiveDateTime": timezone.localtime(response.submitted_at).isoformat(),
            "valueQuantity": score_quantity(value),
            "derivedFrom": [{"reference": f"QuestionnaireResponse/{response_id(response)}"}],
            "referenceRange": [
                {
                    "low": score_quantity(scale.get("min", 0)),
                    "high": score_quantity(scale.get("max", 10)),
                }
            ],
        }
        found = scoring.band(scale, value)
        if found:
            obs["interpretation"] = [{"text": _sv_en(found["label"])}]
        out.append(obs)
    return out


def observation_bundle(response: Response) -> dict:
    """The scores as a collection Bundle (urn:uuid fullUrls; the response they derive
    from is referenced by its id on the /fhir/ endpoint)."""
    return bundle(observations(response), type="collection")
