"""Instruments as data: the shipped files validate and load; a broken one is refused with
the file, the item and the reason; a version with answers is never edited in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from selfmonitor import services
from selfmonitor.definition import DefinitionError, items_of, validate_definition
from selfmonitor.models import Instrument

SHIPPED = sorted(services.INSTRUMENT_DIR.glob("*.json"))


def _copy(name: str) -> dict:
    return json.loads((services.INSTRUMENT_DIR / name).read_text())


def test_it_ships_the_four_instruments_each_with_a_source_and_licence_note():
    keys = {json.loads(p.read_text())["id"] for p in SHIPPED}
    assert keys == {"distress-thermometer", "symptom-scale", "rehab-needs", "care-experience"}
    for path in SHIPPED:
        data = services.read_instrument_file(path)
        assert "not a copy" in data["source"]
        assert data["licence"]


def test_every_item_has_swedish_and_english_text():
    for path in SHIPPED:
        for item in items_of(json.loads(path.read_text())):
            assert item["text"]["sv"] and item["text"]["en"], (path.name, item["id"])


def test_distress_thermometer_covers_the_five_problem_areas_and_alerts_from_4():
    data = _copy("distress-thermometer.v1.json")
    ids = {i["id"] for i in items_of(data)}
    for area in ("practical", "family", "emotional", "spiritual", "physical"):
        assert f"problems_{area}" in ids
    rule = next(a for a in data["alerts"] if a["scale"] == "distress")
    assert (rule["op"], rule["value"]) == (">=", 4)


def test_symptom_scale_has_nine_symptoms_an_own_one_and_the_three_bands():
    data = _copy("symptom-scale.v1.json")
    scales = {s["key"]: s for s in data["scales"]}
    nine = scales["total"]["items"]
    assert len(nine) == 9
    assert "own_score" in {i["id"] for i in items_of(data)}
    bands = [(b["min"], b["max"]) for b in scales["pain"]["bands"]]
    assert (1, 3) in bands and (4, 6) in bands and (7, 10) in bands


def test_rehab_screening_covers_the_four_areas():
    data = _copy("rehab-needs.v1.json")
    assert [p["key"] for p in data["pages"]] == [
        "physical",
        "psychological",
        "social",
        "existential",
    ]


def test_load_instruments_loads_the_shipped_files_once(db):
    from selfmonitor.models import TriageGuide

    # Four questionnaires and the symptom report (issue 11), with its advice guide; each
    # with an Arabic and a Finnish version (issue 14).
    call_command("load_instruments")
    assert Instrument.objects.count() == 5 + 10
    assert TriageGuide.objects.count() == 1
    call_command("load_instruments")  # unchanged: nothing new
    assert Instrument.objects.count() == 5 + 10
    assert TriageGuide.objects.count() == 1
    versions = Instrument.objects.exclude(language="").select_related("original")
    assert {(i.key, i.language) for i in versions} == {
        (key, lang)
        for key in (
            "care-experience",
            "distress-thermometer",
            "rehab-needs",
            "symptom-scale",
            "symptom-report",
        )
        for lang in ("ar", "fi")
    }
    assert all(i.text_status == "draft" and i.original.key == i.key for i in versions)


def test_a_broken_definition_is_refused_with_file_item_and_reason(db, tmp_path: Path):
    data = _copy("distress-thermometer.v1.json")
    data["pages"][0]["items"][0]["anchors"]["11"] = {"sv": "För mycket", "en": "Too much"}
    data["pages"][1]["items"][0]["type"] = "slider"
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(CommandError) as exc:
        call_command("load_instruments", str(bad))
    message = str(exc.value)
    assert "broken.json: item 'distress': anchor '11' is outside 0–10" in message
    assert "broken.json: item 'problems_practical': type 'slider' is not one of" in message
    assert not Instrument.objects.exists()


def test_invalid_json_names_the_line(db, tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x",\n "version": }')
    with pytest.raises(CommandError, match=r"bad.json: line 2 column"):
        call_command("load_instruments", str(bad))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["scales"][0].update(method="median"), "method must be one of"),
        (lambda d: d["scales"][0].update(items=["nope"]), "unknown item 'nope'"),
        (lambda d: d["alerts"][0].update(scale="nope"), "must name a known scale or item"),
        (lambda d: d.update(title={"sv": "Bara svenska"}), "title: needs Swedish and English"),
        (lambda d: d.pop("licence"), "licence: a note is required"),
    ],
)
def test_validation_names_each_fault(change, reason):
    data = _copy("distress-thermometer.v1.json")
    change(data)
    with pytest.raises(DefinitionError) as exc:
        validate_definition(data, where="x.json")
    assert reason in str(exc.value)


def test_a_version_with_answers_is_never_edited_in_place(send, tmp_path: Path):
    assignment = send("distress-thermometer")
    services.response_submit(
        assignment=assignment,
        by=assignment.patient.user,
        raw={"distress": ["2"], "wants_contact": ["no"]},
    )
    data = _copy("distress-thermometer.v1.json")
    data["title"]["en"] = "Changed"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="has answers and cannot be changed"):
        call_command("load_instruments", str(changed))
    data["version"] = 2
    changed.write_text(json.dumps(data))
    call_command("load_instruments", str(changed))
    assert Instrument.current("distress-thermometer").version == 2
    assert Instrument.objects.get(key="distress-thermometer", version=1).title_en != "Changed"


def test_a_version_without_answers_may_be_corrected(instruments, tmp_path: Path):
    data = _copy("symptom-scale.v1.json")
    data["title"]["en"] = "Symptoms now"
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(data))
    call_command("load_instruments", str(fixed))
    assert Instrument.objects.get(key="symptom-scale", version=1).title_en == "Symptoms now"


def test_check_only_validates(db):
    call_command("load_instruments", "--check")
    assert not Instrument.objects.exists()
