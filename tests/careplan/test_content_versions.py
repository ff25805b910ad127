"""Content in the reader's language (issue 14, "language as data"): each text has versions
beside the Swedish original, each draft or reviewed (careplan/content.py); patients read
their language's version with a notice under a draft and the Swedish original one tap
away, or the Swedish with a note; reviewers record their review in the admin."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse

from careplan import content, services
from careplan.management.commands.load_plan_templates import TEMPLATE_DIR
from careplan.models import PlanSection, PlanTemplate
from careplan.pdf import plan_pdf
from tests import factories as f

pytestmark = pytest.mark.django_db

AR_BODY = "نص عن العلاج."
FI_BODY = "Tekstiä hoidosta."
NOTICE = {
    "sv": "Översatt text – fråga ditt vårdteam om något är oklart",
    "en": "Translated text – ask your care team if anything is unclear",
    "ar": "نص مترجم – اسأل فريق رعايتك إذا كان هناك شيء غير واضح",
    "fi": "Käännetty teksti – kysy hoitotiimiltäsi, jos jokin on epäselvää",
}
SHOW_ORIGINAL = {
    "en": "Show the original in Swedish",
    "ar": "عرض النص الأصلي باللغة السويدية",
    "fi": "Näytä ruotsinkielinen alkuperäinen",
}


def _switch(client, language):
    client.post(reverse("set_language"), {"language": language, "next": "/"})
    return client


def _with_versions(obj, **extra):
    texts = {
        "title": {"ar": "العلاج", "fi": "Hoito", "en": obj.title_en},
        "body": {"ar": AR_BODY, "fi": FI_BODY, "en": obj.body_en},
    }
    obj.translations = content.loaded(obj.translations, texts)
    obj.save(update_fields=["translations"])
    return obj


@pytest.fixture
def versions(cast):
    """The treatment section of the template and of the patient's plan, in ar and fi."""
    _with_versions(cast.plan.template.sections.get(key="treatment"))
    return _with_versions(cast.plan.sections.get(key="treatment"))


@pytest.fixture
def reviewer(cast):
    user = f.StaffFactory(first_name="Rita", last_name="Granskare", units=[cast.unit])
    user.groups.add(Group.objects.get(name="Translation reviewers"))
    return type(user).objects.get(pk=user.pk)  # a fresh permission cache


def _section_page(cast, who="patient", **params):
    url = reverse("plan_section", args=[cast.plan.pk, "treatment"])
    return cast.client(who).get(url, params)


# --- The shipped data ------------------------------------------------------------------------


def test_every_shipped_template_has_arabic_and_finnish_drafts_of_every_text():
    for path in sorted(TEMPLATE_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for lang in ("ar", "fi"):
            assert data["title"].get(lang), (path.name, lang)
            for s in data["sections"]:
                assert s["title"].get(lang) and s["body"].get(lang), (path.name, s["key"], lang)
        # Emergency numbers survive translation.
        for s in data["sections"]:
            for lang in ("ar", "fi"):
                assert ("112" in s["body"]["sv"]) == ("112" in s["body"][lang]), (s["key"], lang)


def test_the_loader_reads_the_drafts_into_templates_and_their_sections():
    call_command("load_plan_templates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    templates = list(PlanTemplate.objects.filter(slug__in=["general", "breast", "lung"]))
    assert templates
    for template in templates:
        for lang in ("ar", "fi"):
            assert content.version_text(template, "title", lang)
            assert content.version_status(template, lang) == content.DRAFT
        for section in template.sections.all():
            for lang in ("ar", "fi"):
                assert content.version_text(section, "body", lang)
                assert content.version_status(section, lang) == content.DRAFT
            assert content.version_status(section, "en") == content.DRAFT


def test_reloading_keeps_a_review_of_an_unchanged_version(reviewer):
    call_command("load_plan_templates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    template = PlanTemplate.objects.get(slug="general", version=1)
    services.translation_review(obj=template, lang="fi", by=reviewer)
    call_command("load_plan_templates", stdout=open("/dev/null", "w"))  # noqa: SIM115
    template.refresh_from_db()
    assert content.version_status(template, "fi") == content.REVIEWED
    assert content.version_status(template, "ar") == content.DRAFT


def test_a_new_plan_copies_the_versions_of_its_template(cast, versions):
    cast.plan.status = cast.plan.Status.CLOSED
    cast.plan.save()
    plan = services.plan_create_from_template(
        patient=cast.patient, template=cast.plan.template, by=cast.nurse
    )
    section = plan.sections.get(key="treatment")
    assert content.version_text(section, "body", "ar") == AR_BODY


# --- What the reader sees ----------------------------------------------------------------------


@pytest.mark.parametrize("lang,text", [("ar", AR_BODY), ("fi", FI_BODY)])
def test_a_draft_translation_is_shown_with_the_notice_and_the_original_one_tap_away(
    cast, versions, lang, text
):
    client = _switch(cast.client("patient"), lang)
    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).text

    direction = "rtl" if lang == "ar" else "ltr"
    assert f'<div class="prose" lang="{lang}" dir="{direction}"' not in body  # the page's own
    assert text in body
    assert NOTICE[lang] in body
    details = re.search(r'<details class="translation-draft__original">.*?</details>', body, re.S)
    assert details is not None, "the Swedish original is one tap away, without script"
    assert SHOW_ORIGINAL[lang] in details.group(0)
    assert '<div class="prose" lang="sv" dir="ltr">' in details.group(0)
    assert "Text om treatment." in details.group(0)
    # Never the "not in your language" note when there is a version.
    assert "content-fallback" not in body


def test_english_texts_are_drafts_too_until_reviewed(cast, versions):
    client = _switch(cast.client("patient"), "en")
    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).text
    assert "Text about treatment." in body and NOTICE["en"] in body


def test_swedish_readers_see_the_original_without_a_notice(cast, versions):
    body = _section_page(cast).text
    assert "Text om treatment." in body
    assert NOTICE["sv"] not in body and "translation-draft" not in body


@pytest.mark.parametrize("lang", ["ar", "fi"])
def test_a_text_without_a_version_is_swedish_with_the_note_never_empty(cast, lang):
    client = _switch(cast.client("patient"), lang)
    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).text
    assert "Text om treatment." in body and "content-fallback" in body
    assert "translation-draft" not in body
    # The Swedish title is marked as Swedish too, here and in the plan's list of sections.
    assert '<h1 lang="sv" dir="ltr">Avsnitt treatment</h1>' in body
    plan_page = client.get(reverse("plan_detail", args=[cast.plan.pk])).text
    assert 'lang="sv" dir="ltr">Avsnitt treatment</a>' in plan_page


def test_a_relative_reads_in_their_own_language(cast, versions):
    client = _switch(cast.client("relative"), "fi")
    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).text
    assert FI_BODY in body and NOTICE["fi"] in body


@pytest.mark.parametrize(
    "lang,note",
    [
        ("en", "Written by your care team in Swedish."),
        ("ar", "كتبه فريق رعايتك باللغة السويدية."),
        ("fi", "Hoitotiimisi kirjoittama teksti, kieli: Ruotsi."),
    ],
)
def test_a_personal_note_stays_as_written_and_says_its_language(cast, versions, lang, note):
    PlanSection.objects.filter(pk=versions.pk).update(personal_note="Ring mig om du får feber.")
    client = _switch(cast.client("patient"), lang)
    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).text
    assert '<div lang="sv" dir="ltr"><p>Ring mig om du får feber.</p></div>' in body
    assert note in body


def test_a_swedish_reader_gets_no_written_in_note(cast, versions):
    PlanSection.objects.filter(pk=versions.pk).update(personal_note="Ring mig om du får feber.")
    assert "written-in" not in _section_page(cast).text


def test_a_nurse_edit_of_the_swedish_drops_the_outdated_translations(cast, versions):
    section = cast.plan.sections.get(key="treatment")
    services.plan_update(
        plan=cast.plan,
        by=cast.nurse,
        sections=[
            services.SectionEdit(
                section=section, fields={"body_sv": "Ny text."}, version=section.version
            )
        ],
    )
    section.refresh_from_db()
    assert content.version_text(section, "body", "ar") == ""
    assert "en" in section.translations  # English is edited with its own column
    client = _switch(cast.client("patient"), "ar")
    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).text
    assert "Ny text." in body and "content-fallback" in body and AR_BODY not in body


# --- Query counts: versions cost nothing -------------------------------------------------------


@pytest.mark.parametrize("lang", ["ar", "fi"])
def test_reading_a_translated_section_costs_what_reading_swedish_costs(
    cast, versions, django_assert_max_num_queries, django_assert_num_queries, lang
):
    url = reverse("plan_section", args=[cast.plan.pk, "treatment"])
    sv_client = cast.client("patient")
    sv_client.get(url)
    with django_assert_max_num_queries(100) as swedish:
        sv_client.get(url)
    n = len(swedish)  # now: the next request clears the connection's query log
    client = _switch(cast.client("patient"), lang)
    client.get(url)
    with django_assert_num_queries(n):
        body = client.get(url).text
    assert (AR_BODY if lang == "ar" else FI_BODY) in body


def test_the_plan_pdf_follows_the_readers_language_version_with_the_notice(cast, versions):
    from tests.careplan.test_pdf_arabic import PDFTOTEXT, extracted_text, lines_of

    if PDFTOTEXT is None:
        pytest.skip("pdftotext not found (apt-get install poppler-utils)")
    finnish = extracted_text(plan_pdf(cast.plan, language="fi"))
    assert FI_BODY in finnish and NOTICE["fi"] in finnish
    assert "Text om treatment." not in finnish
    arabic = lines_of(extracted_text(plan_pdf(cast.plan, language="ar")))
    assert AR_BODY in arabic and NOTICE["ar"] in arabic
    swedish = extracted_text(plan_pdf(cast.plan, language="sv"))
    assert "Text om treatment." in swedish and NOTICE["sv"] not in swedish


def test_printing_a_translated_plan_costs_what_printing_swedish_costs(
    cast, versions, django_assert_num_queries
):
    url = reverse("plan_pdf", args=[cast.plan.pk])
    client = _switch(cast.client("patient"), "ar")
    client.get(url)
    # As tests/careplan/test_pdf.py pins for Swedish: session, user, plan, contact nurse,
    # events, sections, the kept document.
    with django_assert_num_queries(7):
        assert client.get(url).status_code == 200


# --- Review -------------------------------------------------------------------------------------


def test_a_reviewer_records_the_review_with_name_and_time(cast, versions, reviewer):
    template = cast.plan.template
    services.translation_review(obj=template, lang="ar", by=reviewer)

    section = template.sections.get(key="treatment")
    version = section.translations["ar"]
    assert version["status"] == content.REVIEWED
    assert version["reviewed_by"] == reviewer.pk
    assert version["reviewed_by_name"] == "Rita Granskare"
    assert version["reviewed_at"]
    # The plan section with the same text follows; the patient sees no draft notice.
    plan_section = cast.plan.sections.get(key="treatment")
    assert content.version_status(plan_section, "ar") == content.REVIEWED
    client = _switch(cast.client("patient"), "ar")
    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).text
    assert AR_BODY in body and NOTICE["ar"] not in body


@pytest.mark.parametrize("who", ["nurse", "other_nurse", "patient", "relative"])
def test_only_staff_with_the_permission_can_review(cast, versions, who):
    with pytest.raises(PermissionDenied):
        services.translation_review(obj=cast.plan.template, lang="ar", by=cast.user(who))
    section = cast.plan.template.sections.get(key="treatment")
    assert content.version_status(section, "ar") == content.DRAFT


def test_the_admin_offers_the_review_action_to_reviewers_only(cast, versions, reviewer):
    from careplan.testing import login

    url = reverse("admin:careplan_plantemplate_changelist")
    nurse_page = cast.client("nurse").get(url).text
    assert "review_ar" not in nurse_page
    # A nurse posting the action anyway changes nothing.
    cast.client("nurse").post(
        url, {"action": "review_ar", "_selected_action": [cast.plan.template.pk]}
    )
    section = cast.plan.template.sections.get(key="treatment")
    assert content.version_status(section, "ar") == content.DRAFT

    from django.test import Client

    client = login(Client(), reviewer)
    assert "review_ar" in client.get(url).text
    response = client.post(
        url, {"action": "review_ar", "_selected_action": [cast.plan.template.pk]}
    )
    assert response.status_code == 302
    section.refresh_from_db()
    assert section.translations["ar"]["reviewed_by"] == reviewer.pk


def test_the_admin_lists_texts_lacking_review_per_language(cast, versions, reviewer):
    from django.test import Client

    from careplan.testing import login

    template = cast.plan.template
    template.translations = content.loaded({}, {"title": {"ar": "خطة", "fi": "Suunnitelma"}})
    template.save(update_fields=["translations"])
    other = f.PlanTemplateFactory(slug="other")
    services.translation_review(obj=template, lang="ar", by=reviewer)
    client = login(Client(), reviewer)
    url = reverse("admin:careplan_plantemplate_changelist")

    lacking_ar = client.get(url, {"lacks_review": "ar"}).text
    assert f"/plantemplate/{other.pk}/" in lacking_ar
    assert f"/plantemplate/{template.pk}/" not in lacking_ar
    lacking_fi = client.get(url, {"lacks_review": "fi"}).text
    assert f"/plantemplate/{template.pk}/" in lacking_fi


def test_patients_and_relatives_cannot_reach_the_review_admin(cast):
    url = reverse("admin:careplan_plantemplate_changelist")
    for who in ("patient", "relative", "anonymous"):
        response = cast.client(who).post(url, {"action": "review_ar"})
        assert response.status_code in (302, 403)
        assert "/admin/login/" in response.get("Location", "/admin/login/")


# --- The nurse's view ---------------------------------------------------------------------------


def test_the_plan_admin_and_the_overview_show_the_language_and_the_unreviewed_texts(cast, versions):
    cast.patient.language = "ar"
    cast.patient.save(update_fields=["language"])
    client = cast.client("nurse")

    plan_page = client.get(reverse("admin:careplan_careplan_change", args=[cast.plan.pk])).text
    assert "The patient reads careplan in" in plan_page or "läser careplan på" in plan_page
    assert "translation-gaps" in plan_page and "Avsnitt treatment" in plan_page

    overview = client.get(reverse("admin:careplan_patient_overview", args=[cast.patient.pk])).text
    assert "translation-gaps" in overview and "Avsnitt about_diagnosis" in overview


def test_a_swedish_reader_has_no_gaps(cast, versions):
    client = cast.client("nurse")
    page = client.get(reverse("admin:careplan_careplan_change", args=[cast.plan.pk])).text
    assert "translation-gaps" not in page


# --- The API -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lang,body,status",
    [("ar", AR_BODY, "draft"), ("fi", FI_BODY, "draft"), ("sv", "Text om treatment.", None)],
)
def test_the_api_gives_the_version_its_language_and_its_status(cast, versions, lang, body, status):
    from tests.careplan.test_api import json_client

    client = json_client(cast, "nurse", language=lang)
    data = client.get(f"/api/v1/sections/{versions.pk}/").json()
    assert data["body"] == body
    assert data["body_language"] == lang
    assert data["body_status"] == status
    assert data["body_sv"] == "Text om treatment."
