"""Arabic and Finnish in a phone-sized Chromium (issue 14): the switch works without
JavaScript, Arabic pages are right to left and mirror (the questionnaire's 0–10 scale
reads low to high from the right), nothing scrolls sideways, and axe finds no serious or
critical violation. Screenshots: test-artifacts/e2e/lang-<lang>-<page>.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import Browsing, login_password
from .test_accessibility import axe_violations
from .test_selfmonitor_flow import _load_and_send


def _sideways_overflow(b: Browsing) -> int:
    """How many CSS pixels the page is wider than the phone (0: no sideways scrolling)."""
    return b.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def _x(b: Browsing, selector: str) -> float:
    box = b.page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2


def test_the_language_switch_works_without_javascript(new_browsing, db):
    b = new_browsing(locale="sv-SE", javascript=False)
    b.goto("/")
    assert b.page.locator("html").get_attribute("lang") == "sv"

    with b.page.expect_navigation():
        b.page.locator(".lang-switch button[value=ar]").click()

    html = b.page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("ar", "rtl")
    assert b.page.locator(".lang-switch button[aria-current=true]").get_attribute("value") == "ar"
    with b.page.expect_navigation():
        b.page.locator(".lang-switch button[value=fi]").click()
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("fi", None)


@pytest.mark.parametrize("lang", ["ar", "fi"])
def test_the_patient_reads_the_plan_and_answers_a_questionnaire(new_browsing, people, lang):
    for user in (people.patient_user,):
        user.language = lang
        user.save(update_fields=["language"])
    assignment = _load_and_send(people)
    found: list[str] = []
    rtl = lang == "ar"

    b = new_browsing(locale="ar" if rtl else "fi-FI")
    page = b.page
    login_password(b, people.patient_user.email)
    expect(page).to_have_url(re.compile(rf"/plan/{people.plan.pk}/$"))

    def check(name: str) -> None:
        html = page.locator("html")
        assert html.get_attribute("lang") == lang
        assert html.get_attribute("dir") == ("rtl" if rtl else None)
        found.extend(axe_violations(b, f"lang-{lang}-{name}"))
        overflow = _sideways_overflow(b)
        if overflow > 0:
            found.append(f"[lang-{lang}-{name}] scrolls sideways by {overflow} px")

    check("plan")
    # The layout mirrors: a row starts at the reading side (the switch's first button).
    first, second = _x(b, ".lang-switch button >> nth=0"), _x(b, ".lang-switch button >> nth=1")
    assert (first > second) if rtl else (first < second)

    b.goto(f"/plan/{people.plan.pk}/section/treatment/")
    check("section")
    b.goto(f"/plan/{people.plan.pk}/calendar/")
    check("calendar")
    b.goto("/me/access-log/")
    check("access-log")

    b.goto(f"/questionnaires/{assignment.pk}/")
    expect(page.locator(".q-scale").first).to_be_visible()
    check("questionnaire")
    # 0–10 reads low to high in the reading direction: 0 at the right in Arabic.
    zero = _x(b, ".q-scale label:has(input[value='0'])")
    ten = _x(b, ".q-scale label:has(input[value='10'])")
    one = _x(b, ".q-scale label:has(input[value='1'])")
    if rtl:
        assert zero > one, "the scale does not start at the right in Arabic"
    else:
        assert zero < one
    assert zero != ten
    # Answered by tapping, as on a phone; it is announced in order (the DOM order is 0..10).
    page.locator(".q-scale label:has(input[value='3'])").first.click()
    values = (
        page.locator(".q-scale").first.locator("input").evaluate_all("els => els.map(e => e.value)")
    )
    assert values == [str(n) for n in range(11)]
    b.assert_no_browser_errors()

    assert not found, f"{len(found)} serious/critical axe violations:\n" + "\n".join(found)


@pytest.mark.parametrize("lang", ["ar", "fi"])
def test_a_draft_translation_shows_the_notice_and_opens_the_swedish_original(
    new_browsing, people, lang
):
    """A plan section with a draft version in the reader's language at 390 px: the
    notice, the original one tap away (a <details>), no sideways scroll, axe clean."""
    from careplan import content

    people.patient_user.language = lang
    people.patient_user.save(update_fields=["language"])
    section = people.plan.sections.get(key="treatment")
    texts = {"ar": "نص عن العلاج، مسودة مترجمة.", "fi": "Tekstiä hoidosta, käännösluonnos."}
    section.translations = content.loaded({}, {"body": {lang: texts[lang]}})
    section.save(update_fields=["translations"])

    b = new_browsing(locale="ar" if lang == "ar" else "fi-FI")
    login_password(b, people.patient_user.email)
    b.goto(f"/plan/{people.plan.pk}/section/treatment/")
    page = b.page
    expect(page.locator(".prose").first).to_contain_text(texts[lang])
    expect(page.locator(".translation-draft__notice")).to_be_visible()
    original = page.locator(".translation-draft__original .prose")
    expect(original).to_be_hidden()
    page.locator(".translation-draft__original summary").click()
    expect(original).to_be_visible()
    expect(original).to_contain_text("Text om treatment.")
    assert original.get_attribute("lang") == "sv" and original.get_attribute("dir") == "ltr"
    found = axe_violations(b, f"lang-{lang}-draft-original")
    assert _sideways_overflow(b) <= 0
    b.assert_no_browser_errors()
    assert not found, "\n".join(found)
