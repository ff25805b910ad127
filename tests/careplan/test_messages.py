"""Messages between patient and care team: the services, the patient and relative web,
permissions with the fixed cast, access-log rows, bad input and pinned query counts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from careplan import messaging
from careplan.models import (
    MESSAGE_MAX_LENGTH,
    AccessLog,
    CareRelation,
    Message,
    MessageThread,
    Notification,
)
from contacts.models import Scope
from tests import factories as f
from tests.conftest import CAST

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def share_messages(cast) -> None:
    cast.grant.scopes = [*cast.grant.scopes, Scope.MESSAGES]
    cast.grant.save(update_fields=["scopes"])


def start_thread(cast, subject="Fråga om medicin", body="Ska jag ta tabletten på morgonen?"):
    return messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject=subject, body=body
    ).thread


def english(client):
    client.cookies["django_language"] = "en"
    return client


# --- Services -----------------------------------------------------------------------------


def test_a_patient_message_goes_to_the_responsible_unit_and_waits_for_an_answer(cast):
    thread = start_thread(cast)

    assert thread.unit == cast.unit
    assert thread.patient == cast.patient
    assert thread.awaiting_reply_since is not None
    assert thread.status == MessageThread.Status.OPEN
    assert thread.unread_for_staff and not thread.unread_for_patient
    message = thread.messages.get()
    assert message.from_patient and message.author == cast.patient_user


def test_an_answer_from_any_nurse_of_the_unit_clears_the_wait_and_notifies_the_patient(
    cast, django_capture_on_commit_callbacks
):
    thread = start_thread(cast)
    colleague = f.StaffFactory(units=[cast.unit])  # not the named contact nurse

    with django_capture_on_commit_callbacks(execute=True):
        answer = messaging.message_send(by=colleague, thread=thread, body="Ja, på morgonen.")

    thread.refresh_from_db()
    assert not answer.from_patient and answer.unit == cast.unit
    assert thread.awaiting_reply_since is None
    assert thread.unread_for_patient
    notification = Notification.objects.get(recipient=cast.patient_user)
    assert notification.kind == Notification.Kind.MESSAGE
    assert notification.url == reverse("message_thread", args=[thread.pk])
    cast.patient_user.refresh_from_db()
    assert cast.patient_user.unread_notifications == 1


def test_a_nurse_of_another_unit_cannot_answer(cast):
    thread = start_thread(cast)
    with pytest.raises(PermissionDenied):
        messaging.message_send(by=cast.other_nurse, thread=thread, body="Hej")
    assert thread.messages.count() == 1


@pytest.mark.parametrize("who", ["relative", "stranger_relative"])
def test_relatives_never_write_even_with_the_messages_part(cast, who):
    share_messages(cast)
    thread = start_thread(cast)
    with pytest.raises(PermissionDenied):
        messaging.message_send(by=cast.user(who), thread=thread, body="Hej")
    with pytest.raises(PermissionDenied):
        messaging.message_send(by=cast.user(who), patient=cast.patient, subject="S", body="B")
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "Write your message"), ("   \n ", "Write your message"), ("x" * 4001, "at most 4000")],
)
def test_empty_or_over_long_messages_are_refused_and_nothing_is_saved(cast, body, error):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        messaging.message_send(by=cast.patient_user, patient=cast.patient, subject="S", body=body)
    assert error in " ".join(exc.value.message_dict["body"])
    assert not MessageThread.objects.exists()


def test_marking_handled_takes_the_thread_off_the_wait_until_the_patient_writes_again(cast):
    thread = start_thread(cast)
    messaging.thread_mark_handled(thread=thread, by=cast.nurse)
    thread.refresh_from_db()
    assert thread.status == MessageThread.Status.HANDLED
    assert thread.awaiting_reply_since is None and thread.handled_by == cast.nurse

    messaging.message_send(by=cast.patient_user, thread=thread, body="En sak till.")
    thread.refresh_from_db()
    assert thread.status == MessageThread.Status.OPEN
    assert thread.awaiting_reply_since is not None and thread.handled_at is None


def test_only_staff_of_the_responsible_unit_mark_handled(cast):
    thread = start_thread(cast)
    for user in (cast.other_nurse, cast.patient_user):
        with pytest.raises(PermissionDenied):
            messaging.thread_mark_handled(thread=thread, by=user)


def move_responsibility(cast, to_unit):
    CareRelation.objects.filter(patient=cast.patient, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    f.CareRelationFactory(patient=cast.patient, unit=to_unit)
    # The contact nurse follows the responsibility (invariant 1).
    cast.patient.nurse_assignments.filter(ended_on__isnull=True).update(
        ended_on=timezone.localdate()
    )
    f.ContactNurseAssignmentFactory(patient=cast.patient, unit=to_unit, nurse=cast.other_nurse)


def test_when_responsibility_moves_the_new_unit_sees_and_answers_the_history(cast):
    thread = start_thread(cast)
    move_responsibility(cast, cast.other_unit)

    assert list(messaging.MessageThread.objects.filter(pk=thread.pk)) == [thread]
    from careplan import access

    assert thread in access.threads_for(cast.other_nurse)
    assert thread not in access.threads_for(cast.nurse)
    assert thread in access.threads_for(cast.patient_user)
    messaging.message_send(by=cast.other_nurse, thread=thread, body="Vi har tagit över.")
    with pytest.raises(PermissionDenied):
        messaging.message_send(by=cast.nurse, thread=thread, body="Gammal enhet")


# --- Web: the list ------------------------------------------------------------------------


def test_the_patient_sees_their_threads_when_to_expect_an_answer_and_what_if_urgent(cast):
    start_thread(cast, subject="Fråga om medicin")
    body = english(cast.client("patient")).get(reverse("message_list")).content.decode()
    assert "Fråga om medicin" in body
    assert "answers within 2 days" in body
    assert "If it is urgent, do not write." in body
    assert 'href="tel:1177"' in body and 'href="tel:112"' in body
    assert cast.unit.name in body and cast.unit.phone in body
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize(
    ("who", "status", "logged"),
    [
        ("patient", 200, 0),
        ("nurse", 302, 0),  # the care team works in the admin inbox
        ("other_nurse", 302, 0),
        ("relative", 200, 1),
        ("stranger_relative", 200, 0),
        ("anonymous", 302, 0),
    ],
)
def test_the_message_list_for_the_whole_cast(cast, who, status, logged):
    share_messages(cast)
    thread = start_thread(cast, subject="Fråga om medicin")

    response = cast.client(who).get(reverse("message_list"))

    assert response.status_code == status
    rows = AccessLog.objects.all()
    assert rows.count() == logged
    if logged:
        row = rows.get()
        assert row.user == cast.user(who) and row.patient == cast.patient
        assert row.action == AccessLog.Action.LIST and row.object_type == "MessageThread"
        assert row.basis == AccessLog.Basis.RELATIVE_GRANT
    if status == 200:
        shown = "Fråga om medicin" in response.content.decode()
        assert shown == (who in ("patient", "relative"))
    if who == "nurse":
        assert response["Location"] == reverse("admin:careplan_messagethread_changelist")
    assert thread.messages.count() == 1


def test_a_relative_without_the_messages_part_sees_no_threads(cast):
    start_thread(cast, subject="Fråga om medicin")
    body = cast.client("relative").get(reverse("message_list")).content.decode()
    assert "Fråga om medicin" not in body
    assert not AccessLog.objects.exists()


# --- Web: a thread ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "outcome"),
    [
        ("patient", 200, None),
        ("nurse", 200, AccessLog.Outcome.ALLOWED),
        ("other_nurse", 404, AccessLog.Outcome.DENIED),
        ("relative", 200, AccessLog.Outcome.ALLOWED),
        ("stranger_relative", 404, AccessLog.Outcome.DENIED),
        ("anonymous", 302, None),
    ],
)
def test_reading_a_thread_for_the_whole_cast(cast, who, status, outcome):
    share_messages(cast)
    thread = start_thread(cast, body="Ska jag ta tabletten på morgonen?")

    response = cast.client(who).get(reverse("message_thread", args=[thread.pk]))

    assert response.status_code == status
    rows = list(AccessLog.objects.all())
    if outcome is None:
        assert rows == []
    else:
        assert len(rows) == 1
        assert rows[0].outcome == outcome and rows[0].action == AccessLog.Action.VIEW
        assert rows[0].object_type == "MessageThread" and rows[0].object_id == str(thread.pk)
        assert rows[0].patient == cast.patient and rows[0].user == cast.user(who)
    if status == 200:
        body = response.content.decode()
        assert "Ska jag ta tabletten på morgonen?" in body
        assert ('name="body"' in body) == (who == "patient")


def test_a_relative_whose_grant_lacks_messages_gets_404_and_a_denied_row(cast):
    thread = start_thread(cast)
    response = cast.client("relative").get(reverse("message_thread", args=[thread.pk]))
    assert response.status_code == 404
    assert AccessLog.objects.get().outcome == AccessLog.Outcome.DENIED


@pytest.mark.parametrize(
    ("who", "status", "outcome"),
    [
        ("patient", 302, None),
        ("nurse", 302, AccessLog.Outcome.ALLOWED),
        ("other_nurse", 404, AccessLog.Outcome.DENIED),
        ("relative", 403, AccessLog.Outcome.DENIED),
        ("stranger_relative", 404, AccessLog.Outcome.DENIED),
        ("anonymous", 302, None),
    ],
)
def test_writing_in_a_thread_for_the_whole_cast(cast, who, status, outcome):
    share_messages(cast)
    thread = start_thread(cast)

    response = cast.client(who).post(
        reverse("message_thread", args=[thread.pk]), {"body": "Ett svar"}
    )

    assert response.status_code == status
    written = thread.messages.filter(body="Ett svar").exists()
    assert written == (who in ("patient", "nurse"))
    rows = list(AccessLog.objects.all())
    if outcome is None:
        assert rows == []
    else:
        assert [(r.outcome, r.action) for r in rows] == [(outcome, AccessLog.Action.CREATE)]


@pytest.mark.parametrize("who", CAST)
def test_starting_a_thread_is_for_the_patient_only(cast, who):
    share_messages(cast)
    response = cast.client(who).post(reverse("message_new"), {"subject": "Fråga", "body": "Hej"})
    expected = {"patient": 302, "anonymous": 302}.get(who, 403)
    assert response.status_code == expected
    assert MessageThread.objects.exists() == (who == "patient")
    if who != "anonymous":
        get = cast.client(who).get(reverse("message_new"))
        assert get.status_code == (200 if who == "patient" else 403)


def test_the_confirmation_says_when_to_expect_an_answer_and_what_if_urgent(cast):
    client = english(cast.client("patient"))
    response = client.post(reverse("message_new"), {"subject": "Fråga", "body": "Hej"}, follow=True)
    body = response.content.decode()
    assert "Your message was sent to your care team." in body
    assert "You can expect an answer within 2 days." in body
    assert f"call {cast.unit.name} on {cast.unit.phone}" in body
    assert "1177" in body and "112" in body
    thread = MessageThread.objects.get()
    assert response.redirect_chain[-1][0] == reverse("message_thread", args=[thread.pk])

    reply = client.post(
        reverse("message_thread", args=[thread.pk]), {"body": "En sak till"}, follow=True
    )
    assert "You can expect an answer within 2 days." in reply.content.decode()


def test_an_htmx_reply_swaps_the_conversation_with_the_confirmation(cast):
    thread = start_thread(cast)
    client = english(cast.client("patient"))
    response = client.post(
        reverse("message_thread", args=[thread.pk]), {"body": "Via htmx"}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="conversation">')
    assert "Via htmx" in body and "You can expect an answer within 2 days." in body


# --- Bad input keeps the text ---------------------------------------------------------------


def test_an_over_long_message_is_refused_and_the_text_stays_in_the_form(cast):
    thread = start_thread(cast)
    text = "Lång text. " * 400  # 4400 characters
    client = english(cast.client("patient"))

    response = client.post(reverse("message_thread", args=[thread.pk]), {"body": text})

    body = response.content.decode()
    assert response.status_code == 200
    assert "at most 4000 fit" in body
    assert text.strip() in body  # nothing typed is lost
    assert thread.messages.count() == 1


def test_an_empty_new_message_is_refused_and_the_subject_stays(cast):
    client = english(cast.client("patient"))
    response = client.post(reverse("message_new"), {"subject": "Min fråga", "body": "  "})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Write your message before you send it." in body
    assert 'value="Min fråga"' in body
    assert not MessageThread.objects.exists()


def test_an_htmx_reply_with_bad_input_keeps_the_text_in_the_swapped_form(cast):
    thread = start_thread(cast)
    client = english(cast.client("patient"))
    response = client.post(
        reverse("message_thread", args=[thread.pk]),
        {"body": "x" * (MESSAGE_MAX_LENGTH + 1)},
        **HTMX,
    )
    assert response["HX-Retarget"] == "#conversation"
    assert "x" * (MESSAGE_MAX_LENGTH + 1) in response.content.decode()


# --- Read marks ----------------------------------------------------------------------------


def test_opening_the_thread_reads_the_answer_and_its_notification(cast):
    thread = start_thread(cast)
    messaging.message_send(by=cast.nurse, thread=thread, body="Svar")
    cast.patient_user.refresh_from_db()
    assert cast.patient_user.unread_notifications == 1

    cast.client("patient").get(reverse("message_thread", args=[thread.pk]))

    thread.refresh_from_db()
    cast.patient_user.refresh_from_db()
    assert not thread.unread_for_patient
    assert cast.patient_user.unread_notifications == 0
    assert Notification.objects.get(recipient=cast.patient_user).read_at is not None


def test_a_relative_reading_changes_no_read_marks(cast):
    share_messages(cast)
    thread = start_thread(cast)
    messaging.message_send(by=cast.nurse, thread=thread, body="Svar")
    cast.client("relative").get(reverse("message_thread", args=[thread.pk]))
    thread.refresh_from_db()
    assert thread.unread_for_patient


# --- Responsibility moves ------------------------------------------------------------------


def test_after_a_move_the_patient_still_sees_the_history_and_the_new_unit_reads_it(cast):
    thread = start_thread(cast, body="Första frågan")
    messaging.message_send(by=cast.nurse, thread=thread, body="Svar från första enheten")
    move_responsibility(cast, cast.other_unit)
    url = reverse("message_thread", args=[thread.pk])

    patient_body = cast.client("patient").get(url).content.decode()
    assert "Svar från första enheten" in patient_body

    assert cast.client("other_nurse").get(url).status_code == 200
    assert cast.client("nurse").get(url).status_code == 404
    rows = AccessLog.objects.order_by("id")
    assert [(r.user, r.outcome, r.acting_unit) for r in rows] == [
        (cast.other_nurse, AccessLog.Outcome.ALLOWED, cast.other_unit),
        (cast.nurse, AccessLog.Outcome.DENIED, None),
    ]


# --- Pinned query counts -------------------------------------------------------------------


def _threads(cast, n: int) -> None:
    for i in range(n):
        start_thread(cast, subject=f"Fråga {i}")


# The patient's list:
#   1 session, 2 user
#   3 the threads (with patient)                       (access.threads_for)
#   4 the patient with the responsible unit           (what to expect, whom to call)
PATIENT_LIST_QUERIES = 4
# A relative's list:
#   1 session, 2 user
#   3 the grants' scopes (access.patients_for; also whether any shares messages, for
#     the header's "Messages" link), 4 the threads
#   5 INSERT the access-log rows, one per patient     (access.log_list)
RELATIVE_LIST_QUERIES = 5


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize(
    ("who", "queries"), [("patient", PATIENT_LIST_QUERIES), ("relative", RELATIVE_LIST_QUERIES)]
)
def test_the_message_list_query_count_is_pinned(cast, django_assert_num_queries, who, queries, n):
    share_messages(cast)
    client = cast.client(who)
    client.get(reverse("message_list"))  # warm up: session activity stamp
    _threads(cast, n)

    with django_assert_num_queries(queries):
        response = client.get(reverse("message_list"))

    assert response.content.decode().count('<li class="thread') == n


def test_the_form_help_is_in_the_readers_language(cast):
    thread = start_thread(cast)
    english_body = english(cast.client("patient")).get(reverse("message_thread", args=[thread.pk]))
    assert "At most 4000 characters." in english_body.content.decode()
    nurse = english(cast.client("nurse")).get(
        reverse("admin:careplan_messagethread_change", args=[thread.pk])
    )
    assert "At most 4000 characters." in nurse.content.decode()


def test_the_patients_access_log_names_a_read_of_their_messages_in_words(cast):
    thread = start_thread(cast)
    cast.client("nurse").get(reverse("message_thread", args=[thread.pk]))
    body = english(cast.client("patient")).get(reverse("my_access_log")).content.decode()
    assert "your messages with the care team" in body
    assert "MessageThread" not in body
