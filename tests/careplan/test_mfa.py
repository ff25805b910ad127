"""Two-factor authentication for staff (allauth TOTP), and the patient's plain login.

Staff reach nothing with patient data until this session passed the second step:
``careplan.middleware.StaffMfaRequiredMiddleware``.
"""

from __future__ import annotations

import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from careplan.models import AccessLog

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
SECRET = "MNQXEZLQNRQW4LLUMVZXILLTMVRXEZLU"  # synthetic, base32


def code_now(secret: str = SECRET) -> str:
    """The TOTP code for this 30-second window, as an authenticator app shows it."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture(autouse=True)
def _one_window_of_tolerance(settings):
    # A code computed at the very end of a window is still accepted a moment later.
    settings.MFA_TOTP_TOLERANCE = 1


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Used codes live in the cache. Without Redis it is a file cache that every test run
    on the machine shares (and clears); keep this run's to itself. With REDIS_URL (CI)
    the real Redis cache is used."""
    if "FileBasedCache" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


def verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def nurse_with_totp(cast):
    verified(cast.nurse)
    TOTP.activate(cast.nurse, SECRET)
    return cast.nurse


def staff_without_mfa_session(user) -> Client:
    """Logged in, but without allauth's two-factor record in the session."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def patient_pages(cast) -> list[str]:
    return [
        reverse("plan_detail", args=[cast.plan.pk]),
        reverse("plan_calendar", args=[cast.plan.pk]),
        reverse("plan_section", args=[cast.plan.pk, "treatment"]),
        reverse("plan_pdf", args=[cast.plan.pk]),
    ]


# --- Staff without MFA yet: set it up first ---------------------------------------------


@pytest.mark.django_db
def test_staff_without_mfa_are_sent_to_totp_activation_from_the_admin(cast):
    response = staff_without_mfa_session(cast.nurse).get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.django_db
def test_staff_without_mfa_are_sent_to_totp_activation_from_every_patient_page(cast):
    client = staff_without_mfa_session(cast.nurse)
    for url in patient_pages(cast):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp"), url
    assert not AccessLog.objects.exists()  # no patient data was read


@pytest.mark.django_db
def test_staff_without_an_mfa_session_get_403_json_from_the_api(cast):
    response = staff_without_mfa_session(cast.nurse).get("/api/v1/plans/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
def test_staff_reach_the_account_pages_without_mfa(cast):
    client = staff_without_mfa_session(cast.nurse)
    response = client.get(reverse("mfa_index"))
    assert response.status_code == 200


# --- Staff with MFA, but a session that skipped the second step ----------------------------


@pytest.mark.django_db
def test_staff_with_mfa_but_no_mfa_session_are_logged_out_and_sent_to_login(nurse_with_totp):
    client = staff_without_mfa_session(nurse_with_totp)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=/admin/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_staff_with_mfa_but_no_mfa_session_cannot_open_a_patient_page(cast, nurse_with_totp):
    for url in patient_pages(cast):
        response = staff_without_mfa_session(nurse_with_totp).get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
def test_staff_with_mfa_but_no_mfa_session_get_403_from_the_api(nurse_with_totp):
    response = staff_without_mfa_session(nurse_with_totp).get("/api/v1/plans/")
    assert response.status_code == 403
    assert response.json()["detail"]


# --- The real two-step login --------------------------------------------------------------


def password_step(client: Client, user) -> object:
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


@pytest.mark.django_db
def test_a_nurse_logs_in_with_password_and_a_totp_code_and_reaches_the_admin(nurse_with_totp):
    client = Client()
    response = password_step(client, nurse_with_totp)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # not logged in before the code

    response = client.post(reverse("mfa_authenticate"), {"code": code_now()})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.session["_auth_user_id"] == str(nurse_with_totp.pk)

    response = client.get("/admin/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_after_the_two_step_login_the_nurse_reads_her_patients_plan(cast, nurse_with_totp):
    client = Client()
    password_step(client, nurse_with_totp)
    client.post(reverse("mfa_authenticate"), {"code": code_now()})
    response = client.get(reverse("plan_detail", args=[cast.plan.pk]))
    assert response.status_code == 200
    assert AccessLog.objects.filter(user=nurse_with_totp, patient=cast.patient).count() == 1


@pytest.mark.django_db
def test_a_wrong_totp_code_is_refused_and_the_nurse_stays_logged_out(nurse_with_totp):
    client = Client()
    password_step(client, nurse_with_totp)
    good = code_now()
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200  # the form again, with an error
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_a_totp_code_is_accepted_only_once(nurse_with_totp):
    code = code_now()
    first = Client()
    password_step(first, nurse_with_totp)
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    second = Client()
    password_step(second, nurse_with_totp)
    response = second.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 200
    assert "_auth_user_id" not in second.session


@pytest.mark.django_db(transaction=True)  # allauth announces the new TOTP after commit
def test_staff_without_mfa_log_in_then_activate_totp_and_then_reach_the_admin(cast):
    nurse = verified(cast.nurse)
    client = Client()
    response = password_step(client, nurse)
    assert response.status_code == 302
    response = client.get("/admin/")
    assert response["Location"] == reverse("mfa_activate_totp")

    # allauth asks for the password again before a new authenticator is added.
    page = client.get(reverse("mfa_activate_totp"))
    assert page["Location"].startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": code_now(secret)})
    assert response.status_code == 302  # careplan.signals counts the activation as MFA
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_admin_login_page_redirects_to_the_allauth_login():
    response = Client().get("/admin/login/?next=/admin/careplan/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=/admin/careplan/"


@pytest.mark.django_db
def test_anonymous_visitors_of_the_admin_end_at_the_allauth_login():
    client = Client()
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))
    assert response.status_code == 200


# --- Patients and relatives: password only -------------------------------------------------


@pytest.mark.django_db
def test_the_patient_logs_in_with_e_mail_and_password_without_mfa(cast):
    verified(cast.patient_user)
    client = Client()
    response = password_step(client, cast.patient_user)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(cast.patient_user.pk)
    assert client.get(reverse("plan_detail", args=[cast.plan.pk])).status_code == 200


@pytest.mark.django_db
def test_the_relative_logs_in_with_e_mail_and_password_without_mfa(cast):
    verified(cast.relative)
    client = Client()
    response = password_step(client, cast.relative)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.relative.pk)
    assert client.get(reverse("plan_detail", args=[cast.plan.pk])).status_code == 200


@pytest.mark.django_db
def test_an_unverified_e_mail_cannot_log_in(cast):
    client = Client()
    response = password_step(client, cast.patient_user)
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert response["Location"] != reverse("home")
