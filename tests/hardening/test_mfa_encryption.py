"""TOTP secrets and recovery seeds are encrypted at rest with a key from the environment,
never shown in the admin, and the login and the demo code keep working (issue 12)."""

from __future__ import annotations

import importlib
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from careplan.adapters import ENCRYPTED_PREFIX, mfa_decrypt, mfa_encrypt
from careplan.testing import login
from tests import factories as f

SECRET = "MNQXEZLQNRQW4LLUMVZXILLTMVRXEZLU"  # synthetic, base32
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    if "FileBasedCache" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.MFA_TOTP_TOLERANCE = 1
    cache.clear()


def _code(secret: str = SECRET) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def nurse(cast):
    EmailAddress.objects.create(
        user=cast.nurse, email=cast.nurse.email, verified=True, primary=True
    )
    TOTP.activate(cast.nurse, SECRET)
    RecoveryCodes.activate(cast.nurse)
    return cast.nurse


def test_the_totp_secret_and_the_recovery_seed_are_stored_encrypted(nurse):
    totp = Authenticator.objects.get(user=nurse, type=Authenticator.Type.TOTP)
    stored = totp.data["secret"]
    assert stored.startswith(ENCRYPTED_PREFIX)
    assert SECRET not in str(totp.data)
    assert mfa_decrypt(stored) == SECRET
    seed = Authenticator.objects.get(user=nurse, type=Authenticator.Type.RECOVERY_CODES)
    assert seed.data["seed"].startswith(ENCRYPTED_PREFIX)


def test_the_nurse_logs_in_with_the_code_of_the_encrypted_secret(nurse):
    client = Client()
    response = client.post(reverse("account_login"), {"login": nurse.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": _code()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(nurse.pk)


def test_a_recovery_code_from_the_encrypted_seed_logs_in(nurse):
    code = RecoveryCodes(
        Authenticator.objects.get(user=nurse, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()[0]
    client = Client()
    client.post(reverse("account_login"), {"login": nurse.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(nurse.pk)


def test_another_key_cannot_read_it_and_a_rotated_key_list_still_can(nurse, settings):
    stored = Authenticator.objects.get(user=nurse, type=Authenticator.Type.TOTP).data["secret"]
    old = settings.CAREPLAN_MFA_KEYS
    settings.CAREPLAN_MFA_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(Exception):  # noqa: B017 (cryptography's InvalidToken)
        mfa_decrypt(stored)
    settings.CAREPLAN_MFA_KEYS = [Fernet.generate_key().decode(), *old]  # rotation
    assert mfa_decrypt(stored) == SECRET
    assert mfa_decrypt(mfa_encrypt("x")) == "x"


def test_the_data_migration_encrypts_clear_secrets_once_and_reverses(cast):
    migration = importlib.import_module("careplan.migrations.0008_encrypt_mfa_secrets")
    Authenticator.objects.create(
        user=cast.nurse, type=Authenticator.Type.TOTP, data={"secret": SECRET}
    )
    migration.encrypt(apps, None)
    first = Authenticator.objects.get(user=cast.nurse).data["secret"]
    assert first.startswith(ENCRYPTED_PREFIX) and mfa_decrypt(first) == SECRET
    migration.encrypt(apps, None)  # twice: not encrypted again
    assert Authenticator.objects.get(user=cast.nurse).data["secret"] == first
    migration.decrypt(apps, None)
    assert Authenticator.objects.get(user=cast.nurse).data["secret"] == SECRET


def test_the_admin_never_shows_an_authenticators_data(nurse):
    superuser = f.StaffFactory(is_superuser=True)
    client = login(Client(), superuser)
    totp = Authenticator.objects.get(user=nurse, type=Authenticator.Type.TOTP)
    stored = totp.data["secret"]
    for url in (
        reverse("admin:mfa_authenticator_changelist"),
        reverse("admin:mfa_authenticator_change", args=[totp.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert SECRET not in body and stored[len(ENCRYPTED_PREFIX) :][:20] not in body
    # Nothing to edit: a POST cannot plant a secret.
    response = client.post(
        reverse("admin:mfa_authenticator_change", args=[totp.pk]), {"data": "{}"}
    )
    assert response.status_code == 403
    assert Authenticator.objects.get(pk=totp.pk).data["secret"] == stored


def test_care_staff_do_not_reach_the_authenticators_in_the_admin(nurse, cast):
    response = cast.client("nurse").get(reverse("admin:mfa_authenticator_changelist"))
    assert response.status_code == 403


def test_production_needs_valid_mfa_keys():
    from tests.careplan.test_settings import SETUP, production, run_python

    env = production()
    del env["CAREPLAN_MFA_KEYS"]
    result = run_python(SETUP, **env)
    assert result.returncode != 0 and "CAREPLAN_MFA_KEYS" in result.stderr
    result = run_python(SETUP, **production(CAREPLAN_MFA_KEYS="not-a-key"))
    assert result.returncode != 0 and "Fernet" in result.stderr
