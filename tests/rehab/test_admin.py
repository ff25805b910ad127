"""The care team's rehab admin: unit scoping, access-log rows, the assessment form with
its suggestion, referrals, the plan's inlines, reports and the worklist."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog, CarePlan
from careplan.testing import login
from rehab import services
from rehab.models import KvaCode, Level, NeedsAssessment, Referral, RehabPlan
from tests import factories as f
from tests.careplan.test_admin import form_data

from .conftest import add_goal, add_intervention, english

pytestmark = pytest.mark.django_db


def admin(cast, who) -> Client:
    return english(cast.client(who))


def url(name, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def admin_logs():
    return AccessLog.objects.filter(channel="admin").order_by("id")


def assessment_post(cast, **overrides) -> dict:
    return {
        "patient": cast.patient.pk,
        "level": Level.SARSKILD,
        "reason": "initial",
        "needs_physical": "Trötthet",
        "needs_psychological": "",
        "needs_social": "Oro för arbetet",
        "needs_existential": "",
        "summary": "Behöver stöd av fysioterapeut.",
        **overrides,
    }


# --- Assessment form ---------------------------------------------------------------------------


def test_the_assessment_form_shows_the_suggestion_beside_it_and_logs_the_read(cast):
    response = admin(cast, "nurse").get(
        url("rehab_needsassessment_add") + f"?patient={cast.patient.pk}"
    )
    assert response.status_code == 200
    assert "Suggested level" in response.text and "Basic (grundläggande)" in response.text
    assert "No screening results" in response.text
    row = admin_logs().get(action="view")
    assert (row.user, row.patient, row.action, row.outcome) == (
        cast.nurse,
        cast.patient,
        "view",
        "allowed",
    )
    # The patient picker lists the unit's patients: a list row too (issue 12).
    assert admin_logs().filter(action="list", patient=cast.patient).count() == 1


def test_a_nurse_of_another_unit_gets_no_patient_and_a_denied_row(cast):
    response = admin(cast, "other_nurse").get(
        url("rehab_needsassessment_add") + f"?patient={cast.patient.pk}"
    )
    assert response.status_code == 200
    assert "Alva" not in response.text
    row = admin_logs().get()
    assert (row.user, row.outcome) == (cast.other_nurse, "denied")


def test_an_assessment_is_recorded_coded_and_logged(cast):
    response = admin(cast, "nurse").post(url("rehab_needsassessment_add"), assessment_post(cast))
    assert response.status_code == 302
    a = NeedsAssessment.objects.get()
    assert a.kva.code == "AW019" and a.suggested_level == Level.GRUNDLAGGANDE
    assert admin_logs().filter(action="create", patient=cast.patient).count() == 1


@pytest.mark.parametrize("level", ["extrem", ""])
def test_a_level_outside_the_three_is_refused_and_what_was_typed_is_kept(cast, level):
    response = admin(cast, "nurse").post(
        url("rehab_needsassessment_add"), assessment_post(cast, level=level)
    )
    assert response.status_code == 200
    assert not NeedsAssessment.objects.exists()
    errors = response.context["form"].errors["level"][0]
    assert "three levels" in errors or "Choose the level" in errors
    assert "Behöver stöd av fysioterapeut." in response.text
    assert "Oro för arbetet" in response.text


def test_advanced_needs_require_a_referral_and_make_one(cast, rehab_unit):
    client = admin(cast, "nurse")
    refused = client.post(
        url("rehab_needsassessment_add"), assessment_post(cast, level="avancerad")
    )
    assert refused.status_code == 200
    assert "refer_to" in refused.context["form"].errors
    assert not NeedsAssessment.objects.exists()

    done = client.post(
        url("rehab_needsassessment_add"),
        assessment_post(
            cast, level="avancerad", refer_to=rehab_unit.pk, referral_reason="Komplexa behov"
        ),
    )
    assert done.status_code == 302
    referral = Referral.objects.get()
    assert (referral.to_unit, referral.from_unit, referral.status) == (
        rehab_unit,
        cast.unit,
        "sent",
    )


def test_an_assessment_cannot_be_changed(cast):
    a = services.assessment_record(
        patient=cast.patient, by=cast.nurse, level="grundlaggande", summary="S"
    )
    client = admin(cast, "nurse")
    response = client.get(url("rehab_needsassessment_change", a.pk))
    assert response.status_code == 200
    assert 'name="summary"' not in response.text


# --- Referrals ----------------------------------------------------------------------------------


@pytest.fixture
def referral(cast, rehab_unit) -> Referral:
    a = services.assessment_record(
        patient=cast.patient, by=cast.nurse, level="avancerad", summary="S"
    )
    return services.referral_send(assessment=a, to_unit=rehab_unit, by=cast.nurse, reason="Behov")


def test_the_rehab_unit_sees_incoming_referrals_and_others_do_not(cast, referral, rehab_nurse):
    theirs = english(login(Client(), rehab_nurse)).get(
        url("rehab_referral_changelist") + "?direction=incoming"
    )
    other = admin(cast, "other_nurse").get(url("rehab_referral_changelist"))
    assert list(theirs.context["cl"].result_list) == [referral]
    assert list(other.context["cl"].result_list) == []
    row = admin_logs().get()
    assert (row.user, row.action, row.acting_unit) == (rehab_nurse, "list", referral.to_unit)


def test_declining_needs_a_reason_and_accepting_works(cast, referral, rehab_nurse):
    client = english(login(Client(), rehab_nurse))
    decide = url("rehab_referral_decide", referral.pk)
    refused = client.post(decide, {"decision": "decline", "decision_reason": ""})
    assert refused.status_code == 200
    assert "Write why the referral is declined." in refused.text
    referral.refresh_from_db()
    assert referral.status == "sent"

    client.post(decide, {"decision": "decline", "decision_reason": "Fullt till mars"})
    referral.refresh_from_db()
    assert (referral.status, referral.decision_reason) == ("declined", "Fullt till mars")
    assert admin_logs().filter(user=rehab_nurse, action="update", outcome="allowed").count() == 1


def test_the_sending_unit_cannot_decide(cast, referral):
    response = admin(cast, "nurse").post(
        url("rehab_referral_decide", referral.pk), {"decision": "accept"}
    )
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == "sent"
    assert admin_logs().filter(outcome="denied").count() == 1


# --- The plan -----------------------------------------------------------------------------------


def _no_rows(*prefixes: str) -> dict:
    """Empty inline formsets: the add page has goals, interventions and follow-ups too."""
    data = {}
    for prefix in prefixes:
        data |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return data


def test_a_rehab_plan_is_created_for_a_care_plan_of_my_unit(cast):
    client = admin(cast, "nurse")
    response = client.post(
        url("rehab_rehabplan_add"),
        {
            "care_plan": cast.plan.pk,
            "summary_assessment": "Trötthet",
            "timetable": "",
            "self_care_text": "",
            **_no_rows("goals", "interventions", "follow_ups"),
        },
    )
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )
    rehab = RehabPlan.objects.get()
    assert rehab.patient == cast.patient and rehab.history.count() == 1


def test_another_units_care_plan_cannot_get_a_rehab_plan_from_me(cast):
    response = admin(cast, "other_nurse").post(
        url("rehab_rehabplan_add"),
        {
            "care_plan": cast.plan.pk,
            "summary_assessment": "x",
            **_no_rows("goals", "interventions", "follow_ups"),
        },
    )
    assert response.status_code == 200
    assert not RehabPlan.objects.exists()


def _change(client, rehab, **edits) -> tuple:
    page = client.get(url("rehab_rehabplan_change", rehab.pk))
    data = form_data(page)
    data.update(edits)
    return client.post(url("rehab_rehabplan_change", rehab.pk), data), data


def test_an_intervention_with_an_expired_code_is_refused_and_nothing_is_lost(
    cast, rehab, retired_code
):
    client = admin(cast, "nurse")
    response, data = _change(
        client,
        rehab,
        **{"interventions-0-kva": "ZZ999", "timetable": "Ny tidplan som inte får försvinna"},
    )
    assert response.status_code == 200
    assert "ZZ999 was retired on 2020-12-31" in response.text
    assert "Ny tidplan som inte får försvinna" in response.text
    rehab.refresh_from_db()
    assert rehab.timetable != "Ny tidplan som inte får försvinna"
    assert rehab.interventions.get().kva.code == "AU010"


def test_an_intervention_without_code_or_with_dates_out_of_order_is_refused(cast, rehab):
    client = admin(cast, "nurse")
    response, _ = _change(client, rehab, **{"interventions-0-kva": ""})
    assert "Give a KVÅ code." in response.text
    response, _ = _change(client, rehab, **{"interventions-0-ends_on": "2000-01-01"})
    assert "The intervention cannot end before it starts." in response.text
    assert rehab.interventions.get().ends_on is None


def test_a_change_is_saved_with_history_and_asks_for_a_new_agreement(cast, rehab):
    services.rehab_plan_agree(rehab_plan=rehab, by=cast.patient_user)
    client = admin(cast, "nurse")
    response, _ = _change(
        client, rehab, **{"goals-0-evaluation": "reached", "interventions-0-kva": "dv111"}
    )
    assert response.status_code == 302
    rehab.refresh_from_db()
    assert rehab.agreed_at is None
    assert rehab.goals.get().evaluation == "reached"
    assert rehab.interventions.get().kva.code == "DV111"
    assert rehab.history.first().snapshot["interventions"][0]["kva"] == "DV111"


def test_the_change_page_is_scoped_and_logged(cast, rehab):
    assert (
        admin(cast, "other_nurse").get(url("rehab_rehabplan_change", rehab.pk)).status_code == 404
    )
    assert admin(cast, "nurse").get(url("rehab_rehabplan_change", rehab.pk)).status_code == 200
    assert [(r.user, r.outcome) for r in admin_logs()] == [
        (cast.other_nurse, "denied"),
        (cast.nurse, "allowed"),
    ]


# --- Worklist --------------------------------------------------------------------------------


def test_the_worklist_shows_due_reassessments_with_their_reason(cast):
    client = admin(cast, "nurse")
    response = client.get(url("index"))
    assert "Rehabilitation needs to (re)assess" in response.text
    assert "Not yet assessed" in response.text
    services.assessment_record(
        patient=cast.patient, by=cast.nurse, level="grundlaggande", summary="S"
    )
    CarePlan.objects.filter(pk=cast.plan.pk).update(phase="uppfoljning")
    response = client.get(url("index"))
    assert "Phase changed to Follow-up" in response.text
    assert "Not yet assessed" not in response.text
    assert "Alva" not in admin(cast, "other_nurse").get(url("index")).text


# --- Reports ---------------------------------------------------------------------------------


def test_the_report_and_its_csv_export_is_access_logged(cast, rehab):
    services.assessment_record(patient=cast.patient, by=cast.nurse, level="sarskild", summary="S")
    today = timezone.localdate()
    query = f"?unit={cast.unit.pk}&start={today.replace(day=1)}&end={today}"
    client = admin(cast, "nurse")
    page = client.get(url("rehab_rehabplan_report") + query)
    assert page.status_code == 200 and "AU010" in page.text
    assert not admin_logs().exists()

    export = client.get(url("rehab_rehabplan_report") + query + "&format=csv")

    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert [
        cast.unit.hsa_id,
        str(today.replace(day=1)),
        str(today),
        "assessed_by_level",
        "sarskild",
        "1",
    ] in rows
    assert cast.patient.personnummer not in export.content.decode()
    row = admin_logs().get()
    assert (row.patient, row.action, row.object_type) == (cast.patient, "export", "RehabReport")


def test_a_report_of_another_unit_is_refused(cast):
    today = timezone.localdate()
    response = admin(cast, "nurse").get(
        url("rehab_rehabplan_report")
        + f"?unit={cast.other_unit.pk}&start={today}&end={today}&format=csv"
    )
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors


def test_a_report_period_out_of_order_is_refused(cast):
    response = admin(cast, "nurse").get(
        url("rehab_rehabplan_report") + f"?unit={cast.unit.pk}&start=2026-02-01&end=2026-01-01"
    )
    assert "The period cannot end before it starts." in response.text


# --- Query counts ----------------------------------------------------------------------------


def _count(client, u) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(u).status_code == 200
    return len(ctx.captured_queries)


def _another_patient(cast, rehab_unit):
    plan = f.covered_plan(cast.unit, nurse=cast.nurse)
    rehab = RehabPlan.objects.create(care_plan=plan, patient=plan.patient)
    add_goal(rehab)
    add_intervention(rehab, cast.unit)
    a = services.assessment_record(
        patient=plan.patient, by=cast.nurse, level="avancerad", summary="S"
    )
    services.referral_send(assessment=a, to_unit=rehab_unit, by=cast.nurse, reason="x")


@pytest.mark.parametrize("page", ["rehab_rehabplan", "rehab_needsassessment", "rehab_referral"])
def test_changelists_cost_the_same_for_one_and_three_rows(cast, rehab, rehab_unit, page):
    a = services.assessment_record(
        patient=cast.patient, by=cast.nurse, level="avancerad", summary="S"
    )
    services.referral_send(assessment=a, to_unit=rehab_unit, by=cast.nurse, reason="x")
    client = admin(cast, "nurse")
    u = url(f"{page}_changelist")
    client.get(u)
    one = _count(client, u)
    _another_patient(cast, rehab_unit)
    _another_patient(cast, rehab_unit)
    assert len(client.get(u).context["cl"].result_list) == 3
    assert _count(client, u) == one


@pytest.mark.parametrize("page", ["rehab_rehabplan", "rehab_needsassessment", "rehab_referral"])
def test_changelists_cost_a_pinned_number_of_queries(
    cast, rehab, referral, page, django_assert_num_queries
):
    client = admin(cast, "nurse")
    u = url(f"{page}_changelist")
    client.get(u)  # the session's first request also stores the activity time
    # 1 session, 2 user, 3 my units, 4 row count, 5 the page of rows (patient, related
    # names and the acting unit joined or annotated), 6 access-log rows (one insert). The
    # user's and groups' model permissions are not asked (no admin sidebar:
    # careplan.admin_site).
    with django_assert_num_queries(6):
        client.get(u)


def test_a_refused_referral_leaves_no_assessment_behind(cast, rehab_unit, monkeypatch):
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        raise ValidationError({"reason": "The unit takes no referrals now."})

    monkeypatch.setattr(services, "referral_send", refuse)
    response = admin(cast, "nurse").post(
        url("rehab_needsassessment_add"),
        assessment_post(cast, level="avancerad", refer_to=rehab_unit.pk, referral_reason="x"),
    )
    assert response.status_code == 200
    assert "The unit takes no referrals now." in response.text
    assert not NeedsAssessment.objects.exists()


# --- Who works in the rehab admin ----------------------------------------------------------


@pytest.mark.parametrize("who", ["patient", "relative", "stranger_relative", "anonymous"])
@pytest.mark.parametrize(
    "name",
    [
        "rehab_rehabplan_changelist",
        "rehab_needsassessment_add",
        "rehab_referral_changelist",
        "rehab_rehabplan_report",
        "rehab_kvacode_changelist",
    ],
)
def test_only_the_care_team_reaches_the_rehab_admin(cast, rehab, who, name):
    response = admin(cast, who).get(url(name))
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert not AccessLog.objects.exists()


def test_the_report_names_every_referral_outcome(cast, referral):
    today = timezone.localdate()
    page = admin(cast, "nurse").get(
        url("rehab_rehabplan_report") + f"?unit={cast.unit.pk}&start={today}&end={today}"
    )
    for label in ("Sent", "Accepted", "Declined"):
        assert f"<td>{label}</td>" in page.text


def test_the_plan_offers_a_new_assessment_when_needs_change(cast, rehab):
    client = admin(cast, "nurse")
    page = client.get(url("rehab_rehabplan_change", rehab.pk))
    link = url("rehab_needsassessment_add") + f"?patient={cast.patient.pk}&amp;reason=needs_changed"
    assert link in page.text
    form = client.get(link.replace("&amp;", "&")).context["form"]
    assert form.initial == {"patient": cast.patient.pk, "reason": "needs_changed"}


def test_goals_and_interventions_are_filled_in_on_the_first_save(cast):
    client = admin(cast, "nurse")
    data = {
        "care_plan": cast.plan.pk,
        "summary_assessment": "Trötthet",
        **_no_rows("follow_ups"),
        "goals-TOTAL_FORMS": "1",
        "goals-INITIAL_FORMS": "0",
        "goals-0-area": "fysiska",
        "goals-0-order": "0",
        "goals-0-text": "Orka gå till affären",
        "goals-0-success_measure": "Går själv varje vecka",
        "interventions-TOTAL_FORMS": "1",
        "interventions-INITIAL_FORMS": "0",
        "interventions-0-area": "fysiska",
        "interventions-0-kva": "AU010",
        "interventions-0-description": "Fysioterapi",
        "interventions-0-profession": "physiotherapist",
        "interventions-0-unit": cast.unit.pk,
        "interventions-0-starts_on": timezone.localdate().isoformat(),
        "interventions-0-status": "planned",
    }
    response = client.post(url("rehab_rehabplan_add"), data)
    assert response.status_code == 302, response.context and [
        fs.errors for fs in response.context["inline_admin_formsets"]
    ]
    rehab = RehabPlan.objects.get()
    assert rehab.goals.get().text == "Orka gå till affären"
    assert rehab.interventions.get().kva.code == "AU010"


def test_kva_codes_are_found_by_code_or_title_and_retired_ones_are_not_offered(cast, retired_code):
    client = admin(cast, "nurse")
    search = url("rehab_kvacode_search")
    by_code = client.get(search, {"q": "au01"}).json()["results"]
    assert "AU010" in [r["code"] for r in by_code]
    title = KvaCode.objects.get(code="AU010").title_sv
    word = title.split()[0]
    assert "AU010" in [r["code"] for r in client.get(search, {"q": word}).json()["results"]]
    assert client.get(search, {"q": "ZZ9"}).json()["results"] == []
    assert client.get(search, {"q": "Testkod"}).json()["results"] == []
    assert admin(cast, "patient").get(search, {"q": "au"}).status_code == 302


def test_an_unknown_kva_code_gets_one_clear_error(cast, rehab):
    client = admin(cast, "nurse")
    response, _ = _change(client, rehab, **{"interventions-0-kva": "QQ123"})
    assert response.status_code == 200
    assert "QQ123 is not a KVÅ code in the catalogue." in response.text
