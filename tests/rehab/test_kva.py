"""The KVÅ catalogue as data: the shipped seed, refusals, and the import command."""

from __future__ import annotations

import csv
import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation

from rehab.kva import SEED_FILE
from rehab.models import KvaCode

pytestmark = pytest.mark.django_db

REFERENCE = Path("/work/shared/reference/kva-seed.csv")


def run(*args) -> str:
    out = StringIO()
    call_command("import_kva", *args, stdout=out)
    return out.getvalue()


def write(tmp_path: Path, text: str, name: str = "kva.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return str(path)


def test_it_ships_exactly_the_seed_codes_with_their_sources():
    with SEED_FILE.open(encoding="utf-8") as fh:
        seed = {row["code"]: row for row in csv.DictReader(fh)}

    assert set(KvaCode.objects.values_list("code", flat=True)) == set(seed)
    assert {"AU010", "AW019"} <= set(seed)
    for code in KvaCode.objects.all():
        assert code.title_sv == seed[code.code]["title_sv"]
        assert code.source == seed[code.code]["source"] and code.source


def test_the_shipped_seed_is_a_copy_of_the_reference_file():
    if not REFERENCE.exists():
        pytest.skip("reference file not available outside the build machine")
    assert SEED_FILE.read_bytes() == REFERENCE.read_bytes()


def test_it_refuses_an_unknown_code_clearly():
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        KvaCode.resolve("XX123")
    assert exc.value.message_dict["kva"] == ["XX123 is not a KVÅ code in the catalogue."]


def test_it_refuses_a_missing_code_clearly():
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            KvaCode.resolve("  ")
        assert exc.value.message_dict["kva"] == ["Give a KVÅ code."]


def test_it_refuses_a_retired_code_and_names_the_day(retired_code):
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        KvaCode.resolve("zz 999")
    assert "retired on 2020-12-31" in exc.value.message_dict["kva"][0]


def test_it_refuses_a_code_before_it_is_valid():
    KvaCode.objects.filter(code="DV111").update(valid_from=dt.date(2030, 1, 1))
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        KvaCode.resolve("DV111", on=dt.date(2029, 6, 1))
    assert "valid only from 2030-01-01" in exc.value.message_dict["kva"][0]
    assert KvaCode.resolve("DV111", on=dt.date(2030, 1, 1)).code == "DV111"


def test_import_reports_added_changed_and_retired_and_is_idempotent(tmp_path):
    path = write(
        tmp_path,
        "code,title_sv,valid_from,valid_to\n"
        "AU010,Allmän skattning av behov eller funktionsförmåga,,\n"
        "AU002,Ny titel för test,,\n"
        "DV111,Enkla råd om tobak,,2020-01-01\n"
        "ZZ001,Testkod ett,2021-01-01,\n",
    )

    first = run(path, "--source", "test file")
    second = run(path, "--source", "test file")

    assert "1 added, 1 changed, 1 retired" in first
    assert "added: ZZ001" in first and "changed: AU002" in first and "retired: DV111" in first
    assert second.startswith("0 added, 0 changed, 0 retired, 4 unchanged")
    assert KvaCode.objects.get(code="ZZ001").source == "test file"
    assert KvaCode.objects.get(code="DV111").valid_to == dt.date(2020, 1, 1)
    assert KvaCode.objects.get(code="AW019").valid_to is None  # not in the file, kept


def test_a_complete_edition_retires_codes_it_no_longer_lists(tmp_path):
    path = write(
        tmp_path, "Kod\tBenämning\nAU010\tAllmän skattning av behov eller funktionsförmåga\n"
    )

    out = run(path, "--retire-missing", "--as-of", "2026-01-01")

    assert "retired: AU002, AW019, DV111" in out
    assert KvaCode.objects.get(code="AW019").valid_to == dt.date(2025, 12, 31)
    assert KvaCode.objects.get(code="AU010").valid_to is None
    assert KvaCode.objects.count() == 4  # never deleted


def test_it_reads_swedish_headers_semicolons_and_windows_1252(tmp_path):
    path = write(
        tmp_path,
        "KVÅ-kod;Titel;Giltig fr.o.m.;Giltig t.o.m.\nZZ002;Åtgärd för test;2024-01-01;\n",
        encoding="cp1252",
    )
    run(path)
    assert KvaCode.objects.get(code="ZZ002").title_sv == "Åtgärd för test"


def test_a_dry_run_changes_nothing(tmp_path):
    path = write(tmp_path, "code,title\nZZ003,Test\n")
    out = run(path, "--dry-run")
    assert out.startswith("Dry run: 1 added")
    assert not KvaCode.objects.filter(code="ZZ003").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kod,foo\nAU010,x\n", "missing column(s) title_sv"),
        ("code,title\n,Utan kod\n", "line 2: a code and a title are required"),
        ("code,title,valid_from\nZZ004,Test,31/12/2024\n", "is not a date"),
        ("code,title\nZZ005,A\nZZ005,B\n", "ZZ005 appears twice"),
        ("code,title,valid_from,valid_to\nZZ006,T,2025-01-01,2024-01-01\n", "before valid_from"),
        ("", "the file is empty"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason_and_nothing_saved(tmp_path, text, message):
    before = KvaCode.objects.count()
    with pytest.raises(CommandError) as exc:
        run(write(tmp_path, text))
    assert message in str(exc.value)
    assert KvaCode.objects.count() == before


def test_the_help_documents_the_expected_columns():
    from rehab.management.commands.import_kva import Command

    for column in ("code", "title_sv", "valid_from", "valid_to", "source"):
        assert column in Command.help
