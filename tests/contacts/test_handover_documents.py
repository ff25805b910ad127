"""The handover summary PDF, the FHIR R4 Task and Bundle, and the handover report."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from careplan.models import AccessLog, CareUnit
from contacts import fhir
from contacts.handover import services
from contacts.handover.pdf import handover_pdf
from contacts.handover.reports import handover_report
from contacts.models import Handover

from .. import factories as f
from ..conftest import CAST

pytestmark = pytest.mark.django_db


def en(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def sent(cast):
    cast.other_unit.kind = CareUnit.Kind.PRIMARY
    cast.other_unit.save(update_fields=["kind"])
    h = services.handover_create(
        patient=cast.patient,
        by=cast.nurse,
        to_unit=cast.other_unit,
        situation="Treatment finished",
        background="Operated",
        recommendation="Yearly mammography",
        needs_and_wishes="Visits at home",
    )
    return services.handover_send(handover=h, by=cast.nurse)


def _accept(cast, handover):
    return services.handover_accept(
        handover=handover,
        by=cast.other_nurse,
        contact_nurse=cast.other_nurse,
        contact_made_on=timezone.localdate(),
        contact_how="By phone",
    )


def test_the_summary_pdf_holds_sbar_and_the_masked_number(cast, sent):
    data = handover_pdf(sent, language="en")
    assert data.startswith(b"%PDF")
    assert cast.patient.personnummer.encode() not in data


PDF_STATUS = {
    "patient": 302,
    "nurse": 200,
    "other_nurse": 200,  # the receiver of a sent handover
    "relative": 302,
    "stranger_relative": 302,
    "anonymous": 302,
}


@pytest.mark.parametrize("who", CAST)
def test_the_summary_pdf_in_the_admin_for_the_cast(cast, sent, who):
    url = reverse("admin:contacts_handover_pdf", args=[sent.pk])
    response = en(cast.client(who)).get(url)
    assert response.status_code == PDF_STATUS[who]
    rows = AccessLog.objects.filter(patient=cast.patient, channel="pdf")
    if PDF_STATUS[who] == 200:
        assert response["Content-Type"] == "application/pdf"
        row = rows.get()
        assert row.action == "print"
        assert row.basis == ("care_relation" if who == "nurse" else "handover")
    else:
        assert not rows.exists()


@pytest.mark.parametrize(
    ("state", "task_status"),
    [
        ("draft", "draft"),
        ("sent", "requested"),
        ("accepted", "accepted"),
        ("completed", "completed"),
        ("declined", "rejected"),
        ("cancelled", "cancelled"),
    ],
)
def test_the_fhir_task_status_follows_the_state(cast, sent, state, task_status):
    Handover.objects.filter(pk=sent.pk).update(state=state)
    sent.refresh_from_db()
    task = Task.model_validate(fhir.handover_task(sent))
    assert task.status == task_status
    assert task.owner.reference == f"Organization/unit-{cast.other_unit.pk}"
    assert task.focus.reference == f"ServiceRequest/handover-{sent.pk}-request"
    ServiceRequest.model_validate(fhir.handover_service_request(sent))


def test_the_fhir_bundle_holds_task_request_units_plan_and_validates(cast, sent):
    # Issue 13: a FHIR document (Composition first) that identifies the patient by
    # personnummer (a receiving unit must match it to someone); the tests in
    # tests/fhir/ check it against both validators.
    sent = _accept(cast, sent)
    data = fhir.handover_bundle(sent, full=True)
    bundle = Bundle.model_validate(data)
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds[:4] == ["Composition", "Patient", "Organization", "Organization"]
    assert {"Task", "ServiceRequest", "CarePlan"} <= set(kinds)
    task = next(e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Task")
    assert task["status"] == "accepted"
    assert "By phone" in task["output"][0]["valueString"]
    patient = data["entry"][1]["resource"]
    assert patient["identifier"][0]["value"] == cast.patient.personnummer


def test_the_fhir_export_in_the_admin_is_logged(cast, sent):
    response = en(cast.client("other_nurse")).get(
        reverse("admin:contacts_handover_fhir", args=[sent.pk])
    )
    assert response.status_code == 200
    Bundle.model_validate(response.json())
    row = AccessLog.objects.get(patient=cast.patient, action="export")
    assert (row.basis, row.acting_unit) == ("handover", cast.other_unit)


def test_the_report_counts_per_unit_time_to_accept_and_declined_share(cast, sent):
    _accept(cast, sent)
    Handover.objects.filter(pk=sent.pk).update(
        sent_at=timezone.now() - dt.timedelta(hours=10), accepted_at=timezone.now()
    )
    for _ in range(1):
        patient = f.covered_plan(cast.unit, nurse=cast.nurse).patient
        h = services.handover_create(
            patient=patient,
            by=cast.nurse,
            to_unit=cast.other_unit,
            situation="s",
            recommendation="r",
        )
        services.handover_send(handover=h, by=cast.nurse)
        services.handover_decline(handover=h, by=cast.other_nurse, reason="No")
    today = timezone.localdate()
    rows = {
        r.unit_id: r
        for r in handover_report(
            unit_ids=[cast.unit.pk, cast.other_unit.pk],
            start=today - dt.timedelta(days=30),
            end=today,
        )
    }
    receiver = rows[cast.other_unit.pk]
    assert (receiver.received, receiver.accepted, receiver.declined) == (2, 1, 1)
    assert receiver.median_hours_to_accept == 10.0
    assert receiver.declined_share == 50.0
    assert rows[cast.unit.pk].sent == 2 and rows[cast.unit.pk].received == 0


def test_the_report_page_shows_only_my_units(cast, sent):
    with translation.override("en"):
        response = en(cast.client("other_nurse")).get(reverse("admin:contacts_handover_report"))
    assert response.status_code == 200
    assert [r.unit_id for r in response.context["rows"]] == [cast.other_unit.pk]
    assert "Declined share" in response.content.decode()
    assert (
        en(cast.client("patient")).get(reverse("admin:contacts_handover_report")).status_code == 302
    )
