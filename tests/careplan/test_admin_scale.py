"""Admin lists at national scale: a page load never counts a whole unit (the count reads
at most 1 001 rows), pages are 25 rows, and beyond the cap the page says "more than"."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from careplan.admin import CappedCountPaginator
from tests import factories as f

pytestmark = pytest.mark.django_db

# Every admin list over patient data goes through PatientRecordAdmin (and the access log's
# own admin): each gets the capped paginator.
PATIENT_LISTS = [
    "careplan_patient",
    "careplan_careplan",
    "careplan_calendarevent",
    "careplan_messagethread",
    "careplan_accesslog",
    "selfmonitor_alert",
    "selfmonitor_response",
    "selfmonitor_assignment",
]


def _more_patients(cast, n: int) -> None:
    for _ in range(n):
        f.covered_plan(cast.unit)


def english(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.parametrize("page", PATIENT_LISTS)
def test_no_list_counts_more_than_the_cap(cast, page):
    client = english(cast.client("nurse"))
    url = reverse(f"admin:{page}_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    # one count, and it stops after cap + 1 rows; no second, full count
    assert len(counts) == 1, counts
    assert re.search(rf"LIMIT {CappedCountPaginator.cap + 1}\b", counts[0]), counts[0]


def test_beyond_the_cap_the_list_says_more_than_and_pages_by_25(cast, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 26)
    _more_patients(cast, 29)  # 30 patients in the unit
    client = english(cast.client("nurse"))
    response = client.get(reverse("admin:careplan_patient_changelist"))
    cl = response.context["cl"]
    assert cl.result_count == 27 and cl.paginator.capped  # counting stopped at 27
    assert len(cl.result_list) == 25
    assert "more than 26 patients" in response.content.decode()
    monkeypatch.setattr(CappedCountPaginator, "cap", 1000)
    response = client.get(reverse("admin:careplan_patient_changelist"))
    cl = response.context["cl"]
    assert cl.result_count == 30 and len(cl.result_list) == 25
    assert "30 patients" in response.content.decode()
    second = client.get(reverse("admin:careplan_patient_changelist") + "?p=2")
    assert len(second.context["cl"].result_list) == 5


def test_the_row_checkbox_is_djangos_html_without_a_widget_render(cast):
    from django.contrib import admin
    from django.utils import translation

    from careplan.models import Patient

    model_admin = admin.site._registry[Patient]
    for language in ("sv", "en"):
        with translation.override(language):
            ours = model_admin.action_checkbox(cast.patient)
            djangos = admin.ModelAdmin.action_checkbox(model_admin, cast.patient)
        assert str(ours) == str(djangos)
