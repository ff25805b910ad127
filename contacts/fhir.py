"""FHIR R4 (R4B models) export of the care map and relatives' access, read only.

- A person on the care map is a ``RelatedPerson`` (relation as text; closeness, direction
  of care and frequency as extensions); a care contact is an ``Organization``.
- A relative's access (the grant) is a ``Consent``: the patient permits the relative to
  read the shared parts (one nested provision per part), until ``valid_until``.

- A handover is a FHIR ``document`` Bundle: a Composition (SBAR, the patient's needs and
  wishes, the follow-up plan) with the Patient, both organisations, the contact nurses,
  the CareTeam, the Task and its ServiceRequest; once the receiver may read the record
  (after acceptance, or for the sender) also the care plan, the rehab plan with its goals
  and KVÅ-coded interventions, and the latest PROM scores. Never PREM answers.

Plain dicts, validated in the tests with ``fhir.resources.R4B`` and the R4 JSON schema.
The care map and consent carry no personnummer; the handover document carries the
Patient resource with it (staff only).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.html import escape

from careplan import fhir as core
from careplan.fhir import BASE, CODE_SYSTEM, fhir_id, unit_ref
from careplan.models import AccessLog, CarePlan, ContactNurseAssignment
from rehab.fhir import rehab_plan_resources
from rehab.models import RehabPlan
from selfmonitor.fhir import observations
from selfmonitor.models import Instrument, Response

from .models import CareMapEntry, EntryKind, HandoverState, RelativeGrant, Scope

EXT = f"{BASE}/StructureDefinition"
SHARED_PART_SYSTEM = f"{CODE_SYSTEM}/shared-part"
_patient_ref = core.patient_ref


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


def handover_request_id(handover) -> str:
    return fhir_id("handover", handover.pk, "request")


def handover_task_id(handover) -> str:
    return fhir_id("handover", handover.pk)


def _sbar(handover) -> list[tuple[str, str, str]]:
    """(code, Swedish title, text) of the handover's written parts."""
    return [
        ("situation", "Situation", handover.situation),
        ("background", "Bakgrund", handover.background),
        ("assessment", "Aktuell bedömning", handover.assessment),
        ("recommendation", "Rekommendation", handover.recommendation),
        ("needs-and-wishes", "Patientens behov och önskemål", handover.needs_and_wishes),
    ]


def handover_service_request(handover) -> dict:
    """What is asked of the receiver: to take over the care, with the SBAR as notes."""
    notes = [{"text": f"{title}: {text}"} for _code, title, text in _sbar(handover) if text.strip()]
    data = {
        "resourceType": "ServiceRequest",
        "id": handover_request_id(handover),
        "status": REQUEST_STATUS[handover.state],
        "intent": "order",
        "code": {"text": "Aktiv överföring av ansvaret för vården"},
        "subject": _patient_ref(handover.patient),
        "requester": unit_ref(handover.from_unit),
        "performer": [unit_ref(handover.to_unit)],
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
        "id": handover_task_id(handover),
        "status": TASK_STATUS[handover.state],
        "intent": "order",
        "code": {"text": "Aktiv överföring"},
        "focus": {"reference": f"ServiceRequest/{handover_request_id(handover)}"},
        "for": _patient_ref(handover.patient),
        "authoredOn": timezone.localtime(handover.created_at).isoformat(),
        "lastModified": timezone.localtime(
            handover.closed_at or handover.accepted_at or handover.sent_at or handover.created_at
        ).isoformat(),
        "requester": unit_ref(handover.from_unit),
        "owner": unit_ref(handover.to_unit),
    }
    if handover.decline_reason:
        data["statusReason"] = {"text": handover.decline_reason}
    if handover.accepted_at:
        data["output"] = [
            {
                "type": {"text": "Kontakt med patienten tagen"},
                "valueString": f"{handover.contact_made_on} ({handover.contact_how})",
            },
        ]
        if handover.contact_nurse_id:
            data["output"].append(
                {
                    "type": {"text": "Ny kontaktsjuksköterska"},
                    "valueReference": core.practitioner_role_ref(
                        handover.contact_nurse, handover.to_unit
                    ),
                }
            )
    return data


def _narrative(text: str) -> dict:
    """Plain text as an XHTML narrative (CR LF from browsers kept as line breaks)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    body = "<br/>".join(escape(line) for line in lines)
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{body}</p></div>',
    }


def _section(code: str, title: str, *, text: str = "", entries: list[dict] | None = None):
    section: dict = {
        "title": title,
        "code": {
            "coding": [{"system": f"{CODE_SYSTEM}/handover-section", "code": code}],
            "text": title,
        },
    }
    if text.strip():
        section["text"] = _narrative(text)
    if entries:
        section["entry"] = [{"reference": f"{r['resourceType']}/{r['id']}"} for r in entries]
    if "text" not in section and "entry" not in section:
        section["emptyReason"] = {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                    "code": "nilknown",
                }
            ]
        }
    return section


def handover_document_full(handover, reach) -> bool:
    """Whether the reader gets the whole record with the handover: the unit responsible
    for the patient (the sender until acceptance, the receiver after). Before acceptance
    the receiver gets only what the handover needs (basis ``handover``)."""
    return bool(reach.allowed and (reach.is_self or reach.basis == AccessLog.Basis.CARE_RELATION))


def _latest_prom_observations(patient) -> list[dict]:
    latest: dict[str, Response] = {}
    for response in (
        Response.objects.filter(
            patient=patient,
            status=Response.Status.COMPLETED,
            instrument__kind=Instrument.Kind.PROM,  # never PREM: not individual to staff
        )
        .select_related("instrument", "patient")
        .order_by("-submitted_at")
    ):
        latest.setdefault(response.instrument_key, response)
    out = []
    for response in latest.values():
        out += observations(response)
    return out


def handover_bundle(handover, *, full: bool = False) -> dict:
    """The handover as a FHIR ``document`` Bundle (Composition first; urn:uuid fullUrls,
    every reference resolvable inside the Bundle). ``full`` adds the care plan, the rehab
    plan with goals and interventions and the latest PROM scores (see
    ``handover_document_full``)."""
    patient = handover.patient
    task = handover_task(handover)
    request = handover_service_request(handover)
    people: list[dict] = []

    def add_nurse(user, unit, phone=""):
        people.append(core.practitioner(user))
        people.append(core.practitioner_role(user, unit, phone=phone))
        return people[-1]

    author = add_nurse(handover.created_by, handover.from_unit)
    sender_nurse = (
        ContactNurseAssignment.objects.filter(patient=patient, unit=handover.from_unit)
        .select_related("nurse", "unit")
        .order_by("-started_on", "-id")
        .first()
    )
    if sender_nurse is not None:
        add_nurse(sender_nurse.nurse, sender_nurse.unit, sender_nurse.direct_phone)
    if handover.contact_nurse_id:
        add_nurse(handover.contact_nurse, handover.to_unit)
    relation = patient.responsible_relation()
    current = patient.contact_nurse_assignment()
    team_unit = relation.unit if relation is not None else handover.from_unit
    team = core.care_team(patient, unit=team_unit, nurse_assignment=current)
    if current is not None:
        add_nurse(current.nurse, current.unit, current.direct_phone)

    plan = CarePlan.objects.filter(patient=patient).exclude(status="closed").first()
    clinical: list[dict] = []
    plan_resource = rehab_resources = observations = None
    if full:
        if plan is not None:
            plan_resource = core.care_plan(plan, unit=team_unit)
            clinical.append(plan_resource)
        rehab = RehabPlan.objects.filter(patient=patient).order_by("-id").first()
        if rehab is not None:
            rehab_resources = rehab_plan_resources(rehab)
            clinical += rehab_resources
        observations = _latest_prom_observations(patient)
        clinical += observations

    sections = [_section(code, title, text=text) for code, title, text in _sbar(handover)]
    sections.append(
        _section(
            "follow-up-plan",
            "Uppföljningsplan",
            text=plan.followup_plan if plan is not None else "",
        )
    )
    if plan_resource is not None:
        sections.append(_section("care-plan", "Vårdplan", entries=[plan_resource]))
    if rehab_resources:
        sections.append(_section("rehab-plan", "Rehabiliteringsplan", entries=rehab_resources[:1]))
    if observations:
        sections.append(_section("scores", "Senaste skattningar (PROM)", entries=observations))
    sections.append(_section("handover", "Överföring", entries=[task, request]))
    composition = {
        "resourceType": "Composition",
        "id": fhir_id("handover", handover.pk, "document"),
        "status": "preliminary" if handover.state == HandoverState.DRAFT else "final",
        "type": {
            "coding": [{"system": f"{CODE_SYSTEM}/document-type", "code": "handover"}],
            "text": "Aktiv överföring",
        },
        "subject": _patient_ref(patient),
        "date": timezone.localtime(handover.sent_at or handover.created_at).isoformat(),
        "author": [{"reference": f"PractitionerRole/{author['id']}"}],
        "title": f"Aktiv överföring till {handover.to_unit.name}",
        "custodian": unit_ref(handover.from_unit),
        "section": sections,
    }
    resources = [
        composition,
        core.patient_resource(patient),
        core.organization(handover.from_unit),
        core.organization(handover.to_unit),
        *people,
        team,
        task,
        request,
        *clinical,
    ]
    return core.bundle(
        resources, type="document", id=fhir_id("handover", handover.pk), drop_unresolved=True
    )
