"""FHIR ``Patient/$everything``: every resource about one patient, from the core and from
each app's builders (``contacts.fhir``, ``rehab.fhir``, ``selfmonitor.fhir``). It sits
above all of them: ``careplan.fhir`` holds the shared builders the apps import, this
module imports the apps, so the imports run one way."""

from __future__ import annotations

from careplan.fhir import organization, patient_core, practitioner, practitioner_role
from careplan.models import RelativeGrant
from contacts.fhir import care_map_entry, grant_consent, handover_service_request, handover_task
from contacts.models import CareMapEntry, Handover
from rehab.fhir import rehab_plan_resources
from rehab.models import RehabPlan
from selfmonitor.fhir import observations, questionnaire_response
from selfmonitor.models import Instrument, Response


def patient_everything(patient) -> list[dict]:
    """Everything about one patient for staff and registries (each resource once): the
    patient core, PROM answers and their scores (never PREM), rehab plans, the care map,
    relatives' consents, and handovers with both organisations."""
    resources = patient_core(patient)
    answers = (
        Response.objects.filter(
            patient=patient,
            status=Response.Status.COMPLETED,
            instrument__kind=Instrument.Kind.PROM,
        )
        .select_related("patient", "instrument", "entered_by")
        .order_by("submitted_at", "id")
    )
    for answer in answers:
        resources.append(questionnaire_response(answer))
        resources += observations(answer)
    for rehab in RehabPlan.objects.filter(patient=patient).select_related("patient"):
        resources += rehab_plan_resources(rehab)
    entries = CareMapEntry.objects.filter(care_map__patient=patient).select_related(
        "care_map__patient"
    )
    resources += [care_map_entry(e) for e in entries]
    grants = RelativeGrant.objects.filter(patient=patient).select_related("patient", "relative")
    resources += [grant_consent(g) for g in grants]
    for handover in Handover.objects.filter(patient=patient).select_related(
        "patient", "from_unit", "to_unit", "contact_nurse"
    ):
        resources += [handover_task(handover), handover_service_request(handover)]
        resources += [organization(handover.from_unit), organization(handover.to_unit)]
        if handover.contact_nurse_id:
            resources += [
                practitioner(handover.contact_nurse),
                practitioner_role(handover.contact_nurse, handover.to_unit),
            ]
    unique: dict[str, dict] = {}
    for r in resources:
        unique.setdefault(f"{r['resourceType']}/{r['id']}", r)
    return list(unique.values())
