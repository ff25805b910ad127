"""Handovers in the admin: the sender's pages, the receiving unit's inbox, access and logs
for the fixed cast plus the receiving unit's nurse before and after acceptance."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog, CareUnit
from contacts.handover import services
from contacts.models import Handover

from .. import factories as f
from ..conftest import CAST

pytestmark = pytest.mark.django_db


def en(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def admin_logs(cast):
    return AccessLog.objects.filter(channel=AccessLog.Channel.ADMIN, patient=cast.patient)


@pytest.fixture
def primary(cast):
    cast.other_unit.kind = CareUnit.Kind.PRIMARY
    cast.other_unit.save(update_fields=["kind"])
    return cast.other_unit


@pytest.fixture
def draft(cast, primary):
    return services.handover_create(
        patient=cast.patient,
        by=cast.nurse,
        to_unit=primary,
        situation="Treatment finished",
        background="Operated and irradiated",
        recommendation="Yearly mammography",
    )


@pytest.fixture
def sent(cast, draft):
    return services.handover_send(handover=draft, by=cast.nurse)


def _accept(cast, handover):
    return services.handover_accept(
        handover=handover,
        by=cast.other_nurse,
        contact_nurse=cast.other_nurse,
        contact_made_on=timezone.localdate(),
        contact_how="By phone",
    )


def _url(handover, name="change"):
    return reverse(f"admin:contacts_handover_{name}", args=[handover.pk])


NOT_STAFF = {"patient", "relative", "stranger_relative", "anonymous"}


@pytest.mark.parametrize("who", CAST)
def test_a_draft_is_read_by_the_sending_unit_only(cast, draft, who):
    response = en(cast.client(who)).get(_url(draft))
    rows = admin_logs(cast)
    if who in NOT_STAFF:
        assert response.status_code == 302  # to the admin login
        assert not rows.exists()
    elif who == "nurse":
        assert response.status_code == 200
        assert "Treatment finished" in response.content.decode()
        assert rows.get().basis == "care_relation" and rows.get().acting_unit == cast.unit
    else:
        assert response.status_code == 404
        assert rows.get().outcome == "denied"


@pytest.mark.parametrize("who", CAST)
def test_a_sent_handover_is_read_by_the_receiving_unit_on_the_handover_basis(cast, sent, who):
    response = en(cast.client(who)).get(_url(sent))
    rows = admin_logs(cast)
    if who in NOT_STAFF:
        assert response.status_code == 302
        assert not rows.exists()
    elif who == "nurse":
        assert response.status_code == 200
        assert rows.get().basis == "care_relation"
    else:
        body = response.content.decode()
        assert response.status_code == 200
        assert "Yearly mammography" in body and _url(sent, "accept") in body
        row = rows.get()
        assert (row.basis, row.acting_unit, row.outcome) == ("handover", cast.other_unit, "allowed")


def test_the_receiving_nurse_reaches_only_the_handover_not_the_patient_record(cast, sent):
    client = en(cast.client("other_nurse"))
    response = client.get(reverse("admin:careplan_patient_change", args=[cast.patient.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["nurse", "other_nurse"])
def test_after_acceptance_the_sender_loses_access_and_the_receiver_is_responsible(cast, sent, who):
    _accept(cast, sent)
    response = en(cast.client(who)).get(_url(sent))
    row = admin_logs(cast).get()
    if who == "nurse":
        assert response.status_code == 404
        assert row.outcome == "denied"
        assert (
            not en(cast.client("nurse"))
            .get(reverse("admin:contacts_handover_changelist"))
            .context["cl"]
            .result_list
        )
    else:
        assert response.status_code == 200
        assert (row.basis, row.acting_unit) == ("care_relation", cast.other_unit)


def test_a_grace_period_lets_the_sender_read_but_not_write(cast, sent, settings):
    settings.CAREPLAN_HANDOVER_READ_GRACE_HOURS = 2
    _accept(cast, sent)
    client = en(cast.client("nurse"))
    assert client.get(_url(sent)).status_code == 200
    row = admin_logs(cast).get()
    assert (row.basis, row.acting_unit, row.outcome) == ("handover_grace", cast.unit, "allowed")
    assert client.post(_url(sent, "complete")).status_code == 403
    assert admin_logs(cast).filter(outcome="denied", action="update").count() == 1


def test_the_sender_creates_a_draft_from_the_patient_with_the_assessment_filled_in(
    cast, primary, monkeypatch
):
    monkeypatch.setattr(
        services, "handover_current_assessment", lambda patient: "Distress 7 (need)"
    )
    client = en(cast.client("nurse"))
    add = reverse("admin:contacts_handover_add")
    page = client.get(f"{add}?patient={cast.patient.pk}")
    assert page.context["form"].initial["assessment"] == "Distress 7 (need)"
    response = client.post(
        add,
        {
            "patient": cast.patient.pk,
            "to_unit": primary.pk,
            "situation": "Done with treatment",
            "background": "",
            "assessment": "Distress 7 (need)",
            "recommendation": "Checks yearly",
            "needs_and_wishes": "",
        },
    )
    handover = Handover.objects.get()
    assert response.status_code == 302 and response.url == _url(handover)
    assert handover.state == "draft" and handover.from_unit == cast.unit
    assert admin_logs(cast).filter(action="create", basis="care_relation").count() == 1


def test_a_handover_to_the_own_unit_is_refused_and_the_text_kept(cast, primary):
    client = en(cast.client("nurse"))
    response = client.post(
        reverse("admin:contacts_handover_add"),
        {
            "patient": cast.patient.pk,
            "to_unit": cast.unit.pk,
            "situation": "Done with treatment",
            "recommendation": "Checks yearly",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "already responsible" in body
    assert "Done with treatment" in body and "Checks yearly" in body
    assert not Handover.objects.exists()


def test_the_patient_page_links_to_a_new_handover(cast):
    page = en(cast.client("nurse")).get(
        reverse("admin:careplan_patient_change", args=[cast.patient.pk])
    )
    assert f"{reverse('admin:contacts_handover_add')}?patient={cast.patient.pk}" in (
        page.content.decode()
    )


def test_the_sender_sends_and_the_receiver_finds_it_in_the_inbox(cast, draft):
    client = en(cast.client("nurse"))
    assert client.post(_url(draft, "send")).status_code == 302
    draft.refresh_from_db()
    assert draft.state == "sent"
    inbox = en(cast.client("other_nurse")).get(
        reverse("admin:contacts_handover_changelist") + "?direction=inbox"
    )
    assert list(inbox.context["cl"].result_list) == [draft]
    row = admin_logs(cast).get(user=cast.other_nurse)
    assert (row.action, row.basis, row.acting_unit) == ("list", "handover", cast.other_unit)


def test_acceptance_without_a_contact_nurse_is_refused_and_the_values_kept(cast, sent):
    client = en(cast.client("other_nurse"))
    response = client.post(
        _url(sent, "accept"), {"contact_nurse": "", "contact_made_on": "", "contact_how": "Phone"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Name the patient&#x27;s new contact nurse." in body
    assert 'value="Phone"' in body
    sent.refresh_from_db()
    assert sent.state == "sent"
    assert cast.patient.responsible_relation().unit == cast.unit


def test_the_receiver_accepts_with_a_contact_nurse(cast, sent):
    client = en(cast.client("other_nurse"))
    response = client.post(
        _url(sent, "accept"),
        {
            "contact_nurse": cast.other_nurse.pk,
            "contact_made_on": timezone.localdate().isoformat(),
            "contact_how": "Phone",
        },
    )
    assert response.status_code == 302
    assert cast.patient.responsible_relation().unit == cast.other_unit
    assert cast.patient.contact_nurse_assignment().nurse == cast.other_nurse
    assert admin_logs(cast).filter(user=cast.other_nurse, action="update").count() == 1


def test_the_receiver_declines_with_a_reason(cast, sent):
    client = en(cast.client("other_nurse"))
    refused = client.post(_url(sent, "decline"), {"decline_reason": ""})
    assert "Give a reason for declining." in refused.content.decode()
    assert client.post(_url(sent, "decline"), {"decline_reason": "Not our area"}).status_code == 302
    sent.refresh_from_db()
    assert (sent.state, sent.decline_reason) == ("declined", "Not our area")


def test_a_nurse_of_a_third_unit_cannot_open_or_accept(cast, sent):
    third = f.StaffFactory(units=[f.CareUnitFactory(name="Vårdcentralen Norr")])
    client = en(_login(third))
    assert client.get(_url(sent)).status_code == 404
    assert client.post(_url(sent, "accept"), {"contact_nurse": third.pk}).status_code == 404
    assert admin_logs(cast).filter(user=third, outcome="denied").count() == 2
    sent.refresh_from_db()
    assert sent.state == "sent"


def _login(user):
    from careplan.testing import login

    return login(Client(), user)


def _count(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_inbox_costs_the_same_for_one_and_three_handovers(cast, sent):
    client = en(cast.client("other_nurse"))
    url = reverse("admin:contacts_handover_changelist")
    client.get(url)  # the session's first request also stores the activity time
    one = _count(client, url)
    for _ in range(2):
        patient = f.covered_plan(cast.unit, nurse=cast.nurse).patient
        h = services.handover_create(
            patient=patient,
            by=cast.nurse,
            to_unit=cast.other_unit,
            situation="s",
            recommendation="r",
        )
        services.handover_send(handover=h, by=cast.nurse)
    three = _count(client, url)
    assert len(client.get(url).context["cl"].result_list) == 3
    assert one == three


@pytest.mark.parametrize("n", [1, 3])
def test_the_inbox_query_count_is_pinned(cast, sent, n, django_assert_num_queries):
    for _ in range(n - 1):
        patient = f.covered_plan(cast.unit, nurse=cast.nurse).patient
        h = services.handover_create(
            patient=patient,
            by=cast.nurse,
            to_unit=cast.other_unit,
            situation="s",
            recommendation="r",
        )
        services.handover_send(handover=h, by=cast.nurse)
    client = en(cast.client("other_nurse"))
    url = reverse("admin:contacts_handover_changelist")
    client.get(url)  # warm up: the session's activity stamp
    # 1 session, 2 user, 3 the nurse's units, 4 COUNT of the scoped handovers, 5 the page
    # of handovers with patient and both units, 6 INSERT the access-log rows (one per
    # patient shown). No admin sidebar asking for permissions (careplan.admin_site).
    with django_assert_num_queries(6):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == n


def test_a_handover_started_from_the_list_gets_the_assessment_filled_in(cast, primary, monkeypatch):
    monkeypatch.setattr(
        services, "handover_current_assessment", lambda patient: "Distress 7 (need)"
    )
    client = en(cast.client("nurse"))
    response = client.post(
        reverse("admin:contacts_handover_add"),  # no ?patient=: from the handover list
        {
            "patient": cast.patient.pk,
            "to_unit": primary.pk,
            "situation": "Done with treatment",
            "assessment": "",
            "recommendation": "Checks yearly",
        },
        follow=True,
    )
    assert Handover.objects.get().assessment == "Distress 7 (need)"
    assert "Check it before you send" in response.content.decode()


def test_sending_asks_first_on_a_page_that_says_what_happens(cast, draft):
    client = en(cast.client("nurse"))
    page = client.get(_url(draft, "send"))
    assert page.status_code == 200
    assert "stays responsible until they accept" in page.content.decode()
    draft.refresh_from_db()
    assert draft.state == "draft"
    assert en(cast.client("other_nurse")).get(_url(draft, "send")).status_code == 404
