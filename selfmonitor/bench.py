"""``manage.py bench --selfmonitor-responses N``: self-monitoring at scale.

Seeds N completed distress-thermometer answers (each with its assignment) spread over the
bench patients and three years, then measures, in-process like the other bench pages:

- the trend page (``selfmonitor_trend``) for sampled bench patients;
- a submission: the final POST of the questionnaire (validation, scoring, alerts);

and shows the trend query's plan, which must use the index ``response_trend``
(patient, instrument_key, submitted_at). Figures, never pass/fail.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplan import bench as core
from careplan.models import CarePlan, CareRelation
from careplan.testing import login

from . import services
from .models import Assignment, Instrument, Response

KEY = "distress-thermometer"
BATCH = 5000
TREND_INDEX = "response_trend"


def _instrument() -> Instrument:
    instrument = Instrument.current(KEY)
    if instrument is None:
        path = services.INSTRUMENT_DIR / f"{KEY}.v1.json"
        instrument, _what = services.instrument_load(
            data=services.read_instrument_file(path), source_file=path.name
        )
    return instrument


def bench_responses():
    return Response.objects.filter(patient__in=core.bench_patients())


def seed(*, total: int, progress: Callable[[str], None] | None = None) -> dict:
    """Exactly ``total`` bench answers (reused when the count matches)."""
    progress = progress or (lambda _m: None)
    started = time.perf_counter()
    instrument = _instrument()
    existing = bench_responses().count()
    if existing == total:
        return {"responses": total, "reused": True, "seconds": 0.0}
    if existing:
        progress(f"removing {existing} earlier bench answers")
        Assignment.objects.filter(patient__in=core.bench_patients()).delete()
    patients = list(
        CarePlan.objects.filter(patient__in=core.bench_patients())
        .order_by("patient_id")
        .values_list("patient_id", "id")
    )
    if not patients:
        raise ValueError("seed the bench patients first")
    units = dict(
        CareRelation.objects.filter(
            patient__in=core.bench_patients(), ended_at__isnull=True
        ).values_list("patient_id", "unit_id")
    )
    rng = random.Random(total)  # noqa: S311 - synthetic data
    now = timezone.now()
    span = 3 * 365 * 24 * 3600
    made = 0
    while made < total:
        n = min(BATCH, total - made)
        assignments = []
        times = []
        for i in range(n):
            patient_id, plan_id = patients[(made + i) % len(patients)]
            at = now - dt.timedelta(seconds=rng.randrange(span))
            times.append(at)
            assignments.append(
                Assignment(
                    patient_id=patient_id,
                    plan_id=plan_id,
                    unit_id=units.get(patient_id),
                    instrument=instrument,
                    status=Assignment.Status.COMPLETED,
                    available_at=at - dt.timedelta(days=1),
                    due_at=at + dt.timedelta(days=6),
                    expires_at=at + dt.timedelta(days=13),
                    dispatched_at=at - dt.timedelta(days=1),
                )
            )
        with transaction.atomic():
            Assignment.objects.bulk_create(assignments, batch_size=1000)
            responses = []
            for a, at in zip(assignments, times, strict=True):
                distress = rng.randrange(11)
                responses.append(
                    Response(
                        assignment_id=a.pk,
                        patient_id=a.patient_id,
                        instrument=instrument,
                        instrument_key=KEY,
                        unit_id=a.unit_id,
                        status=Response.Status.COMPLETED,
                        answers={"distress": distress, "wants_contact": "no"},
                        scores={"distress": distress, "problems": None},
                        started_at=at,
                        submitted_at=at,
                    )
                )
            Response.objects.bulk_create(responses, batch_size=1000)
        made += n
        if made % 100_000 < BATCH:
            progress(f"  {made:,} answers")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"responses": total, "reused": False, "seconds": round(time.perf_counter() - started, 2)}


def trend_query(patient_id: int):
    """The trend page's query, as the view runs it."""
    return (
        Response.objects.filter(
            patient_id=patient_id, instrument_key=KEY, status=Response.Status.COMPLETED
        )
        .order_by("-submitted_at")
        .values_list("submitted_at", "scores")[:200]
    )


def _figures(label: str, samples: list[tuple[float, int, int]]) -> dict:
    ms = [s[0] for s in samples]
    return {
        "label": label,
        "requests": len(samples),
        "statuses": sorted({s[2] for s in samples}),
        "p50_ms": round(core.percentile(ms, 50), 2),
        "p95_ms": round(core.percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2),
        "queries_p50": int(core.percentile([s[1] for s in samples], 50)),
    }


def measure(*, requests: int, warmup: int = 1) -> dict:
    rng = random.Random(7)  # noqa: S311 - picks whom to ask
    instrument = _instrument()
    ids = list(
        CarePlan.objects.filter(
            patient__in=core.bench_patients(), status=CarePlan.Status.ACTIVE
        ).values_list("id", flat=True)
    )
    picked = [rng.choice(ids) for _i in range(warmup + requests)] if ids else []
    by_id = CarePlan.objects.select_related("patient__user").in_bulk(picked)
    plans = [by_id[pk] for pk in picked]
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    mail = "django.core.mail.backends.locmem.EmailBackend"
    trend, submit = [], []
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, EMAIL_BACKEND=mail):
        for n, plan in enumerate(plans):
            client = login(Client(), plan.patient.user)
            url = reverse("selfmonitor_trend", args=[plan.pk, KEY])
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get(url)
                ms = (time.perf_counter() - t0) * 1000
            if n >= warmup:
                trend.append((ms, len(ctx.captured_queries), response.status_code))
            assignment = services.assignment_send(
                patient=plan.patient, instrument=instrument, by=None
            )
            answer = reverse("selfmonitor_answer", args=[assignment.pk])
            client.post(
                answer,
                {
                    "page": 1,
                    "action": "next",
                    "instrument": f"{KEY}:{instrument.version}",
                    "a-distress": str(n % 11),
                },
            )
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.post(
                    answer,
                    {
                        "page": 2,
                        "action": "submit",
                        "instrument": f"{KEY}:{instrument.version}",
                        "a-wants_contact": "no",
                    },
                )
                ms = (time.perf_counter() - t0) * 1000
            if n >= warmup:
                submit.append((ms, len(ctx.captured_queries), response.status_code))
    plan_text = trend_query(plans[0].patient_id).explain() if plans else ""
    return {
        "trend_page": _figures("Trend page (1 scale set, latest 200 answers)", trend),
        "submission": _figures("Questionnaire submission (final POST)", submit),
        "trend_query_plan": plan_text,
        "trend_query_uses_index": TREND_INDEX in plan_text,
    }


def render(report: dict) -> str:
    seeded = report["seed"]
    how = "reused" if seeded["reused"] else f"seeded in {seeded['seconds']}s"
    lines = ["", f"selfmonitor — {seeded['responses']:,} stored answers ({how})"]
    for key in ("trend_page", "submission"):
        r = report[key]
        lines.append(
            f"  {r['label']:<48} p50 {r['p50_ms']:>8.2f} ms  p95 {r['p95_ms']:>8.2f} ms  "
            f"max {r['max_ms']:>8.2f} ms  queries {r['queries_p50']}  statuses {r['statuses']}"
        )
    lines.append(
        f"  trend query uses index {TREND_INDEX}: {'yes' if report['trend_query_uses_index'] else 'NO'}"
    )
    lines.append("  plan: " + report["trend_query_plan"].replace("\n", "\n        "))
    return "\n".join(lines)
