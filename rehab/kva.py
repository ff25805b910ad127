"""Reading Socialstyrelsen's KVÅ classification file into the ``KvaCode`` catalogue.

Expected file: text (CSV or tab separated, the delimiter is detected), UTF-8 (with or
without BOM) or Windows-1252, a header row, one code per row. Columns, matched by
header name without regard to case (Swedish or English names):

- ``code`` / ``kod`` / ``kvå-kod`` / ``åtgärdskod`` (required): the code, e.g. ``AU010``
- ``title_sv`` / ``title`` / ``titel`` / ``benämning`` / ``text`` (required): the title
- ``valid_from`` / ``giltig_from`` / ``giltig fr.o.m.`` / ``från`` (optional, YYYY-MM-DD)
- ``valid_to`` / ``giltig_tom`` / ``giltig t.o.m.`` / ``till`` (optional, YYYY-MM-DD):
  the code is retired after this day
- ``note`` / ``anmärkning`` (optional), ``source`` / ``källa`` (optional)

Importing is idempotent: the same file twice changes nothing the second time. The
result counts added, changed, retired and unchanged codes. With ``retire_missing``, a
code in the catalogue that the file (a complete yearly edition) no longer lists is
retired on the day before ``as_of``; a code is never deleted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .models import KvaCode

SEED_FILE = Path(__file__).resolve().parent / "data" / "kva-seed.csv"

COLUMNS = {
    "code": ("code", "kod", "kvå-kod", "kva-kod", "kvåkod", "åtgärdskod"),
    "title_sv": ("title_sv", "title", "titel", "benämning", "text", "kodtext"),
    "valid_from": ("valid_from", "giltig_from", "giltig fr.o.m.", "giltig from", "från"),
    "valid_to": ("valid_to", "giltig_tom", "giltig t.o.m.", "giltig tom", "till"),
    "note": ("note", "anmärkning", "kommentar"),
    "source": ("source", "källa"),
}


class KvaFileError(ValueError):
    """The file cannot be read as a KVÅ classification file."""


@dataclass
class KvaRow:
    code: str
    title_sv: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    note: str = ""
    source: str = ""


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0


def _date(value: str, *, line: int, column: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise KvaFileError(f"line {line}: {column} {value!r} is not a date (YYYY-MM-DD)") from None


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def parse(data: bytes) -> list[KvaRow]:
    """The rows of a classification file; raises ``KvaFileError`` saying what is wrong."""
    text = _decode(data)
    if not text.strip():
        raise KvaFileError("the file is empty")
    first = text.splitlines()[0]
    delimiter = (
        "\t"
        if first.count("\t") > max(first.count(";"), first.count(","))
        else (";" if first.count(";") > first.count(",") else ",")
    )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    where: dict[str, int] = {}
    for name, aliases in COLUMNS.items():
        for i, h in enumerate(header):
            if h in aliases:
                where[name] = i
                break
    missing = [name for name in ("code", "title_sv") if name not in where]
    if missing:
        raise KvaFileError(
            f"missing column(s) {', '.join(missing)}; the header was: {', '.join(header)}"
        )

    def cell(row: list[str], name: str) -> str:
        i = where.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    rows: dict[str, KvaRow] = {}
    for line, row in enumerate(reader, start=2):
        if not any(c.strip() for c in row):
            continue
        code = cell(row, "code").upper().replace(" ", "")
        title = cell(row, "title_sv")
        if not code or not title:
            raise KvaFileError(f"line {line}: a code and a title are required")
        if len(code) > 10:
            raise KvaFileError(f"line {line}: {code!r} is too long for a KVÅ code")
        valid_from = _date(cell(row, "valid_from"), line=line, column="valid_from")
        valid_to = _date(cell(row, "valid_to"), line=line, column="valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            raise KvaFileError(f"line {line}: {code} valid_to is before valid_from")
        if code in rows:
            raise KvaFileError(f"line {line}: {code} appears twice")
        rows[code] = KvaRow(
            code=code,
            title_sv=title[:400],
            valid_from=valid_from,
            valid_to=valid_to,
            note=cell(row, "note")[:400],
            source=cell(row, "source")[:400],
        )
    if not rows:
        raise KvaFileError("the file has no codes")
    return list(rows.values())


@transaction.atomic
def import_rows(
    rows: list[KvaRow],
    *,
    retire_missing: bool = False,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    default_source: str = "",
    model=None,
) -> ImportResult:
    """Bring the catalogue in line with ``rows``. ``model`` lets a data migration pass
    its historical model."""
    if model is None:
        model = KvaCode
    result = ImportResult()
    existing = {c.code: c for c in model.objects.all()}
    today = as_of or dt.date.today()
    fields = ("title_sv", "valid_from", "valid_to", "note", "source")
    for row in rows:
        current = existing.get(row.code)
        if current is None:
            result.added.append(row.code)
            if not dry_run:
                values = {f: getattr(row, f) for f in fields}
                values["source"] = row.source or default_source
                model.objects.create(code=row.code, **values)
            continue
        # An empty note or source (a file without those columns) keeps what the code
        # already has.
        compared = [f for f in fields if f not in ("note", "source") or getattr(row, f)]
        changes = {f: getattr(row, f) for f in compared if getattr(current, f) != getattr(row, f)}
        if not changes:
            result.unchanged += 1
            continue
        if row.valid_to is not None and row.valid_to < today and current.valid_to != row.valid_to:
            result.retired.append(row.code)
        else:
            result.changed.append(row.code)
        if not dry_run:
            for f, value in changes.items():
                setattr(current, f, value)
            current.save()
    if retire_missing:
        listed = {r.code for r in rows}
        retire_on = today - dt.timedelta(days=1)
        for code, current in sorted(existing.items()):
            if code in listed or (current.valid_to is not None and current.valid_to <= retire_on):
                continue
            result.retired.append(code)
            if not dry_run:
                current.valid_to = retire_on
                if current.valid_from and current.valid_from > retire_on:
                    current.valid_from = retire_on
                current.save()
    if dry_run:
        transaction.set_rollback(True)
    return result
