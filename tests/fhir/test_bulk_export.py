"""``manage.py fhir_export`` over the demo database: NDJSON per resource type, every line
valid against both validators, every patient exported logged once; ``seed_demo`` gives
data that exercises every export."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from careplan.models import AccessLog, CareUnit, Patient

from .validate import assert_valid

pytestmark = pytest.mark.django_db


def _read(folder) -> dict[str, list[dict]]:
    out = {}
    for path in sorted(folder.glob("*.ndjson")):
        out[path.stem] = [json.loads(line) for line in path.read_text().splitlines()]
    return out


def test_the_demo_database_exports_valid_ndjson_per_type(tmp_path):
    call_command("seed_demo", stdout=StringIO(), verbosity=0)
    total = 0
    kinds: set[str] = set()
    for unit in CareUnit.objects.all():
        folder = tmp_path / str(unit.pk)
        call_command("fhir_export", unit=unit.pk, out=str(folder), stdout=StringIO())
        for kind, resources in _read(folder).items():
            kinds.add(kind)
            for resource in resources:
                assert resource["resourceType"] == kind
                assert_valid(resource)
                total += 1
    assert total > 50
    assert {
        "Patient",
        "Organization",
        "Practitioner",
        "PractitionerRole",
        "CareTeam",
        "CarePlan",
        "QuestionnaireResponse",
        "Observation",
        "Goal",
        "ServiceRequest",
        "Procedure",
        "RelatedPerson",
        "Consent",
        "Task",
    } <= kinds
    exported = AccessLog.objects.filter(action="export", channel="task")
    assert (
        exported.count()
        == Patient.objects.for_units(CareUnit.objects.values_list("pk", flat=True)).count()
    )


def test_one_patient_and_clear_errors(tmp_path, cast):
    call_command("fhir_export", patient=cast.patient.pk, out=str(tmp_path), stdout=StringIO())
    files = _read(tmp_path)
    assert files["Patient"][0]["identifier"][0]["value"] == cast.patient.personnummer
    assert AccessLog.objects.filter(patient=cast.patient, action="export").count() == 1
    with pytest.raises(CommandError):
        call_command("fhir_export", patient=999999, out=str(tmp_path), stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("fhir_export", unit=999999, out=str(tmp_path), stdout=StringIO())
