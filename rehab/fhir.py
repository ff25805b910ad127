"""FHIR R4 export of a rehabilitation plan: a Bundle (collection) with the CarePlan
(category rehabilitation), its Goals, and its interventions as ServiceRequests (planned,
ongoing, cancelled) or Procedures (done), each coded with KVÅ.

Plain dicts, validated against ``fhir.resources.R4B`` and the R4 JSON schema in the
tests. The patient is referenced by id and name, never by personnummer. The CarePlan,
Goal and ServiceRequest/Procedure builders here are the only ones: the handover document
uses them too, so one object has one id and one status everywhere.
"""

from __future__ import annotations

from django.utils import timezone

from careplan.fhir import (
    CODE_SYSTEM,
    bundle,
    fhir_id,
    kva_system,
    organization,
    patient_ref,
    unit_ref,
)

from .models import Goal, Intervention, RehabPlan

__all__ = ["kva_system", "rehab_plan_bundle", "rehab_plan_resources"]

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


def _patient_ref(rehab: RehabPlan) -> dict:
    return patient_ref(rehab.patient)


def _area(value: str, label) -> dict:
    return {
        "coding": [{"system": f"{CODE_SYSTEM}/rehab-area", "code": value, "display": str(label)}],
        "text": str(label),
    }


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
        "id": fhir_id("rehab-goal", goal.pk),
        "lifecycleStatus": "completed" if goal.evaluation else "active",
        "category": [_area(goal.area, goal.get_area_display())],
        "description": {"text": goal.text},
        "subject": _patient_ref(rehab),
        "target": [{"measure": {"text": goal.success_measure}}],
    }
    if goal.evaluation:
        resource["achievementStatus"] = {
            "coding": [{"system": GOAL_ACHIEVEMENT, "code": ACHIEVEMENT[goal.evaluation]}],
            "text": str(goal.get_evaluation_display()),
        }
        if goal.evaluated_on:
            resource["statusDate"] = goal.evaluated_on.isoformat()
        if goal.evaluation_note:
            resource["note"] = [{"text": goal.evaluation_note}]
    return resource


def intervention_resource(rehab: RehabPlan, item: Intervention) -> dict:
    area = _area(item.area, item.get_area_display())
    common = {"code": _kva(item), "subject": _patient_ref(rehab)}
    profession = {"text": str(item.get_profession_display())}
    if item.status == Intervention.Status.DONE:
        return {
            "resourceType": "Procedure",
            "id": fhir_id("rehab-procedure", item.pk),
            "status": "completed",
            "category": area,  # one CodeableConcept in R4
            "performedPeriod": _period(item),
            "performer": [{"function": profession, "actor": unit_ref(item.unit)}],
            **common,
        }
    return {
        "resourceType": "ServiceRequest",
        "id": fhir_id("rehab-request", item.pk),
        "status": REQUEST_STATUS[item.status],
        "intent": "plan",
        "category": [area],
        "occurrencePeriod": _period(item),
        "performerType": profession,
        "performer": [unit_ref(item.unit)],
        **common,
    }


def rehab_plan_id(rehab: RehabPlan) -> str:
    return fhir_id("rehab-plan", rehab.pk)


def rehab_plan_resources(rehab: RehabPlan) -> list[dict]:
    """The rehab CarePlan, its Goals, its interventions (ServiceRequest or Procedure) and
    the organisations that perform them."""
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
        "id": rehab_plan_id(rehab),
        "status": "active" if rehab.agreed_at else "draft",
        "intent": "plan",
        "category": [
            {
                "coding": [
                    {
                        "system": f"{CODE_SYSTEM}/care-plan-kind",
                        "code": "rehabilitation",
                        "display": "Rehabiliteringsplan",
                    }
                ],
                "text": "Rehabiliteringsplan",
            }
        ],
        "title": "Rehabiliteringsplan",
        "subject": _patient_ref(rehab),
        "created": timezone.localtime(rehab.created_at).isoformat(),
        "goal": [{"reference": f"Goal/{g['id']}"} for g in goal_resources],
        "activity": activities,
    }
    if rehab.care_plan_id:
        care_plan["partOf"] = [{"reference": f"CarePlan/{fhir_id('careplan', rehab.care_plan_id)}"}]
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
    units = {i.unit_id: i.unit for i in interventions}
    return [
        care_plan,
        *goal_resources,
        *item_resources,
        *(organization(u) for u in units.values()),
    ]


def rehab_plan_bundle(rehab: RehabPlan) -> dict:
    """A collection Bundle with urn:uuid fullUrls; references between its resources
    resolve inside it (the patient and the main care plan by id on /fhir/)."""
    return bundle(rehab_plan_resources(rehab), type="collection")
