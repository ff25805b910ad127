"""The OpenAPI schema (drf-spectacular) for /api/v1/."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command


def test_the_schema_generates_and_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"

    # --fail-on-warn raises on any warning or error; --validate checks it against OpenAPI 3.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    assert set(schema["paths"]) >= {
        "/api/v1/plans/",
        "/api/v1/plans/{id}/",
        "/api/v1/sections/{id}/",
        "/api/v1/events/",
        "/api/v1/events/{id}/",
        "/api/v1/contact-nurse/",
    }


def test_the_schema_never_names_the_personnummer(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))

    assert "personnummer" not in out.read_text().lower()


def test_the_contact_nurse_is_one_object_not_a_list(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out))

    schema = yaml.safe_load(out.read_text())
    ok = schema["paths"]["/api/v1/contact-nurse/"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ContactNurse"
    }


@pytest.mark.django_db
def test_the_schema_is_served(client):
    response = client.get("/api/schema/", headers={"accept": "application/vnd.oai.openapi+json"})

    assert response.status_code == 200
    assert "/api/v1/events/" in response.json()["paths"]
