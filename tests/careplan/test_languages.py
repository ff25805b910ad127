"""Arabic and Finnish besides Swedish and English (issue 14): the language is each user's
saved preference, set with the switch on every page (a plain form, no script), seen and
set by the nurse at registration; Arabic pages are right to left."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from careplan import personnummer as pnr
from careplan.models import Language, Patient
from careplan.testing import login
from tests import factories as f
from tests.careplan.test_i18n import _placeholders, _translations, po_entries


def _switch(client: Client, language: str, next_url: str = "/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def _html_tag(body: str) -> str:
    return re.search(r"<html[^>]*>", body).group(0)


def test_the_site_offers_swedish_english_arabic_and_finnish():
    assert [code for code, _name in settings.LANGUAGES] == ["sv", "en", "ar", "fi"]
    assert Language.values == ["sv", "en", "ar", "fi"]


def test_every_page_has_a_switch_with_each_language_named_in_itself(cast):
    body = cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk])).text

    switch = re.search(r'<form[^>]*class="[^"]*lang-switch.*?</form>', body, re.S).group(0)
    assert 'method="post"' in switch and "csrfmiddlewaretoken" in switch
    buttons = re.findall(
        r'<button type="submit" name="language" value="(\w+)" lang="(\w+)"', switch
    )
    assert buttons == [("sv", "sv"), ("en", "en"), ("ar", "ar"), ("fi", "fi")]
    assert ">Svenska<" in switch and ">English<" in switch and ">Suomi<" in switch
    assert 'dir="rtl"' in switch and ">العربيّة<" in switch
    # The language in use is marked (and only that one).
    assert switch.count('aria-current="true"') == 1
    assert re.search(r'value="sv"[^>]*aria-current="true"', switch)


def test_a_patient_who_switches_keeps_the_language_at_the_next_login(cast):
    response = _switch(cast.client("patient"), "ar")

    assert response.status_code == 302
    cast.patient_user.refresh_from_db()
    cast.patient.refresh_from_db()
    # The account's and the patient record's (what the nurse sees; e-mails use it).
    assert (cast.patient_user.language, cast.patient.language) == ("ar", "ar")
    # Another device, no cookie: the saved preference decides.
    body = login(Client(), cast.patient_user).get(reverse("plan_detail", args=[cast.plan.pk])).text
    assert _html_tag(body) == '<html lang="ar" dir="rtl">'


def test_a_relative_chooses_their_own_language_not_the_patients(cast):
    _switch(cast.client("relative"), "fi")

    cast.relative.refresh_from_db()
    cast.patient.refresh_from_db()
    assert cast.relative.language == "fi"
    assert cast.patient.language == "sv"
    body = login(Client(), cast.relative).get(reverse("plan_detail", args=[cast.plan.pk])).text
    assert _html_tag(body) == '<html lang="fi">'


def test_an_unknown_language_changes_nothing(cast):
    client = cast.client("patient")

    response = _switch(client, "xx")

    assert response.status_code == 302  # back to the page, as Django's own switch does
    cast.patient_user.refresh_from_db()
    cast.patient.refresh_from_db()
    assert (cast.patient_user.language, cast.patient.language) == ("sv", "sv")
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies


def test_an_anonymous_visitor_switches_by_cookie_only(db):
    client = Client()

    response = _switch(client, "fi")

    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fi"
    assert _html_tag(client.get(reverse("home")).text) == '<html lang="fi">'


def test_the_switch_is_post_only(cast):
    response = cast.client("patient").get(reverse("set_language"), {"language": "ar"})

    assert response.status_code == 405
    cast.patient_user.refresh_from_db()
    assert cast.patient_user.language == "sv"


@pytest.mark.parametrize(
    ("language", "html"),
    [
        ("ar", '<html lang="ar" dir="rtl">'),
        ("fi", '<html lang="fi">'),
        ("en", '<html lang="en">'),
        ("sv", '<html lang="sv">'),
    ],
)
def test_arabic_pages_are_right_to_left_and_the_others_left_to_right(cast, language, html):
    client = cast.client("patient")
    _switch(client, language)

    for url in (
        reverse("plan_detail", args=[cast.plan.pk]),
        reverse("plan_calendar", args=[cast.plan.pk]),
        reverse("my_access_log"),
        reverse("message_list"),
    ):
        assert _html_tag(client.get(url).text) == html, url


def test_the_login_page_is_right_to_left_in_arabic(db):
    client = Client()
    _switch(client, "ar")

    assert _html_tag(client.get(reverse("account_login")).text) == '<html lang="ar" dir="rtl">'


def test_the_nurse_registers_a_patient_who_reads_arabic(cast):
    client = cast.client("nurse")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    add = reverse("admin:careplan_patient_add")

    form = client.get(add).text
    response = client.post(
        add,
        {
            "first_name": "Amal",
            "last_name": "Haddad",
            "personnummer": pnr.formatted(f.synthetic_personnummer()),
            "unit": cast.unit.pk,
            "language": "ar",
        },
    )

    assert '<option value="ar">Arabic</option>' in form
    assert '<option value="fi">Finnish</option>' in form
    assert response.status_code == 302
    patient = Patient.objects.get(last_name="Haddad")
    assert patient.language == "ar"
    # The nurse sees it on the patient's page.
    page = client.get(reverse("admin:careplan_patient_change", args=[patient.pk])).text
    assert '<option value="ar" selected>Arabic</option>' in page


# --- The Arabic and Finnish catalogues ----------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "fi"])
def test_the_catalogue_passes_msgfmt_check_format(language):
    po = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"

    done = subprocess.run(
        ["msgfmt", "--check-format", "--check-header", "-o", os.devnull, str(po)],
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("language", "plural_forms"),
    [
        ("ar", "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3"),
        ("fi", "nplurals=2; plural=(n != 1);"),
    ],
)
def test_the_catalogue_declares_its_language_and_plural_forms(language, plural_forms):
    po = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"
    header = po.read_text(encoding="utf-8").split("\n\n")[0]

    assert f'"Language: {language}\\n"' in header
    assert plural_forms in header.replace('"\n"', "")
    assert "#, fuzzy" not in header


@pytest.mark.parametrize("language", ["ar", "fi"])
def test_the_catalogue_has_no_untranslated_or_fuzzy_entries(language):
    entries = po_entries(
        Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"
    )

    untranslated = [e["fields"]["msgid"] for e in entries if "" in _translations(e)]
    fuzzy = [e["fields"]["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert len(entries) > 1000
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("language", ["ar", "fi"])
def test_every_translation_keeps_the_placeholders_of_its_source(language):
    po = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"
    for entry in po_entries(po):
        fields = entry["fields"]
        if "msgid_plural" not in fields:
            assert _placeholders(fields["msgstr"]) == _placeholders(fields["msgid"]), fields
            continue
        # Plural forms: Arabic has six (zero, one, two, few, many, other). "One" and "two"
        # may say the number in words; the last form ("other") keeps every placeholder.
        forms = [v for k, v in sorted(fields.items()) if k.startswith("msgstr[")]
        both = _placeholders(fields["msgid"]) | _placeholders(fields["msgid_plural"])
        assert all(_placeholders(form) <= both for form in forms), fields
        assert _placeholders(forms[-1]) == _placeholders(fields["msgid_plural"]), fields


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", {"Your contact nurse": "ممرضتك المسؤولة", "Log in": "تسجيل الدخول"}),
        ("fi", {"Your contact nurse": "Yhteyshoitajasi", "Log in": "Kirjaudu sisään"}),
    ],
)
def test_the_patient_pages_speak_arabic_and_finnish(cast, language, expected):
    client = cast.client("patient")
    _switch(client, language)

    plan = client.get(reverse("plan_detail", args=[cast.plan.pk])).text
    login = Client(HTTP_ACCEPT_LANGUAGE=language).get(reverse("account_login")).text

    assert expected["Your contact nurse"] in plan
    assert "Din kontaktsjuksköterska" not in plan and "Your contact nurse" not in plan
    assert expected["Log in"] in login


def test_an_iso_date_in_an_arabic_sentence_reads_left_to_right(cast):
    cast.plan.status, cast.plan.established_on = "active", dt.date(2026, 11, 30)
    cast.plan.save(update_fields=["status", "established_on"])
    client = cast.client("patient")

    _switch(client, "ar")
    arabic = client.get(reverse("plan_detail", args=[cast.plan.pk])).text
    _switch(client, "sv")
    swedish = client.get(reverse("plan_detail", args=[cast.plan.pk])).text

    # Left-to-right isolate ... pop directional isolate around the date (invisible).
    assert "تم إعداد خطة الرعاية في \u20662026-11-30\u2069." in arabic
    assert "upprättades 2026-11-30." in swedish


@pytest.mark.parametrize(
    ("language", "note"),
    [
        ("ar", "هذا النص غير متوفر بلغتك بعد. وهو معروض باللغة السويدية."),
        ("fi", "Tämä teksti ei ole vielä saatavilla kielelläsi. Se näytetään ruotsiksi."),
    ],
)
def test_a_section_without_a_version_in_the_readers_language_is_swedish_and_says_so(
    cast, language, note
):
    client = cast.client("patient")
    _switch(client, language)

    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).text

    assert note in body
    # The Swedish text, marked as Swedish (screen readers pronounce it right).
    assert '<div class="prose" lang="sv" dir="ltr">' in body and "Text om treatment." in body


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_section_in_the_readers_language_has_no_note(cast, language):
    client = cast.client("patient")
    _switch(client, language)

    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).text

    assert "content-fallback" not in body
    assert '<div class="prose">' in body
