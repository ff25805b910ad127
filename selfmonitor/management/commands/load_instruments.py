"""Validate and load questionnaire instruments from their data files.

    manage.py load_instruments                  # every file in selfmonitor/instruments/
                                                # and its languages/, and the symptom
                                                # report in symptoms/
    manage.py load_instruments path/to/x.json   # a unit's licensed instrument, same format
    manage.py load_instruments --check          # validate only

Language versions (``languages/<id>.v<N>.<lang>.json``) load after their originals and must match
them in everything but their language's texts (see ``selfmonitor.definition``).

A broken file is refused with the file, the item and the reason; nothing is loaded
then. A version that has answers is never changed in place: load a new version.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from selfmonitor import services, symptom_services
from selfmonitor.definition import DefinitionError, language_of


class Command(BaseCommand):
    help = "Validate and load questionnaire instruments (JSON files)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="Files or folders (default: shipped ones)")
        parser.add_argument("--check", action="store_true", help="Validate only")

    def handle(self, *args, **options):
        files: list[Path] = []
        shipped = [str(services.INSTRUMENT_DIR), str(services.LANGUAGE_VERSION_DIR)]
        for spec in options["paths"] or shipped:
            path = Path(spec)
            if path.is_dir():
                files.extend(sorted(path.glob("*.json")))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{spec}: no such file or folder")
        errors: list[str] = []
        loaded: list[tuple[Path, dict]] = []
        for path in files:
            try:
                loaded.append((path, services.read_instrument_file(path)))
            except DefinitionError as exc:
                errors.extend(exc.errors)
        seen: dict[tuple[str, int, str], Path] = {}
        for path, data in loaded:
            key = (data["id"], data["version"], language_of(data))
            if key in seen:
                errors.append(
                    f"{path.name}: version: {key[0]} v{key[1]} {key[2]} is also in "
                    f"{seen[key].name}".replace("  ", " ")
                )
            seen[key] = path
        # Originals before their language versions (which are checked against them).
        loaded.sort(key=lambda pair: bool(language_of(pair[1])))
        if errors:
            raise CommandError("Refused:\n" + "\n".join(errors))
        if options["check"]:
            self.stdout.write(f"{len(loaded)} instrument file(s) valid.")
            return
        try:
            with transaction.atomic():
                for path, data in loaded:
                    instrument, what = services.instrument_load(data=data, source_file=path.name)
                    label = f"{instrument.key} v{instrument.version}"
                    if instrument.language:
                        label += f" {instrument.language} ({instrument.text_status})"
                    self.stdout.write(f"{path.name}: {label} {what}")
                if not options["paths"]:
                    # The symptom report and its advice and triage rules (symptoms/).
                    instrument, guide = symptom_services.symptom_files_load()
                    self.stdout.write(
                        f"symptoms: {instrument.key} v{instrument.version}, "
                        f"{guide.key} v{guide.version} loaded"
                    )
        except DefinitionError as exc:
            raise CommandError("Refused:\n" + "\n".join(exc.errors)) from exc
