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


# --- Handovers: Task (focus ServiceRequest) and a Bundle of what goes with it ---------------

TASK_STATUS = {
    "draft": "draft",
    "sent": "requested",
    "accepted": "accepted",
    "completed": "completed",
    "declined": "rejected",
    "cancelled": "cancelled",
}
REQUEST_STATUS = {
    "draft": "draft",
    "sent": "active",
    "accepted": "active",
    "completed": "completed",
    "declined": "revoked",
    "cancelled": "revoked",
}


def _org_ref(unit) -> dict:
    return {"reference": f"Organization/unit-{unit.pk}", "display": unit.name}


def _organization(unit) -> dict:
    data = {
        "resourceType": "Organization",
        "id": f"unit-{unit.pk}",
        "active": True,
        "identifier": [{"system": "urn:oid:1.2.752.29.4.19", "value": unit.hsa_id}],
        "name": unit.name,
        "type": [{"text": unit.get_kind_display()}],
    }
    if unit.phone:
        data["telecom"] = [{"system": "phone", "value": unit.phone}]
    return data


def handover_service_request(handover) -> dict:
    """What is asked of the receiver: to take over the care, with the SBAR as notes."""
    notes = [
        {"text": f"{label}: {text}"}
        for label, text in (
            ("Situation", handover.situation),
            ("Background", handover.background),
            ("Assessment", handover.assessment),
            ("Recommendation", handover.recommendation),
            ("Needs and wishes", handover.needs_and_wishes),
        )
        if text.strip()
    ]
    data = {
        "resourceType": "ServiceRequest",
        "id": f"handover-{handover.pk}-request",
        "status": REQUEST_STATUS[handover.state],
        "intent": "order",
        "code": {"text": "Active handover of responsibility for care"},
        "subject": _patient_ref(handover.patient),
        "requester": _org_ref(handover.from_unit),
        "performer": [_org_ref(handover.to_unit)],
        "authoredOn": timezone.localtime(handover.created_at).isoformat(),
    }
    if notes:
        data["note"] = notes
    return data


def handover_task(handover) -> dict:
    """The handover as a Task: owner the receiving organisation, status following the
    states, focus the ServiceRequest."""
    data = {
        "resourceType": "Task",
        "id": f"handover-{handover.pk}",
        "status": TASK_STATUS[handover.state],
        "intent": "order",
        "code": {"text": "Active handover"},
        "focus": {"reference": f"ServiceRequest/handover-{handover.pk}-request"},
        "for": _patient_ref(handover.patient),
        "authoredOn": timezone.localtime(handover.created_at).isoformat(),
        "lastModified": timezone.localtime(
            handover.closed_at or handover.accepted_at or handover.sent_at or handover.created_at
        ).isoformat(),
        "requester": _org_ref(handover.from_unit),
        "owner": _org_ref(handover.to_unit),
    }
    if handover.decline_reason:
        data["statusReason"] = {"text": handover.decline_reason}
    if handover.accepted_at:
        data["output"] = [
            {
                "type": {"text": "Contact with the patient made"},
                "valueString": f"{handover.contact_made_on} ({handover.contact_how})",
            },
            {
                "type": {"text": "New contact nurse"},
                "valueString": str(handover.contact_nurse),
            },
        ]
    return data


def _care_plan(plan) -> dict:
    status = {"draft": "draft", "active": "active", "closed": "completed"}.get(
        plan.status, "unknown"
    )
    data = {
        "resourceType": "CarePlan",
        "id": f"careplan-{plan.pk}",
        "status": status,
        "intent": "plan",
        "title": plan.title,
        "subject": {"reference": f"Patient/{plan.patient_id}"},
    }
    description = "\n\n".join(t for t in (plan.treatment_summary, plan.followup_plan) if t)
    if description:
        data["description"] = description
    return data


def _rehab_plan(rehab) -> dict:
    data = {
        "resourceType": "CarePlan",
        "id": f"rehabplan-{rehab.pk}",
        "status": "active",
        "intent": "plan",
        "category": [{"text": "Rehabilitation plan"}],
        "title": "Rehabilitation plan",
        "subject": {"reference": f"Patient/{rehab.patient_id}"},
    }
    if rehab.summary_assessment:
        data["description"] = rehab.summary_assessment
    return data


def handover_bundle(handover) -> dict:
    """Task, ServiceRequest, both organisations, the care plan, the rehab plan and the
    latest questionnaire scores (Observations), as a collection Bundle."""
    from careplan.models import CarePlan
    from rehab.models import RehabPlan
    from selfmonitor.fhir import observations
    from selfmonitor.models import Response

    resources = [
        handover_task(handover),
        handover_service_request(handover),
        _organization(handover.from_unit),
        _organization(handover.to_unit),
    ]
    patient = handover.patient
    plan = CarePlan.objects.filter(patient=patient).exclude(status="closed").order_by("-id").first()
    if plan is not None:
        resources.append(_care_plan(plan))
    rehab = RehabPlan.objects.filter(patient=patient).order_by("-id").first()
    if rehab is not None:
        resources.append(_rehab_plan(rehab))
    latest: dict[str, Response] = {}
    for response in (
        Response.objects.filter(patient=patient, status=Response.Status.COMPLETED)
        .select_related("instrument")
        .order_by("-submitted_at")
    ):
        latest.setdefault(response.instrument_key, response)
    for response in latest.values():
        resources += observations(response)
    return {
        "resourceType": "Bundle",
        "id": f"handover-{handover.pk}",
        "type": "collection",
        "timestamp": timezone.localtime().isoformat(),
        "entry": [
            {"fullUrl": f"{BASE}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }
