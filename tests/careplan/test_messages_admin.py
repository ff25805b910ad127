"""The care team's inbox in the admin: threads of my units (by the patient's responsible
unit now), waiting ones first, the longest waiting first; answer and mark handled on the
thread's page; every read logged; pinned query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplan import messaging
from careplan.models import (
    MESSAGE_MAX_LENGTH,
    AccessLog,
    MessageThread,
    Notification,
)
from tests import factories as f
from tests.conftest import CAST

pytestmark = pytest.mark.django_db

LIST = reverse("admin:careplan_messagethread_changelist")


def change_url(thread) -> str:
    return reverse("admin:careplan_messagethread_change", args=[thread.pk])


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def thread_of(patient_user, patient, subject="Fråga", body="Hej", *, waited_hours: float = 0):
    thread = messaging.message_send(
        by=patient_user, patient=patient, subject=subject, body=body
    ).thread
    if waited_hours:
        since = timezone.now() - dt.timedelta(hours=waited_hours)
        MessageThread.objects.filter(pk=thread.pk).update(
            awaiting_reply_since=since, last_message_at=since, created_at=since
        )
    return thread


def other_patient_thread(unit, subject, **kwargs):
    plan = f.covered_plan(unit)
    return thread_of(plan.patient.user, plan.patient, subject, **kwargs)


def answer_form(**data) -> dict:
    base = {
        "answer": "",
        "messages-TOTAL_FORMS": "0",
        "messages-INITIAL_FORMS": "0",
        "messages-MIN_NUM_FORMS": "0",
        "messages-MAX_NUM_FORMS": "1000",
        "_continue": "Save",
    }
    base.update(data)
    return base


def admin_rows():
    return AccessLog.objects.filter(channel=AccessLog.Channel.ADMIN)


# --- The inbox ----------------------------------------------------------------------------


def test_the_inbox_lists_waiting_threads_of_my_units_oldest_first_and_logs_each_patient(cast):
    newer = thread_of(cast.patient_user, cast.patient, "Nyare fråga", waited_hours=1)
    older = other_patient_thread(cast.unit, "Äldre fråga", waited_hours=30)
    answered = other_patient_thread(cast.unit, "Besvarad fråga")
    messaging.message_send(by=cast.nurse, thread=answered, body="Svar")
    other_patient_thread(cast.other_unit, "Annan enhets fråga")

    response = english(cast.client("nurse")).get(LIST)

    assert response.status_code == 200
    shown = [t.subject for t in response.context["cl"].result_list]
    assert shown == ["Äldre fråga", "Nyare fråga"]  # waiting only, by default
    everything = english(cast.client("nurse")).get(LIST + "?waiting=all")
    shown_all = [t.subject for t in everything.context["cl"].result_list]
    assert shown_all == ["Äldre fråga", "Nyare fråga", "Besvarad fråga"]
    assert "Annan enhets fråga" not in everything.content.decode()
    rows = admin_rows().filter(action=AccessLog.Action.LIST, user=cast.nurse)
    assert sorted(r.patient_id for r in rows) == sorted(
        [newer.patient_id, older.patient_id]
        + [newer.patient_id, older.patient_id, answered.patient_id]
    )
    assert {r.acting_unit_id for r in rows} == {cast.unit.pk}


def test_the_unread_filter_shows_threads_no_one_in_the_unit_has_opened(cast):
    unread = thread_of(cast.patient_user, cast.patient, "Oläst")
    seen = other_patient_thread(cast.unit, "Läst")
    english(cast.client("nurse")).get(change_url(seen))

    response = english(cast.client("nurse")).get(LIST + "?waiting=unread")

    assert [t.pk for t in response.context["cl"].result_list] == [unread.pk]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("nurse", 200),
        ("other_nurse", 404),
        ("patient", 302),
        ("relative", 302),
        ("stranger_relative", 302),
        ("anonymous", 302),
    ],
)
def test_opening_a_thread_in_the_admin_for_the_whole_cast(cast, who, status):
    thread = thread_of(cast.patient_user, cast.patient, body="Ska jag ta tabletten?")

    response = cast.client(who).get(change_url(thread))

    assert response.status_code == status
    rows = list(admin_rows())
    if who == "nurse":
        assert "Ska jag ta tabletten?" in response.content.decode()
        assert [(r.action, r.outcome, r.acting_unit) for r in rows] == [
            (AccessLog.Action.VIEW, AccessLog.Outcome.ALLOWED, cast.unit)
        ]
        thread.refresh_from_db()
        assert not thread.unread_for_staff  # the unit has seen it
    elif who == "other_nurse":
        assert [(r.user, r.outcome) for r in rows] == [(cast.other_nurse, AccessLog.Outcome.DENIED)]
    else:
        assert rows == []


def test_the_nurse_answers_inline_and_the_patient_is_notified(
    cast, django_capture_on_commit_callbacks
):
    thread = thread_of(cast.patient_user, cast.patient)
    client = english(cast.client("nurse"))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(change_url(thread), answer_form(answer="Ja, på morgonen."))

    assert response.status_code == 302
    thread.refresh_from_db()
    answer = thread.messages.get(from_patient=False)
    assert answer.body == "Ja, på morgonen." and answer.author == cast.nurse
    assert thread.awaiting_reply_since is None
    assert Notification.objects.get(recipient=cast.patient_user).kind == "message"
    created = admin_rows().get(action=AccessLog.Action.CREATE)
    assert created.user == cast.nurse and created.patient == cast.patient
    page = client.get(response["Location"])
    assert "Your answer was sent." in page.content.decode()


def test_marking_handled_in_the_admin_without_an_answer(cast):
    thread = thread_of(cast.patient_user, cast.patient)
    response = cast.client("nurse").post(change_url(thread), answer_form(mark_handled="on"))
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.status == MessageThread.Status.HANDLED
    assert thread.handled_by == cast.nurse
    assert thread.messages.count() == 1


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("   ", "Write an answer, or tick “Mark handled” if none is needed."),
        ("y" * (MESSAGE_MAX_LENGTH + 1), "at most 4000 fit"),
    ],
)
def test_a_bad_answer_is_refused_and_the_text_stays(cast, answer, error):
    thread = thread_of(cast.patient_user, cast.patient)
    response = english(cast.client("nurse")).post(change_url(thread), answer_form(answer=answer))
    body = response.content.decode()
    assert response.status_code == 200
    assert error in body
    if answer.strip():
        assert answer in body
    assert thread.messages.count() == 1


def test_a_nurse_of_another_unit_cannot_answer_by_posting(cast):
    thread = thread_of(cast.patient_user, cast.patient)
    response = cast.client("other_nurse").post(change_url(thread), answer_form(answer="Hej"))
    assert response.status_code == 404
    assert thread.messages.count() == 1
    assert admin_rows().get().outcome == AccessLog.Outcome.DENIED


def test_after_a_move_the_new_unit_has_the_thread_in_its_inbox(cast):
    thread = thread_of(cast.patient_user, cast.patient)
    from tests.careplan.test_messages import move_responsibility

    move_responsibility(cast, cast.other_unit)

    theirs = cast.client("other_nurse").get(LIST)
    mine = cast.client("nurse").get(LIST)
    assert [t.pk for t in theirs.context["cl"].result_list] == [thread.pk]
    assert list(mine.context["cl"].result_list) == []
    assert cast.client("nurse").get(change_url(thread)).status_code == 404


@pytest.mark.parametrize("who", [w for w in CAST if w not in ("nurse", "other_nurse")])
def test_only_staff_reach_the_inbox(cast, who):
    assert cast.client(who).get(LIST).status_code == 302


def test_threads_cannot_be_added_or_deleted_in_the_admin(cast):
    thread = thread_of(cast.patient_user, cast.patient)
    client = cast.client("nurse")
    assert client.get(reverse("admin:careplan_messagethread_add")).status_code == 403
    assert (
        client.get(reverse("admin:careplan_messagethread_delete", args=[thread.pk])).status_code
        == 403
    )


# --- Query counts -------------------------------------------------------------------------


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_inbox_costs_the_same_for_one_and_three_threads(cast):
    client = cast.client("nurse")
    thread_of(cast.patient_user, cast.patient, "Första")
    client.get(LIST)

    one = _count(client, LIST)
    other_patient_thread(cast.unit, "Andra")
    other_patient_thread(cast.unit, "Tredje")
    three = _count(client, LIST)

    assert len(client.get(LIST).context["cl"].result_list) == 3
    assert one == three


@pytest.mark.parametrize("n", [1, 3])
def test_the_inbox_query_count_is_pinned(cast, django_assert_num_queries, n):
    client = cast.client("nurse")
    client.get(LIST)
    for i in range(n):
        other_patient_thread(cast.unit, f"Fråga {i}")

    # 1 session, 2 user, 3 my units (access.staff_unit_ids), 4 the capped COUNT of the
    # waiting threads (compiled: MessageThreadAdmin.default_list), 5 the page's rows (the
    # listed columns of thread and patient, the acting unit looked up per thread), 6 the
    # access-log rows (one INSERT, a row per patient shown). No navigation sidebar
    # (careplan.admin_site).
    with django_assert_num_queries(6):
        response = client.get(LIST)
    assert len(response.context["cl"].result_list) == n


def test_the_inbox_default_view_gives_djangos_rows_from_a_lookup_per_thread(cast, rf):
    """The default view's compiled page and count (``MessageThreadAdmin.default_list``)
    give the rows, order, acting unit and count of Django's change list for the same
    filter (``?waiting=yes``), for each nurse's own units; the scope is a lookup of the
    patient's active relation per waiting thread, with no join to the care relations."""
    from django.contrib import admin

    from careplan import access
    from careplan.admin.base import RecordChangeList
    from tests.careplan.test_messages import move_responsibility

    model_admin = admin.site._registry[MessageThread]
    moved = thread_of(cast.patient_user, cast.patient, "Flyttad", waited_hours=5)
    move_responsibility(cast, cast.other_unit)  # now the other unit's
    same_time = timezone.now() - dt.timedelta(hours=2)
    for i in range(3):
        thread = other_patient_thread(cast.unit, f"Min {i}")
        MessageThread.objects.filter(pk=thread.pk).update(awaiting_reply_since=same_time)
    other_patient_thread(cast.other_unit, "Deras", waited_hours=9)
    answered = other_patient_thread(cast.unit, "Besvarad")
    messaging.message_send(by=cast.nurse, thread=answered, body="Svar")
    both = f.StaffFactory(units=[cast.unit, cast.other_unit])
    for user, expected in ((cast.nurse, 3), (cast.other_nurse, 2), (both, 5)):
        units = tuple(sorted(access.staff_unit_ids(user)))
        request = rf.get(LIST)
        request.user = user
        cl = model_admin.get_changelist_instance(request)
        assert isinstance(cl.result_list, list)  # the compiled page
        djangos_request = rf.get(LIST, {"waiting": "yes"})
        djangos_request.user = user
        djangos = model_admin.get_changelist_instance(djangos_request)
        assert not isinstance(djangos.result_list, list)
        assert [(t.pk, t.acting_unit_id) for t in cl.result_list] == [
            (t.pk, t.acting_unit_id) for t in djangos.result_list
        ]
        assert cl.result_count == djangos.result_count == expected
        assert {t.acting_unit_id for t in cl.result_list} <= set(units)
        assert (moved.pk in {t.pk for t in cl.result_list}) == (cast.other_unit.pk in units)
        assert answered.pk not in {t.pk for t in cl.result_list}
        # the same columns as Django's page (list_only, the patient's name), in its order
        for mine, theirs in zip(cl.result_list, djangos.result_list, strict=True):
            assert mine.get_deferred_fields() == theirs.get_deferred_fields()
            assert mine.patient.get_deferred_fields() == theirs.patient.get_deferred_fields()
        sql = model_admin.default_list.build(units)[:25].query.get_compiler("default").as_sql()[0]
        djangos_sql = djangos.queryset.query.get_compiler("default").as_sql()[0]
        assert sql.split(" ORDER BY ")[-1] == djangos_sql.split(" ORDER BY ")[-1] + " LIMIT 25"
        # the scope: no join but the patient's (for the name), a lookup per row
        assert re.findall(r"JOIN (\S+)", sql) == ['"careplan_patient"']
        count = model_admin.default_list.build(units).order_by().values("pk")[:1001]
        count_sql = count.query.get_compiler(using="default").as_sql()[0]
        assert "JOIN" not in count_sql
        assert 'FROM "careplan_carerelation" U0' in count_sql
    # a query string: Django's queryset
    assert issubclass(model_admin.get_changelist(rf.get(LIST)), RecordChangeList)


def test_the_inbox_action_marks_threads_handled_and_logs_each(cast):
    one = thread_of(cast.patient_user, cast.patient, "Ett")
    two = other_patient_thread(cast.unit, "Två")
    client = english(cast.client("nurse"))

    response = client.post(
        LIST,
        {"action": "mark_handled", "_selected_action": [one.pk, two.pk]},
        follow=True,
    )

    assert "2 threads marked handled." in response.content.decode()
    assert set(MessageThread.objects.values_list("status", flat=True)) == {"handled"}
    updates = admin_rows().filter(action=AccessLog.Action.UPDATE)
    assert {r.patient_id for r in updates} == {one.patient_id, two.patient_id}
