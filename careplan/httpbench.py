"""``manage.py bench --http``: the pages measured as an operator would, over real HTTP.

gunicorn (2 sync workers, DEBUG off, ``careplan.bench_settings``) serves the bench seed;
``wrk`` (Debian's ``/usr/bin/wrk``) asks for each page with logged-in session cookies at a
fixed concurrency. Every page's run is preceded by a run of the bare-Django baseline
(``careplan/bench_urls.py``: one row read by primary key) in the same server, so the ratio
compares like with like on a machine whose load changes. Rounds repeat the whole list;
the table shows medians over the rounds.

Per run:
- p95 ms: wrk's latency percentile;
- app CPU ms/req: user + system CPU time of the gunicorn processes (``/proc``) over the run,
  divided by the requests wrk completed (the steadier figure on a busy machine);
- × bare Django: app CPU per request over the baseline's, measured just before.

A page is one :class:`HttpPage` line in :data:`PAGES`: a key, a label, who asks (a
sampled patient, a relative of one with every part shared, or a nurse of the largest
unit) and how its path is made from a :class:`Who`. Figures, never pass/fail.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from selfmonitor import bench as selfmonitor_bench

from . import bench as core
from .models import (
    CarePlan,
    CareRelation,
    CareUnit,
    Message,
    MessageThread,
    Patient,
    RelativeGrant,
    Role,
    Scope,
    StaffMembership,
    User,
)
from .testing import login

WRK = shutil.which("wrk") or "/usr/bin/wrk"
TREND_KEY = "distress-thermometer"
ANSWERS_PER_PATIENT = 200  # the trend page draws the latest 200
THREADS_PER_PATIENT = 2


@dataclass(frozen=True)
class Who:
    """One logged-in asker: a session cookie, and the ids a path is made from."""

    cookie: str
    plan_id: int = 0
    unit_id: int = 0
    patient_id: int = 0  # nurses: a sampled patient of their unit (the overview)


@dataclass(frozen=True)
class HttpPage:
    key: str
    label: str
    role: str  # "patient", "relative" or "nurse"
    path: Callable[[Who], str]
    # Ask every sampled path once before measuring (the PDF: measured as a reprint of an
    # unchanged plan, the common case; the first print of each plan builds it).
    warm_all: bool = False


def _plan(name: str, *args) -> Callable[[Who], str]:
    return lambda who: reverse(name, args=[who.plan_id, *args])


def _fixed(name: str) -> Callable[[Who], str]:
    return lambda who: reverse(name)


PAGES: list[HttpPage] = [
    HttpPage("plan", "patient plan page", "patient", _plan("plan_detail")),
    HttpPage("calendar", "calendar", "patient", _plan("plan_calendar")),
    HttpPage("questionnaires", "questionnaire list", "patient", _plan("selfmonitor_list")),
    HttpPage(
        "trend",
        "trend (distress thermometer)",
        "patient",
        _plan("selfmonitor_trend", TREND_KEY),
    ),
    HttpPage("pdf", "plan PDF (reprint, unchanged)", "patient", _plan("plan_pdf"), warm_all=True),
    HttpPage("messages", "messages", "patient", _fixed("message_list")),
    HttpPage("relative_home", "relative's start page", "relative", _fixed("home")),
    HttpPage("relative_plan", "relative's plan page", "relative", _plan("plan_detail")),
    HttpPage("relative_calendar", "relative's calendar", "relative", _plan("plan_calendar")),
    HttpPage(
        "admin_patients",
        "admin patient list",
        "nurse",
        _fixed("admin:careplan_patient_changelist"),
    ),
    HttpPage("admin_alerts", "admin alerts", "nurse", _fixed("admin:selfmonitor_alert_changelist")),
    HttpPage(
        "admin_inbox",
        "admin message inbox",
        "nurse",
        _fixed("admin:careplan_messagethread_changelist"),
    ),
    HttpPage("api_plans", "/api/v1/plans/ (nurse)", "nurse", _fixed("plan-list")),
    # The nurse's day (issue 10): the worklist on the admin start page (every source, with
    # the sampled patients' waiting messages on it) and one patient's overview.
    HttpPage("admin_worklist", "admin worklist (start page)", "nurse", _fixed("admin:index")),
    HttpPage(
        "admin_overview",
        "admin patient overview",
        "nurse",
        lambda who: reverse("admin:careplan_patient_overview", args=[who.patient_id]),
    ),
]
MIXED_PATIENT_SHARE = 0.8


# --- Data the pages need beyond the core seed ----------------------------------------------


def sample_patient_ids(count: int) -> list[int]:
    """``count`` bench patients spread evenly over the seed (so over every unit)."""
    ids = list(core.bench_patients().order_by("id").values_list("id", flat=True))
    if not ids:
        return []
    step = max(1, len(ids) // count)
    return ids[::step][:count]


def seed_workload(patient_ids: list[int], progress: Callable[[str], None]) -> dict:
    """The sampled patients' answers (with alerts) and message threads; idempotent."""
    answers = selfmonitor_bench.seed_for_patients(
        patient_ids=patient_ids, per_patient=ANSWERS_PER_PATIENT, progress=progress
    )
    threads = _seed_threads(patient_ids)
    # Statistics and visibility maps (index-only scans) as a database in use has them:
    # autovacuum's work, which a PostgreSQL may run without (this project's CI machine
    # does). VACUUM cannot run in a transaction (a test's): ANALYZE there.
    with connection.cursor() as cursor:
        in_use = connection.vendor == "postgresql" and not connection.in_atomic_block
        cursor.execute("VACUUM (ANALYZE)" if in_use else "ANALYZE")
    return {**answers, "threads_added": threads}


def _seed_threads(patient_ids: list[int]) -> int:
    have = set(
        MessageThread.objects.filter(patient_id__in=patient_ids).values_list(
            "patient_id", flat=True
        )
    )
    todo = [pid for pid in patient_ids if pid not in have]
    if not todo:
        return 0
    units = dict(
        CareRelation.objects.filter(patient_id__in=todo, ended_at__isnull=True).values_list(
            "patient_id", "unit_id"
        )
    )
    users = dict(Patient.objects.filter(id__in=todo).values_list("id", "user_id"))
    now = timezone.now()
    threads = []
    for n, pid in enumerate(todo):
        for k in range(THREADS_PER_PATIENT):
            at = now - dt.timedelta(hours=3 + 7 * k + n % 48)
            threads.append(
                MessageThread(
                    patient_id=pid,
                    unit_id=units[pid],
                    subject=f"Fråga om behandlingen ({k + 1})",
                    created_by_id=users[pid],
                    created_at=at,
                    last_message_at=at,
                    awaiting_reply_since=at,
                    last_patient_message_at=at,
                )
            )
    with transaction.atomic():
        MessageThread.objects.bulk_create(threads, batch_size=1000)
        Message.objects.bulk_create(
            (
                Message(
                    thread=t,
                    author_id=t.created_by_id,
                    from_patient=True,
                    body="Jag undrar när nästa behandling är. (Syntetiskt meddelande.)",
                    created_at=t.created_at,
                )
                for t in threads
            ),
            batch_size=1000,
        )
    return len(threads)


def session_cookie(user) -> str:
    """A real, logged-in session in the database (staff sessions carry the MFA record), and
    the CSRF cookie a browser holds after its first page: without it every measured page
    would mint a new CSRF secret and send it back in a Set-Cookie, which no browser asks for
    twice."""
    client = login(Client(), user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (
        f"{settings.SESSION_COOKIE_NAME}={session}; "
        f"{settings.CSRF_COOKIE_NAME}={get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)}"
    )


def relatives(patient_ids: list[int]) -> dict[int, User]:
    """One relative per sampled patient, given every part of the plan; idempotent."""
    emails = {pid: f"bench-relative-{pid}@{core.EMAIL_DOMAIN}" for pid in patient_ids}
    have = {u.email: u for u in User.objects.filter(email__in=emails.values())}
    missing = [
        User(email=email, first_name="Anhörig", last_name=f"Bench {pid}", role=Role.RELATIVE)
        for pid, email in emails.items()
        if email not in have
    ]
    for user in missing:
        user.set_unusable_password()
    with transaction.atomic():
        for user in User.objects.bulk_create(missing):
            have[user.email] = user
        granted = set(
            RelativeGrant.objects.active()
            .filter(patient_id__in=patient_ids, relative__in=list(have.values()))
            .values_list("patient_id", flat=True)
        )
        RelativeGrant.objects.bulk_create(
            RelativeGrant(patient_id=pid, relative=have[emails[pid]], scopes=list(Scope.values))
            for pid in patient_ids
            if pid not in granted
        )
    return {pid: have[email] for pid, email in emails.items()}


def askers(patient_ids: list[int], nurses: int) -> dict[str, list[Who]]:
    plans = dict(
        CarePlan.objects.filter(patient_id__in=patient_ids)
        .exclude(status=CarePlan.Status.CLOSED)
        .values_list("patient_id", "id")
    )
    patients = Patient.objects.filter(id__in=patient_ids).select_related("user").order_by("id")
    their_relatives = relatives(patient_ids)
    by_role: dict[str, list[Who]] = {"patient": [], "relative": [], "nurse": []}
    with override_settings(DEBUG=False):
        for p in patients:
            if p.id in plans:
                by_role["patient"].append(Who(session_cookie(p.user), plan_id=plans[p.id]))
                by_role["relative"].append(
                    Who(session_cookie(their_relatives[p.id]), plan_id=plans[p.id])
                )
        # The nurses of the first (largest) bench unit: the 20 000-patient unit.
        unit = core.bench_units().order_by("id").first()
        memberships = StaffMembership.objects.filter(unit=unit, user__role=Role.STAFF)
        cookies = [
            session_cookie(m.user)
            for m in memberships.select_related("user").order_by("id")[:nurses]
        ]
        # One line per sampled patient of the unit, the nurses taking turns (the overview
        # asks for each of them; the other nurse pages name no patient).
        mine = list(
            CareRelation.objects.filter(
                unit=unit, ended_at__isnull=True, patient_id__in=patient_ids
            )
            .order_by("patient_id")
            .values_list("patient_id", flat=True)
        ) or [0]
        for n, patient_id in enumerate(mine):
            by_role["nurse"].append(
                Who(cookies[n % len(cookies)], unit_id=unit.pk, patient_id=patient_id)
            )
    return by_role


# --- gunicorn and wrk ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(conf['NAME']).resolve()}"
    user = conf.get("USER") or ""
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    host = conf.get("HOST") or "127.0.0.1"
    port = conf.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{conf['NAME']}"


class Server:
    """gunicorn with ``workers`` sync workers on a free port; CPU time from ``/proc``."""

    def __init__(self, *, workers: int = 2, extra_env: dict | None = None):
        self.port = free_port()
        self.workers = workers
        self.log = tempfile.NamedTemporaryFile(prefix="careplan-bench-gunicorn-", suffix=".log")  # noqa: SIM115
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "careplan.bench_settings",
            "DATABASE_URL": _database_url(),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
            [
                sys.executable,
                "-m",
                "gunicorn",
                "careplan.wsgi",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=settings.BASE_DIR,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.output()}")
            try:
                status, _body = get(self.port, "/healthz")
                if status == 200 and len(self.pids()) > self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer on port {self.port}: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-3000:]

    def pids(self) -> list[int]:
        """The master and its workers."""
        pids = [self.proc.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry))
        return pids

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and the workers (children reaped by the master
        are counted in its cutime/cstime)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # fields[0] is field 3 (state): utime 14, stime 15, cutime 16, cstime 17
            total += sum(int(x) for x in fields[11:15])
        return total / tick

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def __enter__(self) -> Server:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def get(port: int, path: str, cookie: str = "") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Host": "127.0.0.1", "Accept-Language": "sv"}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


WRK_SCRIPT = r"""
local reqs = {}
local i = 0
init = function(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local path, cookie = line:match("^([^\t]*)\t?(.*)$")
    local headers = {["Accept-Language"] = "sv"}
    if cookie ~= nil and cookie ~= "" then headers["Cookie"] = cookie end
    reqs[#reqs + 1] = wrk.format("GET", path, headers)
  end
  f:close()
  math.randomseed(os.time() + tonumber(tostring(reqs):match("0x(%x+)") or "0", 16) % 1000)
  i = math.random(#reqs)
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "status_errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
"""


@dataclass
class Run:
    requests: int
    seconds: float
    p95_ms: float
    p50_ms: float
    cpu_ms_per_req: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_run(
    server: Server, lines: list[str], *, seconds: float, connections: int, workdir: Path
) -> Run:
    script = workdir / "bench.lua"
    if not script.exists():
        script.write_text(WRK_SCRIPT, "utf-8")
    paths = workdir / "paths.txt"
    paths.write_text("\n".join(lines) + "\n", "utf-8")
    threads = max(1, min(2, connections))
    cpu_before = server.cpu_seconds()
    out = subprocess.run(  # noqa: S603 - Debian's wrk with our own arguments
        [
            WRK,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "60s",
            "-s",
            str(script),
            f"http://127.0.0.1:{server.port}",
            "--",
            str(paths),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    cpu = server.cpu_seconds() - cpu_before
    found = [line for line in out.stdout.splitlines() if line.startswith("WRKJSON ")]
    if not found:
        raise RuntimeError(f"wrk printed no summary: {out.stdout}\n{out.stderr}")
    data = json.loads(found[-1].removeprefix("WRKJSON "))
    n = max(1, data["requests"])
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p95_ms=data["p95_us"] / 1000,
        p50_ms=data["p50_us"] / 1000,
        cpu_ms_per_req=cpu * 1000 / n,
        errors=data["status_errors"] + data["socket_errors"],
    )


# --- The measurement -------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    runs: list[Run] = field(default_factory=list)
    baselines: list[Run] = field(default_factory=list)
    note: str = ""

    def summary(self) -> dict:
        if not self.runs:
            return {"key": self.key, "label": self.label, "note": self.note}
        p95 = statistics.median(r.p95_ms for r in self.runs)
        cpu = statistics.median(r.cpu_ms_per_req for r in self.runs)
        base = statistics.median(b.cpu_ms_per_req for b in self.baselines) if self.baselines else 0
        return {
            "key": self.key,
            "label": self.label,
            "note": self.note,
            "runs": len(self.runs),
            "requests": sum(r.requests for r in self.runs),
            "errors": sum(r.errors for r in self.runs),
            "p50_ms": round(statistics.median(r.p50_ms for r in self.runs), 1),
            "p95_ms": round(p95, 1),
            "rps": round(statistics.median(r.rps for r in self.runs), 1),
            "cpu_ms_per_req": round(cpu, 2),
            "baseline_cpu_ms_per_req": round(base, 2),
            "times_bare_django": round(cpu / base, 1) if base else None,
        }


def check_lines(server: Server, key: str, lines: list[str], limit: int = 5) -> str:
    """Ask for a few of a page's requests first (also a warm-up): every one must be a 200,
    not a redirect to the login page or an error page."""
    for line in lines[:limit]:
        path, _tab, cookie = line.partition("\t")
        status, body = get(server.port, path, cookie)
        if status != 200:
            return f"{key}: {path} answered {status}, not measured ({body[:120]!r})"
    return ""


def measure(
    *,
    sample: int = 50,
    nurses: int = 4,
    seconds: float = 3,
    rounds: int = 1,
    connections: int = 8,
    mixed_connections: tuple[int, ...] = (8, 32),
    pages: list[HttpPage] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    progress = progress or (lambda _m: None)
    pages = pages or PAGES
    rng = random.Random(16)  # noqa: S311 - shuffles whom to ask, not a secret
    patient_ids = sample_patient_ids(sample)
    progress(f"workload for {len(patient_ids)} sampled patients (answers, alerts, threads)")
    workload = seed_workload(patient_ids, progress)
    who = askers(patient_ids, nurses)
    unit_id = core.bench_units().order_by("id").values_list("id", flat=True).first()
    baseline = [f"/__bench__/baseline/{unit_id}/\t"]
    lines = {page.key: [f"{page.path(w)}\t{w.cookie}" for w in who[page.role]] for page in pages}
    for v in lines.values():
        rng.shuffle(v)
    # The mixed workload: patients and their relatives 80 %, nurses 20 %.
    patient_pages = [p.key for p in pages if p.role != "nurse"]
    nurse_pages = [p.key for p in pages if p.role == "nurse"]
    mixed: list[str] = []
    for _i in range(2000):
        keys = patient_pages if rng.random() < MIXED_PATIENT_SHARE else nurse_pages
        mixed.append(rng.choice(lines[rng.choice(keys)]))
    rows = {p.key: Row(p.key, p.label) for p in pages}
    for c in mixed_connections:
        rows[f"mixed_c{c}"] = Row(f"mixed_c{c}", f"mixed workload, c={c}")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="careplan-bench-") as tmp, Server() as server:
        workdir = Path(tmp)
        warm_all = {p.key for p in pages if p.warm_all}
        for key, row in rows.items():
            todo = mixed if key.startswith("mixed") else lines[key]
            row.note = check_lines(server, key, todo, limit=len(todo) if key in warm_all else 5)
        check_lines(server, "baseline", baseline)
        for n in range(rounds):
            progress(f"round {n + 1} of {rounds}")
            for key, row in rows.items():
                if row.note:
                    continue
                c = int(key.split("_c")[1]) if key.startswith("mixed_c") else connections
                todo = mixed if key.startswith("mixed") else lines[key]
                row.baselines.append(
                    wrk_run(server, baseline, seconds=seconds, connections=c, workdir=workdir)
                )
                row.runs.append(
                    wrk_run(server, todo, seconds=seconds, connections=c, workdir=workdir)
                )
                progress(
                    f"  {row.label}: {row.runs[-1].cpu_ms_per_req:.1f} ms CPU/req "
                    f"(baseline {row.baselines[-1].cpu_ms_per_req:.1f})"
                )
    return {
        "server": "gunicorn, 2 sync workers, DEBUG off",
        "client": f"wrk, c={connections} (mixed: c={', '.join(map(str, mixed_connections))})",
        "seconds_per_run": seconds,
        "rounds": rounds,
        "sampled_patients": len(who["patient"]),
        "relatives": len(who["relative"]),
        "nurses": len({w.cookie for w in who["nurse"]}),
        "workload": workload,
        "load_avg_1m_at_start": round(load, 2),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "units": CareUnit.objects.filter(pk=unit_id).values_list("name", flat=True).first(),
        "rows": [r.summary() for r in rows.values()],
    }


def render(report: dict) -> str:
    lines = [
        "",
        f"over HTTP — {report['server']}; {report['client']}; {report['rounds']} round(s) of "
        f"{report['seconds_per_run']} s per page, each after a bare-Django baseline run; "
        f"medians over the rounds",
        f"{report['sampled_patients']} sampled patients (and a relative of each), "
        f"{report['nurses']} nurses of "
        f"{report['units']}; {report['cpus']} CPUs, load average "
        f"{report['load_avg_1m_at_start']} → {report['load_avg_1m_at_end']} (other work on "
        "the machine makes p95 noisy; app CPU per request is the steadier figure)",
        "",
    ]
    head = (
        f"| {'page':<30} | {'p95 ms':>8} | {'req/s':>7} | {'app CPU ms/req':>14} "
        f"| {'× bare Django':>13} |"
    )
    lines += [head, f"|{'-' * 32}|{'-' * 9}:|{'-' * 8}:|{'-' * 15}:|{'-' * 14}:|"]
    for r in report["rows"]:
        if "p95_ms" not in r:
            lines.append(f"| {r['label']:<30} | {r['note']} |")
            continue
        ratio = f"{r['times_bare_django']:.1f}×" if r["times_bare_django"] else "—"
        errors = f" ({r['errors']} errors)" if r["errors"] else ""
        lines.append(
            f"| {r['label']:<30} | {r['p95_ms']:>8.1f} | {r['rps']:>7.1f} "
            f"| {r['cpu_ms_per_req']:>14.2f} | {ratio:>13} |{errors}"
        )
    base = [
        r["baseline_cpu_ms_per_req"] for r in report["rows"] if r.get("baseline_cpu_ms_per_req")
    ]
    if base:
        lines.append(
            f"\nbare Django (one row by pk): {statistics.median(base):.2f} ms app CPU per request "
            "(median of the baseline runs)"
        )
    return "\n".join(lines)
