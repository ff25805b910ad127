"""The symptom advice in the reader's language (issue 14): the guide's Arabic and Finnish
drafts from ``selfmonitor/symptoms/languages/``, kept beside the checksummed definition,
with the draft notice and the Swedish original; a unit's own wording stays Swedish."""

from __future__ import annotations

import json
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from careplan import content
from careplan import services as careplan_services
from selfmonitor import symptom_services as services
from selfmonitor.models import TriageGuide, UnitAdvice
from tests import factories as f

pytestmark = pytest.mark.django_db

FEVER_NOW_AR = "الحمى أثناء علاج السرطان قد تكون عدوى خطيرة"
FEVER_NOW_FI = "Kuume syöpähoidon aikana voi olla vakava infektio"
NOTICE_AR = "نص مترجم – اسأل فريق رعايتك إذا كان هناك شيء غير واضح"


def _switch(client, language):
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    return client


@pytest.fixture
def guide(db) -> TriageGuide:
    return services.symptom_setup()[1]


def test_the_shipped_guide_has_arabic_and_finnish_drafts_of_every_text(guide):
    shipped = json.loads((services.SYMPTOM_DIR / "languages" / "triage.v1.json").read_text())
    rules = [r["key"] for r in guide.definition["rules"]]
    for lang in ("ar", "fi"):
        version = shipped["languages"][lang]
        assert sorted(version["advice"]) == sorted(rules)
        assert sorted(version["levels"]) == sorted(guide.definition["levels"])
        # Emergency numbers and the fever limit survive translation.
        for rule in guide.definition["rules"]:
            for marker in ("112", "38"):
                assert (marker in rule["advice"]["sv"]) == (
                    marker in version["advice"][rule["key"]]
                )
        assert content.version_status(guide, lang) == content.DRAFT
        assert guide.translations[lang]["advice.fever-in-treatment"]


def test_adding_versions_leaves_the_definition_and_its_checksum_alone(guide):
    before = (guide.definition, guide.checksum)
    services.triage_guide_versions_load(guide=guide)
    guide.refresh_from_db()
    assert (guide.definition, guide.checksum) == before


@pytest.mark.parametrize("lang,text", [("ar", FEVER_NOW_AR), ("fi", FEVER_NOW_FI)])
def test_a_report_shows_the_advice_in_the_readers_language_with_the_notice(cast, guide, lang, text):
    report = services.symptom_report_submit(
        patient=cast.patient,
        by=cast.patient_user,
        token=uuid.uuid4(),
        raw={"fever": ["2"]},
        picked=["fever"],
    ).report
    client = _switch(cast.client("patient"), lang)
    page = client.get(reverse("symptom_report", args=[report.pk])).text
    assert text in page
    assert "translation-draft__original" in page
    assert "Feber under cancerbehandling kan vara en allvarlig infektion" in page  # original
    if lang == "ar":
        assert NOTICE_AR in page


def test_the_advice_page_in_arabic_marks_the_text_and_the_original(cast, guide):
    client = _switch(cast.client("patient"), "ar")
    page = client.get(reverse("symptom_advice", args=["fever"])).text
    assert "اتصل بوحدة رعايتك الآن" in page  # a level title
    assert 'lang="sv" dir="ltr"' in page  # the Swedish original in its details
    assert NOTICE_AR in page


def test_a_units_own_wording_is_not_replaced_by_the_guides_translation(cast, guide):
    UnitAdvice.objects.create(
        unit=cast.unit,
        rule_key="fever-in-treatment",
        text_sv="Ring avdelning 12 direkt.",
        text_en="Call ward 12 at once.",
        source="Enhetens egen information",
    )
    client = _switch(cast.client("patient"), "ar")
    page = client.get(reverse("symptom_advice", args=["fever"])).text
    assert "Ring avdelning 12 direkt." in page
    assert FEVER_NOW_AR not in page


def test_only_a_reviewer_marks_the_guide_reviewed(cast, guide):
    with pytest.raises(PermissionDenied):
        careplan_services.translation_review(obj=guide, lang="fi", by=cast.nurse)
    reviewer = f.StaffFactory(units=[cast.unit])
    reviewer.groups.add(Group.objects.get(name="Translation reviewers"))
    reviewer = type(reviewer).objects.get(pk=reviewer.pk)
    careplan_services.translation_review(obj=guide, lang="fi", by=reviewer)
    guide.refresh_from_db()
    assert guide.translations["fi"]["status"] == content.REVIEWED
    assert guide.translations["fi"]["reviewed_by"] == reviewer.pk
    client = _switch(cast.client("patient"), "fi")
    page = client.get(reverse("symptom_advice", args=["fever"])).text
    assert FEVER_NOW_FI in page and "translation-draft" not in page
