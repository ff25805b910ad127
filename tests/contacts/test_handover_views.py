"""The handover on the patient's web: the plan's start page shows it in progress and then
the new unit and contact nurse; the patient adds needs and wishes to a draft."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog, CareUnit
from contacts.handover import services
from contacts.models import Handover

from ..conftest import CAST

pytestmark = pytest.mark.django_db


def en(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def draft(cast):
    cast.other_unit.kind = CareUnit.Kind.PRIMARY
    cast.other_unit.name = "Vårdcentralen Exempelby"
    cast.other_unit.save()
    return services.handover_create(
        patient=cast.patient,
        by=cast.nurse,
        to_unit=cast.other_unit,
        situation="Treatment finished",
        recommendation="Yearly mammography",
    )


def _start_page(cast, who="patient") -> str:
    response = en(cast.client(who)).get(reverse("plan_detail", args=[cast.plan.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_patient_sees_a_draft_with_a_link_to_add_needs_and_wishes(cast, draft):
    body = _start_page(cast)
    assert "Your care team is preparing a handover to Vårdcentralen Exempelby" in body
    assert reverse("handover_needs", args=[draft.pk]) in body


def test_a_relative_does_not_see_a_draft(cast, draft):
    assert "handover" not in _start_page(cast, "relative").lower()


def test_the_start_page_shows_the_handover_in_progress_once_sent(cast, draft):
    services.handover_send(handover=draft, by=cast.nurse)
    for who in ("patient", "relative"):
        assert "Handover in progress to Vårdcentralen Exempelby" in _start_page(cast, who)


def test_after_acceptance_the_start_page_shows_the_new_unit_and_contact_nurse(cast, draft):
    services.handover_send(handover=draft, by=cast.nurse)
    services.handover_accept(
        handover=draft,
        by=cast.other_nurse,
        contact_nurse=cast.other_nurse,
        contact_made_on=timezone.localdate(),
        contact_how="By phone",
    )
    body = _start_page(cast)
    assert "Vårdcentralen Exempelby is now responsible" in body
    assert "The contact nurse is Olle Annan." in body
    assert "Handover in progress" not in body


def test_a_declined_handover_is_not_shown(cast, draft):
    services.handover_send(handover=draft, by=cast.nurse)
    services.handover_decline(handover=draft, by=cast.other_nurse, reason="Not our area")
    assert "Vårdcentralen Exempelby" not in _start_page(cast)


NEEDS_STATUS = {
    "patient": 200,
    "nurse": 200,  # the sending unit's staff may write it with the patient
    "other_nurse": 404,  # a draft is not the receiver's yet
    "relative": 404,
    "stranger_relative": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("who", CAST)
def test_the_needs_page_for_the_whole_cast(cast, draft, who):
    response = en(cast.client(who)).get(reverse("handover_needs", args=[draft.pk]))
    assert response.status_code == NEEDS_STATUS[who]
    rows = AccessLog.objects.filter(patient=cast.patient, object_type="Handover")
    if who in ("patient", "anonymous"):
        assert not rows.exists()
    else:
        row = rows.get()
        assert row.outcome == ("allowed" if NEEDS_STATUS[who] == 200 else "denied")


def test_the_patient_adds_needs_and_wishes(cast, draft):
    client = en(cast.client("patient"))
    response = client.post(
        reverse("handover_needs", args=[draft.pk]), {"needs_and_wishes": "Visits at home"}
    )
    assert response.status_code == 302
    assert response.url == reverse("plan_detail", args=[cast.plan.pk])
    draft.refresh_from_db()
    assert draft.needs_and_wishes == "Visits at home"
    assert draft.events.filter(by=cast.patient_user).count() == 1


def test_after_sending_the_needs_cannot_change_and_the_text_is_kept(cast, draft):
    services.handover_send(handover=draft, by=cast.nurse)
    response = en(cast.client("patient")).post(
        reverse("handover_needs", args=[draft.pk]), {"needs_and_wishes": "Late wish"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Only a draft handover can be changed." in body
    assert "Late wish" in body  # what was typed is not lost
    assert Handover.objects.get().needs_and_wishes == ""


def test_the_patients_access_log_names_the_handover_in_plain_words(cast, draft):
    services.handover_send(handover=draft, by=cast.nurse)
    en(cast.client("other_nurse")).get(reverse("admin:contacts_handover_change", args=[draft.pk]))
    body = en(cast.client("patient")).get(reverse("my_access_log")).content.decode()
    assert "a handover of your care to another unit" in body
    assert "Olle Annan" in body
