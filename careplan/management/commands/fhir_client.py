"""Create a machine client of /fhir/ (OAuth2 client credentials), bound to a care unit and
to read scopes; prints the client id and secret once.

    manage.py fhir_client --unit 3 --name "Regionens integrationsplattform" \
        --scope system/Observation.read --scope system/QuestionnaireResponse.read
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from careplan.fhir_clients import fhir_client_create
from careplan.models import CareUnit


class Command(BaseCommand):
    help = "Create an OAuth2 client-credentials client of /fhir/ for one care unit."

    def add_arguments(self, parser):
        parser.add_argument("--unit", type=int, required=True, help="care unit id")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scope", action="append", required=True, help="e.g. system/Observation.read"
        )

    def handle(self, *args, unit, name, scope, **options):
        found = CareUnit.objects.filter(pk=unit).first()
        if found is None:
            raise CommandError(f"No care unit with id {unit}")
        try:
            client, secret = fhir_client_create(name=name, unit=found, scopes=scope)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"client_id: {client.application.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write(f"scopes: {client.scopes}")
