"""Helpers shared by the test suite and ``manage.py bench`` (no test framework imports)."""

from __future__ import annotations

from django.test import Client

from .models import Role, User


def login(client: Client, user: User) -> Client:
    """Log in as allauth would: staff sessions carry the two-factor record."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if user.role == Role.STAFF:
        session = client.session
        session["account_authentication_methods"] = [
            {"method": "password", "at": 0, "email": user.email},
            {"method": "mfa", "at": 0, "type": "totp"},
        ]
        session["account_authentication_methods_user"] = str(user.pk)  # allauth 65 key
        session.save()
    return client
