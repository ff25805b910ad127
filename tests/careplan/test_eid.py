"""Log in with e-ID against a real OpenID Connect provider (the local test IdP on a free
loopback port): patients by personnummer, relatives through an invitation, staff by
HSA-id with the authentication context deciding on TOTP; and the security checks."""

from __future__ import annotations

import base64
import hashlib
import logging

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from allauth.socialaccount.models import SocialAccount
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from joserfc.jwk import RSAKey

from careplan.eid.config import DEV_PATIENT_PROVIDER, DEV_STAFF_PROVIDER
from careplan.eid.dev_idp import KARIN_STRONG, KARIN_WEAK
from careplan.models import AccessLog, Patient, Role, User
from contacts import services as contacts_services
from contacts.models import RelativeGrant
from tests import factories as f
from tests.eid_idp import path_and_query, query, running_idp

SECRET = "JBSWY3DPEHPK3PXP"
UNKNOWN_MESSAGE = "Det finns ingen vårdplan för dig här ännu. Kontakta din mottagning."
NOT_VERIFIED = "Inloggningen kunde inte kontrolleras"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    if "FileBasedCache" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


@pytest.fixture
def idp(settings):
    with running_idp() as server:
        settings.SOCIALACCOUNT_PROVIDERS = server.providers()
        yield server


def set_identity(idp, sub: str, claims: dict) -> None:
    """A person on the test IdP (its own API: PUT /users/<sub>)."""
    import requests

    response = requests.put(f"{idp.url}/users/{sub}", json=claims, timeout=10)
    assert response.status_code == 204


def person(number: str, acr: str = "http://id.elegnamnden.se/loa/1.0/loa3") -> dict:
    return {
        "https://id.oidc.se/claim/personalIdentityNumber": number,
        "given_name": "Test",
        "family_name": "Person",
        "acr": acr,
    }


def start(client: Client, provider: str = DEV_PATIENT_PROVIDER, **data) -> str:
    response = client.post(reverse("eid_login", kwargs={"provider_id": provider}), data)
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def eid_login(client: Client, idp, sub: str, provider: str = DEV_PATIENT_PROVIDER, **data):
    """The whole round trip; returns the app's response to the IdP's callback."""
    callback = idp.authorize(start(client, provider, **data), sub)
    return client.get(path_and_query(callback))


def logged_in_user(client: Client) -> User | None:
    response = client.get(reverse("home"))
    user = response.wsgi_request.user
    return user if user.is_authenticated else None


# --- Patients -------------------------------------------------------------------------------


def test_a_registered_patient_logs_in_with_eid_and_gets_an_account_for_her_patient(idp, db):
    plan = f.covered_plan(patient=f.PatientFactory(user=None, first_name="Eva"))
    patient = plan.patient
    set_identity(idp, "eva", person(patient.personnummer))
    client = Client()
    patients_before = Patient.objects.count()

    response = eid_login(client, idp, "eva")

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.user is not None
    assert patient.user.role == Role.PATIENT
    assert not patient.user.has_usable_password()  # with e-ID, no password at all
    assert Patient.objects.count() == patients_before
    page = client.get(response["Location"], follow=True)
    assert page.redirect_chain[-1][0] == reverse("plan_detail", args=[plan.pk])
    assert page.wsgi_request.user == patient.user


def test_the_binding_keeps_no_personnummer_in_clear(idp, db):
    patient = f.PatientFactory(user=None)
    set_identity(idp, "p", person(patient.personnummer))
    eid_login(Client(), idp, "p")
    account = SocialAccount.objects.get(user__patient=patient)
    assert patient.personnummer not in account.uid
    assert patient.personnummer not in str(account.extra_data)
    assert len(account.uid) == 64


def test_a_patient_with_an_account_is_linked_to_it_not_to_a_new_one(idp, db):
    patient = f.PatientFactory()
    set_identity(idp, "p", person(patient.personnummer))
    users_before = User.objects.count()
    client = Client()
    eid_login(client, idp, "p")
    assert logged_in_user(client) == patient.user
    assert User.objects.count() == users_before
    # And the second time through the binding.
    client.logout()
    eid_login(client, idp, "p")
    assert logged_in_user(client) == patient.user
    assert SocialAccount.objects.filter(user=patient.user).count() == 1


def test_a_coordination_number_identifies_too(idp, db):
    from careplan import personnummer as pnr

    nine = "680472982"  # day 12 + 60: a samordningsnummer
    number = "19" + nine + pnr.with_check_digit(nine)
    patient = f.PatientFactory(personnummer=number)
    set_identity(idp, "s", {"https://id.oidc.se/claim/coordinationNumber": number, "acr": "x"})
    client = Client()
    eid_login(client, idp, "s")
    assert logged_in_user(client) == patient.user


def test_an_unknown_personnummer_gets_the_clear_page_and_nothing_is_created(idp, db, caplog):
    number = f.synthetic_personnummer()
    set_identity(idp, "nobody", person(number))
    users, accounts, patients = (
        User.objects.count(),
        SocialAccount.objects.count(),
        Patient.objects.count(),
    )

    with caplog.at_level(logging.WARNING, logger="careplan.eid"):
        response = eid_login(Client(), idp, "nobody")

    assert response.status_code == 403
    assert UNKNOWN_MESSAGE in response.content.decode()
    assert (User.objects.count(), SocialAccount.objects.count(), Patient.objects.count()) == (
        users,
        accounts,
        patients,
    )
    assert "unknown_personnummer" in caplog.text
    assert number not in caplog.text and number[2:] not in caplog.text


def test_the_unknown_page_speaks_english_to_english_browsers(idp, db):
    set_identity(idp, "nobody", person(f.synthetic_personnummer()))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = eid_login(client, idp, "nobody")
    assert (
        "There is no care plan for you here yet. Contact your clinic." in response.content.decode()
    )


def test_a_malformed_personnummer_is_refused(idp, db, caplog):
    set_identity(idp, "bad", person("196804129829"))  # wrong check digit
    with caplog.at_level(logging.WARNING, logger="careplan.eid"):
        response = eid_login(Client(), idp, "bad")
    assert response.status_code == 400
    assert "giltigt personnummer" in response.content.decode()
    assert "invalid_personnummer" in caplog.text
    assert "196804129829" not in caplog.text


def test_a_personnummer_bound_to_another_account_is_refused(idp, db):
    patient = f.PatientFactory()
    other = f.UserFactory()
    SocialAccount.objects.create(
        user=other, provider=DEV_PATIENT_PROVIDER, uid=_uid(patient.personnummer)
    )
    set_identity(idp, "p", person(patient.personnummer))
    response = eid_login(Client(), idp, "p")
    assert response.status_code == 403


def _uid(number: str) -> str:
    from careplan.eid.provider import number_hash

    return number_hash(number)


def test_password_login_can_be_switched_off_for_patients(settings, db):
    settings.CAREPLAN_PASSWORD_LOGIN_ROLES = ["staff"]
    patient = f.PatientFactory()
    EmailAddress.objects.create(
        user=patient.user, email=patient.user.email, verified=True, primary=True
    )
    client = Client()
    response = client.post(
        reverse("account_login"),
        {"login": patient.user.email, "password": "correct-horse-battery"},
        follow=True,
    )
    assert logged_in_user(client) is None
    assert "lösenord är avstängd" in response.content.decode()


def test_password_login_stays_for_roles_left_on(settings, db):
    settings.CAREPLAN_PASSWORD_LOGIN_ROLES = ["patient"]
    patient = f.PatientFactory()
    EmailAddress.objects.create(
        user=patient.user, email=patient.user.email, verified=True, primary=True
    )
    client = Client()
    client.post(
        reverse("account_login"),
        {"login": patient.user.email, "password": "correct-horse-battery"},
    )
    assert logged_in_user(client) == patient.user


def test_the_login_page_shows_the_configured_buttons(idp, db):
    page = Client().get(reverse("account_login")).content.decode()
    assert "Logga in med BankID (test)" in page
    assert "Vårdpersonal: logga in med SITHS (test)" in page


def test_without_providers_the_login_page_has_no_eid_section(settings, db):
    settings.SOCIALACCOUNT_PROVIDERS = {"eid": {"APPS": []}}
    page = Client().get(reverse("account_login")).content.decode()
    assert "e-legitimation" not in page


# --- Relatives ------------------------------------------------------------------------------


@pytest.fixture
def invitation(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return contacts_services.invitation_create(
            patient=cast.patient,
            by=cast.patient_user,
            email="ny.narstaende@example.test",
            scopes=["plan_sections"],
            name="Nils Närstående",
        )


def test_a_relative_binds_eid_when_accepting_and_logs_in_with_it_afterwards(idp, cast, invitation):
    _invitation, token = invitation
    number = f.synthetic_personnummer()
    set_identity(idp, "nils", person(number))
    client = Client()
    client.get(reverse("invitation_open", args=[token]))

    response = eid_login(client, idp, "nils", next=reverse("invitation_accept"))

    assert response.status_code == 302
    user = logged_in_user(client)
    assert user.role == Role.RELATIVE
    assert user.email == "ny.narstaende@example.test"
    assert not user.has_usable_password()
    accepted = client.post(reverse("invitation_accept"))
    assert accepted.status_code == 302
    assert RelativeGrant.objects.filter(patient=cast.patient, relative=user).exists()

    again = Client()
    eid_login(again, idp, "nils")
    assert logged_in_user(again) == user
    assert User.objects.filter(email="ny.narstaende@example.test").count() == 1


def test_a_relative_with_a_password_account_binds_eid_to_it(idp, cast, invitation):
    _invitation, token = invitation
    number = f.synthetic_personnummer()
    set_identity(idp, "rut", person(number))
    client = cast.client("relative")
    client.get(reverse("invitation_open", args=[token]))

    response = eid_login(client, idp, "rut", process="connect", next=reverse("invitation_accept"))

    assert response.status_code == 302
    assert SocialAccount.objects.filter(user=cast.relative, uid=_uid(number)).exists()
    fresh = Client()
    eid_login(fresh, idp, "rut")
    assert logged_in_user(fresh) == cast.relative


def test_a_patient_who_is_also_a_relative_keeps_one_account_with_both_roles(
    idp, cast, django_capture_on_commit_callbacks
):
    plan = f.covered_plan()
    other_patient = plan.patient  # a patient of another unit, invited by the cast patient
    f.verified_email(other_patient.user)  # invited at her own, verified address
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = contacts_services.invitation_create(
            patient=cast.patient,
            by=cast.patient_user,
            email=other_patient.user.email,
            scopes=["plan_sections"],
        )
    set_identity(idp, "both", person(other_patient.personnummer))
    client = Client()
    client.get(reverse("invitation_open", args=[token]))

    eid_login(client, idp, "both", next=reverse("invitation_accept"))
    assert logged_in_user(client) == other_patient.user
    response = client.post(reverse("invitation_accept"))

    assert response["Location"] == reverse("shared_with_me")
    assert RelativeGrant.objects.filter(patient=cast.patient, relative=other_patient.user).exists()
    # Her own plan, and what the cast patient shares, read-only and logged.
    assert client.get(reverse("plan_detail", args=[plan.pk])).status_code == 200
    shared = client.get(reverse("plan_detail", args=[cast.plan.pk]))
    assert shared.status_code == 200
    assert AccessLog.objects.filter(
        user=other_patient.user,
        patient=cast.patient,
        basis=AccessLog.Basis.RELATIVE_GRANT,
        role=Role.RELATIVE,  # she reads as a relative here
    ).exists()
    own_page = client.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert reverse("shared_with_me") in own_page  # how she finds it again
    assert cast.patient.first_name in client.get(reverse("shared_with_me")).content.decode()
    assert User.objects.filter(patient=other_patient).count() == 1


def test_a_relative_who_becomes_a_patient_keeps_the_same_account(idp, cast):
    number = f.synthetic_personnummer()
    SocialAccount.objects.create(
        user=cast.relative, provider=DEV_PATIENT_PROVIDER, uid=_uid(number)
    )
    plan = f.covered_plan(patient=f.PatientFactory(user=None, personnummer=number))
    set_identity(idp, "rut", person(number))
    client = Client()

    eid_login(client, idp, "rut")

    assert logged_in_user(client) == cast.relative
    cast.relative.refresh_from_db()
    plan.patient.refresh_from_db()
    assert plan.patient.user == cast.relative and cast.relative.role == Role.PATIENT
    assert client.get(reverse("plan_detail", args=[plan.pk])).status_code == 200
    assert client.get(reverse("plan_detail", args=[cast.plan.pk])).status_code == 200  # shared


def test_a_patient_invited_at_another_address_is_told_so(idp, cast, invitation):
    """The invitation binds to the invited address (contacts.services.invitation_accept):
    an e-ID login as a patient whose account lacks it is refused there, clearly."""
    _invitation, token = invitation
    other_patient = f.covered_plan().patient
    set_identity(idp, "other", person(other_patient.personnummer))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.get(reverse("invitation_open", args=[token]))
    eid_login(client, idp, "other", next=reverse("invitation_accept"))
    response = client.post(reverse("invitation_accept"))
    assert response.status_code == 400
    assert not RelativeGrant.objects.filter(relative=other_patient.user).exists()


def test_without_an_invitation_an_unknown_relative_is_not_created(idp, db):
    set_identity(idp, "x", person(f.synthetic_personnummer()))
    before = User.objects.count()
    assert eid_login(Client(), idp, "x").status_code == 403
    assert User.objects.count() == before


# --- Staff ----------------------------------------------------------------------------------


@pytest.fixture
def karin(cast):
    cast.nurse.hsa_id = "SE2321000000-DEMOP0001"
    cast.nurse.save(update_fields=["hsa_id"])
    EmailAddress.objects.create(
        user=cast.nurse, email=cast.nurse.email, verified=True, primary=True
    )
    TOTP.activate(cast.nurse, SECRET)
    return cast.nurse


def test_a_nurse_with_a_strong_acr_reaches_the_admin_without_totp(idp, karin):
    client = Client()
    response = eid_login(client, idp, KARIN_STRONG, provider=DEV_STAFF_PROVIDER)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_nurse_with_a_weak_acr_is_asked_for_totp(idp, karin):
    client = Client()
    response = eid_login(client, idp, KARIN_WEAK, provider=DEV_STAFF_PROVIDER)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # Not logged in until the code is given: the admin sends to the login.
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")
    assert logged_in_user(client) is None


def test_a_weak_login_then_the_code_reaches_the_admin(idp, karin):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    client = Client()
    eid_login(client, idp, KARIN_WEAK, provider=DEV_STAFF_PROVIDER)
    import time

    code = format_hotp_value(hotp_value(SECRET, int(time.time()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_an_unknown_hsa_id_is_refused_and_no_staff_account_is_created(idp, cast, caplog):
    set_identity(
        idp,
        "stranger",
        {"employeeHsaId": "SE2321000000-NOBODY", "acr": "http://id.elegnamnden.se/loa/1.0/loa3"},
    )
    before = User.objects.filter(role=Role.STAFF).count()
    with caplog.at_level(logging.WARNING, logger="careplan.eid"):
        response = eid_login(Client(), idp, "stranger", provider=DEV_STAFF_PROVIDER)
    assert response.status_code == 403
    assert User.objects.filter(role=Role.STAFF).count() == before
    assert "unknown_staff" in caplog.text


def test_the_staff_idp_never_logs_in_a_patient(idp, cast):
    """A patient's personnummer through the staff client matches no HSA-id."""
    set_identity(idp, "p", person(cast.patient.personnummer))
    client = Client()
    response = eid_login(client, idp, "p", provider=DEV_STAFF_PROVIDER)
    assert response.status_code == 400
    assert "HSA-id" in response.content.decode()
    assert logged_in_user(client) is None


def test_the_admin_never_accepts_a_password_only_staff_session(karin):
    client = Client()
    client.post(
        reverse("account_login"), {"login": karin.email, "password": "correct-horse-battery"}
    )
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")  # -> the allauth login
    assert logged_in_user(client) is None


# --- Security -------------------------------------------------------------------------------


def test_the_login_uses_state_pkce_s256_and_a_nonce(idp, db):
    patient = f.PatientFactory()
    set_identity(idp, "p", person(patient.personnummer))
    client = Client()
    authorize_url = start(client)
    params = query(authorize_url)
    assert params["state"] and params["nonce"]
    assert params["code_challenge_method"] == "S256"
    callback = idp.authorize(authorize_url, "p")
    client.get(path_and_query(callback))
    token_request = [form for kind, form in idp.seen if kind == "token"][-1]
    verifier = token_request["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert digest.decode() == params["code_challenge"]
    assert logged_in_user(client) == patient.user


def test_a_stolen_code_in_another_session_is_refused_by_pkce(idp, db, caplog):
    """Code injection: the attacker brings the victim's code to a login of their own
    (their state, their verifier); the IdP refuses the exchange, the app says so."""
    patient = f.PatientFactory()
    set_identity(idp, "p", person(patient.personnummer))
    victim_callback = idp.authorize(start(Client()), "p")
    attacker = Client()
    attacker_state = query(start(attacker))["state"]
    stolen = query(victim_callback)["code"]
    path = reverse("eid_callback", kwargs={"provider_id": DEV_PATIENT_PROVIDER})

    with caplog.at_level(logging.WARNING, logger="careplan.eid"):
        response = attacker.get(path, {"code": stolen, "state": attacker_state})

    assert response.status_code == 400
    assert NOT_VERIFIED in response.content.decode()
    assert "PKCE verification failed" in caplog.text
    assert logged_in_user(attacker) is None


def test_a_replayed_state_is_refused_and_logged(idp, db, caplog):
    patient = f.PatientFactory()
    set_identity(idp, "p", person(patient.personnummer))
    client = Client()
    callback = idp.authorize(start(client), "p")
    client.get(path_and_query(callback))
    client.logout()

    with caplog.at_level(logging.WARNING, logger="careplan.eid"):
        response = client.get(path_and_query(callback))

    assert response.status_code == 400
    assert NOT_VERIFIED in response.content.decode()
    assert "state_unknown_or_used" in caplog.text
    assert logged_in_user(client) is None


def test_a_state_from_another_browser_is_refused(idp, db):
    patient = f.PatientFactory()
    set_identity(idp, "p", person(patient.personnummer))
    callback = idp.authorize(start(Client()), "p")
    attacker = Client()
    assert attacker.get(path_and_query(callback)).status_code == 400
    assert logged_in_user(attacker) is None


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"claims": {"aud": "someone-else"}}, id="wrong-audience"),
        pytest.param({"claims": {"iss": "https://evil.example"}}, id="wrong-issuer"),
        pytest.param({"claims": {"exp": 1_000_000_000, "iat": 999_999_000}}, id="expired"),
        pytest.param({"key": "other"}, id="signed-by-another-key"),
        pytest.param({"claims": {"nonce": "replayed-nonce"}}, id="wrong-nonce"),
    ],
)
def test_a_bad_id_token_is_refused_with_a_clear_message_and_logged(idp, db, caplog, tamper):
    patient = f.PatientFactory(user=None)
    set_identity(idp, "p", person(patient.personnummer))
    idp.tamper_claims = tamper.get("claims", {})
    if tamper.get("key"):
        idp.tamper_key = RSAKey.generate_key(2048, private=True)
    client = Client()
    users = User.objects.count()

    with caplog.at_level(logging.WARNING, logger="careplan.eid"):
        response = eid_login(client, idp, "p")

    assert response.status_code == 400
    assert NOT_VERIFIED in response.content.decode()
    assert "e-ID login refused" in caplog.text
    assert logged_in_user(client) is None
    assert User.objects.count() == users


def test_logout_ends_the_local_session_and_the_idps(idp, db):
    patient = f.PatientFactory()
    set_identity(idp, "p", person(patient.personnummer))
    client = Client()
    eid_login(client, idp, "p")
    assert logged_in_user(client) == patient.user

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert response["Location"].startswith(f"{idp.url}/oauth2/end_session?")
    assert query(response["Location"])["post_logout_redirect_uri"] == "http://testserver/"
    assert logged_in_user(client) is None


def test_a_superuser_sets_a_staff_members_hsa_id_only_for_staff(db):
    from careplan.admin.forms import UserChangeForm

    patient = f.UserFactory(role=Role.PATIENT)
    data = {
        "email": patient.email,
        "role": Role.PATIENT,
        "hsa_id": "SE2321000000-X1",
        "language": "sv",
        "date_joined": "2026-01-01 10:00",
        "unread_notifications": 0,
        "staff_email": "at_once",
    }
    form = UserChangeForm(data, instance=patient)
    assert not form.is_valid()
    assert "hsa_id" in form.errors
    nurse = f.StaffFactory()
    form = UserChangeForm(
        {**data, "email": nurse.email, "role": Role.STAFF, "staff_email": "at_once"},
        instance=nurse,
    )
    assert form.is_valid(), form.errors
    form.save()
    nurse.refresh_from_db()
    assert nurse.hsa_id == "SE2321000000-X1"


# --- Configuration --------------------------------------------------------------------------


def test_providers_come_from_the_environment(monkeypatch):
    import environ

    from careplan.eid.config import PNR_SCOPE, providers_from_env

    for name, value in {
        "CAREPLAN_EID_PROVIDERS": "bankid,siths",
        "CAREPLAN_EID_BANKID_LABEL": "BankID",
        "CAREPLAN_EID_BANKID_ISSUER": "https://broker.example.org/oidc",
        "CAREPLAN_EID_BANKID_CLIENT_ID": "careplan",
        "CAREPLAN_EID_BANKID_SECRET": "s1",
        "CAREPLAN_EID_SITHS_FOR": "staff",
        "CAREPLAN_EID_SITHS_ISSUER": "https://idp.example.org",
        "CAREPLAN_EID_SITHS_CLIENT_ID": "careplan-staff",
        "CAREPLAN_EID_SITHS_SECRET": "s2",
        "CAREPLAN_EID_SITHS_HSA_CLAIM": "hsaIdentity",
        "CAREPLAN_EID_SITHS_STRONG_ACR": "urn:loa3",
    }.items():
        monkeypatch.setenv(name, value)
    bankid, siths = providers_from_env(environ.Env(), production=True)
    assert bankid["name"] == "BankID" and bankid["client_id"] == "careplan"
    assert bankid["settings"]["scope"] == ["openid", PNR_SCOPE]
    assert bankid["settings"]["oauth_pkce_enabled"] is True
    assert bankid["settings"]["careplan_claims"][0] == (
        "https://id.oidc.se/claim/personalIdentityNumber"
    )
    assert siths["settings"]["careplan_for"] == "staff"
    assert siths["settings"]["careplan_claims"] == ["hsaIdentity"]
    assert siths["settings"]["careplan_strong_acr"] == ["urn:loa3"]


def test_production_refuses_a_plain_http_issuer(monkeypatch):
    import environ
    from django.core.exceptions import ImproperlyConfigured

    from careplan.eid.config import providers_from_env

    monkeypatch.setenv("CAREPLAN_EID_PROVIDERS", "x")
    monkeypatch.setenv("CAREPLAN_EID_X_ISSUER", "http://broker.example.org")
    monkeypatch.setenv("CAREPLAN_EID_X_CLIENT_ID", "c")
    monkeypatch.setenv("CAREPLAN_EID_X_SECRET", "s")
    with pytest.raises(ImproperlyConfigured):
        providers_from_env(environ.Env(), production=True)


def test_the_test_idp_never_starts_in_production(settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("dev_idp", "--port", "0")
