"""Load the self-care advice library shipped in rehab/data/self_care_advice.json.

Written for careplan in plain language (not copied from a licensed source); superusers
can add and edit advice in the admin. Idempotent: an advice with the same area and
Swedish title is left as it is.
"""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parents[1] / "data" / "self_care_advice.json"


def load(apps, schema_editor):
    SelfCareAdvice = apps.get_model("rehab", "SelfCareAdvice")
    for item in json.loads(DATA.read_text(encoding="utf-8")):
        SelfCareAdvice.objects.get_or_create(
            area=item["area"],
            title_sv=item["title"]["sv"],
            defaults={
                "title_en": item["title"]["en"],
                "body_sv": item["body"]["sv"],
                "body_en": item["body"]["en"],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("rehab", "0002_kva_seed")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
