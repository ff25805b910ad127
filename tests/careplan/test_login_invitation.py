"""A nurse gives a patient a login: account without password, e-mail with a link."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from careplan import services
from careplan.models import AccessLog, Role

from .. import factories as f


@pytest.fixture
def new_patient(cast):
    patient = f.PatientFactory(user=None, email="ny.patient@example.test", first_name="Nora")
    f.CareRelationFactory(patient=patient, unit=cast.unit)
    return patient


def test_it_creates_an_account_and_emails_a_link_without_health_data(
    cast, new_patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = services.patient_login_invite(patient=new_patient, by=cast.nurse)
    new_patient.refresh_from_db()
    assert new_patient.user == user
    assert user.role == Role.PATIENT and not user.has_usable_password()
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "/accounts/password/reset/key/" in body
    assert new_patient.personnummer not in body
    assert new_patient.personnummer[:8] not in body
    assert "cancer" not in body.lower()


def test_the_link_sets_a_password_verifies_the_address_and_logs_in(
    cast, new_patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.patient_login_invite(patient=new_patient, by=cast.nurse)
    url = re.search(r"http://\S+", mail.outbox[0].body).group(0)
    path = url.split("8000", 1)[1] if "8000" in url else url
    client = Client()
    response = client.get(path, follow=True)
    form_path = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(
        form_path,
        {"password1": "ett-bra-losenord-42", "password2": "ett-bra-losenord-42"},
    )
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="ny.patient@example.test").verified
    login = Client().post(
        "/accounts/login/",
        {"login": "ny.patient@example.test", "password": "ett-bra-losenord-42"},
    )
    assert login.status_code == 302
    assert "/accounts/" not in login["Location"]


def test_a_nurse_of_another_unit_cannot_invite(cast, new_patient):
    with pytest.raises(PermissionDenied):
        services.patient_login_invite(patient=new_patient, by=cast.other_nurse)
    new_patient.refresh_from_db()
    assert new_patient.user is None


def test_it_refuses_a_patient_without_email_and_creates_nothing(cast, new_patient):
    new_patient.email = ""
    new_patient.save()
    with pytest.raises(ValidationError, match="Lägg till e-postadressen"):
        services.patient_login_invite(patient=new_patient, by=cast.nurse)
    assert not EmailAddress.objects.filter(email="ny.patient@example.test").exists()


def test_it_refuses_a_second_invitation(cast, new_patient):
    services.patient_login_invite(patient=new_patient, by=cast.nurse)
    with pytest.raises(ValidationError, match="har redan en inloggning"):
        services.patient_login_invite(patient=new_patient, by=cast.nurse)


def test_the_admin_action_invites_and_logs_one_row(
    cast, new_patient, django_capture_on_commit_callbacks
):
    client = cast.client("nurse")
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/careplan/patient/",
            {"action": "invite_to_log_in", "_selected_action": [new_patient.pk]},
            follow=True,
        )
    assert "A login invitation was sent to Nora" in response.content.decode()
    assert len(mail.outbox) == 1
    assert (
        AccessLog.objects.filter(
            user=cast.nurse, patient=new_patient, action="update", channel="admin"
        ).count()
        == 1
    )
