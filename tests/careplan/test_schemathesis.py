"""schemathesis against the OpenAPI schema, as the patient and as the nurse: every
operation's generated requests answered within the schema (status codes, content types,
bodies), no server error. Few examples per operation (derandomized) so CI stays quick."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from hypothesis import HealthCheck, settings

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

SETTINGS = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


CURRENT: dict = {}


@pytest.fixture(autouse=True)
def _keep_the_test_transactions_connection():
    """schemathesis calls the WSGI application itself, whose request signals close
    "obsolete" connections: inside a test's transaction (autocommit off) PostgreSQL's
    connection counts as obsolete and was closed under the test. Django's test client
    disconnects the same handler for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.auth()
class SessionAuth:
    """The logged-in session of the test's user, set the way schemathesis expects auth
    to be set (so its own checks know which requests carry it)."""

    def get(self, case, ctx):
        return CURRENT.get("auth")

    def set(self, case, data, ctx):
        if data is None:  # while collecting, before any test set its user
            return
        case.cookies = {**(case.cookies or {}), **data["cookies"]}
        case.headers = {**(case.headers or {}), **data["headers"]}


def _auth(cast, who: str) -> dict:
    client = cast.client(who)
    token = _get_new_csrf_string()
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": token},
        "headers": {"X-CSRFToken": token, "Accept-Language": "en"},
    }


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """schemathesis calls the plain WSGI handler, whose ``request_started`` and
    ``request_finished`` close a connection found inside a transaction: on PostgreSQL that
    is the test's own, and every later query fails ("the connection is closed"; SQLite's
    in-memory database ignores the close). Django's test client disconnects the same
    receiver while it calls."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@SETTINGS
@pytest.mark.parametrize("who", ["patient", "nurse"])
def test_the_api_answers_as_its_schema_says(case, cast, who):
    CURRENT["auth"] = _auth(cast, who)
    case.call_and_validate()
