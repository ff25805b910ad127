"""End-to-end tests in a real headless Chromium against pytest-django's ``live_server``.

The browser is Debian's chromium (``/usr/bin/chromium``, or ``CAREPLAN_CHROMIUM``);
nothing is downloaded. Without it the tests skip locally and fail in CI (``CI`` set).

Every test here is marked ``e2e`` and uses a transactional database (``live_server``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django's async-unsafe guard
# would refuse ORM calls made by the test (fixtures, assertions) while it runs.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from allauth.account.models import EmailAddress  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP  # noqa: E402

CHROMIUM = Path(os.environ.get("CAREPLAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
# A fixed, synthetic TOTP secret for the nurse (base32).
NURSE_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Explicit waits: generous for a loaded CI machine, never a fixed sleep.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is an e2e test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            # WhiteNoise warns that collectstatic has not run; live_server serves static/.
            item.add_marker(pytest.mark.filterwarnings("ignore:No directory at:UserWarning"))


# --- Browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; e2e tests must run in CI", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class Problems:
    """What the browser complained about while a page was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.console_errors + self.page_errors + self.failed_requests


@dataclass
class Browsing:
    """A fresh browser context (own cookies) with one page, plus helpers."""

    context: object
    page: object
    base_url: str
    problems: Problems

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        return response

    def url_path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot to test-artifacts/e2e/<name>.png.

        ``caret="initial"``: Playwright's default caret hiding leaves ``style=""`` on
        inputs, which htmx then copies during a swap and the strict CSP reports."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True, caret="initial")
        return path

    def assert_no_browser_errors(self) -> None:
        """No console errors (CSP violations show here), no script errors, no 4xx/5xx
        for assets."""
        assert not self.problems.all(), "\n".join(self.problems.all())


@pytest.fixture
def new_browsing(browser, live_server) -> Iterator:
    """Factory: ``new_browsing(viewport=PHONE, locale="en-GB", javascript=True)`` opens
    a new browser context (own cookies) with one page.

    The flow tests read English source strings (users' language "en" in ``people``);
    the accessibility test browses in Swedish, the default."""
    opened = []

    def make(
        viewport: dict | None = None, locale: str = "en-GB", javascript: bool = True
    ) -> Browsing:
        context = browser.new_context(
            viewport=viewport or PHONE,
            locale=locale,
            timezone_id="Europe/Stockholm",
            java_script_enabled=javascript,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        page = context.new_page()
        problems = Problems()

        def on_console(msg):
            # "Failed to load resource" repeats what on_response records with its URL.
            if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
                where = msg.location or {}
                problems.console_errors.append(
                    f"console: {msg.text} @ {page.url} "
                    f"({where.get('url')}:{where.get('lineNumber')}:{where.get('columnNumber')})"
                )

        def on_response(response):
            if response.status >= 400 and response.request.resource_type != "document":
                problems.failed_requests.append(f"{response.status} {response.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: problems.page_errors.append(f"pageerror: {exc}"))
        page.on("response", on_response)
        b = Browsing(context=context, page=page, base_url=live_server.url, problems=problems)
        opened.append(b)
        return b

    yield make
    for b in opened:
        b.context.close()


# --- People ---------------------------------------------------------------------------------


def verify_email(user) -> None:
    """allauth refuses to log in with an unverified address (verification is mandatory)."""
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def totp_now(secret: str, *, at: float | None = None, digits: int = 6, period: int = 30) -> str:
    """RFC 6238 TOTP (HMAC-SHA1), the same computation as allauth's ``hotp_value``."""
    counter = int(at if at is not None else time.time()) // period
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


@pytest.fixture
def people(cast):
    """The shared cast, ready to log in through the browser: verified e-mail addresses,
    the nurse with TOTP activated on a known secret, English for everyone (User.language
    for the pages, Patient.language for the news the care team's changes produce) so the
    assertions read the source strings. The patient's login carries the patient's name
    (the shared cast leaves it as a factory default)."""
    user = cast.patient_user
    user.first_name, user.last_name = cast.patient.first_name, cast.patient.last_name
    user.save(update_fields=["first_name", "last_name"])
    cast.patient.language = "en"  # what the care team writes to the patient
    cast.patient.save(update_fields=["language"])
    for user in (cast.patient_user, cast.nurse, cast.relative):
        verify_email(user)
        user.language = "en"
        user.save(update_fields=["language"])
    TOTP.activate(cast.nurse, NURSE_TOTP_SECRET)
    return cast


# --- Logging in -----------------------------------------------------------------------------


def login_password(b: Browsing, email: str, password: str = PASSWORD, next_: str = "") -> None:
    """Fill allauth's login form (e-mail + password) and submit."""
    path = "/accounts/login/" + (f"?next={next_}" if next_ else "")
    b.goto(path)
    page = b.page
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()


def login_totp(b: Browsing, secret: str) -> None:
    """At allauth's second step, enter the current TOTP code. A code typed at the very
    end of its 30-second window may be checked in the next one; then try the next code."""
    page = b.page
    for _attempt in range(2):
        page.locator("input[name=code]").wait_for()
        page.locator("input[name=code]").fill(totp_now(secret))
        with page.expect_navigation():
            page.locator("form:has(input[name=code]) [type=submit]").first.click()
        if "/accounts/2fa/authenticate/" not in page.url:
            return
    raise AssertionError(f"TOTP step was not accepted; still at {page.url}")
