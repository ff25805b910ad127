"""The API's cursor pagination (careplan/pagination.py): every list endpoint pages with a
cursor in the list's own order, walks every row exactly once, and never counts the whole
set it pages over (no COUNT(*) over a 20 000-patient unit)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from careplan.api_urls import router
from careplan.models import CarePlan
from careplan.pagination import CursorPagination

from .. import factories as f

pytestmark = pytest.mark.django_db

LIST_URLS = [f"/api/v1/{prefix}/" for prefix, _viewset, _basename in router.registry]


def _walk(client, url: str) -> tuple[list[int], list[str]]:
    ids: list[int] = []
    sql: list[str] = []
    while url:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        data = response.json()
        assert "count" not in data and set(data) == {"next", "previous", "results"}
        ids += [row["id"] for row in data["results"]]
        sql += [q["sql"] for q in ctx.captured_queries]
        url = data["next"]
    return ids, sql


def test_the_nurses_plan_list_walks_every_plan_once_in_order_without_count(cast, settings):
    for _i in range(7):
        f.covered_plan(cast.unit)
    f.covered_plan()  # another unit's: never listed
    CursorPagination.page_size = 3
    try:
        ids, sql = _walk(cast.client("nurse"), "/api/v1/plans/")
    finally:
        CursorPagination.page_size = 50
    expected = list(
        CarePlan.objects.for_units([cast.unit.pk])
        .order_by("-created_at", "-pk")
        .values_list("id", flat=True)
    )
    assert ids == expected and len(ids) == 8  # the cast's plan and seven more
    assert not [q for q in sql if "COUNT(" in q.upper()], "a page counted the whole list"


@pytest.mark.parametrize("url", LIST_URLS)
@pytest.mark.parametrize("who", ["patient", "nurse", "relative"])
def test_every_list_endpoint_pages_with_a_cursor_and_no_count(cast, url, who):
    client = cast.client(who)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    if response.status_code != 200:  # some lists are not for every role
        # 400: the list needs a parameter (e.g. ?patient=)
        assert response.status_code in (400, 403, 404, 405), (url, who, response.status_code)
        return
    data = response.json()
    if isinstance(data, list):  # a list the viewset does not paginate (pagination_class None)
        return
    assert "count" not in data and "next" in data, (url, data.keys())
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()], url


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_the_plan_list_order_is_served_by_an_index(cast):
    """The API's plan list reads its page from the index on (created_at, id), not by
    sorting a unit's 20 000 plans (a sort is ruled out here: a handful of rows would
    rightly be sorted in memory)."""
    qs = CarePlan.objects.for_units([cast.unit.pk]).order_by("-created_at", "-pk")[:51]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    assert "careplan_created" in plan, plan
