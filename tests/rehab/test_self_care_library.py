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


# --- Language versions (issue 14) ---------------------------------------------------------

NOTICE_FI = "Käännetty teksti – kysy hoitotiimiltäsi, jos jokin on epäselvää"


def test_the_shipped_library_has_arabic_and_finnish_drafts_and_the_migration_loads_them(db):
    from django.apps import apps

    from careplan import content

    items = json.loads(DATA.read_text(encoding="utf-8"))
    for item in items:
        for lang in ("ar", "fi"):
            assert item["title"][lang].strip() and item["body"][lang].strip()
    importlib.import_module("rehab.migrations.0003_self_care_advice").load(apps, None)
    importlib.import_module("rehab.migrations.0004_self_care_advice_translations").load_versions(
        apps, None
    )
    for advice in SelfCareAdvice.objects.all():
        for lang in ("ar", "fi"):
            assert content.version_text(advice, "body", lang)
            assert content.version_status(advice, lang) == content.DRAFT


def test_the_rehab_plan_shows_advice_in_the_readers_language_with_the_notice(cast, rehab):
    from django.urls import reverse

    from careplan import content

    advice = rehab.self_care_advice.get()
    advice.translations = content.loaded(
        {}, {"title": {"fi": "Liiku"}, "body": {"fi": "Käy ulkona joka päivä."}}
    )
    advice.save()
    client = cast.client("patient")
    client.post(reverse("set_language"), {"language": "fi", "next": "/"})
    page = client.get(reverse("rehab_plan", args=[cast.plan.pk])).text
    assert "Liiku" in page and "Käy ulkona joka päivä." in page and NOTICE_FI in page
    assert '<div class="prose" lang="sv" dir="ltr"><p>Gå ut varje dag.</p></div>' in page
    # The nurse's own text stays Swedish and says so.
    assert "Promenera varje dag." in page and "kieli: Ruotsi" in page
