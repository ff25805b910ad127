"""The care team's view: the care map in the admin (logged), who has access, the
worklist of relatives who need support."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from careplan.models import AccessLog
from contacts import services
from contacts.models import CareMapEntry, RelativeGrant

from .. import factories as f
from ..conftest import CAST

pytestmark = pytest.mark.django_db


def en(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def admin_logs():
    return AccessLog.objects.filter(channel=AccessLog.Channel.ADMIN)


CHANGE_STATUS = {
    "patient": 302,  # to the admin login
    "nurse": 200,
    "other_nurse": 404,
    "relative": 302,
    "stranger_relative": 302,
    "anonymous": 302,
}


@pytest.mark.parametrize("who", CAST)
def test_the_care_map_in_the_admin_for_the_responsible_unit_only(cast, care_map, who):
    url = reverse("admin:contacts_caremap_change", args=[care_map.pk])
    response = en(cast.client(who)).get(url)
    assert response.status_code == CHANGE_STATUS[who]
    rows = admin_logs().filter(patient=cast.patient)
    if who == "nurse":
        body = response.content.decode()
        assert 'role="img"' in body and "Ella Andersson" in body
        assert "Needs support:" in body  # the child is flagged
        assert "Rut Relativ" in body  # who has access
        assert rows.count() == 1 and rows.get().outcome == "allowed"
        assert rows.get().basis == "care_relation"
    elif who == "other_nurse":
        assert rows.count() == 1 and rows.get().outcome == "denied"
    else:
        assert not rows.exists()


def test_staff_see_earlier_versions(cast, care_map):
    url = reverse("admin:contacts_caremap_change", args=[care_map.pk])
    body = en(cast.client("nurse")).get(url + "?version=1").content.decode()
    assert "Care map, version 1" in body
    assert "Bo Berg" not in body.split("On the map")[1].split("Versions")[0]


def _inline(prefix: str = "entries", total: int = 1, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_the_nurse_draws_the_map_with_the_patient_in_the_admin(cast, care_map):
    url = reverse("admin:contacts_caremap_change", args=[care_map.pk])
    data = {
        "missing_support": "Someone to talk to",
        **_inline(total=1),
        "entries-0-kind": "person",
        "entries-0-name": "Stina",
        "entries-0-relation": "neighbour",
        "entries-0-closeness": "outer",
        "entries-0-direction": "cares_for_patient",
        "entries-0-frequency": "weekly",
        "entries-0-care_map": str(care_map.pk),
    }
    response = en(cast.client("nurse")).post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    care_map.refresh_from_db()
    assert care_map.missing_support == "Someone to talk to"
    assert care_map.entries.filter(name="Stina", closeness="outer").exists()
    assert care_map.version == 5  # two changes, two versions
    assert set(care_map.versions.filter(number__gt=3).values_list("created_by", flat=True)) == {
        cast.nurse.pk
    }
    update = admin_logs().get(action="update")
    assert update.user == cast.nurse and update.outcome == "allowed"


def test_another_unit_cannot_change_the_map(cast, care_map):
    url = reverse("admin:contacts_caremap_change", args=[care_map.pk])
    response = en(cast.client("other_nurse")).post(url, {"missing_support": "changed"})
    assert response.status_code == 404
    care_map.refresh_from_db()
    assert care_map.missing_support == ""
    assert admin_logs().get().outcome == "denied"


def test_the_nurse_starts_a_map_for_a_patient_of_the_unit_only(cast):
    client = en(cast.client("nurse"))
    other = f.covered_plan(cast.other_unit).patient
    url = reverse("admin:contacts_caremap_add")
    assert client.post(url, {"patient": other.pk}).status_code == 200  # not a choice
    assert not other.__class__.objects.filter(pk=other.pk, care_map__isnull=False).exists()
    response = client.post(url, {"patient": cast.patient.pk})
    assert response.status_code == 302
    assert cast.patient.care_map.version == 0


def test_the_changelist_logs_one_row_per_patient_and_filters_by_support(cast, care_map):
    other = f.covered_plan(cast.unit).patient
    services.care_map_of(other)
    client = en(cast.client("nurse"))
    url = reverse("admin:contacts_caremap_changelist")
    assert len(client.get(url).context["cl"].result_list) == 2
    assert set(admin_logs().values_list("patient_id", flat=True)) == {cast.patient.pk, other.pk}
    flagged = client.get(url + "?support=relatives").context["cl"].result_list
    assert [m.patient_id for m in flagged] == [cast.patient.pk]


def test_staff_see_who_has_access_in_the_grants_list(cast):
    response = en(cast.client("nurse")).get(reverse("admin:careplan_relativegrant_changelist"))
    assert "Rut Relativ" in response.content.decode()
    assert (
        not en(cast.client("other_nurse"))
        .get(reverse("admin:careplan_relativegrant_changelist"))
        .context["cl"]
        .result_list
    )


def test_the_worklist_flags_children_and_relatives_needing_support(cast, care_map):
    services.care_map_support_update(
        care_map=care_map, missing_support="Nobody to drive me", by=cast.patient_user
    )
    mine = en(cast.client("nurse")).get("/admin/").content.decode()
    theirs = en(cast.client("other_nurse")).get("/admin/").content.decode()
    assert "Relative who needs support" in mine and "Misses support" in mine
    assert "Ella Andersson" in mine and "a child" in mine
    assert "Nobody to drive me" in mine
    assert "Ella Andersson" not in theirs
    rows = admin_logs().filter(patient=cast.patient, user=cast.nurse, action="list")
    assert rows.count() == 1  # one row for the patient, however many items they have


@pytest.mark.parametrize("rows", [1, 3])
def test_the_support_sources_cost_one_query_each_for_one_or_three_patients(
    cast, rows, django_assert_num_queries
):
    from contacts.selectors import missing_support_items, relative_support_items

    patients = [cast.patient] + [f.covered_plan(cast.unit).patient for _ in range(rows - 1)]
    for p in patients:
        cmap = services.care_map_of(p)
        cmap.missing_support = "x"
        cmap.save()
        CareMapEntry.objects.create(care_map=cmap, kind="person", name="Kid", is_child=True)
    cast.nurse._careplan_unit_ids = frozenset([cast.unit.pk])
    with django_assert_num_queries(1):
        flagged = relative_support_items(cast.nurse, limit=25)
    with django_assert_num_queries(1):
        missing = missing_support_items(cast.nurse, limit=25)
    assert len(flagged) == rows and len(missing) == rows


def test_a_revoked_grant_is_not_shown_as_access_in_the_care_map(cast, care_map):
    RelativeGrant.objects.filter(pk=cast.grant.pk).update(revoked_at="2025-01-01T00:00Z")
    url = reverse("admin:contacts_caremap_change", args=[care_map.pk])
    body = en(cast.client("nurse")).get(url).content.decode()
    assert "Nobody has access." in body


def _count(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "name", ["admin:contacts_caremap_changelist", "admin:careplan_relativegrant_changelist"]
)
def test_the_admin_lists_cost_the_same_for_one_and_three_patients(cast, care_map, name):
    client = en(cast.client("nurse"))
    url = reverse(name)
    client.get(url)  # the session's first request also stores the activity time
    one = _count(client, url)
    for _ in range(2):
        patient = f.covered_plan(cast.unit).patient
        services.care_map_of(patient)
        f.RelativeGrantFactory(patient=patient)
    three = _count(client, url)
    assert len(client.get(url).context["cl"].result_list) == 3
    assert one == three


def test_removing_a_person_from_the_map_in_the_admin_asks_first(cast, care_map):
    entry = care_map.entries.first()
    url = reverse("admin:contacts_caremap_remove_entry", args=[care_map.pk, entry.pk])
    client = en(cast.client("nurse"))
    page = client.get(url)
    assert page.status_code == 200 and "Earlier versions keep" in page.text
    assert CareMapEntry.objects.filter(pk=entry.pk).exists()
    assert en(cast.client("other_nurse")).post(url).status_code == 404
    assert CareMapEntry.objects.filter(pk=entry.pk).exists()
    assert client.post(url).status_code == 302
    assert not CareMapEntry.objects.filter(pk=entry.pk).exists()
    # The change page has no delete checkbox of its own any more, only the link.
    change = client.get(reverse("admin:contacts_caremap_change", args=[care_map.pk])).text
    assert "-DELETE" not in change and "remove/" in change
