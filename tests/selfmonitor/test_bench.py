"""make bench with --selfmonitor-responses: seeds answers in bulk, measures submission and
the trend page, and shows that the trend query uses the (patient, instrument, time)
index. Figures only: nothing here asserts a timing."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from selfmonitor import bench
from selfmonitor.models import Response


@pytest.mark.django_db
def test_bench_seeds_answers_measures_and_uses_the_trend_index(tmp_path):
    out = StringIO()
    path = tmp_path / "bench.json"
    call_command(
        "bench",
        "--patients",
        "10",
        "--requests",
        "2",
        "--selfmonitor-responses",
        "300",
        "--json",
        str(path),
        stdout=out,
        stderr=StringIO(),
    )
    report = json.loads(path.read_text("utf-8"))["selfmonitor"]
    assert report["seed"]["responses"] == 300
    assert bench.bench_responses().filter(status="completed").count() >= 300
    for key in ("trend_page", "submission"):
        assert report[key]["requests"] == 2
        assert report[key]["statuses"] in ([200], [302])
        assert report[key]["queries_p50"] > 0
    assert report["trend_page"]["statuses"] == [200]
    assert report["submission"]["statuses"] == [302]  # sent, on to the results
    # The bench reports the planner's real choice. With a few hundred rows PostgreSQL
    # may rightly prefer a sequential scan, so here we check that the report carries the
    # plan and that the index serves the query once scanning the table is ruled out.
    assert report["trend_query_plan"]
    assert "trend query uses index response_trend:" in out.getvalue()
    patient_id = bench.bench_responses().values_list("patient_id", flat=True).first()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = bench.trend_query(patient_id).explain()
    assert bench.TREND_INDEX in plan, plan


@pytest.mark.django_db
def test_a_seed_of_the_same_size_is_reused(tmp_path):
    call_command(
        "bench", "--patients", "5", "--requests", "1", stdout=StringIO(), stderr=StringIO()
    )
    first = bench.seed(total=50)
    again = bench.seed(total=50)
    assert not first["reused"] and again["reused"]
    assert Response.objects.count() == 50


@pytest.mark.django_db
def test_a_rerun_reuses_the_answers_its_own_measurement_does_not_add_any(tmp_path):
    """The measurement submits questionnaires; those answers are removed again, so a
    second run finds exactly the seeded count and reuses it (it never reseeds)."""
    args = ["--patients", "5", "--requests", "2", "--selfmonitor-responses", "40"]
    call_command("bench", *args, stdout=StringIO(), stderr=StringIO())
    assert bench.bench_responses().count() == 40
    again = bench.seed(total=40)
    assert again["reused"]
    more = bench.seed(total=45)  # a larger size tops up, it does not start over
    assert not more["reused"] and bench.bench_responses().count() == 45
