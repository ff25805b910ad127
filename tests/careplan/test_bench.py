"""manage.py bench: seeds in bulk, measures three pages, reports figures (never timings
as pass/fail)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from careplan import bench
from careplan import personnummer as pnr
from careplan.models import (
    AccessLog,
    CalendarEvent,
    CarePlan,
    CareRelation,
    ContactNurseAssignment,
    Patient,
    PlanChange,
    PlanSection,
)

from .. import factories as f

PAGES = {
    "patient_start",
    "plan_pdf",
    "admin_patient_list",
    "admin_worklist",
    "admin_patient_overview",
}


def run_bench(tmp_path, *args: str) -> tuple[str, dict]:
    out = StringIO()
    path = tmp_path / "bench.json"
    call_command("bench", *args, "--json", str(path), stdout=out, stderr=StringIO())
    return out.getvalue(), json.loads(path.read_text("utf-8"))


@pytest.mark.django_db
def test_it_reports_the_three_pages_with_latency_queries_and_size(tmp_path):
    text, report = run_bench(tmp_path, "--patients", "20", "--requests", "2")

    pages = {p["key"]: p for p in report["pages"]}
    assert set(pages) == PAGES
    for key, page in pages.items():
        assert page["available"], (key, page["note"])
        assert page["requests"] == 2
        assert page["statuses"] == {"200": 2}, key
        for figure in ("p50_ms", "p95_ms", "max_ms"):
            assert isinstance(page[figure], float) and page[figure] > 0, (key, figure)
        assert page["p50_ms"] <= page["p95_ms"] <= page["max_ms"]
        assert isinstance(page["queries_p50"], int) and page["queries_p50"] > 0
        assert page["queries_max"] >= page["queries_p50"]
        assert page["bytes_p50"] > 0
        assert page["slowest_query_ms"] >= 0 and page["slowest_query_sql"]
        assert page["label"] in text
    assert pages["plan_pdf"]["bytes_p50"] > 1000
    assert report["database"]["vendor"] == connection.vendor
    assert report["rows"]["careplan.Patient"] >= 20
    assert report["seed"] == report["seed"] | {"patients": 20, "reused": False}
    assert report["peak_rss_mb"] > 0
    assert report["machine"]["cpus"] >= 1
    assert "p50 ms" in text and "peak RSS" in text


@pytest.mark.django_db
def test_it_seeds_every_patient_with_relation_nurse_established_plan_events_and_changes():
    result = bench.seed(patients=20, units=4)

    patients = bench.bench_patients()
    assert result.patients == patients.count() == 20
    assert result.units == 4 and not result.reused
    assert CareRelation.objects.filter(patient__in=patients, ended_at__isnull=True).count() == 20
    assert (
        ContactNurseAssignment.objects.filter(patient__in=patients, ended_on__isnull=True).count()
        == 20
    )
    plans = CarePlan.objects.filter(patient__in=patients, status=CarePlan.Status.ACTIVE)
    assert plans.count() == 20
    assert PlanSection.objects.filter(plan__in=plans).count() == 20 * 7
    assert CalendarEvent.objects.filter(plan__in=plans).count() == 20 * bench.EVENTS_PER_PLAN
    assert PlanChange.objects.filter(plan__in=plans).count() == 20 * bench.CHANGES_PER_PLAN
    for patient in patients:
        pnr.validate_personnummer(patient.personnummer)
        relation = patient.responsible_relation()
        nurse = patient.contact_nurse_assignment()
        assert relation.unit.hsa_id.startswith("BENCH-20-")
        assert nurse.unit_id == relation.unit_id
        assert nurse.nurse.care_units.filter(pk=relation.unit_id).exists()
    # Each unit is responsible for about N/units patients.
    per_unit = {u.pk: u.care_relations.count() for u in bench.bench_units()}
    assert sorted(per_unit.values()) == [5, 5, 5, 5]


def test_synthetic_personnummer_are_valid_and_unique():
    numbers = {bench.synthetic_personnummer(i) for i in (0, 1, 24_999, 25_000, 99_999, 1_999_999)}
    assert len(numbers) == 6
    for number in numbers:
        pnr.validate_personnummer(number)


@pytest.mark.django_db
def test_it_reuses_a_seed_of_the_same_size_and_reseeds_on_request():
    first = bench.seed(patients=6, units=2)
    ids = set(bench.bench_patients().values_list("id", flat=True))

    again = bench.seed(patients=6, units=2)
    assert again.reused and again.units == 2 and again.nurses == first.nurses
    assert set(bench.bench_patients().values_list("id", flat=True)) == ids

    fresh = bench.seed(patients=6, units=2, reseed=True)
    assert not fresh.reused
    assert bench.bench_patients().count() == 6
    assert not set(bench.bench_patients().values_list("id", flat=True)) & ids


@pytest.mark.django_db
def test_another_size_replaces_the_old_seed_and_leaves_other_data_alone():
    bench.seed(patients=6, units=2)
    nurse = bench.bench_users().filter(role="staff").first()
    patient = bench.bench_patients().first()
    AccessLog.objects.create(
        user=nurse, patient=patient, basis="care_relation", action="view", outcome="allowed",
        channel="admin", object_type="Patient",
    )  # fmt: skip
    other = f.covered_plan()

    bench.seed(patients=4, units=2)

    assert bench.bench_patients().count() == 4
    assert bench.existing_seed_size() == 4
    assert Patient.objects.filter(pk=other.patient_id).exists()
    assert CarePlan.objects.filter(pk=other.pk).exists()
    assert not AccessLog.objects.filter(user__email__endswith="@bench.invalid").exists()


@pytest.mark.django_db
def test_it_reports_a_page_without_a_url_as_not_available():
    bench.seed(patients=2, units=1)
    missing = bench.Page("missing", "Missing page", "no_such_url", False, bench._nurse_samples)

    (result,) = bench.measure(requests=1, pages=[missing])

    assert not result.available
    assert "not available" in result.note
    assert "p50_ms" not in result.summary()


@pytest.mark.django_db
def test_it_refuses_bad_sizes_and_unknown_databases():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("bench", "--patients", "0", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="no alias"):
        call_command("bench", "--database", "nowhere", stdout=StringIO(), stderr=StringIO())


def test_percentiles_are_measured_values():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert bench.percentile(values, 50) == 3.0
    assert bench.percentile(values, 95) == 5.0
    assert bench.percentile([7.0], 95) == 7.0


# --- Over HTTP (careplan/httpbench.py) --------------------------------------------------------


def test_the_http_bench_lists_every_page_of_the_issue():
    from careplan import httpbench

    labels = [p.label for p in httpbench.PAGES]
    for wanted in (
        "patient plan page",
        "calendar",
        "questionnaire list",
        "trend (distress thermometer)",
        "plan PDF (reprint, unchanged)",
        "messages",
        "admin patient list",
        "admin alerts",
        "admin message inbox",
        "/api/v1/plans/ (nurse)",
        "relative's start page",
        "relative's plan page",
        "relative's calendar",
        "admin worklist (start page)",
        "admin patient overview",
    ):
        assert wanted in labels


@pytest.mark.django_db
def test_the_http_bench_asks_for_overviews_of_the_nurses_own_patients():
    from careplan import httpbench

    bench.seed(patients=10, units=2)
    patient_ids = httpbench.sample_patient_ids(6)
    nurses = httpbench.askers(patient_ids, nurses=2)["nurse"]
    unit_id = nurses[0].unit_id
    mine = set(
        CareRelation.objects.filter(unit_id=unit_id, ended_at__isnull=True).values_list(
            "patient_id", flat=True
        )
    )
    assert nurses and {w.patient_id for w in nurses} <= mine & set(patient_ids)
    assert len({w.cookie for w in nurses}) == 2  # the nurses take turns
    overview = next(p for p in httpbench.PAGES if p.key == "admin_overview")
    assert overview.path(nurses[0]) == f"/admin/careplan/patient/{nurses[0].patient_id}/overview/"


def test_the_baseline_url_exists_only_in_the_bench_urlconf():
    from django.urls import NoReverseMatch, reverse

    with pytest.raises(NoReverseMatch):
        reverse("bench_baseline", args=[1])
    assert reverse("bench_baseline", args=[1], urlconf="careplan.bench_urls") == (
        "/__bench__/baseline/1/"
    )


@pytest.mark.django_db(transaction=True)
def test_the_http_bench_measures_over_gunicorn_and_wrk(tmp_path):
    """A tiny real run: gunicorn serves the test database, wrk asks; every page answered
    200 (checked first), and the figures are there (no timing is asserted)."""
    from careplan import httpbench

    if connection.vendor != "postgresql":
        pytest.skip("gunicorn needs a database another process can open (PostgreSQL)")
    if not Path(httpbench.WRK).is_file():
        pytest.skip("no wrk (Debian: apt-get install wrk)")
    bench.seed(patients=10, units=2)
    keys = ("plan", "trend", "admin_patients", "relative_plan", "admin_overview")
    pages = [p for p in httpbench.PAGES if p.key in keys]
    report = httpbench.measure(
        sample=3, nurses=1, seconds=1, rounds=1, mixed_connections=(4,), pages=pages
    )
    rows = {r["key"]: r for r in report["rows"]}
    assert set(rows) == {*keys, "mixed_c4"}
    for key, row in rows.items():
        assert row["note"] == "", (key, row["note"])
        assert row["requests"] > 0 and row["errors"] == 0, (key, row)
        assert row["cpu_ms_per_req"] > 0 and row["baseline_cpu_ms_per_req"] > 0, (key, row)
        assert row["times_bare_django"] > 0
    text = httpbench.render(report)
    assert "app CPU ms/req" in text and "× bare Django" in text
