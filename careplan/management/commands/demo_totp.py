"""Print the current two-factor code of a demo staff account (``make totp``).

Only for the synthetic accounts made by ``seed_demo`` (e-mail at the demo domain), and
never with ``CAREPLAN_ENV=production``: it reads the stored TOTP secret.
"""

from __future__ import annotations

import time

from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from careplan.management.commands.seed_demo import DEMO_DOMAIN, NURSE_EMAIL


def current_code(secret: str, at: float | None = None) -> tuple[str, int]:
    """The code valid now and the seconds it stays valid."""
    now = time.time() if at is None else at
    period = mfa_settings.TOTP_PERIOD
    counter = int(now) // period
    return format_hotp_value(hotp_value(secret, counter)), period - int(now) % period


class Command(BaseCommand):
    help = "Print the current 6-digit two-factor code of a demo staff account."

    def add_arguments(self, parser):
        parser.add_argument(
            "--email", default=NURSE_EMAIL, help=f"Demo staff account (default {NURSE_EMAIL})"
        )
        parser.add_argument(
            "--code-only", action="store_true", help="Print only the code (for scripts)"
        )

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("demo_totp is for the demo data only: not in production.")
        email = options["email"].strip().lower()
        if not email.endswith("@" + DEMO_DOMAIN):
            raise CommandError(f"Only demo accounts (…@{DEMO_DOMAIN}) have a known secret.")
        totp = Authenticator.objects.filter(user__email=email, type=Authenticator.Type.TOTP).first()
        if totp is None:
            raise CommandError(f"{email} has no two-factor code yet: run `make demo` first.")
        code, valid_for = current_code(decrypt(totp.data["secret"]))
        if options["code_only"]:
            self.stdout.write(code)
            return
        self.stdout.write(f"{email}: {self.style.SUCCESS(code)}")
        self.stdout.write(
            f"Valid for {valid_for} more seconds; codes change every "
            f"{mfa_settings.TOTP_PERIOD} seconds and each is accepted once."
        )
        recovery = Authenticator.objects.filter(
            user__email=email, type=Authenticator.Type.RECOVERY_CODES
        ).first()
        unused = RecoveryCodes(recovery).get_unused_codes() if recovery else []
        if unused:
            self.stdout.write(f"Or a one-time recovery code: {unused[0]}")
