"""API: care map entries, relatives' access and invitations; the whole cast, the access
log, query counts and the FHIR exports (validated with fhir.resources R4B)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.relatedperson import RelatedPerson

from careplan.models import AccessLog
from contacts.models import CareMapEntry, Invitation, RelativeGrant

from .. import factories as f
from ..conftest import CAST

pytestmark = pytest.mark.django_db


def api(cast, who: str) -> Client:
    client = cast.client(who)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


ENTRY = {"kind": "person", "name": "Ella", "closeness": "inner", "is_child": True}

# Who reads one care map entry / grant: the patient and the contact nurse's unit.
READ = {
    "patient": 200,
    "nurse": 200,
    "other_nurse": 404,
    "relative": 404,  # the care map is not a part a patient shares
    "stranger_relative": 404,
    "anonymous": 403,
}


@pytest.mark.parametrize("who", CAST)
def test_reading_an_entry_and_its_fhir(cast, care_map, who):
    entry = care_map.entries.get(name="Ella Andersson")
    client = api(cast, who)
    assert client.get(f"/api/v1/care-map-entries/{entry.pk}/").status_code == READ[who]
    response = client.get(f"/api/v1/care-map-entries/{entry.pk}/fhir/")
    assert response.status_code == READ[who]
    rows = AccessLog.objects.filter(patient=cast.patient)
    if who in ("patient", "anonymous"):
        assert not rows.exists()
    else:
        allowed = READ[who] == 200
        assert rows.count() == 2
        assert set(rows.values_list("outcome", flat=True)) == {"allowed" if allowed else "denied"}
        assert set(rows.values_list("channel", flat=True)) == {"api"}
        assert set(rows.values_list("action", flat=True)) == {"view", "export"}


WRITE = {
    "patient": (200, 204),
    "nurse": (403, 403),
    "other_nurse": (404, 404),
    "relative": (403, 403),  # a relative of this patient: read only
    "stranger_relative": (404, 404),
    "anonymous": (403, 403),
}


@pytest.mark.parametrize("who", CAST)
def test_only_the_patient_writes_the_map(cast, care_map, who):
    entry = care_map.entries.get(name="Bo Berg")
    client = api(cast, who)
    patch = client.patch(
        f"/api/v1/care-map-entries/{entry.pk}/",
        {"closeness": "outer"},
        content_type="application/json",
    )
    delete = client.delete(f"/api/v1/care-map-entries/{entry.pk}/")
    assert (patch.status_code, delete.status_code) == WRITE[who]
    create = client.post("/api/v1/care-map-entries/", ENTRY, content_type="application/json")
    assert create.status_code == (201 if who == "patient" else 403)
    if who != "patient":
        assert CareMapEntry.objects.filter(pk=entry.pk, closeness="middle").exists()
        assert care_map.versions.count() == 3
    if who not in ("patient", "anonymous"):
        denied = AccessLog.objects.filter(patient=cast.patient, outcome="denied")
        assert denied.count() == 2
        assert set(denied.values_list("action", flat=True)) == {"update", "delete"}


def test_the_patient_creates_an_entry_with_a_bad_choice_and_is_told(cast, care_map):
    response = api(cast, "patient").post(
        "/api/v1/care-map-entries/", ENTRY | {"closeness": "far"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "closeness" in response.json()


@pytest.mark.parametrize("who", CAST)
def test_reading_and_exporting_a_grant(cast, who):
    client = api(cast, who)
    expected = {**READ, "relative": 200}  # the relative reads the access given to them
    assert client.get(f"/api/v1/relative-grants/{cast.grant.pk}/").status_code == expected[who]
    response = client.get(f"/api/v1/relative-grants/{cast.grant.pk}/fhir/")
    assert response.status_code == expected[who]
    if response.status_code == 200:
        consent = Consent.model_validate(response.json())
        assert consent.status == "active"
        codes = [p.code[0].coding[0].code for p in consent.provision.provision]
        assert codes == ["plan_sections", "calendar", "contact_nurse"]
    rows = AccessLog.objects.filter(patient=cast.patient)
    assert rows.count() == (0 if who in ("patient", "anonymous") else 2)
    if who == "relative":
        assert set(rows.values_list("basis", flat=True)) == {"relative_grant"}


@pytest.mark.parametrize("who", CAST)
def test_only_the_patient_changes_or_revokes_a_grant(cast, who):
    client = api(cast, who)
    url = f"/api/v1/relative-grants/{cast.grant.pk}/"
    patch = client.patch(url, {"scopes": ["calendar"]}, content_type="application/json")
    revoke = client.post(url + "revoke/")
    if who == "patient":
        assert patch.status_code == 200 and patch.json()["scopes"] == ["calendar"]
        assert revoke.status_code == 200 and revoke.json()["active"] is False
        return
    assert (patch.status_code, revoke.status_code) == (WRITE[who][0], WRITE[who][0])
    cast.grant.refresh_from_db()
    assert cast.grant.revoked_at is None and "plan_sections" in cast.grant.scopes


def test_an_unknown_scope_is_refused_by_the_api(cast):
    response = api(cast, "patient").patch(
        f"/api/v1/relative-grants/{cast.grant.pk}/",
        {"scopes": ["diagnosis"]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "scopes" in response.json()


def test_the_revoked_relative_is_locked_out_of_the_api_on_the_next_request(cast):
    relative = api(cast, "relative")
    assert relative.get(f"/api/v1/plans/{cast.plan.pk}/").status_code == 200
    api(cast, "patient").post(f"/api/v1/relative-grants/{cast.grant.pk}/revoke/")
    assert relative.get(f"/api/v1/plans/{cast.plan.pk}/").status_code == 404
    assert relative.get(f"/api/v1/relative-grants/{cast.grant.pk}/").status_code == 404


@pytest.mark.parametrize("who", CAST)
def test_only_the_patient_invites(cast, who, mailoutbox, django_capture_on_commit_callbacks):
    data = {"email": "new@example.test", "scopes": ["calendar"]}
    with django_capture_on_commit_callbacks(execute=True):
        response = api(cast, who).post(
            "/api/v1/invitations/", data, content_type="application/json"
        )
    if who == "patient":
        assert response.status_code == 201
        body = response.json()
        assert body["state"] == "pending" and "token" not in str(body).lower()
        assert len(mailoutbox) == 1
    else:
        assert response.status_code == 403
        assert not Invitation.objects.exists()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"email": "alva@x", "scopes": ["calendar"]}, "email"),
        ({"email": "n@example.test", "scopes": ["diagnosis"]}, "scopes"),
        ({"email": "n@example.test", "scopes": []}, "scopes"),
        (
            {"email": "n@example.test", "scopes": ["calendar"], "valid_until": "2001-01-01"},
            "valid_until",
        ),
    ],
)
def test_a_bad_invitation_is_refused_by_the_api(cast, data, field):
    response = api(cast, "patient").post(
        "/api/v1/invitations/", data, content_type="application/json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Invitation.objects.exists()


def test_own_address_and_duplicates_are_refused_by_the_api(cast, invite):
    client = api(cast, "patient")
    own = client.post(
        "/api/v1/invitations/",
        {"email": cast.patient_user.email, "scopes": ["calendar"]},
        content_type="application/json",
    )
    assert own.status_code == 400 and "own e-mail" in str(own.json())
    invite(email="dup@example.test")
    dup = client.post(
        "/api/v1/invitations/",
        {"email": "dup@example.test", "scopes": ["calendar"]},
        content_type="application/json",
    )
    assert dup.status_code == 400 and "already been invited" in str(dup.json())


def test_fhir_related_person_and_organization_validate(cast, care_map):
    client = api(cast, "nurse")
    ella = care_map.entries.get(name="Ella Andersson")
    person = RelatedPerson.model_validate(
        client.get(f"/api/v1/care-map-entries/{ella.pk}/fhir/").json()
    )
    assert person.patient.reference == f"Patient/{cast.patient.pk}"
    assert person.name[0].text == "Ella Andersson"
    assert any(c.code == "CHILD" for r in person.relationship for c in (r.coding or []))
    home_care = care_map.entries.get(name="Hemtjänsten")
    org = Organization.model_validate(
        client.get(f"/api/v1/care-map-entries/{home_care.pk}/fhir/").json()
    )
    assert org.name == "Hemtjänsten" and org.telecom[0].value == "010-111 11 11"
    assert cast.patient.personnummer not in str(
        client.get(f"/api/v1/care-map-entries/{ella.pk}/fhir/").json()
    )


def test_a_revoked_grant_exports_as_an_inactive_consent(cast):
    RelativeGrant.objects.filter(pk=cast.grant.pk).update(revoked_at=timezone.now())
    data = api(cast, "patient").get(f"/api/v1/relative-grants/{cast.grant.pk}/fhir/").json()
    consent = Consent.model_validate(data)
    assert consent.status == "inactive"
    assert consent.provision.period.end is not None


# --- Lists: what each sees, and what it costs ---------------------------------------------------


def test_staff_list_only_their_units_patients(cast, care_map):
    other = f.covered_plan(cast.other_unit).patient
    from contacts import services

    services.care_map_entry_save(
        entry=CareMapEntry(care_map=services.care_map_of(other), kind="person", name="Other"),
        by=other.user,
        creating=True,
    )
    names = {
        e["name"] for e in api(cast, "nurse").get("/api/v1/care-map-entries/").json()["results"]
    }
    assert names == {"Ella Andersson", "Bo Berg", "Hemtjänsten"}
    assert api(cast, "relative").get("/api/v1/care-map-entries/").json()["results"] == []
    grants = api(cast, "other_nurse").get("/api/v1/relative-grants/").json()["results"]
    assert grants == []


def _rows(cast, who, rows):
    """``rows`` patients visible to ``who``, each with one entry, one grant, one invitation."""
    from contacts import services

    patients = [cast.patient]
    for _ in range(rows - 1):
        patients.append(f.covered_plan(cast.unit).patient)
    for patient in patients:
        cmap = services.care_map_of(patient)
        CareMapEntry.objects.create(care_map=cmap, kind="person", name="X")
        if patient != cast.patient:
            f.RelativeGrantFactory(patient=patient, relative=cast.relative)
        Invitation.objects.create(
            patient=patient,
            email=f"i{patient.pk}@example.test",
            scopes=["calendar"],
            token_hash=f"{patient.pk:064d}",
            expires_at=timezone.now() + dt.timedelta(days=7),
        )
    return patients


# Queries per list request:
#   1 session, 2 user
#   staff: 3 the user's unit ids (access.staff_unit_ids) | relative: (grants: none needed)
#   the page (acting unit as a subquery; cursor pagination: no COUNT(*))
#   staff: INSERT the access-log rows (one bulk insert) | relative: INSERT too
LIST_QUERIES = {
    ("patient", "care-map-entries"): 3,
    ("nurse", "care-map-entries"): 5,
    ("patient", "relative-grants"): 3,
    ("nurse", "relative-grants"): 5,
    ("relative", "relative-grants"): 4,
    ("patient", "invitations"): 3,
    ("nurse", "invitations"): 5,
}


@pytest.mark.parametrize("rows", [1, 3])
@pytest.mark.parametrize("who, url", list(LIST_QUERIES))
def test_a_list_costs_the_same_queries_for_one_and_three_rows(
    cast, who, url, rows, django_assert_num_queries
):
    patients = _rows(cast, who, rows)
    client = api(cast, who)
    client.get("/api/v1/")  # the session's first request stores its activity time
    with django_assert_num_queries(LIST_QUERIES[(who, url)]):
        response = client.get(f"/api/v1/{url}/")
    results = response.json()["results"]
    if who == "patient":
        assert len(results) == 1
        assert not AccessLog.objects.exists()
    else:
        assert len(results) == rows
        logged = list(AccessLog.objects.values_list("patient_id", flat=True))
        assert sorted(logged) == sorted(p.pk for p in patients)
