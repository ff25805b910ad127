"""Questionnaires in the patient's language (issue 14): each language version is its own
instrument version of the same key, scored exactly like the original, so answers in
Arabic, Finnish and Swedish are one series; an answered version is never edited; a
language with no version gets the Swedish one with a note."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from selfmonitor import services, symptom_services
from selfmonitor.admin import ResponseAdmin
from selfmonitor.definition import DefinitionError
from selfmonitor.models import Alert, Instrument, Response

KEY = "distress-thermometer"


@pytest.fixture
def versions(instruments) -> dict[str, Instrument]:
    """The shipped language versions loaded after the originals: {"ar": …, "fi": …} of
    the distress thermometer."""
    for path in sorted(services.LANGUAGE_VERSION_DIR.glob("*.json")):
        services.instrument_load(data=services.read_instrument_file(path), source_file=path.name)
    return {i.language: i for i in Instrument.objects.filter(key=KEY).exclude(language="")}


def _ar_file() -> dict:
    return json.loads((services.LANGUAGE_VERSION_DIR / f"{KEY}.v1.ar.json").read_text())


def _speaks(cast, lang):
    cast.patient.language = lang
    cast.patient.save(update_fields=["language"])
    cast.patient_user.language = lang
    cast.patient_user.save(update_fields=["language"])


def _submit(cast, assignment, distress: str):
    return services.response_submit(
        assignment=assignment,
        by=cast.patient_user,
        raw={"distress": [distress], "wants_contact": ["yes"]},
    )


# --- Loading --------------------------------------------------------------------------


def test_every_shipped_instrument_has_an_arabic_and_a_finnish_draft_version(instruments):
    call_command("load_instruments", str(services.LANGUAGE_VERSION_DIR))
    for key, original in instruments.items():
        for lang in ("ar", "fi"):
            version = Instrument.objects.get(key=key, version=original.version, language=lang)
            assert version.original == original
            assert version.text_status == Instrument.TextStatus.DRAFT
            assert version.title_local and version.title_local != original.title_sv


def test_a_language_version_that_changes_the_scoring_is_refused(instruments):
    data = _ar_file()
    data["pages"][0]["items"][0]["max"] = 9  # not the same instrument any more
    with pytest.raises(DefinitionError) as exc:
        services.instrument_load(data=data, source_file="x.ar.json")
    assert "differs from distress-thermometer v1 in more than its ar texts" in str(exc.value)
    assert not Instrument.objects.filter(language="ar").exists()


def test_a_language_version_with_an_untranslated_text_is_refused(instruments):
    data = _ar_file()
    del data["pages"][1]["items"][0]["text"]["ar"]
    with pytest.raises(DefinitionError) as exc:
        services.instrument_load(data=data, source_file="x.ar.json")
    assert "x.ar.json: pages[1].items[0].text: needs ar text" in str(exc.value)


def test_a_language_version_needs_its_original_loaded(db, tmp_path):
    path = tmp_path / "dt.ar.json"
    path.write_text(json.dumps(_ar_file()), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("load_instruments", str(path))
    assert "load distress-thermometer v1 first" in str(exc.value)


def test_an_answered_language_version_is_never_edited_but_may_be_reviewed(cast, versions):
    _speaks(cast, "ar")
    assignment = services.assignment_send(
        patient=cast.patient, instrument=versions["ar"].original, by=cast.nurse
    )
    _submit(cast, assignment, "2")
    changed = _ar_file()
    changed["title"]["ar"] = "عنوان آخر"
    with pytest.raises(DefinitionError) as exc:
        services.instrument_load(data=changed, source_file="dt.ar.json")
    assert "has answers and cannot be changed" in str(exc.value)
    reviewed = _ar_file() | {"status": "reviewed", "reviewed_by": "Leila Haddad, translator"}
    instrument, what = services.instrument_load(data=reviewed, source_file="dt.ar.json")
    assert what == "updated"
    assert instrument.pk == versions["ar"].pk
    assert (instrument.text_status, instrument.reviewed_by) == (
        "reviewed",
        "Leila Haddad, translator",
    )
    assert instrument.definition["title"] == _ar_file()["title"]


# --- The patient is given their language's version --------------------------------------


@pytest.mark.parametrize("lang", ["ar", "fi"])
def test_the_patient_is_given_and_answers_the_version_in_their_language(cast, versions, lang):
    _speaks(cast, lang)
    original = versions[lang].original
    assignment = services.assignment_send(patient=cast.patient, instrument=original, by=cast.nurse)
    assert assignment.instrument == versions[lang]
    page = cast.client("patient").get(reverse("selfmonitor_answer", args=[assignment.pk]))
    content = page.content.decode()
    question = versions[lang].definition["pages"][0]["items"][0]["text"]
    assert question[lang] in content
    assert question["sv"] in content  # the Swedish original, one tap away
    assert page.context["draft_translation"] and not page.context["not_in_language"]
    _submit(cast, assignment, "6")
    response = Response.objects.get(assignment=assignment)
    assert response.instrument == versions[lang]  # exactly the version answered
    assert response.instrument_key == KEY


def test_the_language_versions_score_and_alert_alike_and_are_one_series(cast, versions):
    scores, rules = [], []
    for lang in ("sv", "ar", "fi"):
        _speaks(cast, lang)
        assignment = services.assignment_send(
            patient=cast.patient, instrument=versions["ar"].original, by=cast.nurse
        )
        _submit(cast, assignment, "7")
        response = Response.objects.get(assignment=assignment)
        scores.append(response.scores)
        rules.append(sorted(Alert.objects.filter(response=response).values_list("rule", flat=True)))
    assert scores[0] == scores[1] == scores[2] == {"distress": 7, "problems": None}
    assert rules[0] == rules[1] == rules[2] == ["distress-4-or-more", "wants-contact"]
    languages = Response.objects.filter(instrument_key=KEY).values_list(
        "instrument__language", flat=True
    )
    assert sorted(languages) == ["", "ar", "fi"]
    trend = cast.client("patient").get(reverse("selfmonitor_trend", args=[cast.plan.pk, KEY]))
    assert trend.context["count"] == 3  # one series across the three languages
    assert trend.context["charts"][0]["table"] == [7, 7, 7]
    # The patient reads the trend in Finnish: the scale's title is the Finnish one.
    assert trend.context["charts"][0]["title"] == "Ahdistuneisuus"


def test_a_language_without_a_version_gets_swedish_with_a_note(cast, instruments):
    _speaks(cast, "fi")  # no language versions loaded here
    assignment = services.assignment_send(
        patient=cast.patient, instrument=instruments[KEY], by=cast.nurse
    )
    assert assignment.instrument == instruments[KEY]
    page = cast.client("patient").get(reverse("selfmonitor_answer", args=[assignment.pk]))
    assert page.context["not_in_language"] and not page.context["draft_translation"]
    content = page.content.decode()
    assert instruments[KEY].definition["pages"][0]["items"][0]["text"]["sv"] in content


def test_a_changed_language_is_followed_until_the_first_answer(cast, versions):
    assignment = services.assignment_send(
        patient=cast.patient, instrument=versions["ar"].original, by=cast.nurse
    )
    assert assignment.instrument.language == ""  # a Swedish patient
    _speaks(cast, "ar")
    client = cast.client("patient")
    url = reverse("selfmonitor_answer", args=[assignment.pk])
    assert client.get(url).context["instrument"] == versions["ar"]
    services.response_save_draft(
        assignment=assignment.__class__.objects.get(pk=assignment.pk),
        by=cast.patient_user,
        raw={"distress": ["3"]},
        page_items=["distress"],
    )
    _speaks(cast, "fi")  # a draft exists: the version answered so far stays
    assert client.get(url).context["instrument"] == versions["ar"]


def test_the_nurse_sees_which_language_an_answer_was_given_in(cast, versions):
    _speaks(cast, "ar")
    assignment = services.assignment_send(
        patient=cast.patient, instrument=versions["ar"].original, by=cast.nurse
    )
    _submit(cast, assignment, "1")
    response = Response.objects.get(assignment=assignment)
    from django.contrib.admin.sites import site
    from django.utils import translation

    with translation.override("en"):
        assert ResponseAdmin(Response, site).answered_in(response) == "Arabic (draft translation)"
    client = cast.client("nurse")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("selfmonitor_response", args=[response.pk]))
    assert "answered in Arabic (draft translation)" in page.content.decode()
    # The open alert on the patient's overview says so too.
    overview = client.get(reverse("admin:careplan_patient_overview", args=[cast.patient.pk]))
    assert "(answered in Arabic (draft translation))" in overview.content.decode()


# --- The symptom report (a patient-initiated instrument) -----------------------------------


@pytest.mark.parametrize("lang", ["ar", "fi"])
def test_a_symptom_report_is_made_in_the_patients_language_and_triaged_alike(cast, lang):
    import uuid

    symptom_services.symptom_setup()  # loads the report, its language versions and guide
    levels = []
    for reader in ("sv", lang):
        _speaks(cast, reader)
        outcome = symptom_services.symptom_report_submit(
            patient=cast.patient,
            by=cast.patient_user,
            token=uuid.uuid4(),
            raw={"fever": ["2"], "on_chemo": ["yes"]},
            picked=["fever"],
        )
        assert outcome.report.response.instrument.language == ("" if reader == "sv" else lang)
        levels.append((outcome.report.level, outcome.report.response.scores))
    assert levels[0] == levels[1]
    version = Instrument.objects.get(key="symptom-report", language=lang)
    fever = next(i for p in version.definition["pages"] for i in p["items"] if i["id"] == "fever")
    page = cast.client("patient").get(reverse("symptom_new"))
    assert fever["text"][lang] in page.content.decode()
