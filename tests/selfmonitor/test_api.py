"""API: permissions with the whole cast and access-log rows, answering (drafts, errors,
double submit), the alert worklist and acknowledging, pinned query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careplan.models import AccessLog
from contacts.models import Scope
from selfmonitor import services
from selfmonitor.models import Alert, Response
from tests import factories as f

CAST = ["patient", "nurse", "other_nurse", "relative", "stranger_relative", "anonymous"]


def _client(cast, who):
    c = cast.client(who)
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def _submit(cast, assignment, distress=8):
    return services.response_submit(
        assignment=assignment,
        by=cast.patient_user,
        raw={"distress": [str(distress)], "wants_contact": ["no"]},
    ).response


def _logs(cast, **kw):
    return AccessLog.objects.filter(patient=cast.patient, channel="api", **kw)


RETRIEVE = {
    "patient": (200, 0),
    "nurse": (200, 1),
    "other_nurse": (404, 1),
    "relative": (404, 1),
    "stranger_relative": (404, 1),
    "anonymous": (403, 0),
}


@pytest.mark.parametrize("who", CAST)
def test_response_retrieve_and_fhir_permissions(cast, send, who):
    response = _submit(cast, send())
    status, rows = RETRIEVE[who]
    for name in ("questionnaire-response-detail", "questionnaire-response-fhir"):
        before = _logs(cast).count()
        got = _client(cast, who).get(reverse(name, args=[response.pk]))
        assert got.status_code == status, name
        assert _logs(cast).count() - before == rows, name


@pytest.mark.parametrize("who", CAST)
def test_assignment_retrieve_permissions(cast, send, who):
    assignment = send()
    status, rows = RETRIEVE[who]
    got = _client(cast, who).get(reverse("questionnaire-assignment-detail", args=[assignment.pk]))
    assert got.status_code == status
    assert _logs(cast).count() == rows


def test_relative_with_scope_reads_results_but_cannot_answer(cast, send):
    cast.grant.scopes = [*cast.grant.scopes, Scope.QUESTIONNAIRES]
    cast.grant.save()
    assignment = send()
    client = _client(cast, "relative")
    post = client.post(
        reverse("questionnaire-assignment-answers", args=[assignment.pk]),
        {"answers": {"distress": 1}},
        content_type="application/json",
    )
    assert post.status_code == 403
    response = _submit(cast, assignment)
    assert (
        client.get(reverse("questionnaire-response-detail", args=[response.pk])).status_code == 200
    )


def test_patient_answers_through_the_api_with_a_draft_then_a_submit(cast, send):
    assignment = send()
    client = _client(cast, "patient")
    url = reverse("questionnaire-assignment-answers", args=[assignment.pk])
    draft = client.post(url, {"answers": {"distress": 8}}, content_type="application/json")
    assert draft.status_code == 200
    assert draft.json()["status"] == "draft"
    missing = client.post(url, {"answers": {}, "submit": True}, content_type="application/json")
    assert missing.status_code == 400
    assert missing.json()["missing"] == ["wants_contact"]
    bad = client.post(
        url,
        {"answers": {"wants_contact": "no", "distress": 12, "ghost": 1}, "submit": True},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"distress", "ghost"}
    assert bad.json()["response"]["answers"] == {"distress": 8, "wants_contact": "no"}
    done = client.post(url, {"answers": {}, "submit": True}, content_type="application/json")
    assert done.status_code == 200
    assert done.json()["scores"]["distress"] == 8
    # Issue 13: answers to a completed questionnaire are a conflict (409), still one row.
    again = client.post(url, {"answers": {}, "submit": True}, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert again.json()["response"]["id"] == done.json()["id"]
    late_draft = client.post(url, {"answers": {"distress": 1}}, content_type="application/json")
    assert late_draft.status_code == 409
    assert Response.objects.filter(assignment=assignment).count() == 1
    assert Alert.objects.count() == 1


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ([3, 9], "Choose one number, not several."),
        ([[8]], "Choose a number from 0 to 10."),
        ([3], None),
    ],
)
def test_a_list_for_a_scale_item_is_refused_with_a_clear_error(cast, send, value, error):
    assignment = send()
    url = reverse("questionnaire-assignment-answers", args=[assignment.pk])
    got = _client(cast, "patient").post(
        url,
        {"answers": {"distress": value, "wants_contact": "no"}},
        content_type="application/json",
    )
    if error is None:
        # One value in a list is one value: kept (the web posts every answer as a list).
        assert got.status_code == 200
        assert got.json()["answers"]["distress"] == 3
        return
    assert got.status_code == 400
    assert got.json()["errors"]["distress"] == error
    assert got.json()["response"]["answers"] == {"wants_contact": "no"}


def test_nurse_acknowledges_an_alert_through_the_api(cast, send):
    _submit(cast, send())
    alert = Alert.objects.get()
    client = _client(cast, "nurse")
    listed = client.get(reverse("alert-list")).json()["results"]
    assert [a["id"] for a in listed] == [alert.pk]
    url = reverse("alert-acknowledge", args=[alert.pk])
    assert client.post(url, {"note": ""}, content_type="application/json").status_code == 400
    ok = client.post(url, {"note": "Called."}, content_type="application/json")
    assert ok.status_code == 200
    assert ok.json()["note"] == "Called."
    assert (
        _client(cast, "other_nurse")
        .post(url, {"note": "x"}, content_type="application/json")
        .status_code
        == 404
    )


def test_patients_and_relatives_list_no_alerts(cast, send):
    _submit(cast, send())
    for who in ("patient", "relative"):
        assert _client(cast, who).get(reverse("alert-list")).json()["results"] == []


def test_instruments_are_readable_by_any_logged_in_user(cast, instruments):
    got = _client(cast, "relative").get(reverse("questionnaire-list"))
    assert got.status_code == 200
    assert {i["key"] for i in got.json()["results"]} >= {"distress-thermometer"}
    assert _client(cast, "anonymous").get(reverse("questionnaire-list")).status_code == 403


def _more(cast, instruments, n):
    for _i in range(n):
        plan = f.covered_plan(cast.unit, nurse=cast.nurse)
        a = services.assignment_send(
            patient=plan.patient, instrument=instruments["distress-thermometer"], by=cast.nurse
        )
        services.response_submit(
            assignment=a, by=plan.patient.user, raw={"distress": ["5"], "wants_contact": ["no"]}
        )


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize(
    "name", ["questionnaire-response-list", "alert-list", "questionnaire-assignment-list"]
)
def test_api_lists_cost_the_same_for_1_and_3_rows(
    cast, instruments, django_assert_num_queries, n, name
):
    _more(cast, instruments, n)
    client = _client(cast, "nurse")
    client.get(reverse(name))
    # session, user (the MFA mark is in the session), staff units, the page's rows
    # (+instrument/patient, acting unit as a subquery; cursor pagination: no COUNT),
    # access-log insert = 5
    with django_assert_num_queries(5):
        got = client.get(reverse(name))
    assert len(got.json()["results"]) == n
