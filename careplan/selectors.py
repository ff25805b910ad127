"""Read-only selectors other parts of the app call (HackSoft style: services write,
selectors read). The caller authorises the reader and writes the access-log row."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Patient, VisitQuestion


def visit_questions(patient: Patient | int, *, include_answered: bool = False) -> QuerySet:
    """The patient's questions for the next visit, oldest first (one query, served by
    the ``visitquestion_patient`` index). For the care team's patient overview: the
    caller has checked access (``careplan.access.patient_for``) and logged it."""
    patient_id = patient if isinstance(patient, int) else patient.pk
    qs = VisitQuestion.objects.filter(patient_id=patient_id)
    if not include_answered:
        qs = qs.filter(answered_at__isnull=True)
    return qs.order_by("created_at", "id")
