"""Bulk FHIR export (the FHIR Bulk Data shape): one NDJSON file per resource type.

    manage.py fhir_export --unit 3 --out /srv/export
    manage.py fhir_export --patient 42

For a region's data warehouse and quality registries. ``--unit`` takes the patients the
unit is responsible for now; ``--patient`` one patient by database id (never a
personnummer on the command line). Each patient exported leaves one access-log row
(action export, channel task). PREM answers are never exported per patient.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from careplan.fhir_everything import patient_everything
from careplan.models import AccessLog, CareUnit, Patient


class Command(BaseCommand):
    help = "Write the FHIR resources of a unit's patients (or one patient) as NDJSON per type."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--unit", type=int, help="care unit id")
        who.add_argument("--patient", type=int, help="patient id (database id)")
        parser.add_argument("--out", default="fhir-export", help="output folder")

    def handle(self, *args, unit=None, patient=None, out="fhir-export", **options):
        if unit is not None:
            found = CareUnit.objects.filter(pk=unit).first()
            if found is None:
                raise CommandError(f"No care unit with id {unit}")
            patients = Patient.objects.for_units([found.pk])
            acting_unit = found
        else:
            patients = Patient.objects.filter(pk=patient)
            if not patients.exists():
                raise CommandError(f"No patient with id {patient}")
            relation = patients[0].responsible_relation()
            acting_unit = relation.unit if relation else None
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        by_type: dict[str, list[dict]] = {}
        seen: set[str] = set()
        count = 0
        for one in patients.order_by("pk").iterator():
            count += 1
            for resource in patient_everything(one):
                key = f"{resource['resourceType']}/{resource['id']}"
                if key in seen:
                    continue
                seen.add(key)
                by_type.setdefault(resource["resourceType"], []).append(resource)
        with transaction.atomic():
            AccessLog.objects.bulk_create(
                AccessLog(
                    user=None,
                    user_name="manage.py fhir_export",
                    role="system",
                    acting_unit=acting_unit,
                    basis=AccessLog.Basis.CARE_RELATION if acting_unit else AccessLog.Basis.NONE,
                    patient_id=pk,
                    object_type="Patient",
                    object_id=str(pk),
                    action=AccessLog.Action.EXPORT,
                    outcome=AccessLog.Outcome.ALLOWED,
                    channel=AccessLog.Channel.TASK,
                )
                for pk in patients.values_list("pk", flat=True)
            )
        for kind, resources in sorted(by_type.items()):
            path = folder / f"{kind}.ndjson"
            with path.open("w", encoding="utf-8") as fh:
                for resource in resources:
                    fh.write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
                    fh.write("\n")
            self.stdout.write(f"{path}: {len(resources)}")
        self.stdout.write(f"{count} patient(s) exported to {folder}")
