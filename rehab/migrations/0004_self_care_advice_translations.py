"""Language versions of the self-care advice library (careplan/content.py): the Arabic
and Finnish drafts shipped in rehab/data/self_care_advice.json, and the English texts'
status (draft until a reviewer marks them reviewed in the admin)."""

import json
from pathlib import Path

from django.db import migrations, models

from careplan.content import loaded

DATA = Path(__file__).resolve().parents[1] / "data" / "self_care_advice.json"


def load_versions(apps, schema_editor):
    SelfCareAdvice = apps.get_model("rehab", "SelfCareAdvice")
    shipped = {
        (item["area"], item["title"]["sv"]): item
        for item in json.loads(DATA.read_text(encoding="utf-8"))
    }
    for advice in SelfCareAdvice.objects.all():
        item = shipped.get((advice.area, advice.title_sv))
        if item is not None:
            texts = {"title": item["title"], "body": item["body"]}
        elif advice.title_en or advice.body_en:
            texts = {"title": {"en": advice.title_en}}
        else:
            continue
        advice.translations = loaded(advice.translations, texts)
        advice.save(update_fields=["translations"])


class Migration(migrations.Migration):
    dependencies = [("rehab", "0003_self_care_advice")]

    operations = [
        migrations.AddField(
            model_name="selfcareadvice",
            name="translations",
            field=models.JSONField(blank=True, default=dict, verbose_name="language versions"),
        ),
        migrations.RunPython(load_versions, migrations.RunPython.noop),
    ]
