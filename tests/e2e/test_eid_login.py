"""Log in with e-ID in Chromium against the local test IdP (a real OpenID Connect
provider on a loopback port), with the demo's data (seed_demo): Eva reaches her plan, an
unknown personnummer gets the clear page and no account, Karin through the staff IdP
reaches the admin without TOTP with a strong acr and is asked for it with a weak one."""

from __future__ import annotations

import re

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core.management import call_command
from playwright.sync_api import expect

from careplan.eid.dev_idp import EVA, KARIN_STRONG, KARIN_WEAK, UNKNOWN
from careplan.management.commands import seed_demo
from careplan.models import CarePlan, Patient, User
from tests.eid_idp import running_idp

from .conftest import DESKTOP, PHONE, Browsing, totp_now
from .test_accessibility import axe_violations


@pytest.fixture
def demo(transactional_db, settings):
    call_command("seed_demo", verbosity=0)
    with running_idp() as idp:
        settings.SOCIALACCOUNT_PROVIDERS = idp.providers()
        yield idp


def no_sideways_scroll(b: Browsing) -> bool:
    return b.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def choose_on_idp(b: Browsing, who: str) -> None:
    page = b.page
    expect(page.locator(".test-banner")).to_contain_text("Test-e-legitimation")
    with page.expect_navigation():
        page.get_by_role("button", name=who, exact=True).click()


def test_eva_logs_in_with_bankid_test_and_lands_on_her_plan(new_browsing, demo):
    eva = Patient.objects.get(personnummer=seed_demo.DEMO_PATIENT_PNR)
    plan = CarePlan.objects.filter(patient=eva).exclude(status=CarePlan.Status.CLOSED).get()
    b = new_browsing(viewport=PHONE, locale="sv-SE")
    page = b.page

    b.goto("/")
    page.get_by_role("link", name="Logga in med e-legitimation").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert no_sideways_scroll(b)
    assert not axe_violations(b, "eid-login-page")
    with page.expect_navigation():
        page.get_by_role("button", name="Logga in med BankID (test)").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(demo.url)}/oauth2/authorize"))
    b.shot("eid-test-idp")
    choose_on_idp(b, EVA)

    expect(page).to_have_url(re.compile(rf"/plan/{plan.pk}/$"))
    expect(page.locator("h1").first).to_contain_text(plan.title)
    assert no_sideways_scroll(b)
    b.shot("eid-eva-plan")
    assert SocialAccount.objects.filter(user=eva.user).count() == 1
    b.assert_no_browser_errors()  # CSP (form-action to the IdP included), scripts, assets

    # Logging out ends the session here and goes on to the IdP's end-session page
    # (RP-initiated logout), which returns to the site.
    with page.expect_navigation():
        page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(demo.url)}/oauth2/end_session"))
    with page.expect_navigation():
        page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("link", name="Logga in med e-legitimation")).to_be_visible()
    b.goto(f"/plan/{plan.pk}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_an_unknown_personnummer_gets_the_clear_page_and_no_account(new_browsing, demo):
    users, accounts = User.objects.count(), SocialAccount.objects.count()
    b = new_browsing(viewport=PHONE, locale="sv-SE")
    page = b.page

    b.goto("/accounts/login/")
    with page.expect_navigation():
        page.get_by_role("button", name="Logga in med BankID (test)").click()
    choose_on_idp(b, UNKNOWN)

    expect(page.get_by_role("alert")).to_have_text(
        "Det finns ingen vårdplan för dig här ännu. Kontakta din mottagning."
    )
    assert no_sideways_scroll(b)
    assert not axe_violations(b, "eid-unknown-personnummer")
    assert (User.objects.count(), SocialAccount.objects.count()) == (users, accounts)
    b.goto("/")
    expect(page.get_by_role("link", name="Logga in med e-legitimation")).to_be_visible()
    b.assert_no_browser_errors()


def test_karin_through_the_staff_idp_strong_acr_skips_totp(new_browsing, demo):
    b = new_browsing(viewport=DESKTOP, locale="sv-SE")
    page = b.page
    b.goto("/accounts/login/")
    with page.expect_navigation():
        page.get_by_role("button", name="Vårdpersonal: logga in med SITHS (test)").click()
    choose_on_idp(b, KARIN_STRONG)

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#content")).to_be_visible()
    b.shot("eid-karin-strong-admin")


def test_karin_through_the_staff_idp_weak_acr_is_asked_for_totp(new_browsing, demo):
    b = new_browsing(viewport=DESKTOP, locale="sv-SE")
    page = b.page
    b.goto("/accounts/login/")
    with page.expect_navigation():
        page.get_by_role("button", name="Vårdpersonal: logga in med SITHS (test)").click()
    choose_on_idp(b, KARIN_WEAK)

    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    b.shot("eid-karin-weak-totp")
    page.locator("input[name=code]").fill(totp_now(seed_demo.TOTP_SECRETS[seed_demo.NURSE_EMAIL]))
    with page.expect_navigation():
        page.locator("form:has(input[name=code]) [type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
