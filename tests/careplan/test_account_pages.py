"""The account pages (allauth templates overridden in templates/account, templates/mfa):
login without a sign-up invitation while sign-up is closed, errors tied to their fields,
the staff two-factor step and TOTP activation."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext

PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
SECRET = "MNQXEZLQNRQW4LLUMVZXILLTMVRXEZLU"  # synthetic, base32


class Page(HTMLParser):
    """A rendered page: every element's attributes by id, the text inside each id'd
    element, and the hrefs of all links."""

    VOID = {"input", "br", "img", "meta", "link", "hr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str]] = {}
        self.text: dict[str, str] = {}
        self.links: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if "id" in attrs:
            self.by_id[attrs["id"]] = {"tag": tag, **attrs}
            self.text.setdefault(attrs["id"], "")
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag not in self.VOID:
            self._open.append((tag, attrs.get("id")))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id:
                self.text[element_id] += data

    def described_by(self, element_id: str) -> str:
        """The text of the elements an element's aria-describedby names."""
        ids = self.by_id[element_id].get("aria-describedby", "").split()
        return " ".join(" ".join(self.text[i].split()) for i in ids)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """allauth's login rate limits count in the cache: keep this module's to itself
    (as tests/careplan/test_mfa.py does)."""
    if "FileBasedCache" in settings.CACHES["default"]["BACKEND"]:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()


def verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def reauthenticated(user) -> Client:
    """Logged in with the password, which allauth asks for again before an authenticator
    is added."""
    client = Client()
    client.post(reverse("account_login"), {"login": verified(user).email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    return client


# --- Login ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_has_no_signup_link_while_signup_is_closed(settings):
    settings.CAREPLAN_OPEN_SIGNUP = False
    response = Client().get(reverse("account_login"))
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert not [href for href in page.links if href.startswith(reverse("account_signup"))]
    # What to do instead is on the page.
    assert "id_login" in page.by_id and "id_password" in page.by_id
    assert reverse("account_reset_password") in page.links


@pytest.mark.django_db
def test_the_login_page_links_to_signup_when_signup_is_open(settings):
    settings.CAREPLAN_OPEN_SIGNUP = True
    page = Page(Client().get(reverse("account_login")).content.decode())
    assert [href for href in page.links if href.startswith(reverse("account_signup"))]


@pytest.mark.django_db
def test_the_login_page_links_to_signup_for_someone_holding_an_invitation(settings):
    settings.CAREPLAN_OPEN_SIGNUP = False
    client = Client()
    session = client.session
    session["invitation_token"] = "synthetic-token"
    session.save()
    page = Page(client.get(reverse("account_login")).content.decode())
    assert [href for href in page.links if href.startswith(reverse("account_signup"))]


@pytest.mark.django_db
def test_the_login_fields_have_visible_labels(cast):
    html = Client().get(reverse("account_login")).content.decode()
    assert '<label for="id_login">' in html
    assert '<label for="id_password">' in html


@pytest.mark.django_db
def test_a_wrong_password_keeps_the_email_and_ties_the_error_to_the_fields(cast):
    email = verified(cast.patient_user).email
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": email, "password": "not-the-password"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    message = response.context["form"].non_field_errors()[0]
    page = Page(response.content.decode())

    login = page.by_id["id_login"]
    assert login["value"] == email  # nothing typed is lost
    assert login["aria-invalid"] == "true"
    assert message in page.described_by("id_login")
    password = page.by_id["id_password"]
    assert password["aria-invalid"] == "true"
    assert message in page.described_by("id_password")
    assert "value" not in password  # the password is never sent back

    summary = [text for text in page.text.values() if message in text]
    assert summary, "the error is shown on the page"
    assert "error-summary" in response.content.decode()


@pytest.mark.django_db
def test_an_invalid_email_is_refused_at_the_field_and_kept(cast):
    response = Client().post(reverse("account_login"), {"login": "not-an-address", "password": "x"})
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert page.by_id["id_login"]["value"] == "not-an-address"
    assert page.by_id["id_login"]["aria-invalid"] == "true"
    errors = response.context["form"].errors["login"]
    assert errors[0] in page.described_by("id_login")


# --- Staff: the two-factor step and turning it on ------------------------------------------


@pytest.mark.django_db
def test_the_totp_step_renders_for_a_staff_user_mid_login(cast):
    nurse = verified(cast.nurse)
    TOTP.activate(nurse, SECRET)
    client = Client()
    response = client.post(reverse("account_login"), {"login": nurse.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")

    response = client.get(reverse("mfa_authenticate"))
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session  # not logged in before the code
    page = Page(response.content.decode())
    code = page.by_id["id_code"]
    assert code["name"] == "code"
    assert code["inputmode"] == "numeric"
    assert code["autocomplete"] == "one-time-code"
    assert '<label for="id_code">' in response.content.decode()
    assert page.by_id["logout-from-stage"]["action"] == reverse("account_logout")


@pytest.mark.django_db
def test_a_wrong_totp_code_is_shown_at_the_code_field(cast):
    nurse = verified(cast.nurse)
    TOTP.activate(nurse, SECRET)
    client = Client()
    client.post(reverse("account_login"), {"login": nurse.email, "password": PASSWORD})
    response = client.post(reverse("mfa_authenticate"), {"code": "12345"})
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert page.by_id["id_code"]["aria-invalid"] == "true"
    assert response.context["form"].errors["code"][0] in page.described_by("id_code")


@pytest.mark.django_db
def test_the_totp_activation_page_tells_staff_why_and_shows_the_key(cast):
    client = reauthenticated(cast.nurse)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert " ".join(page.text["authenticator_secret"].split()) == client.session["mfa.totp.secret"]
    assert page.by_id["id_code"]["inputmode"] == "numeric"
    assert gettext("Why staff must use it") in response.content.decode()


@pytest.mark.django_db
def test_the_totp_activation_page_has_no_staff_box_for_a_patient(cast):
    client = reauthenticated(cast.patient_user)
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert gettext("Why staff must use it") not in response.content.decode()


@pytest.mark.django_db
def test_the_signup_closed_page_says_how_to_get_a_login(settings):
    settings.CAREPLAN_OPEN_SIGNUP = False
    response = Client().get(reverse("account_signup"))
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert reverse("account_login") in page.links
    assert gettext("Patients get their login from their care team.") in response.content.decode()
    assert "<form" not in response.content.decode().split("<main", 1)[1].split("</main>")[0]
