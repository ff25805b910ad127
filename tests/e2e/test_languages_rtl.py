"""Arabic and Finnish in a phone-sized Chromium (issue 14): the switch works without
JavaScript, Arabic pages are right to left and mirror (the questionnaire's 0–10 scale
reads low to high from the right, the trend chart's time runs right to left, the care
map has people on the right), nothing scrolls sideways, and axe finds no serious or
critical violation. The patient answers the questionnaire's Arabic or Finnish version,
reads the trend and prints the plan. Screenshots:
test-artifacts/e2e/lang-<lang>-<page>.png."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts import services as contacts_services
from contacts.models import CareMapEntry
from selfmonitor import services as sm_services
from selfmonitor.models import Response

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
    people.patient.language = lang
    people.patient.save(update_fields=["language"])
    earlier = _load_and_send(people)  # an answer a week ago: the trend has two points
    for path in sorted(sm_services.LANGUAGE_VERSION_DIR.glob("*.json")):
        sm_services.instrument_load(
            data=sm_services.read_instrument_file(path), source_file=path.name
        )
    sm_services.response_submit(
        assignment=earlier,
        by=people.patient_user,
        raw={"distress": ["2"], "wants_contact": ["no"]},
    )
    Response.objects.filter(assignment=earlier).update(
        submitted_at=timezone.now() - dt.timedelta(days=7)
    )
    assignment = _load_and_send(people)
    assert assignment.instrument.language == lang  # given the version in their language
    care_map = contacts_services.care_map_of(people.patient)
    for kind, name, closeness in (("person", "Nils", "inner"), ("care_contact", "Apotek", "outer")):
        contacts_services.care_map_entry_save(
            entry=CareMapEntry(
                care_map=care_map,
                kind=kind,
                name=name,
                closeness=closeness,
                direction="cares_for_patient",
                frequency="weekly",
            ),
            by=people.patient_user,
            creating=True,
        )
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
    b.shot(f"lang-{lang}-questionnaire-scale")
    # The questionnaire's own version in the patient's language, a draft translation
    # with the Swedish original one tap away.
    definition = assignment.instrument.definition
    expect(page.locator("h1")).to_have_text(definition["title"][lang])
    expect(page.locator(".translation-draft")).to_be_visible()
    page.locator(".translation-draft summary").click()
    expect(page.locator(".translation-draft__original ul")).to_contain_text(
        definition["pages"][0]["items"][0]["text"]["sv"]
    )
    # The tap on 3 autosaved the draft (htmx, after 500 ms): wait for it, so the next
    # page's save is not a second write racing it.
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"\S"))
    with page.expect_navigation():
        page.locator("button[name=action][value=next]").click()
    check("questionnaire-2")
    page.locator("input[name=a-wants_contact][value=no]").check()
    with page.expect_navigation():
        page.locator("button[name=action][value=submit]").click()
    check("questionnaire-sent")
    answered = Response.objects.get(assignment=assignment)
    assert answered.status == "completed" and answered.instrument == assignment.instrument
    assert answered.scores["distress"] == 3

    # The trend: both answers (two languages' versions, one series), time in the reading
    # direction: in Arabic the week-old answer is right of today's.
    b.goto(f"/plan/{people.plan.pk}/questionnaires/trend/distress-thermometer/")
    chart = page.locator("svg.trend-chart").first
    expect(chart).to_be_visible()
    check("trend")
    dots = chart.locator("circle")
    expect(dots).to_have_count(2)
    older, newer = (dots.nth(i).bounding_box() for i in (0, 1))
    assert (older["x"] > newer["x"]) if rtl else (older["x"] < newer["x"])
    axis = chart.locator("text", has_text=re.compile(r"^10$")).first.bounding_box()
    plot = chart.locator("rect").first.bounding_box()
    if rtl:
        assert axis["x"] >= plot["x"] + plot["width"], "the value axis is not on the right"
    else:
        assert axis["x"] + axis["width"] <= plot["x"]
    b.shot(f"lang-{lang}-trend")

    # The care map: people where reading starts (the right in Arabic).
    b.goto("/care-map/")
    picture = page.locator("svg.care-map__svg")
    expect(picture).to_be_visible()
    check("care-map")
    person = _x(b, ".care-map__node--person circle")
    contact = _x(b, ".care-map__node--care_contact rect")
    centre = _x(b, ".care-map__patient circle")
    people_label = _x(b, ".care-map__half--person")
    contacts_label = _x(b, ".care-map__half--care_contact")
    if rtl:
        assert contact < centre < person and contacts_label < people_label
    else:
        assert person < centre < contact and people_label < contacts_label
    b.shot(f"lang-{lang}-care-map")

    # Print: the plan's PDF, fetched with the page's own session.
    b.goto(f"/plan/{people.plan.pk}/")
    href = page.locator(f"a.button[href$='/plan/{people.plan.pk}/print.pdf']").get_attribute("href")
    response = page.request.get(b.base_url + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
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
