"""Check an exported FHIR resource the way a receiving system would: against the
``fhir.resources`` R4B models and against the official FHIR R4 JSON schema (vendored
beside this file, see SCHEMA-SOURCE.md), plus the rules neither checks: every id matches
``[A-Za-z0-9-.]{1,64}`` and, in a Bundle, every ``urn:uuid`` reference resolves to an
entry (in a ``document`` Bundle every reference must)."""

from __future__ import annotations

import functools
import gzip
import json
import re
from pathlib import Path

import jsonschema
from fhir.resources.R4B import get_fhir_model_class

SCHEMA_FILE = Path(__file__).with_name("fhir.schema.json.gz")
ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@functools.cache
def _schema() -> dict:
    with gzip.open(SCHEMA_FILE, "rt", encoding="utf-8") as fh:
        schema = json.load(fh)
    # The vendored file is the R4 4.0.0 release's; 4.0.1 (R4's technical correction, the
    # version servers announce) added itself to the FHIRVersion list and nothing else we use.
    versions = schema["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"]
    versions.setdefault("enum", [])
    if "4.0.1" not in versions["enum"]:
        versions["enum"].append("4.0.1")
    return schema


@functools.cache
def _validator(resource_type: str) -> jsonschema.Draft6Validator:
    definitions = _schema()["definitions"]
    assert resource_type in definitions, f"{resource_type} is not an R4 resource"
    return jsonschema.Draft6Validator(
        {"$ref": f"#/definitions/{resource_type}", "definitions": definitions}
    )


def schema_errors(data: dict) -> list[str]:
    validator = _validator(data["resourceType"])
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}"
        for e in validator.iter_errors(data)
    ]


def _ids(data, path="") -> list[tuple[str, str]]:
    found = []
    if isinstance(data, dict):
        if "resourceType" in data and "id" in data:
            found.append((path, data["id"]))
        for key, value in data.items():
            found += _ids(value, f"{path}/{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _ids(value, f"{path}/{i}")
    return found


def references(data) -> list[str]:
    found = []
    if isinstance(data, dict):
        ref = data.get("reference")
        if isinstance(ref, str):
            found.append(ref)
        for value in data.values():
            found += references(value)
    elif isinstance(data, list):
        for value in data:
            found += references(value)
    return found


def assert_valid(data: dict) -> None:
    """Raise AssertionError naming every problem; return quietly when the resource is
    valid R4B, valid against the R4 JSON schema and its references resolve."""
    model = get_fhir_model_class(data["resourceType"])
    try:
        model.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError
        raise AssertionError(f"fhir.resources R4B: {exc}") from exc
    errors = schema_errors(data)
    assert not errors, "R4 JSON schema:\n" + "\n".join(errors[:20])
    bad_ids = [(p, i) for p, i in _ids(data) if not ID.match(str(i))]
    assert not bad_ids, f"ids not matching [A-Za-z0-9-.]{{1,64}}: {bad_ids}"
    if data["resourceType"] == "Bundle":
        full_urls = [e["fullUrl"] for e in data.get("entry", []) if "fullUrl" in e]
        assert len(full_urls) == len(set(full_urls)), "duplicate fullUrl"
        for ref in references(data):
            if ref.startswith("urn:uuid:") or data["type"] == "document":
                assert ref in full_urls, f"unresolvable reference {ref}"


def assert_all_valid(resources) -> None:
    for data in resources:
        assert_valid(data)
