"""``manage.py seed_demo`` and ``manage.py demo_totp``: the data behind ``make run``."""

from __future__ import annotations

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from careplan import personnummer as pnr
from careplan.management.commands import seed_demo as seed
from careplan.management.commands.demo_totp import current_code
from careplan.models import CarePlan, CareUnit, Patient, PlanChange, Role, User
from contacts.models import RelativeGrant


def run(command: str, *args) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db) -> str:
    return run("seed_demo")


def _snapshot() -> dict[str, list]:
    """Every row of every project and allauth model, as values (primary keys included)."""
    snap = {}
    for model in apps.get_models():
        if model._meta.app_label in {"careplan", "contacts", "account", "mfa", "selfmonitor"}:
            if model._meta.label == "careplan.PlanTemplateSection":
                # load_plan_templates rewrites unused templates in place (new ids).
                rows = list(model.objects.values("template_id", "key", "title_sv", "body_sv"))
            else:
                rows = list(model.objects.values())
            snap[model._meta.label] = sorted(rows, key=repr)
    return snap


def test_it_creates_the_four_care_units(seeded):
    units = dict(CareUnit.objects.values_list("name", "kind"))
    assert units == {
        "Onkologiska kliniken – bröstmottagningen": "specialist",
        "Lungmottagningen": "specialist",
        "Vårdcentralen Exempelby": "primary",
        "Palliativa teamet": "palliative",
    }


def test_the_demo_nurse_is_staff_of_the_breast_unit_with_totp_and_recovery_codes(seeded):
    nurse = User.objects.get(email=seed.NURSE_EMAIL)
    assert nurse.role == Role.STAFF and nurse.is_staff and not nurse.is_superuser
    assert nurse.title
    assert list(nurse.care_units.values_list("hsa_id", flat=True)) == [seed.BREAST_HSA]
    assert EmailAddress.objects.filter(user=nurse, verified=True, primary=True).exists()
    totp = Authenticator.objects.get(user=nurse, type=Authenticator.Type.TOTP)
    assert decrypt(totp.data["secret"]) == seed.TOTP_SECRETS[seed.NURSE_EMAIL]
    assert Authenticator.objects.filter(user=nurse, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert nurse.check_password(seed.DEMO_PASSWORD)


def test_the_lung_nurse_works_in_another_unit_with_her_own_totp(seeded):
    nurse = User.objects.get(email=seed.LUNG_NURSE_EMAIL)
    assert list(nurse.care_units.values_list("hsa_id", flat=True)) == [seed.LUNG_HSA]
    totp = Authenticator.objects.get(user=nurse, type=Authenticator.Type.TOTP)
    assert decrypt(totp.data["secret"]) == seed.TOTP_SECRETS[seed.LUNG_NURSE_EMAIL]


def test_the_demo_patient_has_an_established_breast_plan_in_treatment(seeded):
    patient = Patient.objects.get(user__email=seed.PATIENT_EMAIL)
    assert EmailAddress.objects.filter(user=patient.user, verified=True).exists()
    assert pnr.normalize(patient.personnummer) == patient.personnummer  # valid Luhn
    assert patient.personnummer[8:11] == "982"  # the synthetic serial range
    assert patient.responsible_relation().unit.hsa_id == seed.BREAST_HSA
    assignment = patient.contact_nurse_assignment()
    assert assignment.nurse.email == seed.NURSE_EMAIL
    assert assignment.direct_phone and assignment.reachable
    plan = patient.plans.get()
    assert plan.status == CarePlan.Status.ACTIVE
    assert plan.phase == CarePlan.Phase.BEHANDLING
    assert plan.template.slug == "breast"
    assert plan.established_on and plan.contact_nurse_offered_on
    assert plan.sections.exclude(personal_note="").count() == 1


def test_the_demo_calendar_has_past_and_upcoming_events_by_nurse_and_patient(seeded):
    plan = CarePlan.objects.get(patient__user__email=seed.PATIENT_EMAIL)
    now = timezone.now()
    events = list(plan.events.select_related("created_by"))
    assert any(e.starts_at < now for e in events)
    assert any(e.starts_at > now for e in events)
    creators = {e.created_by.role for e in events}
    assert creators == {Role.STAFF, Role.PATIENT}


def test_the_demo_plan_has_history_some_of_it_new_since_the_last_visit(seeded):
    patient = Patient.objects.get(user__email=seed.PATIENT_EMAIL)
    plan = patient.plans.get()
    assert plan.changes.count() >= 2
    new = plan.changes_since(patient.last_seen_plan_at)
    assert new.exists()
    assert new.count() < plan.changes.count()
    assert not PlanChange.objects.filter(plan=plan, at__gt=timezone.now()).exists()


def test_the_demo_relative_reads_plan_calendar_and_contact_nurse(seeded):
    grant = RelativeGrant.objects.get(relative__email=seed.RELATIVE_EMAIL)
    assert grant.patient.user.email == seed.PATIENT_EMAIL
    assert set(grant.scopes) == {"plan_sections", "calendar", "contact_nurse"}
    assert grant.relative.role == Role.RELATIVE
    assert EmailAddress.objects.filter(user=grant.relative, verified=True).exists()


def test_there_are_more_patients_for_the_lists(seeded):
    breast = Patient.objects.for_units(CareUnit.objects.filter(hsa_id=seed.BREAST_HSA).values("id"))
    lung = Patient.objects.for_units(CareUnit.objects.filter(hsa_id=seed.LUNG_HSA).values("id"))
    assert breast.count() >= 3
    assert lung.count() >= 2
    for patient in Patient.objects.all():
        assert pnr.normalize(patient.personnummer) == patient.personnummer
        for plan in patient.plans.filter(status=CarePlan.Status.ACTIVE):
            assert patient.responsible_relation() is not None
            assert patient.contact_nurse_assignment() is not None, plan


def test_running_it_twice_changes_nothing(seeded):
    before = _snapshot()
    out = run("seed_demo")
    assert "nothing changed" in out
    assert _snapshot() == before


def test_it_prints_how_to_log_in_as_each_role(seeded):
    for email in (seed.PATIENT_EMAIL, seed.RELATIVE_EMAIL, seed.NURSE_EMAIL):
        assert email in seeded
    assert seed.DEMO_PASSWORD in seeded
    assert "make totp" in seeded
    assert "30 seconds" in seeded
    nurse = User.objects.get(email=seed.NURSE_EMAIL)
    rc = Authenticator.objects.get(user=nurse, type=Authenticator.Type.RECOVERY_CODES)
    assert rc.wrap().get_unused_codes()[0] in seeded


def test_it_refuses_to_run_in_production(db):
    with override_settings(PRODUCTION=True), pytest.raises(CommandError, match="production"):
        run("seed_demo")
    assert not User.objects.exists()


def test_demo_totp_prints_the_code_allauth_accepts_now(seeded):
    out = run("demo_totp")
    assert seed.NURSE_EMAIL in out
    assert "30 seconds" in out
    code = run("demo_totp", "--code-only").strip()
    assert len(code) == 6 and code.isdigit()
    nurse = User.objects.get(email=seed.NURSE_EMAIL)
    totp = Authenticator.objects.get(user=nurse, type=Authenticator.Type.TOTP)
    assert TOTP(totp).validate_code(code)


def test_demo_totp_prints_a_recovery_code_too(seeded):
    out = run("demo_totp")
    nurse = User.objects.get(email=seed.NURSE_EMAIL)
    rc = Authenticator.objects.get(user=nurse, type=Authenticator.Type.RECOVERY_CODES)
    assert f"recovery code: {rc.wrap().get_unused_codes()[0]}" in out


def test_demo_totp_takes_the_lung_nurse_too(seeded):
    code = run("demo_totp", "--email", seed.LUNG_NURSE_EMAIL, "--code-only").strip()
    assert code == current_code(seed.TOTP_SECRETS[seed.LUNG_NURSE_EMAIL])[0]


def test_demo_totp_refuses_accounts_outside_the_demo_domain(seeded):
    with pytest.raises(CommandError, match="Only demo accounts"):
        run("demo_totp", "--email", "someone@example.org")


def test_demo_totp_refuses_in_production(seeded):
    with override_settings(PRODUCTION=True), pytest.raises(CommandError, match="production"):
        run("demo_totp")


def test_demo_totp_explains_when_there_is_no_demo_data(db):
    with pytest.raises(CommandError, match="make demo"):
        run("demo_totp")


def test_current_code_is_rfc_6238():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 -> the last six digits.
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    assert current_code(secret, at=59) == ("287082", 1)


def test_the_demo_patient_logs_in_with_e_mail_and_password(seeded):
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": seed.PATIENT_EMAIL, "password": seed.DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(User.objects.get(email=seed.PATIENT_EMAIL).pk)


def test_the_demo_nurse_sees_her_units_patients_in_the_admin_and_the_lung_nurse_does_not(
    seeded,
):
    from careplan.testing import login

    url = reverse("admin:careplan_patient_changelist")
    nurse = login(Client(), User.objects.get(email=seed.NURSE_EMAIL)).get(url)
    lung = login(Client(), User.objects.get(email=seed.LUNG_NURSE_EMAIL)).get(url)
    assert nurse.status_code == lung.status_code == 200
    assert "Exempelsson" in nurse.text and "Provsson" in nurse.text
    assert "Exempelsson" not in lung.text and "Lungqvist" in lung.text
