"""``manage.py bench``: seed synthetic patients in bulk and measure pages in-process.

A benchmark reports figures; it never passes or fails on time. Real figures come from
PostgreSQL (``DATABASE_URL=postgres://postgres@127.0.0.1:5432/careplan_bench make bench``);
SQLite figures only show the query counts and the shape of the curve.

Bench rows are tagged so they can be found, reused and removed again:
- care units: ``hsa_id`` ``BENCH-<patients>-<nn>`` (the seed's size is in the tag);
- users (patients and nurses): e-mail ``...@bench.invalid``.
A seed is written in one transaction, so a seed that is there is complete.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import resource
import secrets
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone

from . import personnummer as pnr
from .management.commands.load_plan_templates import TEMPLATE_DIR, load_template_file
from .models import (
    AccessLog,
    CalendarEvent,
    CarePlan,
    CareRelation,
    CareUnit,
    ContactNurseAssignment,
    Message,
    MessageThread,
    Patient,
    PlanChange,
    PlanSection,
    PlanTemplate,
    PlanTemplateSection,
    Role,
    StaffMembership,
    User,
)
from .testing import login

HSA_PREFIX = "BENCH-"
EMAIL_DOMAIN = "bench.invalid"
BATCH = 1000  # patients written per round of bulk_create calls
EVENTS_PER_PLAN = 6
CHANGES_PER_PLAN = 3
# With DEBUG on, Django keeps the SQL of the last 9000 queries: bulk inserts are megabytes
# each. Seeding runs without that log.


def _quiet():
    return override_settings(DEBUG=False)


FIRST_NAMES = [
    "Alva", "Astrid", "Ebba", "Elsa", "Ingrid", "Karin", "Kerstin", "Maja", "Margareta",
    "Saga", "Signe", "Stina", "Anders", "Bengt", "Erik", "Gustav", "Hans", "Johan", "Lars",
    "Nils", "Olof", "Per", "Sven", "Ture",
]  # fmt: skip
LAST_NAMES = [
    "Andersson", "Berg", "Björk", "Dahl", "Ek", "Eriksson", "Falk", "Gustafsson", "Hansson",
    "Holm", "Johansson", "Karlsson", "Larsson", "Lind", "Lund", "Nilsson", "Nyström",
    "Olsson", "Persson", "Sandberg", "Sjöberg", "Svensson", "Wallin", "Åberg",
]  # fmt: skip
EVENT_PLAN = [  # (days from today, kind, title, where)
    (-45, CalendarEvent.Kind.EXAMINATION, "Mammografi och ultraljud", "Röntgenavdelningen"),
    (-20, CalendarEvent.Kind.VISIT, "Besked om diagnos", "Bröstmottagningen"),
    (-7, CalendarEvent.Kind.TREATMENT, "Cytostatika, behandling 1", "Dagvården, plan 3"),
    (3, CalendarEvent.Kind.TREATMENT, "Cytostatika, behandling 2", "Dagvården, plan 3"),
    (14, CalendarEvent.Kind.EXAMINATION, "Blodprover", "Provtagningen"),
    (40, CalendarEvent.Kind.VISIT, "Återbesök hos läkare", "Bröstmottagningen"),
]
CHANGE_PLAN = [  # (days from today, what, section key)
    (-20, "Din vårdplan fastställdes.", ""),
    (-5, "Avsnittet “Behandling” uppdaterades.", "treatment"),
    (-1, "Tillagt i kalendern: Blodprover", ""),
]


# --- Database ------------------------------------------------------------------------------


def use_database(spec: str | None) -> None:
    """Point the default connection (the one views use) at another alias or a URL.

    Without ``spec`` the bench uses ``DATABASE_URL`` like everything else.
    """
    if not spec or spec == "default":
        return
    if "://" in spec:
        import environ

        conf = environ.Env.db_url_config(spec)
    elif spec in settings.DATABASES:
        conf = dict(settings.DATABASES[spec])
    else:
        raise ImproperlyConfigured(f"--database: no alias {spec!r} and not a database URL")
    conf["ATOMIC_REQUESTS"] = False
    if conf["ENGINE"].endswith("postgresql"):
        conf.setdefault("CONN_MAX_AGE", 60)
        conf.setdefault("CONN_HEALTH_CHECKS", True)
    connections["default"].close()
    settings.DATABASES["default"] = conf
    connections.settings = connections.configure_settings(settings.DATABASES)
    del connections["default"]  # the next use opens the new database


def unapplied_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _backwards in plan]


def database_info() -> dict:
    conf = connection.settings_dict
    info: dict = {"vendor": connection.vendor, "name": str(conf.get("NAME") or "")}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["version"] = cursor.fetchone()[0]
            cursor.execute("SELECT pg_database_size(current_database())")
            info["size_bytes"] = cursor.fetchone()[0]
        info["host"] = conf.get("HOST") or "local socket"
    elif connection.vendor == "sqlite":
        info["version"] = sqlite3.sqlite_version
        path = Path(info["name"])
        if path.is_file():
            info["size_bytes"] = path.stat().st_size
    return info


def row_counts() -> dict[str, int]:
    models = [
        User, Patient, CareRelation, ContactNurseAssignment, CarePlan, PlanSection,
        CalendarEvent, PlanChange, AccessLog,
    ]  # fmt: skip
    return {m._meta.label: m.objects.count() for m in models}


def machine_info() -> dict:
    """Figures depend on the machine and on what else runs on it."""
    return {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


# --- Seeding -------------------------------------------------------------------------------


def bench_units():
    return CareUnit.objects.filter(hsa_id__startswith=HSA_PREFIX)


def bench_users():
    return User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")


def bench_patients():
    return Patient.objects.filter(user__email__endswith=f"@{EMAIL_DOMAIN}")


def existing_seed_size() -> int | None:
    """The size tagged on the bench units, if a seed is there."""
    hsa = bench_units().values_list("hsa_id", flat=True).first()
    if hsa is None:
        return None
    try:
        return int(hsa.split("-")[1])
    except (IndexError, ValueError):
        return -1  # an unreadable tag: treat as another size


def synthetic_personnummer(i: int) -> str:
    """A valid, unique, synthetic personnummer for bench patient ``i``.

    Birth dates spread over 1935–2003; the serial (900–979) grows every 25 000 patients,
    which leaves 980–989 to tests/factories.py and room for two million bench patients.
    """
    days = 25_000
    born = dt.date(1935, 1, 1) + dt.timedelta(days=i % days)
    serial = 900 + i // days
    if serial > 979:
        raise ValueError("more bench patients than synthetic numbers")
    nine = born.strftime("%y%m%d") + f"{serial:03d}"
    return born.strftime("%Y%m%d") + f"{serial:03d}" + pnr.with_check_digit(nine)


def bench_template() -> PlanTemplate:
    """The shipped breast-cancer template (loaded if missing), else the first template."""
    template = PlanTemplate.objects.filter(slug="breast").order_by("-version").first()
    if template is None:
        path = TEMPLATE_DIR / "breast.json"
        if path.is_file():
            template, _outcome = load_template_file(path)
    if template is None:
        template = PlanTemplate.objects.order_by("id").first()
    if template is None:
        raise ImproperlyConfigured("No plan template: run manage.py load_plan_templates")
    return template


@dataclass
class SeedResult:
    patients: int
    units: int
    nurses: int
    reused: bool
    seconds: float
    template: str


def purge() -> None:
    """Remove every bench row (and rows that point at them), in one transaction.

    The access log is append-only for the application; the rows the bench's own requests
    wrote about its own synthetic patients are removed with it here.
    """
    patients = bench_patients()
    users = bench_users()
    units = bench_units()
    with transaction.atomic():
        for q in (
            AccessLog.objects.filter(patient__in=patients),
            AccessLog.objects.filter(user__in=users),
            AccessLog.objects.filter(acting_unit__in=units),
        ):
            q._raw_delete(q.db)  # AccessLog.objects.delete() refuses on purpose
        _delete_in_chunks(CarePlan.objects.filter(patient__in=patients))
        _delete_in_chunks(MessageThread.objects.filter(patient__in=patients))  # with messages
        ContactNurseAssignment.objects.filter(patient__in=patients).delete()
        CareRelation.objects.filter(patient__in=patients).delete()
        _delete_in_chunks(patients)
        StaffMembership.objects.filter(unit__in=units).delete()
        _delete_in_chunks(users)
        units.delete()


def _delete_in_chunks(qs, size: int = 2000) -> None:
    """``delete()`` with the collector (so other apps' cascades run), a chunk at a time."""
    model = qs.model
    while True:
        ids = list(qs.values_list("pk", flat=True)[:size])
        if not ids:
            return
        model.objects.filter(pk__in=ids).delete()


def seed(
    *,
    patients: int,
    units: int = 5,
    reseed: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SeedResult:
    """Make sure exactly one bench seed of ``patients`` patients is in the database."""
    progress = progress or (lambda _msg: None)
    started = time.perf_counter()
    if patients < 1:
        raise ValueError("--patients must be at least 1")
    units = max(1, min(units, patients))
    size = existing_seed_size()
    if size == patients and not reseed and bench_patients().count() == patients:
        found_units = list(bench_units())
        return SeedResult(
            patients=patients,
            units=len(found_units),
            nurses=StaffMembership.objects.filter(unit__in=found_units).count(),
            reused=True,
            seconds=round(time.perf_counter() - started, 2),
            template=str(CarePlan.objects.filter(patient__in=bench_patients()).first().template),
        )
    if size is not None:
        progress(f"removing the previous bench seed ({size} patients)")
        with _quiet():
            purge()
    template = bench_template()
    with _quiet(), transaction.atomic():
        nurses = _seed_rows(patients=patients, units=units, template=template, progress=progress)
    # Planner statistics as a database in use would have them (autovacuum comes later).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return SeedResult(
        patients=patients,
        units=units,
        nurses=nurses,
        reused=False,
        seconds=round(time.perf_counter() - started, 2),
        template=str(template),
    )


def _seed_rows(
    *, patients: int, units: int, template: PlanTemplate, progress: Callable[[str], None]
) -> int:
    rng = random.Random(patients)  # noqa: S311 - synthetic data: same size, same rows
    now = timezone.now()
    today = timezone.localdate()
    # One hash for every bench user: hashing is deliberately slow. Nobody knows the password.
    password = make_password(secrets.token_urlsafe(24))
    per_unit = math.ceil(patients / units)
    nurses_per_unit = max(2, math.ceil(per_unit / 400))

    unit_rows = CareUnit.objects.bulk_create(
        CareUnit(
            name=f"Bench onkologmottagning {u + 1}",
            kind=CareUnit.Kind.SPECIALIST,
            hsa_id=f"{HSA_PREFIX}{patients}-{u + 1:02d}",
            phone="010-000 00 00",
            reachable="Mån–fre 8–16",
        )
        for u in range(units)
    )
    nurse_rows = User.objects.bulk_create(
        User(
            email=f"bench-nurse-{u + 1}-{k + 1}@{EMAIL_DOMAIN}",
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            role=Role.STAFF,
            is_staff=True,
            title="Sjuksköterska",
            password=password,
        )
        for u in range(units)
        for k in range(nurses_per_unit)
    )
    StaffMembership.objects.bulk_create(
        StaffMembership(user=nurse, unit=unit_rows[n // nurses_per_unit])
        for n, nurse in enumerate(nurse_rows)
    )
    sections = list(PlanTemplateSection.objects.filter(template=template).order_by("order"))

    for start in range(0, patients, BATCH):
        stop = min(start + BATCH, patients)
        names = [(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) for _ in range(start, stop)]
        users = User.objects.bulk_create(
            User(
                email=f"bench-patient-{i}@{EMAIL_DOMAIN}",
                first_name=first,
                last_name=last,
                role=Role.PATIENT,
                password=password,
            )
            for i, (first, last) in zip(range(start, stop), names, strict=True)
        )
        pats = Patient.objects.bulk_create(
            Patient(
                user=user,
                first_name=user.first_name,
                last_name=user.last_name,
                personnummer=synthetic_personnummer(i),
                phone="070-000 00 00",
                last_seen_plan_at=now - dt.timedelta(days=10),
            )
            for i, user in zip(range(start, stop), users, strict=True)
        )
        unit_of = [unit_rows[i % units] for i in range(start, stop)]
        nurse_of = [
            nurse_rows[(i % units) * nurses_per_unit + (i // units) % nurses_per_unit]
            for i in range(start, stop)
        ]
        since = [rng.randint(25, 400) for _ in pats]
        CareRelation.objects.bulk_create(
            CareRelation(
                patient=p,
                unit=unit,
                started_at=now - dt.timedelta(days=d),
                created_by=nurse,
                needs_contact_nurse=False,  # each is named just below
            )
            for p, unit, nurse, d in zip(pats, unit_of, nurse_of, since, strict=True)
        )
        ContactNurseAssignment.objects.bulk_create(
            ContactNurseAssignment(
                patient=p,
                nurse=nurse,
                unit=unit,
                started_on=today - dt.timedelta(days=d),
                direct_phone="010-000 00 01",
                reachable="Mån–tor 8–12",
                created_by=nurse,
            )
            for p, unit, nurse, d in zip(pats, unit_of, nurse_of, since, strict=True)
        )
        plans = CarePlan.objects.bulk_create(
            CarePlan(
                patient=p,
                template=template,
                title=template.title_sv,
                diagnosis="Bröstcancer",
                phase=rng.choice(CarePlan.Phase.values),
                status=CarePlan.Status.ACTIVE,
                contact_nurse_offered_on=today - dt.timedelta(days=d),
                established_on=today - dt.timedelta(days=d - 1),
                created_by=nurse,
            )
            for p, nurse, d in zip(pats, nurse_of, since, strict=True)
        )
        PlanSection.objects.bulk_create(
            (
                PlanSection(
                    plan=plan,
                    key=s.key,
                    order=s.order,
                    title_sv=s.title_sv,
                    title_en=s.title_en,
                    body_sv=s.body_sv,
                    body_en=s.body_en,
                    translations=s.translations,
                    personal_note="Ring mig om du undrar något." if s.order == 0 else "",
                )
                for plan in plans
                for s in sections
            ),
            batch_size=2000,
        )
        CalendarEvent.objects.bulk_create(
            (
                CalendarEvent(
                    plan=plan,
                    kind=kind,
                    title=title,
                    starts_at=now + dt.timedelta(days=days, hours=rng.randint(-3, 3)),
                    location=where,
                    created_by=nurse,
                    updated_by=nurse,
                )
                for plan, nurse in zip(plans, nurse_of, strict=True)
                for days, kind, title, where in EVENT_PLAN
            ),
            batch_size=2000,
        )
        PlanChange.objects.bulk_create(
            (
                PlanChange(
                    plan=plan,
                    by=nurse,
                    at=now + dt.timedelta(days=days),
                    what=what,
                    section_key=key,
                )
                for plan, nurse in zip(plans, nurse_of, strict=True)
                for days, what, key in CHANGE_PLAN
            ),
            batch_size=2000,
        )
        if stop % (BATCH * 10) == 0 or stop == patients:
            progress(f"seeded {stop} of {patients} patients")
        if stop in (BATCH, patients) or stop % (BATCH * 10) == 0:
            _analyze_seeded()
    return len(nurse_rows)


def _analyze_seeded() -> None:
    """Statistics for the rows so far (ANALYZE counts its transaction's own): else the
    deferred checks of migrations 0002/0009 plan for empty tables and COMMIT takes an hour."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            tables = "careplan_careplan, careplan_carerelation, careplan_staffmembership"
            cursor.execute(f"ANALYZE {tables}, careplan_contactnurseassignment")


# --- Measuring -----------------------------------------------------------------------------


@dataclass
class Sample:
    """Who asks and what, for one request."""

    user: User
    path_args: tuple = ()


@dataclass
class PageResult:
    key: str
    label: str
    url_name: str
    available: bool = True
    note: str = ""
    resolved: str = ""
    latencies_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    slowest_query: tuple[float, str] = (0.0, "")

    def summary(self) -> dict:
        out: dict = {
            "key": self.key,
            "label": self.label,
            "url_name": self.url_name,
            "available": self.available,
            "note": self.note,
        }
        if not self.latencies_ms:
            return out
        out.update(
            requests=len(self.latencies_ms),
            resolved=self.resolved,
            statuses={str(k): v for k, v in sorted(self.statuses.items())},
            p50_ms=round(percentile(self.latencies_ms, 50), 2),
            p95_ms=round(percentile(self.latencies_ms, 95), 2),
            max_ms=round(max(self.latencies_ms), 2),
            queries_p50=int(percentile(self.queries, 50)),
            queries_max=max(self.queries),
            bytes_p50=int(percentile(self.sizes, 50)),
            slowest_query_ms=round(self.slowest_query[0], 2),
            slowest_query_sql=self.slowest_query[1][:1000],
        )
        return out


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is a measured one)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Page:
    key: str
    label: str
    url_name: str
    follow: bool
    samples: Callable[[random.Random, int], list[Sample]]


def _patient_samples(rng: random.Random, count: int) -> list[Sample]:
    ids = list(bench_patients().values_list("id", flat=True))
    chosen = [rng.choice(ids) for _ in range(count)]
    plans = dict(
        CarePlan.objects.filter(patient_id__in=chosen)
        .exclude(status=CarePlan.Status.CLOSED)
        .values_list("patient_id", "id")
    )
    users = User.objects.in_bulk(
        list(Patient.objects.filter(id__in=chosen).values_list("user_id", flat=True))
    )
    user_of = dict(Patient.objects.filter(id__in=chosen).values_list("id", "user_id"))
    return [Sample(user=users[user_of[pid]], path_args=(plans[pid],)) for pid in chosen]


def _nurse_samples(rng: random.Random, count: int) -> list[Sample]:
    nurses = list(bench_users().filter(role=Role.STAFF))
    return [Sample(user=rng.choice(nurses)) for _ in range(count)]


PAGES = [
    Page("patient_start", "Patient start page (home)", "home", True, _patient_samples),
    Page("plan_pdf", "Plan PDF", "plan_pdf", False, _patient_samples),
    Page(
        "admin_patient_list",
        "Nurse's patient list (admin, page 1)",
        "admin:careplan_patient_changelist",
        False,
        _nurse_samples,
    ),
]


# --- The nurse's day (issue 10): the worklist and the patient overview -----------------------


def nurse_day_pages() -> list[Page]:
    """The admin start page (the worklist of every unit signal) and the patient overview,
    as a bench nurse of the patient's unit. ``waiting_threads_seed`` first puts waiting
    patient messages on the worklist, so the worklist is measured with rows."""

    def samples(rng: random.Random, count: int) -> list[Sample]:
        waiting_threads_seed()
        nurses = list(bench_users().filter(role=Role.STAFF))
        unit_of = dict(
            StaffMembership.objects.filter(user__in=nurses).values_list("user_id", "unit_id")
        )
        patients_of: dict[int, list[int]] = {}
        out = []
        for _ in range(count):
            nurse = rng.choice(nurses)
            unit_id = unit_of[nurse.pk]
            if unit_id not in patients_of:
                patients_of[unit_id] = list(
                    CareRelation.objects.filter(unit_id=unit_id, ended_at__isnull=True)
                    .order_by("patient_id")
                    .values_list("patient_id", flat=True)[:500]
                )
            out.append(Sample(user=nurse, path_args=(rng.choice(patients_of[unit_id]),)))
        return out

    return [
        Page(
            "admin_worklist", "Nurse's worklist (admin start page)", "admin:index", False, samples
        ),
        Page(
            "admin_patient_overview",
            "Patient overview (admin)",
            "admin:careplan_patient_overview",
            False,
            samples,
        ),
    ]


def waiting_threads_seed(*, every: int = 50) -> int:
    """One waiting patient message for every ``every``-th bench patient (once; the rows
    go with the patients when the seed is purged). Returns the threads added."""
    if MessageThread.objects.filter(patient__in=bench_patients()).exists():
        return 0
    now = timezone.now()
    rows = list(
        CareRelation.objects.filter(patient__in=bench_patients(), ended_at__isnull=True)
        .order_by("patient_id")
        .values_list("patient_id", "unit_id", "patient__user_id")[::every]
    )
    with transaction.atomic():
        threads = MessageThread.objects.bulk_create(
            MessageThread(
                patient_id=pid,
                unit_id=uid,
                subject="Bench question",
                created_by_id=user_id,
                created_at=now - dt.timedelta(hours=i % 72),
                last_message_at=now,
                awaiting_reply_since=now - dt.timedelta(hours=i % 72),
                last_patient_message_at=now,
            )
            for i, (pid, uid, user_id) in enumerate(rows)
        )
        Message.objects.bulk_create(
            Message(thread=t, author_id=t.created_by_id, from_patient=True, body="Bench text")
            for t in threads
        )
    return len(threads)


PAGES += nurse_day_pages()


def _url(page: Page, sample: Sample) -> str:
    if page.url_name in ("plan_pdf", "admin:careplan_patient_overview"):
        return reverse(page.url_name, args=sample.path_args)
    return reverse(page.url_name)


def _body_size(response) -> int:
    if getattr(response, "streaming", False):
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


@dataclass
class Measured:
    ms: float
    queries: int
    size: int
    status: int
    landed: str
    slowest: tuple[float, str]  # (ms, SQL) of the slowest query


def _one_request(page: Page, sample: Sample) -> Measured:
    client = login(Client(), sample.user)
    url = _url(page, sample)
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        response = client.get(url, follow=page.follow)
        size = _body_size(response)  # a streamed body is produced while it is read
        elapsed = (time.perf_counter() - started) * 1000
    path = response.request["PATH_INFO"]
    try:
        landed = resolve(path).view_name
    except Resolver404:
        landed = path
    slowest = max(
        ((float(q["time"]) * 1000, q["sql"]) for q in ctx.captured_queries), default=(0.0, "")
    )
    return Measured(elapsed, len(ctx.captured_queries), size, response.status_code, landed, slowest)


def measure(
    *, requests: int, warmup: int = 1, rng_seed: int = 42, pages: list[Page] | None = None
) -> Iterator[PageResult]:
    rng = random.Random(rng_seed)  # noqa: S311 - picks whom to ask, not a secret
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    mail = "django.core.mail.backends.locmem.EmailBackend"
    # Measured as production runs: DEBUG off (templates compiled without debug info).
    with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, EMAIL_BACKEND=mail):
        for page in pages or PAGES:
            result = PageResult(page.key, page.label, page.url_name)
            samples = page.samples(rng, warmup + requests)
            try:
                _url(page, samples[0])
            except NoReverseMatch:
                result.available = False
                result.note = f"not available (no URL named {page.url_name!r} yet)"
                yield result
                continue
            try:
                for n, sample in enumerate(samples):
                    m = _one_request(page, sample)
                    if n < warmup:
                        continue
                    result.latencies_ms.append(m.ms)
                    result.queries.append(m.queries)
                    result.sizes.append(m.size)
                    result.statuses[m.status] += 1
                    result.resolved = m.landed
                    result.slowest_query = max(result.slowest_query, m.slowest)
            except Exception as exc:  # noqa: BLE001 - report it, measure the other pages
                result.available = False
                result.note = f"error: {type(exc).__name__}: {exc}"[:300]
            if result.available and set(result.statuses) != {200}:
                result.note = "not every response was 200 OK"
            yield result


# --- Report --------------------------------------------------------------------------------


def _mb(n: int | None) -> str:
    return "?" if n is None else f"{n / 1_000_000:,.1f} MB"


def _size(n: int) -> str:
    return f"{n / 1000:,.1f} kB" if n >= 1000 else f"{n} B"


def render_table(report: dict) -> str:
    db = report["database"]
    seed_ = report["seed"]
    lines = [
        f"careplan bench — {db['vendor']} {db.get('version', '')} ({db['name']}), "
        f"database size {_mb(db.get('size_bytes'))}",
        f"seed: {seed_['patients']:,} patients, {seed_['units']} units, "
        f"{seed_['nurses']} nurses, template {seed_['template']}; "
        + (
            f"reused an existing seed (checked in {seed_['seconds']:.1f} s)"
            if seed_["reused"]
            else f"seeded in {seed_['seconds']:.1f} s"
        ),
        f"machine: {report['machine']['cpus']} CPUs, load average "
        f"{report['machine']['load_avg_1m']} when measuring started",
        "rows: " + ", ".join(f"{k.split('.')[1]} {v:,}" for k, v in report["rows"].items()),
        f"requests per page: {report['requests']} (after {report['warmup']} warm-up), "
        "in-process django.test.Client, logged in, DEBUG off",
        "",
    ]
    head = f"{'page':<38} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'size':>10}  status"
    lines += [head, "-" * len(head)]
    for p in report["pages"]:
        if "p50_ms" not in p:
            lines.append(f"{p['label']:<38} {p['note']}")
            continue
        queries = (
            str(p["queries_p50"])
            if p["queries_p50"] == p["queries_max"]
            else f"{p['queries_p50']}–{p['queries_max']}"
        )
        status = ",".join(f"{k}×{v}" for k, v in p["statuses"].items())
        lines.append(
            f"{p['label']:<38} {p['requests']:>4} {p['p50_ms']:>8.1f} {p['p95_ms']:>8.1f} "
            f"{p['max_ms']:>8.1f} {queries:>8} {_size(p['bytes_p50']):>10}  {status}"
            + (f" → {p['resolved']}" if p.get("resolved") else "")
            + (f"  ({p['note']})" if p["note"] else "")
        )
    lines += ["", "slowest query per page (over all measured requests):"]
    for p in report["pages"]:
        if p.get("slowest_query_sql"):
            sql = " ".join(p["slowest_query_sql"].split())
            lines.append(f"  {p['key']}: {p['slowest_query_ms']:.1f} ms  {sql[:160]}…")
    lines += ["", f"peak RSS of this process: {report['peak_rss_mb']:,.1f} MB"]
    return "\n".join(lines)


def write_json(report: dict, path: str) -> None:
    Path(path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
