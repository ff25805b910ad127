"""The questionnaire pages: who may open them (the whole cast, with the access-log row
for each), answering with drafts, bad input that keeps every answer, double submit,
nurse entry on behalf, expired assignments and tampered fields."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog
from contacts.models import Scope
from selfmonitor import services
from selfmonitor.models import Alert, Assignment, Instrument, Response

CAST = ["patient", "nurse", "other_nurse", "relative", "stranger_relative", "anonymous"]
DT = "distress-thermometer:1"


def _client(cast, who):
    c = cast.client(who)
    c.cookies["django_language"] = "en"
    return c


def _post(client, assignment, page=1, action="next", **answers):
    instrument = f"{assignment.instrument.key}:{assignment.instrument.version}"
    data = {"page": page, "action": action, "instrument": instrument}
    data.update({f"a-{k}": v for k, v in answers.items()})
    return client.post(reverse("selfmonitor_answer", args=[assignment.pk]), data)


def _logs(cast):
    return AccessLog.objects.filter(patient=cast.patient)


def _share_questionnaires(cast):
    cast.grant.scopes = [*cast.grant.scopes, Scope.QUESTIONNAIRES]
    cast.grant.save()


# --- Who may open what ----------------------------------------------------------------

ANSWER_PAGE = {
    "patient": (200, 0),
    "nurse": (200, 1),
    "other_nurse": (404, 1),
    "relative": (404, 1),  # no questionnaires scope
    "stranger_relative": (404, 1),
    "anonymous": (302, 0),
}


@pytest.mark.parametrize("who", CAST)
def test_answer_page_permissions_and_access_log(cast, send, who):
    assignment = send()
    status, rows = ANSWER_PAGE[who]
    response = _client(cast, who).get(reverse("selfmonitor_answer", args=[assignment.pk]))
    assert response.status_code == status
    assert _logs(cast).count() == rows
    if rows:
        row = _logs(cast).get()
        assert row.object_type == "Assignment"
        assert row.outcome == ("allowed" if status == 200 else "denied")


def test_relative_with_the_scope_reads_results_but_may_not_answer(cast, send):
    _share_questionnaires(cast)
    assignment = send()
    client = _client(cast, "relative")
    assert client.get(reverse("selfmonitor_answer", args=[assignment.pk])).status_code == 403
    assert _logs(cast).get().outcome == "denied"
    outcome = services.response_submit(
        assignment=assignment,
        by=cast.patient_user,
        raw={"distress": ["2"], "wants_contact": ["no"]},
    )
    page = client.get(reverse("selfmonitor_response", args=[outcome.response.pk]))
    assert page.status_code == 200
    assert b"Distress" in page.content
    assert _logs(cast).filter(object_type="Response", outcome="allowed").count() == 1


RESULT_PAGE = {
    "patient": (200, 0),
    "nurse": (200, 1),
    "other_nurse": (404, 1),
    "relative": (404, 1),
    "stranger_relative": (404, 1),
    "anonymous": (302, 0),
}


@pytest.mark.parametrize("who", CAST)
def test_result_page_permissions_and_access_log(cast, send, who):
    assignment = send()
    outcome = services.response_submit(
        assignment=assignment,
        by=cast.patient_user,
        raw={"distress": ["8"], "wants_contact": ["no"]},
    )
    status, rows = RESULT_PAGE[who]
    response = _client(cast, who).get(reverse("selfmonitor_response", args=[outcome.response.pk]))
    assert response.status_code == status
    assert _logs(cast).count() == rows


@pytest.mark.parametrize("who", CAST)
def test_list_and_trend_permissions_and_access_log(cast, send, who):
    status, rows = RESULT_PAGE[who]
    for name, args in (
        ("selfmonitor_list", [cast.plan.pk]),
        ("selfmonitor_trend", [cast.plan.pk, "distress-thermometer"]),
    ):
        before = _logs(cast).count()
        response = _client(cast, who).get(reverse(name, args=args))
        assert response.status_code == status, name
        assert _logs(cast).count() - before == rows, name


def test_a_single_prem_answer_is_the_patients_alone(cast, send):
    _share_questionnaires(cast)
    assignment = send("care-experience")
    outcome = services.response_submit(
        assignment=assignment,
        by=cast.patient_user,
        raw={"knows_nurse": ["yes"], "reach_nurse": ["5"], "info_clear": ["4"]}
        | {k: ["4"] for k in ("info_confusing", "involved", "relatives", "respect", "listened")},
    )
    url = reverse("selfmonitor_response", args=[outcome.response.pk])
    assert _client(cast, "patient").get(url).status_code == 200
    for who in ("nurse", "relative"):
        assert _client(cast, who).get(url).status_code == 404
    assert _logs(cast).filter(outcome="denied").count() == 2
    assert (
        _client(cast, "nurse").get(reverse("selfmonitor_answer", args=[assignment.pk])).status_code
        == 404
    )


# --- Answering --------------------------------------------------------------------------


def test_patient_answers_page_by_page_and_the_draft_is_kept_between_pages(cast, send):
    assignment = send()
    client = _client(cast, "patient")
    response = _post(client, assignment, page=1, action="next", distress="8")
    assert response.status_code == 302
    assert response["Location"].endswith("?page=2")
    draft = Response.objects.get(assignment=assignment)
    assert draft.status == "draft"
    assert draft.answers == {"distress": 8}
    # Another device: the same draft is shown, and it opens where the patient left.
    other = _client(cast, "patient")
    url = reverse("selfmonitor_answer", args=[assignment.pk])
    assert b'value="8" checked' in other.get(url + "?page=1").content
    assert other.get(url).context["page_no"] == 2
    response = _post(
        client, assignment, page=2, action="submit", wants_contact="no", problems_physical=["pain"]
    )
    assert response.status_code == 302
    done = Response.objects.get(assignment=assignment)
    assert done.status == "completed"
    assert done.scores == {"distress": 8, "problems": 1}
    assert done.entered_by == cast.patient_user
    assert Assignment.objects.get(pk=assignment.pk).status == "completed"
    result = client.get(response["Location"])
    assert b"Your care team has been told" in result.content
    assert b"1177" in result.content


def test_autosave_keeps_the_page_as_the_patient_goes(cast, send):
    assignment = send()
    client = _client(cast, "patient")
    response = client.post(
        reverse("selfmonitor_autosave", args=[assignment.pk]),
        {"page": 1, "a-distress": "5"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"Saved" in response.content
    assert Response.objects.get(assignment=assignment).answers == {"distress": 5}


def test_missing_required_answers_are_named_and_the_others_kept(cast, send):
    assignment = send()
    client = _client(cast, "patient")
    response = _post(client, assignment, page=2, action="submit", problems_family=["children"])
    assert response.status_code == 400
    content = response.content.decode()
    assert "Please check your answers" in content
    assert "How burdened or worried" in content  # the missing item on page 1, named
    assert "Your other answers are kept" in content
    assert Response.objects.get(assignment=assignment).answers == {"problems_family": ["children"]}
    assert Response.objects.get(assignment=assignment).status == "draft"


def test_out_of_range_and_unknown_values_are_refused_and_valid_answers_kept(cast, send):
    assignment = send()
    client = _client(cast, "patient")
    _post(client, assignment, page=1, action="next", distress="3")
    response = _post(
        client,
        assignment,
        page=2,
        action="next",
        problems_practical=["money", "yacht"],
        problems_family=["children"],
        wants_contact="maybe",
        nonsense="1",
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "Choose among the answers shown" in content
    assert "Choose one of the answers shown" in content
    assert "This question is not part of the questionnaire" in content
    assert 'value="children" checked' in content  # kept on the page
    draft = Response.objects.get(assignment=assignment)
    assert draft.answers == {"distress": 3, "problems_family": ["children"]}


def test_a_scale_value_above_10_is_refused(cast, send):
    assignment = send()
    response = _post(_client(cast, "patient"), assignment, page=1, distress="11")
    assert response.status_code == 400
    assert b"Choose a number from 0 to 10" in response.content
    assert Response.objects.get(assignment=assignment).answers == {}


def test_a_blank_form_is_never_completed(cast, instruments):
    assignment = services.assignment_send(
        patient=cast.patient, instrument=instruments["care-experience"], by=cast.nurse
    )
    client = _client(cast, "patient")
    data = {"page": 2, "action": "submit", "instrument": "care-experience:1"}
    response = client.post(reverse("selfmonitor_answer", args=[assignment.pk]), data)
    assert response.status_code == 400
    assert not Response.objects.filter(assignment=assignment, status="completed").exists()


def test_a_double_submit_stores_one_response(cast, send):
    assignment = send()
    client = _client(cast, "patient")
    _post(client, assignment, page=1, distress="8")
    first = _post(client, assignment, page=2, action="submit", wants_contact="no")
    second = _post(client, assignment, page=2, action="submit", wants_contact="yes")
    assert first.status_code == second.status_code == 302
    assert Response.objects.filter(assignment=assignment).count() == 1
    assert Response.objects.get(assignment=assignment).answers["wants_contact"] == "no"
    assert Alert.objects.filter(response__assignment=assignment).count() == 1


def test_answers_to_an_expired_assignment_are_refused_and_shown_back(cast, send):
    assignment = send()
    Assignment.objects.filter(pk=assignment.pk).update(
        available_at=timezone.now() - dt.timedelta(days=20),
        due_at=timezone.now() - dt.timedelta(days=10),
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    response = _post(_client(cast, "patient"), assignment, page=1, distress="6")
    assert response.status_code == 400
    assert b"expired" in response.content
    assert not Response.objects.filter(assignment=assignment).exists()


def test_a_tampered_instrument_field_is_refused_and_nothing_saved(cast, send):
    assignment = send()
    client = _client(cast, "patient")
    response = client.post(
        reverse("selfmonitor_answer", args=[assignment.pk]),
        {"page": 1, "action": "next", "instrument": "distress-thermometer:99", "a-distress": "4"},
    )
    assert response.status_code == 400
    assert b"did not match this questionnaire" in response.content
    assert b'value="4" checked' in response.content
    assert not Response.objects.filter(assignment=assignment).exists()


def test_nurse_enters_answers_on_the_patients_behalf(cast, send):
    assignment = send()
    client = _client(cast, "nurse")
    page = client.get(reverse("selfmonitor_answer", args=[assignment.pk]))
    assert b"on behalf of" in page.content
    _post(client, assignment, page=1, distress="2")
    _post(client, assignment, page=2, action="submit", wants_contact="no")
    done = Response.objects.get(assignment=assignment)
    assert done.status == "completed"
    assert done.entered_by == cast.nurse
    assert done.entered_on_behalf


def test_patient_can_ask_to_be_reminded_later(cast, send):
    assignment = send()
    response = _client(cast, "patient").post(
        reverse("selfmonitor_remind_later", args=[assignment.pk])
    )
    assert response.status_code == 302
    assert Assignment.objects.get(pk=assignment.pk).remind_after > timezone.now()


def test_plan_page_links_to_questionnaires_only_for_those_who_may_see_them(cast):
    url = reverse("plan_detail", args=[cast.plan.pk])
    link = reverse("selfmonitor_list", args=[cast.plan.pk]).encode()
    assert link in _client(cast, "patient").get(url).content
    assert link not in _client(cast, "relative").get(url).content
    _share_questionnaires(cast)
    assert link in _client(cast, "relative").get(url).content


# --- Query counts -----------------------------------------------------------------------


def _answered(cast, instruments, n):
    for _i in range(n):
        a = services.assignment_send(
            patient=cast.patient, instrument=instruments["distress-thermometer"], by=cast.nurse
        )
        services.response_submit(
            assignment=a, by=cast.patient_user, raw={"distress": ["3"], "wants_contact": ["no"]}
        )


@pytest.mark.parametrize("n", [1, 3])
def test_list_page_costs_the_same_for_1_and_3_answers(
    cast, instruments, django_assert_num_queries, n
):
    _answered(cast, instruments, n)
    client = _client(cast, "patient")
    client.get(reverse("selfmonitor_list", args=[cast.plan.pk]))  # warm the session
    # session, user, plan+patient+template (the patient's own reach needs no query), then
    # in one round trip (prepared.together): completed responses+instrument, the
    # responsible unit (the urgent phone), open assignments+instrument = 4
    with django_assert_num_queries(4):
        response = client.get(reverse("selfmonitor_list", args=[cast.plan.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("n", [1, 3])
def test_trend_page_costs_the_same_for_1_and_3_answers(
    cast, instruments, django_assert_num_queries, n
):
    _answered(cast, instruments, n)
    client = _client(cast, "patient")
    client.get(reverse("selfmonitor_trend", args=[cast.plan.pk, "distress-thermometer"]))
    # session, user, plan+patient+template, the current instrument with the trend rows = 4
    with django_assert_num_queries(4):
        response = client.get(
            reverse("selfmonitor_trend", args=[cast.plan.pk, "distress-thermometer"])
        )
    assert response.status_code == 200
    assert b"<svg" in response.content
    assert b"<table" in response.content


def test_the_patients_access_log_names_questionnaire_reads_in_plain_words(cast, send):
    assignment = send()
    response = services.response_submit(
        assignment=assignment,
        by=cast.patient_user,
        raw={"distress": ["8"], "wants_contact": ["no"]},
    ).response
    _client(cast, "nurse").get(reverse("selfmonitor_response", args=[response.pk]))
    page = _client(cast, "patient").get(reverse("my_access_log"))
    assert "your answers to a questionnaire" in page.content.decode()


def test_next_warns_about_an_unanswered_required_question_and_keeps_the_answers(cast, send):
    assignment = send("symptom-scale")
    client = _client(cast, "patient")
    response = _post(client, assignment, page=1, action="next", pain="3")
    assert response.status_code == 400
    assert response.context["page_no"] == 1
    missing = {e["id"] for e in response.context["summary"]}
    assert "tiredness" in missing and "pain" not in missing
    assert b'value="3" checked' in response.content
    assert Response.objects.get(assignment=assignment).answers == {"pain": 3}


# --- Parsed instruments are kept per process (a version never changes) -----------------------


@pytest.mark.parametrize("page", ["selfmonitor_list", "selfmonitor_trend"])
def test_list_and_trend_decode_no_instrument_definition_once_warm(cast, instruments, page):
    _answered(cast, instruments, 3)
    client = _client(cast, "patient")
    args = [cast.plan.pk] + (["distress-thermometer"] if page == "selfmonitor_trend" else [])
    client.get(reverse(page, args=args))  # the process parses each version once
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(page, args=args))
    assert response.status_code == 200
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert '"selfmonitor_instrument"."definition"' not in sql
    assert instruments["distress-thermometer"].title_en in response.content.decode()


def test_a_parsed_instrument_is_a_new_entry_for_a_new_version_or_a_reused_id(instruments):
    dt_ = instruments["distress-thermometer"]
    light = Instrument.objects.only(*Instrument.LIGHT_FIELDS).get(pk=dt_.pk)
    first = Instrument.parsed(light)
    assert first.definition == dt_.definition
    assert Instrument.parsed(light) is first  # kept
    # The same id loaded again (a test database may reuse ids) is another entry.
    Instrument.objects.filter(pk=dt_.pk).update(title_sv="Ny titel", loaded_at=timezone.now())
    light = Instrument.objects.only(*Instrument.LIGHT_FIELDS).get(pk=dt_.pk)
    assert Instrument.parsed(light).title_sv == "Ny titel"
