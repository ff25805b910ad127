import importlib
import json
from pathlib import Path

from rehab.models import Area, SelfCareAdvice

DATA = Path(__file__).resolve().parents[2] / "rehab" / "data" / "self_care_advice.json"


def test_the_shipped_library_covers_every_area_in_both_languages(db):
    items = json.loads(DATA.read_text(encoding="utf-8"))
    assert {item["area"] for item in items} == set(Area.values)
    for item in items:
        for lang in ("sv", "en"):
            assert item["title"][lang].strip() and item["body"][lang].strip()


def test_the_migration_loads_the_library_once(db):
    """Run the data migration's loader twice (a transactional test elsewhere in the
    suite may have flushed what the migration loaded)."""
    from django.apps import apps

    migration = importlib.import_module("rehab.migrations.0003_self_care_advice")
    items = json.loads(DATA.read_text(encoding="utf-8"))
    migration.load(apps, None)
    migration.load(apps, None)
    assert SelfCareAdvice.objects.count() == len(items)
    assert set(SelfCareAdvice.objects.values_list("area", flat=True)) == set(Area.values)
