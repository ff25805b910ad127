"""Read-side queries of rehabilitation for the patient overview: the latest needs
assessment and the rehabilitation plan with its goals and interventions."""

from __future__ import annotations

from django.db.models import Prefetch

from careplan.models import Patient

from .models import Intervention, NeedsAssessment, RehabPlan


def latest_assessment(patient: Patient) -> NeedsAssessment | None:
    return (
        NeedsAssessment.objects.filter(patient=patient)
        .select_related("assessed_by", "kva")
        .order_by("-assessed_at", "-id")
        .first()
    )


def current_rehab_plan(patient: Patient) -> RehabPlan | None:
    """The latest rehab plan with goals and coded interventions (three queries)."""
    return (
        RehabPlan.objects.filter(patient=patient)
        .prefetch_related(
            "goals",
            Prefetch("interventions", queryset=Intervention.objects.select_related("kva")),
        )
        .order_by("-updated_at", "-id")
        .first()
    )
