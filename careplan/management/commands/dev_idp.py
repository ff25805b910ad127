"""Serve the local test IdP (careplan.eid.dev_idp) for `make run`. Development only."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from careplan.eid.dev_idp import build_app


class Command(BaseCommand):
    help = "Serve the local OpenID Connect test IdP with the demo's synthetic identities."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, port: int, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("The test IdP never runs with CAREPLAN_ENV=production.")
        import werkzeug.serving

        self.stdout.write(f"Test e-ID (OpenID Connect) at http://127.0.0.1:{port}/")
        werkzeug.serving.run_simple("127.0.0.1", port, build_app(), threaded=True)
