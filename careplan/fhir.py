"""FHIR R4 core: the one builder per resource kind that every export uses (Patient,
Organization, Practitioner, PractitionerRole, CareTeam, the main CarePlan), FHIR ids, and
Bundles whose entries have ``urn:uuid`` fullUrls with every reference rewritten to them.

Plain dicts, checked in the tests against ``fhir.resources`` R4B and the official R4 JSON
schema. Identifier systems (confirmed from Inera's list of identifiers used by the
national service contracts, "Identifierare på Inera"):

- personnummer ``urn:oid:1.2.752.129.2.1.3.1`` (Skatteverket, SKV 704);
- samordningsnummer ``urn:oid:1.2.752.129.2.1.3.3`` (day of birth + 60);
- HSA-id ``urn:oid:1.2.752.129.2.1.4.1``.

The personnummer appears only in the Patient resource, which only staff exports carry.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from .models import CarePlan

PERSONNUMMER_SYSTEM = "urn:oid:1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER_SYSTEM = "urn:oid:1.2.752.129.2.1.3.3"
HSA_SYSTEM = "urn:oid:1.2.752.129.2.1.4.1"
UCUM = "http://unitsofmeasure.org"

#: Our own code systems and extensions live under this base (no real host: a receiver
#: must not try to resolve them).
BASE = "https://careplan.invalid/fhir"
CODE_SYSTEM = f"{BASE}/CodeSystem"

_NOT_ID = re.compile(r"[^A-Za-z0-9\-.]")


def fhir_id(*parts) -> str:
    """A FHIR id from parts joined by '-': only ``[A-Za-z0-9-.]``, at most 64 characters
    (``low_mood`` becomes ``low-mood``)."""
    text = "-".join(str(p) for p in parts)
    out = _NOT_ID.sub("-", text)
    if len(out) > 64:
        raise ValueError(f"FHIR id longer than 64 characters: {out}")
    return out


def score_quantity(value) -> dict:
    """A questionnaire score as a UCUM ``{score}`` quantity."""
    return {"value": value, "unit": "score", "system": UCUM, "code": "{score}"}


# --- References --------------------------------------------------------------------------


def patient_id(patient_or_pk) -> str:
    return str(getattr(patient_or_pk, "pk", patient_or_pk))


def patient_ref(patient) -> dict:
    return {"reference": f"Patient/{patient_id(patient)}", "display": str(patient)}


def unit_id(unit) -> str:
    return fhir_id("unit", unit.pk)


def unit_ref(unit) -> dict:
    return {"reference": f"Organization/{unit_id(unit)}", "display": unit.name}


def practitioner_id(user) -> str:
    return fhir_id("staff", user.pk)


def practitioner_ref(user) -> dict:
    return {
        "reference": f"Practitioner/{practitioner_id(user)}",
        "display": user.get_full_name() or str(user),
    }


def practitioner_role_id(user, unit) -> str:
    return fhir_id("staff", user.pk, "unit", unit.pk)


def practitioner_role_ref(user, unit) -> dict:
    return {
        "reference": f"PractitionerRole/{practitioner_role_id(user, unit)}",
        "display": user.get_full_name() or str(user),
    }


def care_team_id(patient) -> str:
    return fhir_id("careteam", patient_id(patient))


def care_plan_id(plan) -> str:
    return fhir_id("careplan", plan.pk)


# --- Resources -----------------------------------------------------------------------------


def is_samordningsnummer(personnummer: str) -> bool:
    """Twelve digits YYYYMMDDNNNN with the day raised by 60."""
    return len(personnummer) == 12 and int(personnummer[6:8]) > 60


def patient_resource(patient) -> dict:
    """The patient with the personnummer (or samordningsnummer) as official identifier.
    Staff exports only."""
    pnr = patient.personnummer
    data = {
        "resourceType": "Patient",
        "id": patient_id(patient),
        "identifier": [
            {
                "use": "official",
                "system": SAMORDNINGSNUMMER_SYSTEM
                if is_samordningsnummer(pnr)
                else PERSONNUMMER_SYSTEM,
                "value": pnr,
            }
        ],
        "active": True,
        "name": [
            {
                "use": "official",
                "text": str(patient),
                "family": patient.last_name,
                "given": [patient.first_name],
            }
        ],
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": patient.language}],
                },
                "preferred": True,
            }
        ],
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        data["telecom"] = telecom
    if patient.address:
        data["address"] = [{"text": patient.address}]
    if patient.needs_interpreter:
        data["extension"] = [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
                "valueBoolean": True,
            }
        ]
    return data


def organization(unit) -> dict:
    data = {
        "resourceType": "Organization",
        "id": unit_id(unit),
        "active": True,
        "identifier": [{"system": HSA_SYSTEM, "value": unit.hsa_id}],
        "name": unit.name,
        "type": [
            {
                "coding": [
                    {
                        "system": f"{CODE_SYSTEM}/care-unit-kind",
                        "code": unit.kind,
                        "display": str(unit.get_kind_display()),
                    }
                ],
                "text": str(unit.get_kind_display()),
            }
        ],
    }
    telecom = []
    if unit.phone:
        telecom.append({"system": "phone", "value": unit.phone})
    if unit.email:
        telecom.append({"system": "email", "value": unit.email})
    if telecom:
        data["telecom"] = telecom
    if unit.address:
        data["address"] = [{"text": unit.address}]
    return data


def practitioner(user) -> dict:
    """A member of staff by name (no personal identity number)."""
    return {
        "resourceType": "Practitioner",
        "id": practitioner_id(user),
        "active": bool(user.is_active),
        "name": [
            {
                "text": user.get_full_name() or str(user),
                "family": user.last_name or str(user),
                **({"given": [user.first_name]} if user.first_name else {}),
            }
        ],
    }


def practitioner_role(user, unit, *, role: str = "Kontaktsjuksköterska", phone: str = "") -> dict:
    data = {
        "resourceType": "PractitionerRole",
        "id": practitioner_role_id(user, unit),
        "active": True,
        "practitioner": practitioner_ref(user),
        "organization": unit_ref(unit),
        "code": [
            {
                "coding": [{"system": f"{CODE_SYSTEM}/care-team-role", "code": "contact-nurse"}],
                "text": role,
            }
        ],
    }
    if phone:
        data["telecom"] = [{"system": "phone", "value": phone}]
    return data


def care_team(patient, *, unit, nurse_assignment=None) -> dict:
    """The patient's care team: the responsible unit and the named contact nurse (the
    heart of Min vårdplan)."""
    participants = []
    if nurse_assignment is not None:
        participants.append(
            {
                "role": [
                    {
                        "coding": [
                            {"system": f"{CODE_SYSTEM}/care-team-role", "code": "contact-nurse"}
                        ],
                        "text": "Kontaktsjuksköterska",
                    }
                ],
                "member": practitioner_role_ref(nurse_assignment.nurse, nurse_assignment.unit),
                "onBehalfOf": unit_ref(nurse_assignment.unit),
                "period": {"start": nurse_assignment.started_on.isoformat()},
            }
        )
    participants.append(
        {
            "role": [
                {
                    "coding": [
                        {"system": f"{CODE_SYSTEM}/care-team-role", "code": "responsible-unit"}
                    ],
                    "text": "Ansvarig vårdenhet",
                }
            ],
            "member": unit_ref(unit),
        }
    )
    return {
        "resourceType": "CareTeam",
        "id": care_team_id(patient),
        "status": "active",
        "name": f"Vårdteam – {unit.name}",
        "subject": patient_ref(patient),
        "participant": participants,
        "managingOrganization": [unit_ref(unit)],
    }


CARE_PLAN_STATUS = {"draft": "draft", "active": "active", "closed": "completed"}


def care_plan(plan, *, unit=None) -> dict:
    """The main care plan (Min vårdplan): category, period, author (the responsible unit)
    and care team."""
    start = plan.established_on or timezone.localtime(plan.created_at).date()
    data = {
        "resourceType": "CarePlan",
        "id": care_plan_id(plan),
        "status": CARE_PLAN_STATUS.get(plan.status, "unknown"),
        "intent": "plan",
        "category": [
            {
                "coding": [
                    {
                        "system": f"{CODE_SYSTEM}/care-plan-kind",
                        "code": "min-vardplan",
                        "display": "Min vårdplan cancer",
                    }
                ],
                "text": "Min vårdplan cancer",
            }
        ],
        "title": plan.title,
        "subject": patient_ref(plan.patient),
        "period": {"start": start.isoformat()},
        "created": timezone.localtime(plan.created_at).isoformat(),
        "careTeam": [{"reference": f"CareTeam/{care_team_id(plan.patient)}"}],
    }
    if plan.status == "closed":
        data["period"]["end"] = timezone.localtime(plan.updated_at).date().isoformat()
    if unit is not None:
        data["author"] = unit_ref(unit)
    description = "\n\n".join(t for t in (plan.treatment_summary, plan.followup_plan) if t)
    if description:
        data["description"] = description
    return data


def patient_core(patient) -> list[dict]:
    """Patient, responsible unit, contact nurse (Practitioner + PractitionerRole), CareTeam
    and the open care plan: what identifies the patient and who is responsible."""
    relation = patient.responsible_relation()
    assignment = patient.contact_nurse_assignment()
    out = [patient_resource(patient)]
    if relation is not None:
        out.append(organization(relation.unit))
    if assignment is not None:
        if relation is None or assignment.unit_id != relation.unit_id:
            out.append(organization(assignment.unit))
        out.append(practitioner(assignment.nurse))
        out.append(
            practitioner_role(assignment.nurse, assignment.unit, phone=assignment.direct_phone)
        )
    if relation is not None:
        out.append(care_team(patient, unit=relation.unit, nurse_assignment=assignment))
    plan = (
        CarePlan.objects.filter(patient=patient)
        .exclude(status=CarePlan.Status.CLOSED)
        .select_related("patient")
        .first()
    )
    if plan is not None:
        data = care_plan(plan, unit=relation.unit if relation else None)
        if relation is None:
            del data["careTeam"]
        out.append(data)
    return out


# --- Bundles -------------------------------------------------------------------------------


def full_url(resource: dict) -> str:
    """A stable ``urn:uuid`` for a resource (the same resource gets the same one in every
    export)."""
    key = f"{BASE}/{resource['resourceType']}/{resource['id']}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}"


def _rewrite(node, urls: dict[str, str], *, drop_unresolved: bool):
    """Replace every ``Type/id`` reference found in ``urls`` with its urn:uuid. With
    ``drop_unresolved``, a reference that is not in the Bundle keeps only its display,
    or disappears if it has none."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                if value in urls:
                    out[key] = urls[value]
                elif not drop_unresolved:
                    out[key] = value
                continue
            new = _rewrite(value, urls, drop_unresolved=drop_unresolved)
            if new is not None:
                out[key] = new
        if drop_unresolved and "reference" in node and set(out) <= {"type"}:
            return None  # a reference with nothing left
        return out
    if isinstance(node, list):
        items = [_rewrite(v, urls, drop_unresolved=drop_unresolved) for v in node]
        items = [i for i in items if i is not None and i != {}]
        return items or None
    return node


def bundle(
    resources: Iterable[dict],
    *,
    type: str,  # noqa: A002 - the FHIR element's name
    id: str | None = None,  # noqa: A002
    drop_unresolved: bool = False,
) -> dict:
    """A Bundle of ``resources`` (duplicates by type and id kept once) with ``urn:uuid``
    fullUrls and every reference between them rewritten to those, so each resolves
    inside the Bundle."""
    unique: dict[str, dict] = {}
    for r in resources:
        unique.setdefault(f"{r['resourceType']}/{r['id']}", r)
    urls = {key: full_url(r) for key, r in unique.items()}
    entries = []
    for key, resource in unique.items():
        rewritten = _rewrite(resource, urls, drop_unresolved=drop_unresolved)
        entries.append({"fullUrl": urls[key], "resource": rewritten})
    data = {"resourceType": "Bundle", "type": type}
    if id:
        data["id"] = id
    if type == "document":
        data["identifier"] = {
            "system": "urn:ietf:rfc:3986",
            "value": full_url({"resourceType": "Bundle", "id": id or "document"}),
        }
    data["timestamp"] = timezone.localtime().isoformat()
    data["entry"] = entries
    return data


def kva_system() -> str:
    """KVÅ's code system: Socialstyrelsen's OID for "Koder, kodtexter för Klassifikation
    av vårdåtgärder (KVÅ)", 1.2.752.116.1.3.2.3.4 (Socialstyrelsen, Nationell
    informationsstruktur, NIM – Åtgärd). A setting, ``REHAB_KVA_SYSTEM``."""
    return settings.REHAB_KVA_SYSTEM
