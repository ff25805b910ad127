"""FHIR R4 (R4B models) export of the care map and relatives' access, read only.

- A person on the care map is a ``RelatedPerson`` (relation as text; closeness, direction
  of care and frequency as extensions); a care contact is an ``Organization``.
- A relative's access (the grant) is a ``Consent``: the patient permits the relative to
  read the shared parts (one nested provision per part), until ``valid_until``.

Plain dicts, validated in the tests with ``fhir.resources.R4B``. No personnummer.
"""

from __future__ import annotations

from django.utils import timezone

from .models import CareMapEntry, EntryKind, RelativeGrant, Scope

BASE = "https://careplan.invalid/fhir"
EXT = f"{BASE}/StructureDefinition"
SHARED_PART_SYSTEM = f"{BASE}/CodeSystem/shared-part"


def _patient_ref(patient) -> dict:
    return {"reference": f"Patient/{patient.pk}", "display": str(patient)}


def _telecom(entry: CareMapEntry) -> list[dict]:
    out = []
    if entry.phone:
        out.append({"system": "phone", "value": entry.phone})
    if entry.email:
        out.append({"system": "email", "value": entry.email})
    return out


def care_map_entry(entry: CareMapEntry) -> dict:
    """RelatedPerson for a person, Organization for a care contact."""
    patient = entry.care_map.patient
    if entry.kind == EntryKind.CARE_CONTACT:
        data = {
            "resourceType": "Organization",
            "id": f"caremap-{entry.pk}",
            "active": True,
            "name": entry.name,
        }
        if entry.relation:
            data["type"] = [{"text": entry.relation}]
        if telecom := _telecom(entry):
            data["telecom"] = telecom
        return data
    data = {
        "resourceType": "RelatedPerson",
        "id": f"caremap-{entry.pk}",
        "active": True,
        "patient": _patient_ref(patient),
        "name": [{"text": entry.name}],
        "extension": [
            {"url": f"{EXT}/care-map-closeness", "valueCode": entry.closeness},
            {"url": f"{EXT}/care-map-direction", "valueCode": entry.direction},
            {"url": f"{EXT}/care-map-frequency", "valueCode": entry.frequency},
            {"url": f"{EXT}/care-map-needs-support", "valueBoolean": entry.flagged},
        ],
    }
    if entry.relation:
        data["relationship"] = [{"text": entry.relation}]
    if entry.is_child:
        data["relationship"] = [
            *data.get("relationship", []),
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
                        "code": "CHILD",
                        "display": "child",
                    }
                ]
            },
        ]
    if telecom := _telecom(entry):
        data["telecom"] = telecom
    return data


def grant_consent(grant: RelativeGrant) -> dict:
    """The patient's consent that a relative reads the shared parts."""
    today = timezone.localdate()
    active = grant.revoked_at is None and (grant.valid_until is None or grant.valid_until >= today)
    labels = dict(Scope.choices)
    period: dict[str, str] = {"start": grant.created_at.date().isoformat()}
    if grant.revoked_at is not None:
        period["end"] = grant.revoked_at.date().isoformat()
    elif grant.valid_until is not None:
        period["end"] = grant.valid_until.isoformat()
    relative = grant.relative
    return {
        "resourceType": "Consent",
        "id": f"relative-grant-{grant.pk}",
        "status": "active" if active else "inactive",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {"system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"}
                ]
            }
        ],
        "patient": _patient_ref(grant.patient),
        "dateTime": grant.created_at.isoformat(),
        "performer": [_patient_ref(grant.patient)],
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "IRCP",
                                "display": "information recipient",
                            }
                        ]
                    },
                    "reference": {"display": str(relative)},
                }
            ],
            "action": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/consentaction",
                            "code": "access",
                        }
                    ]
                }
            ],
            "provision": [
                {
                    "type": "permit",
                    "code": [
                        {
                            "coding": [
                                {
                                    "system": SHARED_PART_SYSTEM,
                                    "code": scope,
                                    "display": str(labels.get(scope, scope)),
                                }
                            ]
                        }
                    ],
                }
                for scope in grant.scopes or []
            ],
        },
    }
