"""``manage.py import_kva FILE``: import Socialstyrelsen's KVÅ classification file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rehab import kva


class Command(BaseCommand):
    help = (
        "Import Socialstyrelsen's KVÅ classification (Klassifikation av vårdåtgärder) into "
        "the rehab KVÅ catalogue. The file is CSV or tab separated (detected), UTF-8 or "
        "Windows-1252, with a header row. Columns (case-insensitive, Swedish or English): "
        "code|kod|kvå-kod|åtgärdskod (required), title_sv|title|titel|benämning|text "
        "(required), valid_from|giltig_from|giltig fr.o.m. (optional, YYYY-MM-DD), "
        "valid_to|giltig_tom|giltig t.o.m. (optional: retired after this day), "
        "note|anmärkning (optional), source|källa (optional; --source names it for new codes, "
        "an existing code keeps its source when the file has none). "
        "Idempotent; reports added, changed and retired codes. With --retire-missing a "
        "complete edition retires codes it no longer lists (never deletes them). "
        "Without FILE the shipped seed (rehab/data/kva-seed.csv) is loaded."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the classification file")
        parser.add_argument("--source", default="", help="source named on every new row")
        parser.add_argument(
            "--retire-missing",
            action="store_true",
            help="retire catalogue codes the file does not list (a complete edition)",
        )
        parser.add_argument(
            "--as-of", help="the edition's date (YYYY-MM-DD); default today", default=None
        )
        parser.add_argument("--dry-run", action="store_true", help="report only, change nothing")

    def handle(self, *args, **options):
        path = Path(options["file"]) if options["file"] else kva.SEED_FILE
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        as_of = None
        if options["as_of"]:
            try:
                as_of = dt.date.fromisoformat(options["as_of"])
            except ValueError:
                raise CommandError("--as-of must be a date, YYYY-MM-DD") from None
        try:
            rows = kva.parse(path.read_bytes())
        except kva.KvaFileError as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        result = kva.import_rows(
            rows,
            retire_missing=options["retire_missing"],
            as_of=as_of,
            dry_run=options["dry_run"],
            default_source=options["source"],
        )
        prefix = "Dry run: " if options["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{len(result.added)} added, {len(result.changed)} changed, "
            f"{len(result.retired)} retired, {result.unchanged} unchanged."
        )
        for label, codes in (
            ("added", result.added),
            ("changed", result.changed),
            ("retired", result.retired),
        ):
            if codes:
                self.stdout.write(f"  {label}: {', '.join(codes)}")
