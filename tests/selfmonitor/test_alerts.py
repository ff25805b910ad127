"""Alert rules raise alerts in the nurse's worklist (most severe first, oldest first);
acknowledging needs a note; an alert not acknowledged in time escalates once; the
e-mails carry no health data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog, Outbox
from selfmonitor import services
from selfmonitor.models import Alert
from tests import factories as f

WORKLIST = reverse("admin:selfmonitor_alert_changelist")


def _en(client):
    client.cookies["django_language"] = "en"
    return client


def _answer(cast, send, distress: int, wants_contact="no", key="distress-thermometer"):
    assignment = send(key)
    return services.response_submit(
        assignment=assignment,
        by=cast.patient_user,
        raw={"distress": [str(distress)], "wants_contact": [wants_contact]},
    ).response


def test_distress_of_8_raises_one_high_alert_and_tells_the_contact_nurse(
    cast, send, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _answer(cast, send, 8)
    alert = Alert.objects.get(response=response)
    assert alert.severity == Alert.Severity.HIGH
    assert alert.text_en == "Distress of 4 or more on the distress thermometer"
    assert alert.acknowledge_by == alert.created_at + dt.timedelta(hours=4)
    nurse_mail = [m for m in mail.outbox if cast.nurse.email in m.to]
    assert len(nurse_mail) == 1
    body = nurse_mail[0].subject + nurse_mail[0].body
    for secret in ("istress", "belast", cast.patient.first_name, cast.patient.personnummer):
        assert secret not in body


def test_the_worklist_is_most_severe_first_then_oldest_first(cast, send):
    low = _answer(cast, send, 1, wants_contact="yes")  # medium
    first_high = _answer(cast, send, 9)
    second_high = _answer(cast, send, 5)
    Alert.objects.filter(response=first_high).update(
        created_at=timezone.now() - dt.timedelta(hours=2)
    )
    order = list(Alert.objects.worklist().values_list("response_id", flat=True))
    assert order == [first_high.pk, second_high.pk, low.pk]
    page = _en(cast.client("nurse")).get(WORKLIST)
    assert page.status_code == 200
    shown = [a.response_id for a in page.context["cl"].result_list]
    assert shown == order


@pytest.mark.parametrize(
    ("who", "status", "rows"),
    [
        ("nurse", 200, 1),
        ("other_nurse", 200, 0),  # an empty list: nothing of another unit
        ("patient", 302, 0),
        ("relative", 302, 0),
        ("stranger_relative", 302, 0),
        ("anonymous", 302, 0),
    ],
)
def test_worklist_permissions_and_one_log_row_per_patient(cast, send, who, status, rows):
    _answer(cast, send, 8)
    _answer(cast, send, 7)
    response = cast.client(who).get(WORKLIST)
    assert response.status_code == status
    logs = AccessLog.objects.filter(patient=cast.patient, action="list")
    assert logs.count() == rows


def test_acknowledging_needs_a_note_and_logs_the_write(cast, send):
    alert = Alert.objects.get(response=_answer(cast, send, 8))
    client = _en(cast.client("nurse"))
    url = reverse("admin:selfmonitor_alert_acknowledge", args=[alert.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"note": "   "})
    assert refused.status_code == 200
    assert b"Write a note on what was done." in refused.content
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None
    done = client.post(url, {"note": "Called her; visit booked tomorrow."})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == cast.nurse
    assert alert.note == "Called her; visit booked tomorrow."
    assert AccessLog.objects.filter(
        patient=cast.patient, object_type="Alert", action="update", outcome="allowed"
    ).exists()
    assert not Alert.objects.worklist().exists()


def test_a_nurse_of_another_unit_cannot_acknowledge(cast, send):
    alert = Alert.objects.get(response=_answer(cast, send, 8))
    url = reverse("admin:selfmonitor_alert_acknowledge", args=[alert.pk])
    response = cast.client("other_nurse").post(url, {"note": "x"})
    assert response.status_code == 404
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None
    assert AccessLog.objects.filter(
        patient=cast.patient, user=cast.other_nurse, outcome="denied"
    ).exists()


def test_an_alert_not_acknowledged_in_time_escalates_once(
    cast, send, django_capture_on_commit_callbacks
):
    alert = Alert.objects.get(response=_answer(cast, send, 8))
    mail.outbox.clear()
    assert services.alerts_escalate() == 0  # not yet due
    later = alert.acknowledge_by + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.alerts_escalate(now=later) == 1
        assert services.alerts_escalate(now=later + dt.timedelta(hours=1)) == 0
    assert Alert.objects.get(pk=alert.pk).escalated_at == later
    assert Outbox.objects.filter(dedupe_key=f"selfmonitor:escalated:{alert.pk}").count() == 1
    assert len(mail.outbox) == 1
    assert cast.nurse.email in mail.outbox[0].to  # everyone in the unit


def test_an_acknowledged_alert_never_escalates(cast, send):
    alert = Alert.objects.get(response=_answer(cast, send, 8))
    services.alert_acknowledge(alert=alert, by=cast.nurse, note="Talked on the phone.")
    assert services.alerts_escalate(now=alert.acknowledge_by + dt.timedelta(hours=1)) == 0


def test_the_patient_sees_the_nurse_has_been_told_and_what_to_do_if_urgent(cast, send):
    response = _answer(cast, send, 8)
    client = _en(cast.client("patient"))
    page = client.get(reverse("selfmonitor_response", args=[response.pk]))
    assert b"Your care team has been told" in page.content
    assert b"112" in page.content and b"1177" in page.content


def test_no_alert_below_the_threshold(cast, send):
    _answer(cast, send, 3)
    assert not Alert.objects.exists()


@pytest.mark.parametrize("n", [1, 3])
def test_worklist_costs_the_same_for_1_and_3_alerts(
    cast, instruments, django_assert_num_queries, n
):
    for _i in range(n):
        other = f.covered_plan(cast.unit, nurse=cast.nurse)
        assignment = services.assignment_send(
            patient=other.patient, instrument=instruments["distress-thermometer"], by=cast.nurse
        )
        services.response_submit(
            assignment=assignment,
            by=other.patient.user,
            raw={"distress": ["9"], "wants_contact": ["no"]},
        )
    client = cast.client("nurse")
    client.get(WORKLIST)
    # session, user, staff units, COUNT of the open alerts, the page's alerts (the listed
    # columns and the patient's; the acting unit from the care-relation join), the
    # access-log rows (one insert) = 6
    # (no admin sidebar asking for Django permissions: careplan.admin_site)
    with django_assert_num_queries(6):
        response = client.get(WORKLIST)
    assert len(response.context["cl"].result_list) == n


def test_the_admin_index_lists_open_alerts_of_my_units_and_logs_each_patient(cast, send):
    _answer(cast, send, 8)
    mine = _en(cast.client("nurse")).get("/admin/").content.decode()
    theirs = _en(cast.client("other_nurse")).get("/admin/").content.decode()
    # One worklist for every signal (issue 10): alerts are rows of "Waiting for the care team".
    assert "Waiting for the care team" in mine and "Alert from a questionnaire" in mine
    assert "Distress of 4 or more" in mine and "Andersson, Alva" in mine
    assert "Distress of 4 or more" not in theirs
    rows = AccessLog.objects.filter(
        patient=cast.patient, user=cast.nurse, action="list", object_type="Alert"
    )
    assert rows.count() == 1


@pytest.mark.parametrize("n", [1, 3])
def test_the_alert_worklist_costs_two_queries_for_one_or_three(
    cast, instruments, django_assert_num_queries, n
):
    from selfmonitor.admin import alert_worklist

    for _i in range(n):
        plan = f.covered_plan(cast.unit, nurse=cast.nurse)
        a = services.assignment_send(
            patient=plan.patient, instrument=instruments["distress-thermometer"], by=cast.nurse
        )
        services.response_submit(
            assignment=a, by=plan.patient.user, raw={"distress": ["9"], "wants_contact": ["no"]}
        )
    cast.nurse._careplan_unit_ids = frozenset([cast.unit.pk])
    # 1 the open alerts with patients (acting unit as a subquery), 2 the access-log rows
    with django_assert_num_queries(2):
        work = alert_worklist(cast.nurse)
    assert len(work["alerts"]) == n


def test_alert_cards_write_answers_as_the_linebreaksbr_filter_and_escape_does():
    """The overview's cards are written in Python: a free-text answer with markup and
    every kind of line break reads as the template filter wrote it."""
    from django.template.defaultfilters import linebreaksbr
    from django.utils.html import escape as django_escape

    from selfmonitor.templatetags.selfmonitor_tags import _lines, escape

    for text in ["<b>Ont</b> & trött\r\nigår\rinatt\nidag", "", "'\"", "rad 1\r\n\r\nrad 3"]:
        assert _lines(text) == linebreaksbr(text)
        assert escape(text) == django_escape(text)
    assert escape(7) == "7" and escape(None) == "None"
