"""Patient lists read in the admin leave access-log rows: the autocomplete endpoint and
the patient/plan pickers of the add forms (issue 12, "Access and privacy")."""

from __future__ import annotations

import pytest

from careplan.models import AccessLog, CalendarEvent
from tests import factories as f

AUTOCOMPLETE = "/admin/autocomplete/?app_label={app}&model_name={model}&field_name={field}&term="


@pytest.fixture
def two_more(cast):
    """Two more patients of the nurse's unit, one of another unit (never listed)."""
    mine = [f.covered_plan(cast.unit) for _ in range(2)]
    theirs = f.covered_plan(cast.other_unit)
    return mine, theirs


def _list_rows(user):
    return AccessLog.objects.filter(user=user, action="list", channel="admin")


@pytest.mark.parametrize(
    "app,model,field,object_type",
    [
        ("careplan", "careplan", "patient", "Patient"),
        ("careplan", "calendarevent", "plan", "CarePlan"),
    ],
)
def test_the_admin_autocomplete_logs_one_list_row_per_patient_shown(
    cast, two_more, app, model, field, object_type
):
    mine, theirs = two_more
    response = cast.client("nurse").get(AUTOCOMPLETE.format(app=app, model=model, field=field))
    assert response.status_code == 200
    shown = {int(r["id"]) for r in response.json()["results"]}
    rows = _list_rows(cast.nurse)
    assert {r.patient_id for r in rows} == {cast.patient.pk, *(p.patient_id for p in mine)}
    assert {r.object_type for r in rows} == {object_type}
    assert {int(r.object_id) for r in rows} == shown
    assert all(r.acting_unit_id == cast.unit.pk for r in rows)
    assert theirs.patient_id not in {r.patient_id for r in rows}


def test_the_autocomplete_of_another_unit_lists_and_logs_none_of_ours(cast, two_more):
    response = cast.client("other_nurse").get(
        AUTOCOMPLETE.format(app="careplan", model="careplan", field="patient")
    )
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert cast.patient.pk not in ids
    assert not _list_rows(cast.other_nurse).filter(patient=cast.patient).exists()


@pytest.mark.parametrize(
    "url,object_type",
    [
        ("/admin/careplan/careplan/add/", "Patient"),
        ("/admin/careplan/calendarevent/add/", "CarePlan"),
        ("/admin/careplan/contactnurseassignment/add/", "Patient"),
        ("/admin/contacts/handover/add/", None),
        ("/admin/rehab/needsassessment/add/", "Patient"),
        ("/admin/rehab/rehabplan/add/", None),
        ("/admin/selfmonitor/assignment/add/", None),
        ("/admin/contacts/caremap/add/", "Patient"),
    ],
)
def test_each_add_forms_patient_picker_logs_the_patients_it_offers(
    cast, two_more, url, object_type
):
    mine, theirs = two_more
    response = cast.client("nurse").get(url)
    assert response.status_code == 200
    rows = _list_rows(cast.nurse)
    offered = {p.patient_id for p in mine} | {cast.patient.pk}
    assert {r.patient_id for r in rows} <= offered
    assert rows.count() == len({r.patient_id for r in rows})  # one row per patient
    assert rows.filter(patient=cast.patient).exists()
    assert not rows.filter(patient_id=theirs.patient_id).exists()
    if object_type is not None:
        assert {r.object_type for r in rows} == {object_type}
        assert {r.patient_id for r in rows} == offered


# --- Denied attempts on admin delete pages ------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_delete_page_refused_to_the_own_unit_logs_the_refusal(cast, method):
    """A care plan is never deleted in the admin: the own nurse is refused, and logged."""
    url = f"/admin/careplan/careplan/{cast.plan.pk}/delete/"
    response = getattr(cast.client("nurse"), method)(
        url, {"post": "yes"} if method == "post" else None
    )
    assert response.status_code == 403
    rows = AccessLog.objects.filter(user=cast.nurse, outcome="denied")
    assert [(r.action, r.patient_id, r.object_type) for r in rows] == [
        ("delete", cast.patient.pk, "CarePlan")
    ]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_delete_page_of_another_units_record_logs_the_refusal(cast, method):
    event = f.CalendarEventFactory(plan=cast.plan)
    url = f"/admin/careplan/calendarevent/{event.pk}/delete/"
    response = getattr(cast.client("other_nurse"), method)(url)
    assert response.status_code == 404
    row = AccessLog.objects.get(user=cast.other_nurse)
    assert (row.outcome, row.patient_id, row.object_type) == (
        "denied",
        cast.patient.pk,
        "CalendarEvent",
    )
    assert CalendarEvent.objects.filter(pk=event.pk).exists()


# Queries, pinned:
#   autocomplete: session, user, the nurse's unit ids, COUNT for the page, the page of
#     patients (acting unit as a subquery), INSERT of the list rows (one bulk insert)
#   add form: session, user, the nurse's unit ids, the picker's patient ids with their
#     acting unit (the logging), INSERT of the list rows, the picker's choices as
#     rendered, the plan templates' choices (no admin sidebar asking for the user's and
#     groups' permissions: careplan.admin_site)
LOGGED_LIST_QUERIES = {
    AUTOCOMPLETE.format(app="careplan", model="careplan", field="patient"): 6,
    "/admin/careplan/careplan/add/": 7,
}


@pytest.mark.parametrize("url", list(LOGGED_LIST_QUERIES))
def test_the_logged_lists_cost_the_same_for_one_and_three_patients(
    cast, url, django_assert_num_queries
):
    client = cast.client("nurse")
    client.get("/admin/")  # the session's first request stores its activity time
    with django_assert_num_queries(LOGGED_LIST_QUERIES[url]):
        client.get(url)
    for _ in range(2):
        f.covered_plan(cast.unit)
    before = _list_rows(cast.nurse).count()
    with django_assert_num_queries(LOGGED_LIST_QUERIES[url]):
        client.get(url)
    assert _list_rows(cast.nurse).count() - before == 3  # one row per patient listed
