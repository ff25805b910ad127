# ruff: noqa: F811  (the selfmonitor fixtures imported below are parameters of the tests)
"""The nurse's day in the admin (issue 10): the one worklist, the header's counter and the
staff member's e-mail choice, and the patient overview (fixed cast, one logged read,
query count independent of the number of messages and answers)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplan import messaging, selectors, services
from careplan.models import AccessLog, MessageThread, Notification, StaffEmail
from rehab import services as rehab_services
from rehab.models import RehabPlan
from selfmonitor import services as sm_services
from selfmonitor import symptom_services
from selfmonitor.models import Alert
from tests import factories as f
from tests.selfmonitor.conftest import instruments, send  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def en(client):
    client.cookies["django_language"] = "en"
    return client


def overview_url(patient) -> str:
    return reverse("admin:careplan_patient_overview", args=[patient.pk])


def start(cast, subject="Ont i magen", body="Jag har ont i magen efter behandlingen."):
    return messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject=subject, body=body
    ).thread


def high_distress(cast, send):
    return sm_services.response_submit(
        assignment=send("distress-thermometer"),
        by=cast.patient_user,
        raw={"distress": ["9"], "wants_contact": ["no"]},
    ).response


def overview_rows(patient):
    return AccessLog.objects.filter(patient=patient, object_type="PatientOverview")


# --- The patient overview: who reaches it ------------------------------------------------


def test_the_nurse_sees_the_whole_patient_on_one_page(cast, send):
    cast.patient.phone = "070-123 45 67"
    cast.patient.save()
    start(cast, subject="Ont i magen")
    high_distress(cast, send)
    f.CalendarEventFactory(
        plan=cast.plan, title="Läkarbesök", starts_at=timezone.now() + dt.timedelta(days=2)
    )

    response = en(cast.client("nurse")).get(overview_url(cast.patient))

    assert response.status_code == 200
    body = response.content.decode()
    assert cast.patient.personnummer_masked in body and cast.patient.personnummer not in body
    assert "070-123 45 67" in body
    assert "Bröstmottagningen" in body and "Karin Kontakt" in body
    assert "Läkarbesök" in body
    assert "Ont i magen" in body and "Jag har ont i magen" in body  # the last message
    # The alert with the score in words and the answers that raised it, never JSON.
    assert "Distress of 4 or more" in body
    assert "<strong>9</strong>" in body
    assert "{&#x27;" not in body and '{"' not in body
    assert "svg" in body  # the trend chart
    rows = list(overview_rows(cast.patient))
    assert [(r.user, r.action, r.outcome, r.basis) for r in rows] == [
        (cast.nurse, "view", "allowed", "care_relation")
    ]
    assert rows[0].acting_unit == cast.unit


def test_a_nurse_of_another_unit_gets_a_404_and_a_denied_row(cast):
    response = cast.client("other_nurse").get(overview_url(cast.patient))
    assert response.status_code == 404
    rows = list(overview_rows(cast.patient))
    assert [(r.user, r.outcome) for r in rows] == [(cast.other_nurse, "denied")]


@pytest.mark.parametrize("who", ["patient", "relative", "stranger_relative", "anonymous"])
def test_patients_relatives_and_anonymous_never_reach_the_overview(cast, who):
    response = cast.client(who).get(overview_url(cast.patient))
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not overview_rows(cast.patient).exists()


def _load(cast, send, n: int) -> None:
    for i in range(n):
        thread = start(cast, subject=f"Fråga {i}")
        for j in range(n):
            messaging.message_send(by=cast.patient_user, thread=thread, body=f"Till {j}")
        high_distress(cast, send)
        event = f.CalendarEventFactory(plan=cast.plan, title=f"Besök {i}", created_by=cast.nurse)
        services.event_change_request(event=event, by=cast.patient_user, text=f"Flytta {i}")
        services.visit_question_add(patient=cast.patient, by=cast.patient_user, text=f"Fråga {i}?")
        rehab_plan = RehabPlan.objects.get_or_create(
            care_plan=cast.plan, defaults={"patient": cast.patient, "created_by": cast.nurse}
        )[0]
        rehab_services.rehab_plan_comment_create(
            rehab_plan=rehab_plan, by=cast.patient_user, text=f"Kommentar {i}"
        )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_overview_costs_the_same_for_one_or_three_threads_and_answers(cast, send):
    client = cast.client("nurse")
    client.get(overview_url(cast.patient))  # the session's first save is not the page's
    _load(cast, send, 1)
    # The first page after a questionnaire version is loaded reads its definition once for
    # the process (Instrument.parsed); every page after it reads none.
    first = _queries(client, overview_url(cast.patient))
    one = _queries(client, overview_url(cast.patient))
    assert first == one + 1
    _load(cast, send, 2)
    three = _queries(client, overview_url(cast.patient))
    assert one == three
    # session, user, the user's units; the patient with acting unit, responsible unit
    # and contact nurse; the access-log insert (one row for the page); the plan; the next
    # events; the open calendar change requests with their entries; the questions for the
    # next visit; the open threads with their last message; the open alerts with responses
    # and instruments; the trend's answers; the trend's instruments; the latest needs
    # assessment; the rehab plan, its goals and its interventions; the patient's open
    # comments on it; the care map's flags; relatives with access; the handover; the
    # access-log tail = 22 (no admin sidebar, so no Django permissions asked:
    # careplan.admin_site)
    assert one == 22


# --- The worklist -------------------------------------------------------------------------

# The unit's planning (patients without a contact nurse, draft plans, due rehab
# reassessments, relatives who need support) is on the same list; these tests are about
# what the patient sent.
PLANNING = {k for k, s in selectors.WORKLIST_SOURCES.items() if s.top == selectors.LOW}


def waiting(user) -> list:
    return [i for i in selectors.worklist(user) or [] if i.kind not in PLANNING]


def test_a_patient_message_is_on_the_worklist_at_once_with_its_answer_by_time(cast, settings):
    settings.CAREPLAN_ANSWER_WITHIN_DAYS = 2
    thread = start(cast, subject="Feber i natt")

    items = waiting(cast.nurse)

    assert [(i.kind, i.title) for i in items] == [("message", "Feber i natt")]
    assert items[0].due_at == thread.awaiting_reply_since + dt.timedelta(days=2)
    assert waiting(cast.other_nurse) == []
    body = en(cast.client("nurse")).get("/admin/").content.decode()
    assert "Feber i natt" in body and "New message" in body
    assert reverse("admin:careplan_messagethread_change", args=[thread.pk]) in body
    assert overview_url(cast.patient) in body


def test_the_most_severe_comes_first_then_the_oldest(cast, send):
    start(cast, subject="Först")
    high_distress(cast, send)
    kinds = [i.kind for i in waiting(cast.nurse)]
    assert kinds == ["alert", "message"]


def test_a_message_past_its_answer_by_time_is_high(cast, settings):
    thread = start(cast)
    MessageThread.objects.filter(pk=thread.pk).update(
        awaiting_reply_since=timezone.now() - dt.timedelta(days=3)
    )
    (item,) = waiting(cast.nurse)
    assert item.severity == selectors.HIGH and item.overdue


def test_an_answer_takes_the_message_off_the_worklist_and_the_counters(cast):
    thread = start(cast)
    cast.nurse.refresh_from_db()
    assert cast.nurse.unread_notifications == 1
    messaging.message_send(by=cast.nurse, thread=thread, body="Ring oss.")
    cast.nurse.refresh_from_db()
    assert waiting(cast.nurse) == []
    assert cast.nurse.unread_notifications == 0


def test_the_worklist_logs_each_patient_shown_once(cast, send):
    start(cast)
    high_distress(cast, send)
    kinds = {i.kind for i in selectors.worklist(cast.nurse)}
    assert {"message", "alert"} <= kinds  # and the patient's rehab reassessment is due
    rows = AccessLog.objects.filter(user=cast.nurse, action="list")
    assert list(rows.values_list("patient", flat=True)) == [cast.patient.pk]


@pytest.mark.parametrize("n", [1, 3])
def test_the_worklist_costs_the_same_for_one_or_three_items(
    cast,
    send,
    django_assert_num_queries,
    n,
):
    for i in range(n):
        start(cast, subject=f"Fråga {i}")
        high_distress(cast, send)
    user = type(cast.nurse).objects.get(pk=cast.nurse.pk)
    # the user's units; one query per source (messages, alerts, handovers to and from my
    # units, calendar change requests, comments on rehab plans, and the planning's
    # sources); one access-log insert for every row shown
    with django_assert_num_queries(1 + len(selectors.WORKLIST_SOURCES) + 1 + 1):
        items = selectors.worklist(user)
    assert len([i for i in items if i.kind not in PLANNING]) == 2 * n


def test_a_reported_symptom_is_on_the_worklist_graded_by_its_triage_in_words(cast):
    import uuid

    # Fever of 38 or more during chemotherapy (the cast's plan is in treatment): call now.
    symptom_services.symptom_report_submit(
        patient=cast.patient,
        by=cast.patient_user,
        token=uuid.uuid4(),
        raw={"fever": ["2"]},
        picked=["fever"],
    )
    (item,) = waiting(cast.nurse)
    assert item.kind == "alert" and item.severity == selectors.HIGH
    assert item.url == reverse("admin:selfmonitor_alert_acknowledge", args=[item.obj.pk])
    body = en(cast.client("nurse")).get("/admin/").content.decode()
    assert body.count("Symptom reported by the patient") == 1
    assert "Call your care unit now" in body and "Fever: 38.0 °C or higher" in body
    assert "(priority High)" in body
    assert 'class="severity-3 work-alert"' in body


def test_a_calendar_change_request_is_one_more_item_of_the_same_worklist(cast):
    event = f.CalendarEventFactory(
        plan=cast.plan,
        title="Cytostatika",
        created_by=cast.nurse,
        starts_at=timezone.now() + dt.timedelta(days=10),
    )
    request = services.event_change_request(event=event, by=cast.patient_user, text="Flytta?")
    start(cast)
    kinds = [(i.kind, i.severity) for i in waiting(cast.nurse)]
    # The message (medium) first; the request for an entry ten days away is low.
    assert kinds == [("message", selectors.MEDIUM), ("change_request", selectors.LOW)]
    body = en(cast.client("nurse")).get("/admin/").content.decode()
    assert reverse("admin:careplan_eventchangerequest_change", args=[request.pk]) in body
    assert "Calendar change asked for" in body and "Flytta?" in body
    assert "Patients asking to change a calendar entry" not in body  # no separate section


def test_the_overview_shows_change_requests_and_questions_for_the_next_visit(cast):
    event = f.CalendarEventFactory(plan=cast.plan, title="Cytostatika", created_by=cast.nurse)
    services.event_change_request(event=event, by=cast.patient_user, text="Kan vi ta fredag?")
    services.visit_question_add(
        patient=cast.patient, by=cast.patient_user, text="Får jag\r\nträna under kuren?"
    )
    body = en(cast.client("nurse")).get(overview_url(cast.patient)).content.decode()
    assert "Kan vi ta fredag?" in body and "Cytostatika" in body
    assert "Får jag<br>träna under kuren?" in body
    # Still one logged read for the whole page.
    assert overview_rows(cast.patient).count() == 1
    other = cast.client("other_nurse").get(overview_url(cast.patient))
    assert other.status_code == 404 and "Kan vi ta fredag?" not in other.content.decode()


# --- The counter and the e-mail choice ------------------------------------------------------


def test_the_header_counts_what_is_new_for_me(cast):
    start(cast)
    mine = en(cast.client("nurse")).get("/admin/").content.decode()
    theirs = en(cast.client("other_nurse")).get("/admin/").content.decode()
    assert 'id="unread-counter">1 new' in mine
    assert 'id="unread-counter">0 new' in theirs


def test_at_once_e_mails_say_only_that_something_waits(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start(cast, subject="Ont i magen", body="Blod i avföringen")
    (sent,) = [m for m in mail.outbox if m.to == [cast.nurse.email]]
    assert "Ont i magen" not in sent.body and "Blod" not in sent.body
    assert cast.patient.last_name not in sent.body


@pytest.mark.parametrize("choice", [StaffEmail.DIGEST, StaffEmail.NONE])
def test_no_e_mail_at_once_for_a_digest_or_none(cast, choice, django_capture_on_commit_callbacks):
    cast.nurse.staff_email = choice
    cast.nurse.save()
    with django_capture_on_commit_callbacks(execute=True):
        start(cast)
    assert [m for m in mail.outbox if m.to == [cast.nurse.email]] == []
    cast.nurse.refresh_from_db()
    assert cast.nurse.unread_notifications == 1  # the counter still shows it


def test_the_daily_digest_goes_once_a_day_and_names_no_one(
    cast, django_capture_on_commit_callbacks
):
    cast.nurse.staff_email = StaffEmail.DIGEST
    cast.nurse.save()
    start(cast, subject="Ont i magen")
    start(cast, subject="Andra frågan")
    with django_capture_on_commit_callbacks(execute=True):
        assert messaging.staff_digests_queue() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert messaging.staff_digests_queue() == 0  # the same day: once
    (sent,) = mail.outbox
    assert sent.to == [cast.nurse.email]
    assert "2 new things" in sent.body or "2 nya" in sent.body
    assert "Ont i magen" not in sent.body and cast.patient.last_name not in sent.body


def test_staff_choose_their_e_mail_on_their_notification_page(cast):
    client = cast.client("nurse")
    url = reverse("admin_notifications")
    assert client.get(url).status_code == 200
    response = client.post(url, {"staff_email": StaffEmail.DIGEST})
    assert response.status_code == 302
    cast.nurse.refresh_from_db()
    assert cast.nurse.staff_email == StaffEmail.DIGEST


@pytest.mark.parametrize("who", ["patient", "relative", "anonymous"])
def test_only_staff_reach_the_notification_page(cast, who):
    response = cast.client(who).get(reverse("admin_notifications"))
    assert response.status_code == 302


def test_opening_a_notification_from_the_admin_reads_it(cast):
    thread = start(cast)
    note = Notification.objects.get(recipient=cast.nurse)
    response = cast.client("nurse").get(reverse("admin_notification_open", args=[note.pk]))
    assert response["Location"] == reverse("admin:careplan_messagethread_change", args=[thread.pk])
    cast.nurse.refresh_from_db()
    assert cast.nurse.unread_notifications == 0
    # Another staff member's notification is not theirs to open.
    other = cast.client("other_nurse").get(reverse("admin_notification_open", args=[note.pk]))
    assert other["Location"] == reverse("admin_notifications")


# --- Acknowledging from the overview, answers in words ----------------------------------------


def test_acknowledging_from_the_overview_returns_there_and_the_item_leaves(cast, send):
    high_distress(cast, send)
    alert = Alert.objects.get()
    client = cast.client("nurse")
    url = reverse("admin:selfmonitor_alert_acknowledge", args=[alert.pk])

    response = client.post(url, {"note": "Ringt, bokat besök.", "next": overview_url(cast.patient)})

    assert response["Location"] == overview_url(cast.patient)
    assert [i.kind for i in waiting(cast.nurse)] == []
    # An outside address is never followed.
    high_distress(cast, send)
    other = Alert.objects.filter(acknowledged_at__isnull=True).get()
    response = client.post(
        reverse("admin:selfmonitor_alert_acknowledge", args=[other.pk]),
        {"note": "Ok", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("admin:selfmonitor_alert_changelist")


def test_the_acknowledge_page_shows_score_answers_and_phone(cast, send):
    cast.patient.phone = "070-765 43 21"
    cast.patient.save()
    high_distress(cast, send)
    alert = Alert.objects.get()
    body = (
        en(cast.client("nurse"))
        .get(reverse("admin:selfmonitor_alert_acknowledge", args=[alert.pk]))
        .content.decode()
    )
    assert "070-765 43 21" in body and "<strong>9</strong>" in body
    assert "No" in body  # "wants contact" in words


def test_the_answer_page_in_the_admin_shows_words_not_json(cast, send):
    response = high_distress(cast, send)
    body = (
        en(cast.client("nurse"))
        .get(reverse("admin:selfmonitor_response_change", args=[response.pk]))
        .content.decode()
    )
    assert '{"' not in body and "{&#x27;" not in body and "{&quot;" not in body
    assert "9 (0–10" in body


def test_the_alert_page_in_the_admin_shows_the_answers_in_words(cast, send):
    high_distress(cast, send)
    alert = Alert.objects.get()
    body = (
        en(cast.client("nurse"))
        .get(reverse("admin:selfmonitor_alert_change", args=[alert.pk]))
        .content.decode()
    )
    assert "9 (0–10" in body and '{"' not in body and "{&#x27;" not in body


@pytest.mark.parametrize("n", [5, 6])
def test_the_most_severe_alerts_are_shown_in_full_and_the_rest_are_linked(cast, send, n):
    from selfmonitor.selectors import OVERVIEW_ALERTS

    assert OVERVIEW_ALERTS == 5
    for _i in range(n):
        high_distress(cast, send)
    body = en(cast.client("nurse")).get(overview_url(cast.patient)).content.decode()
    assert body.count("Note on what was done") == 5  # one acknowledge form per card
    link = f"{reverse('admin:selfmonitor_alert_changelist')}?patient__id__exact={cast.patient.pk}"
    assert (link in body) is (n > 5)
    if n > 5:
        listed = en(cast.client("nurse")).get(link)
        assert listed.status_code == 200 and len(listed.context["cl"].result_list) == n
