"""Encrypt the TOTP secrets and recovery-code seeds stored in clear before
``careplan.adapters.MFAAdapter`` (issue 12). Idempotent; reversible."""

from django.db import migrations

FIELDS = {"totp": "secret", "recovery_codes": "seed"}


def _convert(apps, convert) -> None:
    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=FIELDS):
        name = FIELDS[authenticator.type]
        value = (authenticator.data or {}).get(name)
        if isinstance(value, str):
            authenticator.data[name] = convert(value)
            authenticator.save(update_fields=["data"])


def encrypt(apps, schema_editor) -> None:
    from careplan.adapters import mfa_encrypt

    _convert(apps, mfa_encrypt)


def decrypt(apps, schema_editor) -> None:
    from careplan.adapters import mfa_decrypt

    _convert(apps, mfa_decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("careplan", "0007_field_labels"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
