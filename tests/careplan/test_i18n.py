"""The interface is Swedish by default, with English: the pages, the language switch, and
the Swedish catalogue itself (complete, compiled, and the same as the .po it came from)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext, pgettext

SV_PO = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES" / "django.po"
EN_PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
STALE = "the compiled catalogue differs from the .po: run `make messages`"


# --- A tiny .po reader (no new dependency) ---------------------------------------------------


def _unquote(text: str) -> str:
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], text[1:-1])


def po_entries(path: Path) -> list[dict]:
    """Each entry's fields (msgctxt, msgid, msgid_plural, msgstr, msgstr[0] ...) and
    flags; the header and obsolete (#~) entries are left out."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        current = None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith('"') and current:
                fields[current] += _unquote(line)
            elif not line.startswith("#"):
                current, _, value = line.partition(" ")
                fields[current] = _unquote(value)
        if fields.get("msgid"):
            entries.append({"fields": fields, "flags": flags})
    return entries


def _translations(entry: dict) -> list[str]:
    return [v for k, v in entry["fields"].items() if k.startswith("msgstr")]


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)[sd]|%[sd]", text))


# --- Pages ------------------------------------------------------------------------------------


def test_the_patient_start_page_is_swedish_by_default(cast):
    response = cast.client("patient").get(reverse("home"), follow=True)

    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("plan_detail", args=[cast.plan.pk])
    assert '<html lang="sv">' in body
    assert "Din kontaktsjuksköterska" in body and "Vad händer härnäst" in body
    assert "Your contact nurse" not in body and "What is next" not in body
    assert 'name="language" value="en"' in body  # the switch offers the other language


def test_the_patient_start_page_is_english_after_switching_and_swedish_after_switching_back(
    cast,
):
    client = cast.client("patient")

    english = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    swedish = client.post(reverse("set_language"), {"language": "sv", "next": "/"}, follow=True)

    body = english.content.decode()
    assert english.redirect_chain[-1][0] == reverse("plan_detail", args=[cast.plan.pk])
    assert '<html lang="en">' in body
    assert "Your contact nurse" in body and "What is next" in body
    assert "Din kontaktsjuksköterska" not in body
    assert 'name="language" value="sv"' in body
    assert "Din kontaktsjuksköterska" in swedish.content.decode()


def test_the_landing_page_is_swedish_for_anonymous_visitors():
    body = Client().get(reverse("home")).content.decode()

    assert '<html lang="sv">' in body
    assert "Min vårdplan" in body and "Logga in" in body


def test_a_user_who_prefers_english_gets_english_without_switching(cast):
    cast.patient_user.language = "en"
    cast.patient_user.save(update_fields=["language"])

    body = cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk])).content
    assert "Your contact nurse" in body.decode()


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ({}, "Personal måste använda tvåstegsverifiering."),  # the nurse's own language
        ({"HTTP_ACCEPT_LANGUAGE": "en"}, "Two-factor authentication is required for staff."),
    ],
)
def test_the_apis_staff_mfa_refusal_speaks_the_clients_language(cast, header, detail):
    client = Client(**header)
    client.force_login(cast.nurse, backend="django.contrib.auth.backends.ModelBackend")

    response = client.get("/api/v1/plans/")

    assert response.status_code == 403
    assert response.json() == {"detail": detail, "code": "mfa_required"}


# --- The catalogues ---------------------------------------------------------------------------


def test_key_strings_are_swedish_in_the_compiled_catalogue():
    with translation.override("sv"):
        assert gettext("Contact nurse") == "Kontaktsjuksköterska"
        assert gettext("Care plan") == "Vårdplan"
        assert gettext("Care team") == "Vårdteam"
        assert gettext("Relative") == "Närstående"
        assert gettext("Follow-up") == "Uppföljning"
        assert gettext("Palliative care") == "Palliativ vård"
        assert gettext("Who has read my record") == "Vem har tagit del av mina uppgifter"
        assert gettext("My care plan") == "Min vårdplan"
        one, many = "Please correct the error below.", "Please correct the errors below."
        assert ngettext(one, many, 1) == "Rätta felet nedan."
        assert ngettext(one, many, 2) == "Rätta felen nedan."


def test_english_is_the_source_language():
    with translation.override("en"):
        assert gettext("Contact nurse") == "Contact nurse"
        assert gettext("Who has read my record") == "Who has read my record"


def test_the_swedish_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries = po_entries(SV_PO)

    untranslated = [e["fields"]["msgid"] for e in entries if "" in _translations(e)]
    fuzzy = [e["fields"]["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert len(entries) > 300
    assert untranslated == []
    assert fuzzy == []


def test_the_swedish_catalogue_declares_two_plural_forms():
    header = SV_PO.read_text(encoding="utf-8").split("\n\n")[0]

    assert '"Language: sv\\n"' in header
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in header
    assert "#, fuzzy" not in header


def test_every_swedish_translation_keeps_the_placeholders_of_its_source():
    for entry in po_entries(SV_PO):
        fields = entry["fields"]
        for key, text in fields.items():
            if not key.startswith("msgstr"):
                continue
            source = fields["msgid_plural"] if key == "msgstr[1]" else fields["msgid"]
            assert _placeholders(text) == _placeholders(source), (fields["msgid"], text)


def test_the_compiled_swedish_catalogue_matches_the_po():
    with translation.override("sv"):
        for entry in po_entries(SV_PO):
            fields = entry["fields"]
            msgid = fields["msgid"]
            if "msgid_plural" in fields:
                plural = fields["msgid_plural"]
                assert ngettext(msgid, plural, 1) == fields["msgstr[0]"], STALE
                assert ngettext(msgid, plural, 2) == fields["msgstr[1]"], STALE
            elif "msgctxt" in fields:
                assert pgettext(fields["msgctxt"], msgid) == fields["msgstr"], STALE
            else:
                assert gettext(msgid) == fields["msgstr"], STALE


def test_the_english_catalogue_lists_the_same_strings():
    def ids(path: Path) -> set[tuple[str, str]]:
        return {(e["fields"].get("msgctxt", ""), e["fields"]["msgid"]) for e in po_entries(path)}

    assert ids(EN_PO) == ids(SV_PO)
