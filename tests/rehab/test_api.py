"""The rehab API and its FHIR export: scoping by role with the whole cast, log rows,
pinned query counts, clear refusals, and resources valid against fhir.resources R4B."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan as FhirCarePlan
from fhir.resources.R4B.goal import Goal as FhirGoal
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest

from careplan.models import AccessLog
from contacts.models import Scope
from rehab.fhir import rehab_plan_bundle
from rehab.models import Goal, Intervention, RehabPlan
from tests import factories as f

from .conftest import add_goal, add_intervention

pytestmark = pytest.mark.django_db

LIST = "/api/v1/rehab-plans/"


def detail(rehab) -> str:
    return f"/api/v1/rehab-plans/{rehab.pk}/"


def api(cast, who):
    client = cast.client(who)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def share_rehab(cast) -> None:
    cast.grant.scopes = [*cast.grant.scopes, Scope.REHAB_PLAN]
    cast.grant.save()


@pytest.mark.parametrize(
    ("who", "ids"),
    [
        ("patient", True),
        ("nurse", True),
        ("other_nurse", False),
        ("relative", False),
        ("stranger_relative", False),
    ],
)
def test_the_list_shows_only_plans_one_may_see_with_a_row_per_patient(cast, rehab, who, ids):
    response = api(cast, who).get(LIST)
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == ([rehab.pk] if ids else [])
    rows = list(AccessLog.objects.all())
    if who in ("nurse",):
        assert [(r.patient, r.action, r.channel) for r in rows] == [(cast.patient, "list", "api")]
    else:
        assert rows == []


def test_a_relative_lists_the_plan_once_it_is_shared(cast, rehab):
    share_rehab(cast)
    response = api(cast, "relative").get(LIST)
    assert [r["id"] for r in response.json()["results"]] == [rehab.pk]
    assert AccessLog.objects.get().basis == "relative_grant"


def test_anonymous_is_refused(cast, rehab):
    assert cast.client("anonymous").get(LIST).status_code in (401, 403)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("patient", 200),
        ("nurse", 200),
        ("other_nurse", 404),
        ("relative", 404),
        ("stranger_relative", 404),
    ],
)
def test_retrieve_by_role_and_the_row_it_leaves(cast, rehab, who, status):
    response = api(cast, who).get(detail(rehab))
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["goals"][0]["text"] == "Orka gå till affären själv"
        assert body["interventions"][0]["kva"] == "AU010"
    rows = list(AccessLog.objects.all())
    if who == "patient":
        assert rows == []
    else:
        assert len(rows) == 1 and rows[0].outcome == ("allowed" if status == 200 else "denied")


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_list_costs_a_pinned_number_of_queries(cast, rehab, django_assert_num_queries):
    client = api(cast, "nurse")
    client.get(LIST)
    # 1 session, 2 user, 3 my units, 4 page of plans (with acting unit; cursor
    # pagination: no count), 5 access-log rows (one insert for the page).
    with django_assert_num_queries(5):
        client.get(LIST)


def test_one_and_three_plans_cost_the_same(cast, rehab):
    client = api(cast, "nurse")
    client.get(LIST)
    one = _count(client, LIST)
    for _ in range(2):
        plan = f.covered_plan(cast.unit)
        RehabPlan.objects.create(care_plan=plan, patient=plan.patient)
    assert len(client.get(LIST).json()["results"]) == 3
    assert _count(client, LIST) == one


# --- Writes ------------------------------------------------------------------------------------


def test_the_patient_agrees_through_the_api(cast, rehab):
    response = api(cast, "patient").post(f"{detail(rehab)}agree/")
    assert response.status_code == 200 and response.json()["is_agreed"] is True


def test_agreeing_without_goals_is_a_clear_400(cast, rehab):
    rehab.goals.all().delete()
    response = api(cast, "patient").post(f"{detail(rehab)}agree/")
    assert response.status_code == 400
    assert "no goals yet" in str(response.json())
    rehab.refresh_from_db()
    assert rehab.agreed_at is None


def test_a_shared_relative_cannot_agree(cast, rehab):
    share_rehab(cast)
    assert api(cast, "relative").post(f"{detail(rehab)}agree/").status_code == 403
    assert AccessLog.objects.get().outcome == "denied"


def _intervention(cast, **overrides) -> dict:
    return {
        "area": "fysiska",
        "kva": "DV111",
        "description": "Enkla råd om tobak",
        "profession": "nurse",
        "unit": cast.unit.pk,
        "starts_on": timezone.localdate().isoformat(),
        **overrides,
    }


def test_the_care_team_adds_a_coded_intervention(cast, rehab):
    response = api(cast, "nurse").post(
        f"{detail(rehab)}interventions/", _intervention(cast), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["kva_title"] == "Enkla råd om tobak"
    assert rehab.interventions.count() == 2
    assert rehab.history.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"kva": ""}, "kva", "Give a KVÅ code."),
        ({"kva": "XX123"}, "kva", "XX123 is not a KVÅ code in the catalogue."),
        ({"kva": "ZZ999"}, "kva", "ZZ999 was retired on 2020-12-31"),
        ({"ends_on": "2000-01-01"}, "ends_on", "cannot end before it starts"),
    ],
)
def test_bad_interventions_are_refused_clearly_and_nothing_saved(
    cast, rehab, retired_code, overrides, field, message
):
    response = api(cast, "nurse").post(
        f"{detail(rehab)}interventions/",
        _intervention(cast, **overrides),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert rehab.interventions.count() == 1


def test_the_patient_cannot_add_interventions(cast, rehab):
    response = api(cast, "patient").post(
        f"{detail(rehab)}interventions/", _intervention(cast), content_type="application/json"
    )
    assert response.status_code == 403


def test_the_kva_catalogue_lists_codes_valid_today(cast, retired_code):
    response = api(cast, "nurse").get("/api/v1/kva-codes/")
    codes = [c["code"] for c in response.json()["results"]]
    assert codes == ["AU002", "AU010", "AW019", "DV111"]
    every = api(cast, "nurse").get("/api/v1/kva-codes/?all=1").json()["results"]
    assert "ZZ999" in [c["code"] for c in every]


# --- FHIR ------------------------------------------------------------------------------------


def test_the_fhir_bundle_is_valid_r4b_and_coded_with_kva(cast, rehab):
    done = add_intervention(
        rehab,
        cast.unit,
        code="DV111",
        status=Intervention.Status.DONE,
        starts_on=timezone.localdate() - dt.timedelta(days=10),
        ends_on=timezone.localdate() - dt.timedelta(days=3),
    )
    goal = add_goal(rehab, "Sova bättre")
    goal.evaluation = Goal.Evaluation.REACHED
    goal.evaluated_on = timezone.localdate()
    goal.save()

    data = rehab_plan_bundle(rehab)

    Bundle.model_validate(data)
    resources = {e["resource"]["resourceType"]: [] for e in data["entry"]}
    for e in data["entry"]:
        resources[e["resource"]["resourceType"]].append(e["resource"])
    plan = FhirCarePlan.model_validate(resources["CarePlan"][0])
    assert plan.category[0].text == "Rehabiliteringsplan"
    assert plan.subject.reference == f"Patient/{cast.patient.pk}"
    assert len(plan.goal) == 2 and len(plan.activity) == 2
    goals = [FhirGoal.model_validate(g) for g in resources["Goal"]]
    assert {g.achievementStatus.coding[0].code for g in goals if g.achievementStatus} == {
        "achieved"
    }
    request = ServiceRequest.model_validate(resources["ServiceRequest"][0])
    assert request.code.coding[0].code == "AU010"
    procedure = Procedure.model_validate(resources["Procedure"][0])
    assert procedure.code.coding[0].code == "DV111" and procedure.id.endswith(str(done.pk))
    assert cast.patient.personnummer not in str(data)


@pytest.mark.parametrize(
    ("who", "status"), [("nurse", 200), ("other_nurse", 404), ("relative", 404)]
)
def test_the_fhir_export_is_reached_like_the_plan_and_logged_as_export(cast, rehab, who, status):
    response = api(cast, who).get(f"{detail(rehab)}fhir/")
    assert response.status_code == status
    if status == 200:
        Bundle.model_validate(response.json())
    row = AccessLog.objects.get()
    assert (row.action, row.channel) == ("export", "api")


def test_the_kva_list_costs_a_pinned_number_of_queries(cast, django_assert_num_queries):
    client = api(cast, "nurse")
    client.get("/api/v1/kva-codes/")
    # 1 session, 2 user, 3 page of codes (the catalogue is not patient data: no
    # access-log row; cursor pagination: no count).
    with django_assert_num_queries(3):
        client.get("/api/v1/kva-codes/")
    assert not AccessLog.objects.exists()


def test_one_and_three_kva_codes_cost_the_same(cast):
    from rehab.models import KvaCode

    client = api(cast, "nurse")
    KvaCode.objects.exclude(code="AU010").delete()
    client.get("/api/v1/kva-codes/")
    one = _count(client, "/api/v1/kva-codes/")
    KvaCode.objects.create(code="ZZ101", title_sv="Test ett")
    KvaCode.objects.create(code="ZZ102", title_sv="Test två")
    assert len(client.get("/api/v1/kva-codes/").json()["results"]) == 3
    assert _count(client, "/api/v1/kva-codes/") == one
