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
from django.db import connection, models, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from careplan import bench as core
from careplan.models import CarePlan, CareRelation
from careplan.testing import login

from . import services
from .models import Alert, Assignment, Instrument, Response

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
    """At least ``total`` bench answers: reused when there are that many, topped up when
    there are fewer. Nothing is removed (the measurement removes what it adds itself), so a
    rerun never writes a million rows again."""
    progress = progress or (lambda _m: None)
    started = time.perf_counter()
    instrument = _instrument()
    existing = bench_responses().count()
    if existing >= total:
        return {"responses": existing, "reused": True, "seconds": 0.0}
    patients = list(
        CarePlan.objects.filter(patient__in=core.bench_patients())
        .order_by("patient_id")
        .values_list("patient_id", "id")
    )
    if not patients:
        raise ValueError("seed the bench patients first")
    units = _units([pid for pid, _plan in patients])
    rng = random.Random(total + existing)  # noqa: S311 - synthetic data
    made = 0
    missing = total - existing
    while made < missing:
        n = min(BATCH, missing - made)
        rows = [patients[(existing + made + i) % len(patients)] for i in range(n)]
        _write_answers(rows, units=units, instrument=instrument, rng=rng)
        made += n
        if made % 100_000 < BATCH:
            progress(f"  {existing + made:,} answers")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"responses": total, "reused": False, "seconds": round(time.perf_counter() - started, 2)}


def seed_for_patients(
    *, patient_ids: list[int], per_patient: int, progress: Callable[[str], None] | None = None
) -> dict:
    """Top up each of ``patient_ids`` to ``per_patient`` completed answers (the HTTP bench's
    sampled patients: a trend page with the latest 200 answers, a full questionnaire list),
    with an open alert for every answer at distress 8 or more. Idempotent."""
    progress = progress or (lambda _m: None)
    started = time.perf_counter()
    instrument = _instrument()
    have = dict(
        Response.objects.filter(
            patient_id__in=patient_ids, instrument_key=KEY, status=Response.Status.COMPLETED
        )
        .values_list("patient_id")
        .annotate(n=models.Count("id"))
        .values_list("patient_id", "n")
    )
    plan_of = dict(
        CarePlan.objects.filter(patient_id__in=patient_ids)
        .exclude(status=CarePlan.Status.CLOSED)
        .values_list("patient_id", "id")
    )
    rows = [
        (pid, plan_of[pid])
        for pid in patient_ids
        if pid in plan_of
        for _i in range(max(0, per_patient - have.get(pid, 0)))
    ]
    rng = random.Random(len(rows))  # noqa: S311 - synthetic data
    units = _units(patient_ids)
    for start in range(0, len(rows), BATCH):
        _write_answers(
            rows[start : start + BATCH], units=units, instrument=instrument, rng=rng, alerts=True
        )
        progress(f"  {min(start + BATCH, len(rows)):,} of {len(rows):,} answers")
    return {"answers_added": len(rows), "seconds": round(time.perf_counter() - started, 2)}


def _units(patient_ids: list[int]) -> dict[int, int]:
    return dict(
        CareRelation.objects.filter(patient_id__in=patient_ids, ended_at__isnull=True).values_list(
            "patient_id", "unit_id"
        )
    )


def _write_answers(
    rows: list[tuple[int, int]],
    *,
    units: dict[int, int],
    instrument: Instrument,
    rng: random.Random,
    alerts: bool = False,
) -> None:
    """One completed assignment and answer per (patient, plan) row, at a random time in the
    last three years; with ``alerts``, an open alert for distress 8 or more."""
    now = timezone.now()
    span = 3 * 365 * 24 * 3600
    assignments = []
    times = []
    for patient_id, plan_id in rows:
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
        if alerts:
            Alert.objects.bulk_create(
                (
                    Alert(
                        response=r,
                        patient_id=r.patient_id,
                        rule="bench-high-distress",
                        severity=Alert.Severity.HIGH,
                        text_sv="Hög oro (syntetisk)",
                        text_en="High distress (synthetic)",
                        created_at=r.submitted_at,
                        acknowledge_by=r.submitted_at + dt.timedelta(days=1),
                    )
                    for r in responses
                    if r.scores["distress"] >= 8
                ),
                batch_size=1000,
            )


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
    # The submissions below add answers: they are removed again afterwards, so the seed's
    # count stays what was seeded and a rerun reuses it.
    before = Assignment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        _measure(plans, instrument, trend, submit, hosts=hosts, mail=mail, warmup=warmup)
    finally:
        Assignment.objects.filter(pk__gt=before, patient__in=core.bench_patients()).delete()
    plan_text = trend_query(plans[0].patient_id).explain() if plans else ""
    return {
        "trend_page": _figures("Trend page (1 scale set, latest 200 answers)", trend),
        "submission": _figures("Questionnaire submission (final POST)", submit),
        "trend_query_plan": plan_text,
        "trend_query_uses_index": TREND_INDEX in plan_text,
    }


def _measure(plans, instrument, trend, submit, *, hosts, mail, warmup) -> None:
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
