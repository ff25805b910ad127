"""Benchmark: seed N synthetic patients and measure the busiest pages in-process.

Reports figures (p50/p95/max latency, queries and size per request, seed time, row
counts, peak memory); it never passes or fails on time. Real figures come from
PostgreSQL:

    createdb -h 127.0.0.1 -U postgres careplan_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careplan_bench make bench \\
        BENCH_ARGS="--patients 100000"

Without DATABASE_URL it uses the development SQLite file. The seed is reused while its
size stays the same (``--reseed`` writes it again); bench rows are tagged (units
``BENCH-…``, users ``…@bench.invalid``) and never mixed with other data.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from careplan import bench, httpbench
from selfmonitor import bench as selfmonitor_bench


class Command(BaseCommand):
    help = (
        "Seed synthetic patients in bulk and report page latency, queries and size "
        "(figures, never pass/fail). Real figures come from PostgreSQL: "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/careplan_bench make bench"
    )

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=200, help="Seed size (default 200)")
        parser.add_argument(
            "--requests", type=int, default=50, help="Measured requests per page (default 50)"
        )
        parser.add_argument("--units", type=int, default=5, help="Care units (default 5)")
        parser.add_argument(
            "--warmup", type=int, default=1, help="Unmeasured requests per page first"
        )
        parser.add_argument(
            "--database",
            help="A database alias or URL to use instead of DATABASE_URL (must be migrated)",
        )
        parser.add_argument("--reseed", action="store_true", help="Write the seed again")
        parser.add_argument("--json", metavar="PATH", help="Also write the report as JSON")
        parser.add_argument(
            "--http",
            action="store_true",
            help="Measure over HTTP instead (gunicorn, 2 sync workers, and wrk, interleaved "
            "with a bare-Django baseline; careplan/httpbench.py). make bench does",
        )
        parser.add_argument(
            "--seconds", type=float, default=3, help="--http: seconds per wrk run (default 3)"
        )
        parser.add_argument(
            "--rounds", type=int, default=1, help="--http: rounds over every page (default 1)"
        )
        parser.add_argument(
            "--sample",
            type=int,
            default=50,
            help="--http: sampled patients (each gets 200 answers and 2 threads; default 50)",
        )
        parser.add_argument(
            "--connections", type=int, default=8, help="--http: wrk connections (default 8)"
        )
        parser.add_argument(
            "--selfmonitor-responses",
            type=int,
            default=0,
            metavar="N",
            help="Also seed N stored questionnaire answers and measure submission and the "
            "trend page (selfmonitor/bench.py); e.g. 1000000",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("bench writes synthetic users and patients: not in production")
        if options["patients"] < 1 or options["requests"] < 1:
            raise CommandError("--patients and --requests must be at least 1")
        try:
            bench.use_database(options["database"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        pending = bench.unapplied_migrations()
        if pending:
            raise CommandError(
                f"The database is not migrated ({len(pending)} migrations pending): "
                "run manage.py migrate with the same DATABASE_URL first (make bench does)."
            )

        def progress(msg: str) -> None:
            self.stderr.write(msg)

        progress(f"seeding {options['patients']} patients (or reusing a seed of that size)")
        seed = bench.seed(
            patients=options["patients"],
            units=options["units"],
            reseed=options["reseed"],
            progress=progress,
        )
        if options["http"]:
            self._http(options, seed, progress)
            return
        progress(f"measuring {options['requests']} requests per page")
        machine = bench.machine_info()
        pages = []
        for result in bench.measure(requests=options["requests"], warmup=options["warmup"]):
            progress(f"  {result.label}: {result.note or 'done'}")
            pages.append(result.summary())
        report = {
            "database": bench.database_info(),
            "seed": vars(seed),
            "machine": machine,
            "rows": bench.row_counts(),
            "requests": options["requests"],
            "warmup": options["warmup"],
            "pages": pages,
            "peak_rss_mb": bench.peak_rss_mb(),
        }
        if options["selfmonitor_responses"] > 0:
            progress(f"seeding {options['selfmonitor_responses']} questionnaire answers")
            seeded = selfmonitor_bench.seed(
                total=options["selfmonitor_responses"], progress=progress
            )
            report["selfmonitor"] = {
                "seed": seeded,
                **selfmonitor_bench.measure(requests=options["requests"], warmup=options["warmup"]),
            }
        self.stdout.write(bench.render_table(report))
        if "selfmonitor" in report:
            self.stdout.write(selfmonitor_bench.render(report["selfmonitor"]))
        if options["json"]:
            bench.write_json(report, options["json"])
            self.stdout.write(f"JSON report written to {options['json']}")

    def _http(self, options, seed, progress) -> None:
        if not Path(httpbench.WRK).is_file():
            raise CommandError("--http needs wrk (Debian: apt-get install wrk)")
        report = {
            "database": bench.database_info(),
            "seed": vars(seed),
            "machine": bench.machine_info(),
            "rows": bench.row_counts(),
            "http": httpbench.measure(
                sample=options["sample"],
                seconds=options["seconds"],
                rounds=options["rounds"],
                connections=options["connections"],
                progress=progress,
            ),
        }
        db = report["database"]
        self.stdout.write(
            f"careplan bench over HTTP — {db['vendor']} {db.get('version', '')} ({db['name']}); "
            f"seed: {seed.patients:,} patients in {seed.units} units "
            f"({'reused' if seed.reused else 'seeded'})"
        )
        self.stdout.write(httpbench.render(report["http"]))
        if options["json"]:
            bench.write_json(report, options["json"])
            self.stdout.write(f"JSON report written to {options['json']}")
