"""Load the diagnosis-specific plan templates from careplan/plan_templates/*.json.

Idempotent: a template (slug, version) already loaded is updated in place only while no
plan uses it; otherwise it is left alone (publish a new version in the file instead) — but
for its language versions: every language besides Swedish and English (``ar``, ``fi``, the
next one in settings.LANGUAGES) is loaded as a ``draft`` version (careplan/content.py),
also into a template in use, and a version whose text did not change keeps its review.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from careplan import content
from careplan.models import CarePlan, DiagnosisArea, PlanTemplate, PlanTemplateSection

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "plan_templates"


def load_template_file(path: Path) -> tuple[PlanTemplate, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        slug, version = data["slug"], int(data["version"])
        area = data["diagnosis_area"]
        sections = data["sections"]
    except (KeyError, ValueError, TypeError) as exc:
        raise CommandError(f"{path.name}: malformed template ({exc})") from exc
    if area not in DiagnosisArea.values:
        raise CommandError(f"{path.name}: unknown diagnosis_area {area!r}")
    with transaction.atomic():
        template, created = PlanTemplate.objects.get_or_create(
            slug=slug,
            version=version,
            defaults={
                "diagnosis_area": area,
                "title_sv": data["title"]["sv"],
                "title_en": data["title"]["en"],
            },
        )
        for s in sections:
            for lang in ("sv", "en"):
                if not s["title"].get(lang) or not s["body"].get(lang):
                    raise CommandError(f"{path.name}: section {s['key']!r} lacks {lang} text")
        template.translations = content.loaded(template.translations, {"title": data["title"]})
        if not created and CarePlan.objects.filter(template=template).exists():
            # The original stays; its language versions are added or updated as drafts.
            template.save(update_fields=["translations"])
            by_key = {s["key"]: s for s in sections}
            for section in template.sections.all():
                s = by_key.get(section.key)
                if s is not None and s["body"]["sv"] == section.body_sv:
                    section.translations = content.loaded(
                        section.translations, {"title": s["title"], "body": s["body"]}
                    )
                    section.save(update_fields=["translations"])
            return template, "in use, language versions loaded"
        template.diagnosis_area = area
        template.title_sv = data["title"]["sv"]
        template.title_en = data["title"]["en"]
        template.save()
        kept = {s.key: s.translations for s in template.sections.all()}
        template.sections.all().delete()
        for order, s in enumerate(sections):
            PlanTemplateSection.objects.create(
                template=template,
                key=s["key"],
                order=order,
                title_sv=s["title"]["sv"],
                title_en=s["title"]["en"],
                body_sv=s["body"]["sv"],
                body_en=s["body"]["en"],
                translations=content.loaded(
                    kept.get(s["key"]), {"title": s["title"], "body": s["body"]}
                ),
            )
    return template, "created" if created else "updated"


class Command(BaseCommand):
    help = "Load plan templates from careplan/plan_templates/*.json (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="Files to load (default: all shipped)")

    def handle(self, *args, **options):
        paths = [Path(p) for p in options["paths"]] or sorted(TEMPLATE_DIR.glob("*.json"))
        for path in paths:
            template, outcome = load_template_file(path)
            self.stdout.write(f"{path.name}: {template.slug} v{template.version} {outcome}")
