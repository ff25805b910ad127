"""Referrals for rehabilitation through the API (issue 13): the care team lists, reads and
refers; the receiving rehabilitation unit lists, reads, accepts or declines with a reason
(the services the admin uses); everyone else gets nothing, and every access is logged."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from careplan.models import AccessLog
from careplan.testing import login
from rehab import services
from rehab.models import Referral

from ..conftest import CAST

pytestmark = pytest.mark.django_db
JSON = "application/json"
URL = "/api/v1/rehab-referrals/"


def _assessment(cast):
    return services.assessment_record(
        patient=cast.patient, by=cast.nurse, level="avancerad", summary="S"
    )


@pytest.fixture
def referral(cast, rehab_unit) -> Referral:
    return services.referral_send(
        assessment=_assessment(cast), to_unit=rehab_unit, by=cast.nurse, reason="Behov"
    )


def _rows(cast, since):
    return list(AccessLog.objects.filter(patient=cast.patient, id__gt=since).order_by("id"))


def _last_id():
    return AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.parametrize("who", [*CAST, "rehab_nurse"])
def test_who_reads_a_referral_and_every_read_is_logged(cast, referral, rehab_nurse, who):
    client = (
        login(__import__("django.test").test.Client(), rehab_nurse)
        if who == "rehab_nurse"
        else cast.client(who)
    )
    since = _last_id()
    one = client.get(f"{URL}{referral.pk}/")
    listed = client.get(URL)
    expected = {"nurse": 200, "rehab_nurse": 200, "anonymous": 403}.get(who, 404)
    assert one.status_code == expected, (who, one.content[:200])
    rows = _rows(cast, since)
    if expected == 200:
        assert one.json()["reason"] == "Behov"
        assert [r["id"] for r in listed.json()["results"]] == [referral.pk]
        # The read and the list, each with the unit the reader acts for.
        unit = referral.to_unit if who == "rehab_nurse" else cast.unit
        assert [(r.action, r.outcome, r.channel, r.acting_unit) for r in rows] == [
            ("view", "allowed", "api", unit),
            ("list", "allowed", "api", unit),
        ]
    else:
        if who != "anonymous":
            assert listed.json()["results"] == []
        # A denied row for everyone but the patient and anonymous (refused at login).
        logged = [] if who in ("patient", "anonymous") else [("view", "denied", "api")]
        assert [(r.action, r.outcome, r.channel) for r in rows] == logged, who


def test_the_care_team_refers_and_others_cannot(cast, rehab_unit):
    assessment = _assessment(cast)
    body = {"assessment": assessment.pk, "to_unit": rehab_unit.pk, "reason": "Rad 1\r\nrad 2"}
    created = cast.client("nurse").post(URL, body, content_type=JSON)
    assert created.status_code == 201, created.content
    referral = Referral.objects.get()
    assert (referral.from_unit, referral.to_unit, referral.status, referral.reason) == (
        cast.unit,
        rehab_unit,
        "sent",
        "Rad 1\r\nrad 2",
    )
    assert created.json()["id"] == referral.pk
    # Not a rehabilitation unit: the service's message, nothing stored.
    bad = cast.client("nurse").post(URL, {**body, "to_unit": cast.other_unit.pk}, content_type=JSON)
    assert bad.status_code == 400
    assert "to_unit" in str(bad.json())
    for who, status in (("patient", 403), ("relative", 404), ("other_nurse", 404)):
        since = _last_id()
        got = cast.client(who).post(URL, body, content_type=JSON)
        assert got.status_code == status, who
        if who != "patient":
            assert [(r.action, r.outcome) for r in _rows(cast, since)] == [("create", "denied")]
    assert Referral.objects.count() == 1


def test_the_receiving_unit_declines_with_a_reason_and_accepts(
    cast, referral, rehab_nurse, rehab_unit
):

    rehab = login(Client(), rehab_nurse)
    refused = rehab.post(f"{URL}{referral.pk}/decline/", {"reason": ""}, content_type=JSON)
    assert refused.status_code == 400
    referral.refresh_from_db()
    assert referral.status == "sent"
    # The care team reads but does not decide (403, a denied row); others 404.
    since = _last_id()
    assert (
        cast.client("nurse").post(f"{URL}{referral.pk}/accept/", content_type=JSON).status_code
        == 403
    )
    assert (
        cast.client("other_nurse")
        .post(f"{URL}{referral.pk}/accept/", content_type=JSON)
        .status_code
        == 404
    )
    assert [(r.action, r.outcome) for r in _rows(cast, since)] == [
        ("update", "denied"),
        ("update", "denied"),
    ]
    declined = rehab.post(f"{URL}{referral.pk}/decline/", {"reason": "Fullt"}, content_type=JSON)
    assert declined.status_code == 200
    assert (declined.json()["status"], declined.json()["decision_reason"]) == ("declined", "Fullt")
    # Decided once only.
    again = rehab.post(f"{URL}{referral.pk}/accept/", content_type=JSON)
    assert again.status_code == 400
    second = services.referral_send(
        assessment=referral.assessment, to_unit=rehab_unit, by=cast.nurse, reason="Igen"
    )
    accepted = rehab.post(f"{URL}{second.pk}/accept/", {}, content_type=JSON)
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    second.refresh_from_db()
    assert second.decided_by == rehab_nurse


def test_the_list_costs_the_same_for_one_and_three_referrals(cast, referral, rehab_unit):
    nurse = cast.client("nurse")
    nurse.get(URL)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert nurse.get(URL).status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for _ in range(2):
        services.referral_send(
            assessment=referral.assessment, to_unit=rehab_unit, by=cast.nurse, reason="B"
        )
    # session, user, the user's units, the page (patient and units joined, the acting
    # unit annotated), the access-log insert
    assert queries() == one == 5
