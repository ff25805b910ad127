"""FHIR R4 export of a rehabilitation plan: a Bundle (collection) with the CarePlan
(category rehabilitation), its Goals, and its interventions as ServiceRequests (planned,
ongoing, cancelled) or Procedures (done), each coded with KVÅ.

Plain dicts, validated against ``fhir.resources.R4B`` in the tests. The patient is
referenced by id and name, never by personnummer.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from .models import Goal, Intervention, RehabPlan

#: The code system URI for KVÅ. A placeholder until the official identifier is
#: confirmed; set ``REHAB_KVA_SYSTEM`` in settings to override.
DEFAULT_KVA_SYSTEM = "urn:careplan:codesystem:kva"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"

ACHIEVEMENT = {
    Goal.Evaluation.REACHED: "achieved",
    Goal.Evaluation.PARTLY: "improving",
    Goal.Evaluation.NOT_REACHED: "not-achieved",
}
REQUEST_STATUS = {
    Intervention.Status.PLANNED: "active",
    Intervention.Status.ONGOING: "active",
    Intervention.Status.CANCELLED: "revoked",
}


def kva_system() -> str:
    return getattr(settings, "REHAB_KVA_SYSTEM", DEFAULT_KVA_SYSTEM)


def _patient_ref(rehab: RehabPlan) -> dict:
    return {"reference": f"Patient/{rehab.patient_id}", "display": rehab.patient.name}


def _kva(intervention: Intervention) -> dict:
    return {
        "coding": [
            {
                "system": kva_system(),
                "code": intervention.kva.code,
                "display": intervention.kva.title_sv,
            }
        ],
        "text": intervention.description,
    }


def _period(intervention: Intervention) -> dict:
    period = {"start": intervention.starts_on.isoformat()}
    if intervention.ends_on:
        period["end"] = intervention.ends_on.isoformat()
    return period


def goal_resource(rehab: RehabPlan, goal: Goal) -> dict:
    resource = {
        "resourceType": "Goal",
        "id": f"rehab-goal-{goal.pk}",
        "lifecycleStatus": "completed" if goal.evaluation else "active",
        "category": [{"text": goal.get_area_display()}],
        "description": {"text": goal.text},
        "subject": _patient_ref(rehab),
        "target": [{"measure": {"text": goal.success_measure}}],
    }
    if goal.evaluation:
        resource["achievementStatus"] = {
            "coding": [{"system": GOAL_ACHIEVEMENT, "code": ACHIEVEMENT[goal.evaluation]}],
            "text": goal.get_evaluation_display(),
        }
        resource["statusDate"] = goal.evaluated_on.isoformat()
        if goal.evaluation_note:
            resource["note"] = [{"text": goal.evaluation_note}]
    return resource


def intervention_resource(rehab: RehabPlan, item: Intervention) -> dict:
    area = {"text": item.get_area_display()}
    common = {"code": _kva(item), "subject": _patient_ref(rehab)}
    if item.status == Intervention.Status.DONE:
        return {
            "resourceType": "Procedure",
            "id": f"rehab-procedure-{item.pk}",
            "status": "completed",
            "category": area,  # one CodeableConcept in R4
            "performedPeriod": _period(item),
            "performer": [
                {
                    "function": {"text": item.get_profession_display()},
                    "actor": {"display": item.unit.name},
                }
            ],
            **common,
        }
    return {
        "resourceType": "ServiceRequest",
        "id": f"rehab-request-{item.pk}",
        "status": REQUEST_STATUS[item.status],
        "intent": "plan",
        "category": [area],
        "occurrencePeriod": _period(item),
        "performerType": {"text": item.get_profession_display()},
        "performer": [{"display": item.unit.name}],
        **common,
    }


def rehab_plan_bundle(rehab: RehabPlan) -> dict:
    goals = list(rehab.goals.all())
    interventions = list(rehab.interventions.select_related("kva", "unit"))
    goal_resources = [goal_resource(rehab, g) for g in goals]
    item_resources = [intervention_resource(rehab, i) for i in interventions]
    activities = []
    for res in item_resources:
        ref = {"reference": f"{res['resourceType']}/{res['id']}"}
        if res["resourceType"] == "Procedure":
            activities.append({"outcomeReference": [ref]})
        else:
            activities.append({"reference": ref})
    care_plan = {
        "resourceType": "CarePlan",
        "id": f"rehab-plan-{rehab.pk}",
        "status": "active" if rehab.agreed_at else "draft",
        "intent": "plan",
        "category": [{"text": "Rehabilitation"}],
        "title": "Rehabiliteringsplan",
        "subject": _patient_ref(rehab),
        "created": timezone.localtime(rehab.created_at).isoformat(),
        "goal": [{"reference": f"Goal/{g['id']}"} for g in goal_resources],
        "activity": activities,
    }
    if rehab.summary_assessment:
        care_plan["description"] = rehab.summary_assessment
    follow_ups = [f.due_on.isoformat() for f in rehab.follow_ups.all()]
    notes = []
    if rehab.timetable:
        notes.append({"text": rehab.timetable})
    if follow_ups:
        notes.append({"text": "Uppföljning: " + ", ".join(follow_ups)})
    if notes:
        care_plan["note"] = notes
    if not care_plan["goal"]:
        del care_plan["goal"]
    if not care_plan["activity"]:
        del care_plan["activity"]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [
            {"fullUrl": f"urn:careplan:{r['resourceType']}/{r['id']}", "resource": r}
            for r in [care_plan, *goal_resources, *item_resources]
        ],
    }
