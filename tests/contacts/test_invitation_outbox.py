"""The relatives' invitation e-mail goes through the outbox (issue 12): with the broker
down the invitation request still succeeds, nothing is lost, the relay sends the e-mail
once the broker is back, and the token never rests in the database or the broker."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careplan import tasks
from careplan.models import Outbox
from contacts import services
from contacts.models import Invitation
from tests.faults import broker_at, dead_url

pytestmark = pytest.mark.django_db(transaction=True)


def _invite(client: Client, email: str = "bo@example.test"):
    return client.post(
        reverse("invite"), {"name": "Bo Berg", "email": email, "scopes": ["calendar"]}
    )


def test_with_the_broker_down_the_invitation_is_stored_and_mailed_later(cast, mailoutbox):
    client = cast.client("patient")
    with broker_at(dead_url()):
        response = _invite(client)
        assert response.status_code == 302  # not 500: the broker is not needed now
        assert response.url == reverse("sharing")
        # A second try is refused clearly (the first one is stored and its e-mail waits).
        again = _invite(client)
        assert again.status_code == 400
        assert "har redan bjudits in" in again.content.decode()
    invitation = Invitation.objects.get()
    row = Outbox.objects.get(dedupe_key=f"invitation-email:{invitation.pk}")
    assert (row.status, row.sent_at) == (Outbox.Status.PENDING, None)
    assert mailoutbox == []

    # The broker is back; beat runs the relay a minute later.
    Outbox.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(minutes=2))
    assert tasks.relay_outbox() == 1
    row.refresh_from_db()
    assert row.status == Outbox.Status.DONE
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["bo@example.test"]
    token = re.search(r"/invitation/([^/\s]+)/", mailoutbox[0].body).group(1)
    # The link in the e-mail opens this invitation.
    assert services.invitation_lookup(token) == invitation
    # Sent once: a second relay run, or a stray task, sends nothing more.
    assert tasks.relay_outbox() == 0
    assert tasks.run_outbox(row.pk) == "skipped"
    assert len(mailoutbox) == 1


def test_the_token_is_neither_in_the_database_nor_in_the_task_message(cast, mailoutbox):
    invitation, token = services.invitation_create(
        patient=cast.patient, by=cast.patient_user, email="eva@example.test", scopes=["calendar"]
    )
    row = Outbox.objects.get(dedupe_key=f"invitation-email:{invitation.pk}")
    stored = json.dumps(list(Invitation.objects.values()), default=str) + json.dumps(
        list(Outbox.objects.values()), default=str
    )
    assert token not in stored
    assert set(row.kwargs) == {"invitation_id", "nonce"}
    assert f"/invitation/{token}/" in mailoutbox[0].body


def test_a_cancelled_invitation_is_not_mailed_by_the_relay(cast, mailoutbox):
    with broker_at(dead_url()):
        invitation, _token = services.invitation_create(
            patient=cast.patient, by=cast.patient_user, email="x@example.test", scopes=["calendar"]
        )
    services.invitation_cancel(invitation=invitation, by=cast.patient_user)
    Outbox.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    assert tasks.relay_outbox() == 1
    assert mailoutbox == []
    assert Outbox.objects.get().status == Outbox.Status.DONE


def test_a_link_that_cannot_be_rebuilt_fails_clearly_instead_of_mailing_a_dead_link(
    cast, mailoutbox, settings
):
    with broker_at(dead_url()):
        services.invitation_create(
            patient=cast.patient, by=cast.patient_user, email="y@example.test", scopes=["calendar"]
        )
    settings.SECRET_KEY = "rotated-" + "y" * 50
    row = Outbox.objects.get()
    assert tasks.run_outbox(row.pk) == "failed"
    row.refresh_from_db()
    assert "cannot be rebuilt" in row.last_error
    assert mailoutbox == []
