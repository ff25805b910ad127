"""An invitation link works only for the invited e-mail address, and its token leaves
the URL on first open (issue 12, "Access and privacy")."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from careplan.testing import login
from contacts import services
from contacts.models import Invitation, RelativeGrant
from tests import factories as f


@pytest.fixture
def invite(cast, django_capture_on_commit_callbacks):
    def make(email="invited@example.test"):
        with django_capture_on_commit_callbacks(execute=True):
            return services.invitation_create(
                patient=cast.patient, by=cast.patient_user, email=email, scopes=["calendar"]
            )

    return make


def _open(token: str, user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"  # logged in, the user's own language wins
    response = client.get(reverse("invitation_open", args=[token]))
    # The token is exchanged for a session value: the next URL carries none.
    assert response.status_code == 302
    assert response["Location"] == reverse("invitation_accept")
    assert token not in response["Location"]
    if user is not None:
        login(client, user)
    return client


def test_the_accept_page_keeps_the_token_out_of_its_urls_and_html(cast, invite):
    _invitation, token = invite()
    client = _open(token)
    response = client.get(reverse("invitation_accept"))
    assert response.status_code == 200
    assert token not in response.content.decode()


def test_someone_else_holding_the_link_cannot_accept_it(cast, invite):
    invitation, token = invite()
    holder = f.verified_email(f.RelativeUserFactory(email="holder@example.test"))
    client = _open(token, holder)
    response = client.post(reverse("invitation_accept"))
    assert response.status_code == 400
    assert "sent to another e-mail address" in response.content.decode()
    assert not RelativeGrant.objects.filter(relative=holder).exists()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.PENDING  # the invited person still can


def test_the_invited_address_unverified_is_not_enough(cast, invite):
    _invitation, token = invite()
    from allauth.account.models import EmailAddress

    holder = f.RelativeUserFactory(email="invited@example.test")
    EmailAddress.objects.create(user=holder, email=holder.email, verified=False, primary=True)
    response = _open(token, holder).post(reverse("invitation_accept"))
    assert response.status_code == 400
    assert not RelativeGrant.objects.filter(relative=holder).exists()


def test_the_invited_account_accepts_whatever_the_letter_case(cast, invite):
    _invitation, token = invite(email="Invited@Example.test")
    relative = f.verified_email(f.RelativeUserFactory(email="invited@example.test"))
    response = _open(token, relative).post(reverse("invitation_accept"))
    assert response.status_code == 302
    assert RelativeGrant.objects.active().filter(relative=relative, patient=cast.patient).exists()


def test_an_account_with_the_invited_address_as_a_second_verified_address_accepts(cast, invite):
    _invitation, token = invite()
    relative = f.verified_email(f.RelativeUserFactory(email="main@example.test"))
    f.verified_email(relative, "invited@example.test")
    assert _open(token, relative).post(reverse("invitation_accept")).status_code == 302
