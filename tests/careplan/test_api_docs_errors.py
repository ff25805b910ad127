"""API docs from our own static files under the CSP, and JSON errors with stable codes
under /api/ (404 included)."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_their_scripts_from_our_static_files(cast, url):
    response = cast.client("nurse").get(url)
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts
    assert all(s.startswith("/static/") or s.startswith(url) for s in scripts), scripts
    assert "https://" not in html
    csp = response["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp
    for src in scripts:
        if src.startswith("/static/"):
            assert src.endswith(".js")


def test_the_swagger_init_script_is_served_as_a_file(cast):
    response = cast.client("nurse").get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/api/nothing/", 404, "not_found"),
        ("/api/v1/no-such-route/", 404, "not_found"),
        ("/api/v1/plans/999999/", 404, "not_found"),
    ],
)
def test_errors_under_api_are_json_with_a_stable_code(cast, url, status, code):
    response = cast.client("nurse").get(url)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code


def test_anonymous_and_wrong_method_have_codes_too(cast, client):
    assert client.get("/api/v1/plans/").json()["code"] == "not_authenticated"
    response = cast.client("nurse").delete("/api/v1/kva-codes/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
