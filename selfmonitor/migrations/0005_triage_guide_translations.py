"""Language versions of the symptom advice guide (careplan/content.py): the Arabic and
Finnish drafts shipped in selfmonitor/symptoms/languages/, and the English texts' status."""

import json
from pathlib import Path

from django.db import migrations, models

from selfmonitor.triage import guide_versions

LANGUAGES_DIR = Path(__file__).resolve().parents[1] / "symptoms" / "languages"


def load_versions(apps, schema_editor):
    TriageGuide = apps.get_model("selfmonitor", "TriageGuide")
    for guide in TriageGuide.objects.all():
        path = LANGUAGES_DIR / (guide.source_file or f"triage.v{guide.version}.json")
        shipped = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        guide.translations = guide_versions(guide.definition, guide.translations, shipped)
        guide.save(update_fields=["translations"])


class Migration(migrations.Migration):
    dependencies = [("selfmonitor", "0004_symptom_reports")]

    operations = [
        migrations.AddField(
            model_name="triageguide",
            name="translations",
            field=models.JSONField(blank=True, default=dict, verbose_name="language versions"),
        ),
        migrations.RunPython(load_versions, migrations.RunPython.noop),
    ]
