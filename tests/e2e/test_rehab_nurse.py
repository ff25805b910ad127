"""The contact nurse's rehabilitation work in the admin, in a real browser: the worklist
names the patient whose needs are not yet assessed; the assessment form shows the
suggestion beside it, refuses advanced needs without a referral keeping what was typed,
then records the assessment and the referral."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from careplan.models import CareUnit
from rehab.models import NeedsAssessment, Referral
from tests import factories as f

from .conftest import DESKTOP, NURSE_TOTP_SECRET, login_password, login_totp


@pytest.fixture(autouse=True)
def _kva_seed(transactional_db):
    """The live server's database is flushed between tests: load the shipped seed."""
    from rehab import kva

    kva.import_rows(kva.parse(kva.SEED_FILE.read_bytes()))


def test_nurse_assesses_needs_from_the_worklist_and_refers_advanced_needs(new_browsing, people):
    rehab_unit = f.CareUnitFactory(name="Rehab Syd", kind=CareUnit.Kind.REHABILITATION)
    nurse = new_browsing(viewport=DESKTOP)
    page = nurse.page
    login_password(nurse, people.nurse.email)
    login_totp(nurse, NURSE_TOTP_SECRET)
    expect(page).to_have_url(re.compile(r"/admin/$"))

    worklist = page.get_by_role("region", name="Waiting for the care team")
    expect(worklist).to_contain_text("Andersson, Alva")
    worklist.get_by_role(
        "link", name=re.compile(r"Rehabilitation needs to \(re\)assess: Not yet assessed")
    ).click()
    expect(page).to_have_url(re.compile(r"/admin/rehab/needsassessment/add/\?patient="))
    expect(page.locator(".rehab-screening")).to_contain_text("Suggested level")
    nurse.shot("nurse-rehab-assessment")

    page.locator("#id_level").select_option("avancerad")
    page.locator("#id_needs_physical").fill("Cannot climb stairs")
    page.locator("#id_summary").fill("Needs a specialised rehabilitation team.")
    page.locator(
        "input[type=submit][value='Assess rehabilitation needs'], .submit-row input[type=submit]"
    ).first.click()

    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#id_summary")).to_have_value("Needs a specialised rehabilitation team.")
    expect(page.locator("#id_needs_physical")).to_have_value("Cannot climb stairs")
    assert not NeedsAssessment.objects.exists()

    page.locator("#id_refer_to").select_option(label="Rehab Syd")
    page.locator("#id_referral_reason").fill("Advanced physical needs")
    page.locator(".submit-row input[type=submit]").first.click()
    expect(page.locator(".messagelist")).to_contain_text("The assessment was recorded (KVÅ AW019).")

    referral = Referral.objects.get()
    assert (referral.to_unit, referral.status) == (rehab_unit, "sent")
    nurse.assert_no_browser_errors()
