"""The patient web: the rehab plan inside the care plan, agreement, PDF. Permission
tests with the whole cast and the access-log row for each."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careplan.models import AccessLog
from contacts.models import Scope

from .conftest import add_goal, add_intervention, english

pytestmark = pytest.mark.django_db

ALLOWED = AccessLog.Outcome.ALLOWED
DENIED = AccessLog.Outcome.DENIED


def share_rehab(cast) -> None:
    cast.grant.scopes = [*cast.grant.scopes, Scope.REHAB_PLAN]
    cast.grant.save()


def page(cast) -> str:
    return reverse("rehab_plan", args=[cast.plan.pk])


# who -> (status without the rehab scope shared, with it)
EXPECTED = {
    "patient": (200, 200),
    "nurse": (200, 200),
    "other_nurse": (404, 404),
    "relative": (404, 200),
    "stranger_relative": (404, 404),
}


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("who", [*EXPECTED, "anonymous"])
def test_who_reads_the_rehab_plan_and_the_log_row_each_leaves(cast, rehab, who, shared):
    if shared:
        share_rehab(cast)
    response = english(cast.client(who)).get(page(cast))

    rows = list(AccessLog.objects.all())
    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert rows == []
        return
    status = EXPECTED[who][int(shared)]
    assert response.status_code == status
    if who == "patient":
        assert rows == []
    else:
        assert len(rows) == 1
        row = rows[0]
        assert (row.user, row.patient, row.channel) == (cast.user(who), cast.patient, "web")
        assert row.outcome == (ALLOWED if status == 200 else DENIED)
        if status == 200:
            assert (row.object_type, row.object_id) == ("RehabPlan", str(rehab.pk))
    if status == 200:
        assert "Orka gå till affären själv" in response.text
        assert "AU010" in response.text
        assert "Rör på dig" in response.text or "Keep moving" in response.text


def test_the_patient_sees_the_agree_button_and_a_relative_does_not(cast, rehab):
    share_rehab(cast)
    mine = english(cast.client("patient")).get(page(cast))
    theirs = english(cast.client("relative")).get(page(cast))
    agree = reverse("rehab_plan_agree", args=[cast.plan.pk])
    assert agree in mine.text and "I agree with this plan" in mine.text
    assert agree not in theirs.text and "Read only" in theirs.text


def test_the_plan_page_links_to_the_rehab_plan_only_when_it_is_shared(cast, rehab):
    link = page(cast)
    plan_page = reverse("plan_detail", args=[cast.plan.pk])
    assert link in english(cast.client("patient")).get(plan_page).text
    assert link not in english(cast.client("relative")).get(plan_page).text
    share_rehab(cast)
    assert link in english(cast.client("relative")).get(plan_page).text


def test_a_plan_without_a_rehab_plan_says_so(cast):
    response = english(cast.client("patient")).get(page(cast))
    assert response.status_code == 200
    assert "There is no rehabilitation plan yet" in response.text


# --- Agreeing ----------------------------------------------------------------------------------


def test_the_patient_marks_the_plan_as_agreed(cast, rehab):
    url = reverse("rehab_plan_agree", args=[cast.plan.pk])
    response = english(cast.client("patient")).post(url, follow=True)
    rehab.refresh_from_db()
    assert rehab.agreed_at is not None
    assert "marked as agreed" in response.text
    assert AccessLog.objects.count() == 0


def test_agreeing_with_htmx_swaps_the_agreement_box(cast, rehab):
    url = reverse("rehab_plan_agree", args=[cast.plan.pk])
    response = english(cast.client("patient")).post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="agree"')
    assert "Agreed on" in response.text


def test_a_plan_without_goals_is_refused_clearly_and_nothing_changes(cast, rehab):
    rehab.goals.all().delete()
    url = reverse("rehab_plan_agree", args=[cast.plan.pk])
    response = english(cast.client("patient")).post(url)
    rehab.refresh_from_db()
    assert response.status_code == 400
    assert "The plan has no goals yet, so it cannot be agreed." in response.text
    assert rehab.agreed_at is None


@pytest.mark.parametrize(
    ("who", "status"),
    [("nurse", 403), ("other_nurse", 404), ("relative", 403), ("stranger_relative", 404)],
)
def test_only_the_patient_agrees_and_refusals_are_logged(cast, rehab, who, status):
    share_rehab(cast)
    url = reverse("rehab_plan_agree", args=[cast.plan.pk])
    response = english(cast.client(who)).post(url)
    rehab.refresh_from_db()
    assert response.status_code == status
    assert rehab.agreed_at is None
    row = AccessLog.objects.get()
    assert (row.user, row.action) == (cast.user(who), "update")
    # The nurse reaches the record (allowed row) but may not agree for the patient.
    assert row.outcome == (ALLOWED if who == "nurse" else DENIED)


def test_agree_answers_get_with_405(cast, rehab):
    url = reverse("rehab_plan_agree", args=[cast.plan.pk])
    assert cast.client("patient").get(url).status_code == 405


# --- PDF -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("patient", 200), ("nurse", 200), ("relative", 404)])
def test_the_rehab_plan_prints_for_those_who_may_read_it(cast, rehab, who, status):
    response = cast.client(who).get(reverse("rehab_plan_pdf", args=[cast.plan.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    if who != "patient":
        row = AccessLog.objects.get()
        assert row.channel == ("pdf") and row.action == "print"


# --- Query counts ----------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_rehab_page_costs_a_pinned_number_of_queries(cast, rehab, django_assert_num_queries):
    client = cast.client("nurse")
    client.get(page(cast))  # the session's first request also stores the activity time
    # 1 session, 2 user, 3 care plan + patient, 4 rehab plan, 5 my units, 6 care relation
    # (reach), 7 access-log insert, 8 goals, 9 interventions (+ KVÅ code, unit),
    # 10 self-care advice, 11 follow-ups, 12 the patient's comments.
    with django_assert_num_queries(12):
        client.get(page(cast))


def test_one_and_three_goals_and_interventions_cost_the_same(cast, rehab):
    client = cast.client("nurse")
    client.get(page(cast))
    one = _count(client, page(cast))
    for _ in range(2):
        add_goal(rehab, "Sova bättre")
        add_intervention(rehab, cast.unit, code="DV111", description="Tobaksråd")
    three = _count(client, page(cast))
    assert one == three


def test_the_patient_reads_who_opened_the_rehab_plan_in_plain_words(cast, rehab):
    cast.client("nurse").get(page(cast))
    response = english(cast.client("patient")).get(reverse("my_access_log"))
    assert "your rehabilitation plan" in response.text
    assert "RehabPlan" not in response.text
