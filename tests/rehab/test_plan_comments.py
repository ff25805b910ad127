"""The patient comments on (or asks about) the rehabilitation plan: stored once per
submit with CR LF made LF, an item on the responsible unit's worklist at once and a
notification, shown on the patient overview, handled in the admin with an answer the
patient reads. Relatives with the rehab scope read the comments but may not write."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from careplan import selectors
from careplan.models import AccessLog, Notification
from contacts.models import Scope
from rehab import selectors as rehab_selectors
from rehab import services
from rehab.models import RehabPlanComment

from ..conftest import CAST
from .conftest import english

pytestmark = pytest.mark.django_db


def share_rehab(cast) -> None:
    cast.grant.scopes = [*cast.grant.scopes, Scope.REHAB_PLAN]
    cast.grant.save()


def comment_url(cast) -> str:
    return reverse("rehab_plan_comment", args=[cast.plan.pk])


def page(cast) -> str:
    return reverse("rehab_plan", args=[cast.plan.pk])


def test_the_patient_comments_once_per_submit_and_the_nurse_is_told(cast, rehab):
    client = cast.client("patient")
    form = client.get(page(cast)).content.decode()
    assert comment_url(cast) in form and "Din kommentar eller fråga" in form
    key = str(uuid.uuid4())
    data = {"text": "Kan jag träna\r\noftare än två gånger?", "submission": key}
    first = client.post(comment_url(cast), data)
    assert first.status_code == 302 and first["Location"].endswith("#comments")
    assert client.post(comment_url(cast), data).status_code == 302  # sent twice
    comment = RehabPlanComment.objects.get()
    assert comment.text == "Kan jag träna\noftare än två gånger?"
    assert (comment.patient, comment.rehab_plan, comment.written_by) == (
        cast.patient,
        rehab,
        cast.patient_user,
    )
    assert comment.handled_at is None
    note = Notification.objects.get(recipient=cast.nurse)
    assert note.url == reverse("admin:rehab_rehabplancomment_change", args=[comment.pk])
    assert "träna" not in note.label  # no health data in notifications
    cast.nurse.refresh_from_db()
    assert cast.nurse.unread_notifications == 1
    shown = client.get(page(cast)).content.decode()
    assert "oftare än två gånger?" in shown and "Väntar på att vårdteamet ska läsa" in shown
    # A new form (a new key) is a new comment.
    client.post(comment_url(cast), {"text": "En fråga till", "submission": str(uuid.uuid4())})
    assert RehabPlanComment.objects.count() == 2


def test_bad_input_says_what_is_wrong_and_keeps_the_text(cast, rehab):
    client = cast.client("patient")
    empty = client.post(comment_url(cast), {"text": " \r\n "})
    assert empty.status_code == 400
    assert "Skriv din kommentar eller fråga innan du skickar den." in empty.content.decode()
    long = "å" * (RehabPlanComment.MAX_LENGTH + 1)
    too_long = client.post(comment_url(cast), {"text": long})
    assert too_long.status_code == 400
    body = too_long.content.decode()
    assert "2001" in body and long in body  # the message and everything typed
    english(client)
    htmx = client.post(comment_url(cast), {"text": ""}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and 'id="comments"' in htmx.content.decode()
    assert "Write your comment or question before you send it." in htmx.content.decode()
    assert not RehabPlanComment.objects.exists()


def test_an_htmx_submit_answers_with_the_comments_part(cast, rehab):
    client = english(cast.client("patient"))
    response = client.post(comment_url(cast), {"text": "Hej"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200 and text.lstrip().startswith('<section id="comments"')
    assert "Your care team has your comment" in text and "Hej" in text


# who -> status of a comment sent (the relative with the rehab scope shared)
SEND = {
    "nurse": 403,  # staff answer in the admin
    "other_nurse": 404,
    "relative": 403,  # reads, may not write
    "stranger_relative": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize("who", [w for w in CAST if w != "patient"])
def test_only_the_patient_comments(cast, rehab, who):
    share_rehab(cast)
    response = cast.client(who).post(comment_url(cast), {"text": "Jag skriver"})
    assert response.status_code == SEND[who]
    assert not RehabPlanComment.objects.exists()
    if who != "anonymous":
        row = AccessLog.objects.get(user=cast.user(who))
        assert (row.patient, row.outcome, row.action) == (cast.patient, "denied", "create")


def test_the_service_refuses_everyone_but_the_patient(cast, rehab):
    for user in (cast.nurse, cast.relative, cast.other_nurse):
        with pytest.raises(PermissionDenied):
            services.rehab_plan_comment_create(rehab_plan=rehab, by=user, text="Hej")
    with pytest.raises(ValidationError) as exc:
        services.rehab_plan_comment_create(rehab_plan=rehab, by=cast.patient_user, text="\r\n")
    assert "text" in exc.value.error_dict


def test_a_relative_with_the_scope_reads_the_comments_and_the_answer(cast, rehab):
    comment = services.rehab_plan_comment_create(
        rehab_plan=rehab, by=cast.patient_user, text="Kan jag simma?"
    )
    services.rehab_plan_comment_handle(comment=comment, by=cast.nurse, answer="Ja, gärna.")
    share_rehab(cast)
    text = cast.client("relative").get(page(cast)).content.decode()
    assert "Kan jag simma?" in text and "Ja, gärna." in text
    assert comment_url(cast) not in text  # no form
    assert cast.client("stranger_relative").get(page(cast)).status_code == 404


def test_the_comment_is_on_the_worklist_and_the_nurse_answers_it(cast, rehab):
    comment = services.rehab_plan_comment_create(
        rehab_plan=rehab, by=cast.patient_user, text="Kan jag cykla till träningen?"
    )
    nurse = cast.client("nurse")
    change_url = reverse("admin:rehab_rehabplancomment_change", args=[comment.pk])
    index = nurse.get(reverse("admin:index")).content.decode()
    assert "Kommentar till rehabiliteringsplanen" in index and change_url in index
    assert "Kan jag cykla till träningen?" in index
    assert AccessLog.objects.filter(
        patient=cast.patient, user=cast.nurse, object_type="RehabPlanComment", action="list"
    ).exists()
    other = cast.client("other_nurse").get(reverse("admin:index")).content.decode()
    assert "cykla" not in other
    assert cast.client("other_nurse").get(change_url).status_code == 404

    # The patient overview shows the open comment.
    overview = nurse.get(reverse("admin:careplan_patient_overview", args=[cast.patient.pk]))
    assert "Kan jag cykla till träningen?" in overview.content.decode()

    form = nurse.get(change_url)
    assert form.status_code == 200
    assert AccessLog.objects.filter(
        user=cast.nurse, object_type="RehabPlanComment", action="view", outcome="allowed"
    ).exists()
    response = nurse.post(change_url, {"answer": "Ja, det går bra.\r\nHälsningar Karin"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert (
        comment.handled_by == cast.nurse and comment.answer == "Ja, det går bra.\nHälsningar Karin"
    )
    assert "rehab_comment" not in [i.kind for i in selectors.worklist(cast.nurse)]
    assert not Notification.objects.filter(recipient=cast.nurse, read_at__isnull=True).exists()
    cast.nurse.refresh_from_db()
    assert cast.nurse.unread_notifications == 0
    # The patient is told (no health data) and reads the answer on the plan's page.
    told = Notification.objects.get(recipient=cast.patient_user, url__endswith="#comments")
    assert "cykla" not in told.label
    mine = cast.client("patient").get(page(cast)).content.decode()
    assert "Ja, det går bra." in mine
    # Handled is final: a second save changes nothing.
    assert nurse.post(change_url, {"answer": "Annat"}).status_code in (302, 403)
    comment.refresh_from_db()
    assert comment.answer.startswith("Ja, det går bra.")


def test_marked_read_without_an_answer(cast, rehab):
    comment = services.rehab_plan_comment_create(
        rehab_plan=rehab, by=cast.patient_user, text="Tack för planen!"
    )
    services.rehab_plan_comment_handle(comment=comment, by=cast.nurse, answer="  ")
    comment.refresh_from_db()
    assert comment.handled_at is not None and comment.answer == ""
    assert not Notification.objects.filter(recipient=cast.patient_user).exists()
    text = cast.client("patient").get(page(cast)).content.decode()
    assert "Läst av vårdteamet" in text
    with pytest.raises(ValidationError):
        services.rehab_plan_comment_handle(comment=comment, by=cast.nurse, answer="Igen")
    with pytest.raises(PermissionDenied):
        services.rehab_plan_comment_handle(comment=comment, by=cast.other_nurse)


def test_the_overdue_comment_is_high_on_the_worklist(cast, rehab):
    import datetime as dt

    from django.utils import timezone

    comment = services.rehab_plan_comment_create(rehab_plan=rehab, by=cast.patient_user, text="?")
    RehabPlanComment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    [item] = rehab_selectors.rehab_comment_items(cast.nurse, limit=10)
    assert item.severity == selectors.HIGH and item.overdue


@pytest.mark.parametrize("n", [1, 3])
def test_the_worklist_source_costs_the_same_for_1_and_3_comments(
    cast, rehab, django_assert_num_queries, n
):
    for i in range(n):
        services.rehab_plan_comment_create(rehab_plan=rehab, by=cast.patient_user, text=f"F {i}")
    nurse = type(cast.nurse).objects.get(pk=cast.nurse.pk)
    # 1 the nurse's units, 2 the open comments with patient and acting unit,
    # 3 INSERT the access-log rows (one per patient).
    with django_assert_num_queries(3):
        items = rehab_selectors.rehab_comment_items(nurse, limit=25)
        selectors.WORKLIST_SOURCES["rehab_comment"].log(nurse, items)
    assert [i.kind for i in items] == ["rehab_comment"] * n


@pytest.mark.parametrize("n", [1, 3])
def test_the_plan_page_costs_the_same_for_1_and_3_comments(
    cast, rehab, django_assert_num_queries, n
):
    for i in range(n):
        services.rehab_plan_comment_create(rehab_plan=rehab, by=cast.patient_user, text=f"F {i}")
    client = cast.client("nurse")
    client.get(page(cast))
    # 1 session, 2 user, 3 care plan + patient, 4 rehab plan, 5 my units, 6 care relation
    # (reach), 7 access-log insert, 8 goals, 9 interventions, 10 advice, 11 follow-ups,
    # 12 comments.
    with django_assert_num_queries(12):
        client.get(page(cast))
