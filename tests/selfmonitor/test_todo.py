"""Nothing waits unseen: a new questionnaire is in the to-do card (with its date, marked
when started) and in the notifications with the header count; a relative sees no card."""

from __future__ import annotations

from django.urls import reverse

from careplan.models import Notification
from selfmonitor import services


def test_a_new_questionnaire_is_in_the_todo_card_and_the_notifications_once(cast, send):
    assignment = send("distress-thermometer")
    services.assignment_dispatch(assignment_id=assignment.pk)  # a second dispatch: no-op
    notes = Notification.objects.filter(recipient=cast.patient_user, kind="questionnaire")
    assert notes.count() == 1
    assert notes.get().url == reverse("selfmonitor_answer", args=[assignment.pk])
    cast.patient_user.refresh_from_db()
    assert cast.patient_user.unread_notifications == 1

    client = cast.client("patient")
    page = client.get(reverse("plan_detail", args=[cast.plan.pk]))
    todo = page.context["todo"]
    assert [t.kind for t in todo] == ["questionnaire"]
    assert todo[0].due == assignment.due_at and not todo[0].started
    html = page.content.decode()
    assert "Att göra" in html and "Svara på frågeformuläret" in html
    assert reverse("symptom_new") in html
    assert 'class="badge">1' in html

    services.response_save_draft(
        assignment=assignment, by=cast.patient_user, raw={"distress": ["4"]}
    )
    page = client.get(reverse("plan_detail", args=[cast.plan.pk]))
    assert page.context["todo"][0].started
    assert "påbörjat" in page.content.decode()


def test_an_unread_answer_from_the_care_team_is_in_the_todo_card(cast):
    from careplan import messaging

    thread = messaging.message_send(
        patient=cast.patient, by=cast.patient_user, subject="Fråga om provsvar", body="Hej"
    ).thread
    messaging.message_send(patient=cast.patient, by=cast.nurse, thread=thread, body="Svar")
    page = cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk]))
    assert [t.kind for t in page.context["todo"]] == ["message"]
    assert "Fråga om provsvar" in page.context["todo"][0].text


def test_a_relative_gets_no_todo_card(cast, send):
    send("distress-thermometer")
    page = cast.client("relative").get(reverse("plan_detail", args=[cast.plan.pk]))
    assert page.context["todo"] == []
    assert "Att göra" not in page.content.decode()


def test_the_questionnaire_list_marks_a_started_one_and_has_no_stray_commas(cast, send):
    answered = send("distress-thermometer")
    services.response_submit(
        assignment=answered, by=cast.patient_user, raw={"distress": ["2"], "wants_contact": ["no"]}
    )
    started = send("symptom-scale")
    services.response_save_draft(assignment=started, by=cast.patient_user, raw={"pain": ["3"]})
    html = cast.client("patient").get(reverse("selfmonitor_list", args=[cast.plan.pk]))
    text = html.content.decode()
    assert "påbörjat – fortsätt där du slutade" in text
    assert "</a>," not in text  # the date used to follow the block link as ", 30 november"
