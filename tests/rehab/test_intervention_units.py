"""Who may be named as the performer of an intervention: the patient's responsible unit,
the staff member's own units, or a unit the patient is referred to (issue 12)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from careplan.models import CareUnit
from careplan.testing import login
from rehab import services
from rehab.models import Referral
from tests import factories as f


def _post(cast, rehab, unit):
    client = login(Client(HTTP_ACCEPT_LANGUAGE="en"), cast.nurse)
    return client.post(
        f"/api/v1/rehab-plans/{rehab.pk}/interventions/",
        {
            "area": "fysiska",
            "kva": "DV111",
            "description": "Enkla råd om tobak",
            "profession": "nurse",
            "unit": unit.pk,
            "starts_on": timezone.localdate().isoformat(),
        },
        content_type="application/json",
    )


@pytest.fixture
def referred(cast, rehab_unit):
    assessment = services.assessment_record(
        patient=cast.patient, by=cast.nurse, level="avancerad", summary="Behöver rehab"
    )
    return services.referral_send(
        assessment=assessment, to_unit=rehab_unit, by=cast.nurse, reason="Trötthet"
    )


def test_any_unrelated_unit_is_refused_clearly_and_nothing_saved(cast, rehab):
    stranger = f.CareUnitFactory(name="Okänd klinik")
    response = _post(cast, rehab, stranger)
    assert response.status_code == 400
    assert "a unit the patient is referred to" in " ".join(response.json()["unit"])
    assert rehab.interventions.count() == 1


def test_another_units_staff_unit_is_refused_too(cast, rehab):
    assert _post(cast, rehab, cast.other_unit).status_code == 400


def test_the_own_unit_is_accepted(cast, rehab):
    assert _post(cast, rehab, cast.unit).status_code == 201


def test_a_unit_the_patient_is_referred_to_is_accepted(cast, rehab, referred, rehab_unit):
    assert _post(cast, rehab, rehab_unit).status_code == 201


def test_a_unit_that_declined_the_referral_is_refused(cast, rehab, referred, rehab_unit):
    Referral.objects.filter(pk=referred.pk).update(
        status=Referral.Status.DECLINED, decision_reason="Ingen plats", decided_at=timezone.now()
    )
    assert _post(cast, rehab, rehab_unit).status_code == 400


def test_the_admin_offers_only_the_allowed_units(cast, rehab, referred, rehab_unit):
    f.CareUnitFactory(name="Okänd klinik")
    client = cast.client("nurse")
    body = client.get(f"/admin/rehab/rehabplan/{rehab.pk}/change/").content.decode()
    assert rehab_unit.name in body and cast.unit.name in body
    assert "Okänd klinik" not in body
    assert CareUnit.objects.filter(name="Okänd klinik").exists()
