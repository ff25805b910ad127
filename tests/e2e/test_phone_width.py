"""Every patient and relative page fits a 360 px screen: no page's content is wider than
the screen (tables reflow, long words wrap), and chart text is at least 12 px."""

from __future__ import annotations

import uuid

from careplan import messaging
from careplan.models import CalendarEvent
from contacts.models import Scope
from rehab.models import RehabPlan
from selfmonitor import services as sm
from selfmonitor import symptom_services

from .conftest import login_password
from .test_accessibility import _plan_with_content

NARROW = {"width": 360, "height": 740}
WIDTH_JS = "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
# The smallest rendered size of any text in an SVG chart, in CSS pixels.
CHART_TEXT_JS = """
() => Math.min(1e9, ...[...document.querySelectorAll('svg.trend-chart text')]
  .map(t => t.getBoundingClientRect().height).filter(h => h > 0))
"""


def _rich_patient(people):
    """Every part filled: calendar (own and team entries), a long message thread, an
    answered questionnaire and an open one, a symptom report, a rehab plan, a grant with
    every part shared."""
    event = _plan_with_content(people)
    CalendarEvent.objects.create(
        plan=people.plan,
        title="Mycketlångtordutanmellanrumsomintefårtryckautsidanåtsidan" * 2,
        starts_at=event.starts_at,
        created_by=people.nurse,
    )
    instruments = {}
    for path in sorted(sm.INSTRUMENT_DIR.glob("*.json")):
        instrument, _what = sm.instrument_load(
            data=sm.read_instrument_file(path), source_file=path.name
        )
        instruments[instrument.key] = instrument
    done = sm.assignment_send(
        patient=people.patient, instrument=instruments["distress-thermometer"], by=people.nurse
    )
    response = sm.response_submit(
        assignment=done,
        by=people.patient_user,
        raw={"distress": ["8"], "wants_contact": ["no"], "problems_physical": ["pain"]},
    ).response
    waiting = sm.assignment_send(
        patient=people.patient, instrument=instruments["symptom-scale"], by=people.nurse
    )
    report = symptom_services.symptom_report_submit(
        patient=people.patient,
        by=people.patient_user,
        token=uuid.uuid4(),
        raw={"fever": ["2"], "skin": ["1"], "details": ["Frös i natt " * 20]},
        picked=["fever", "skin"],
    ).report
    thread = messaging.message_send(
        patient=people.patient,
        by=people.patient_user,
        subject="Fråga om biverkningar",
        body="Jag undrar " * 80,
    ).thread
    messaging.message_send(thread=thread, by=people.nurse, body="Svar: " + "x" * 120)
    RehabPlan.objects.create(
        care_plan=people.plan,
        patient=people.patient,
        summary_assessment="Trötthet efter behandlingen.",
        timetable="Träning två gånger i veckan.",
        created_by=people.nurse,
    )
    people.grant.scopes = [s.value for s in Scope]
    people.grant.save()
    return {
        "event": event,
        "response": response,
        "waiting": waiting,
        "report": report,
        "thread": thread,
    }


def _measure(b, path: str, found: list[str]) -> None:
    response = b.goto(path)
    status = response.status if response else 0
    if status >= 400:
        found.append(f"{path}: HTTP {status}")
        return
    # Tables folded in <details> count too: open them all.
    b.page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    width = b.page.evaluate(WIDTH_JS)
    if width > NARROW["width"]:
        wide = b.page.evaluate(
            """(limit) => [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > limit + 0.5)
              .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' +
                (e.textContent || '').trim().slice(0, 40))""",
            NARROW["width"],
        )
        found.append(f"{path}: content {width}px wide on a 360px screen: {wide}")
        b.shot("narrow" + path.replace("/", "_"))
    # A checkbox's label stays beside its box (it used to wrap below it).
    split = b.page.evaluate(
        """() => [...document.querySelectorAll('.field--checkbox')].filter(d => {
            const i = d.querySelector('input'), l = d.querySelector('label');
            if (!i || !l) return false;
            const a = i.getBoundingClientRect(), c = l.getBoundingClientRect();
            return c.left < a.right || Math.abs(c.top - a.top) > 8;
        }).map(d => d.textContent.trim().slice(0, 40))"""
    )
    if split:
        found.append(f"{path}: checkbox label split from its box: {split}")
    # Every choice box keeps its full size beside a label of two lines (flex used to
    # squeeze it to a few pixels).
    squeezed = b.page.evaluate(
        """() => [...document.querySelectorAll('.q-choices input')]
            .filter(i => i.getBoundingClientRect().width < 20)
            .map(i => i.closest('label').textContent.trim().slice(0, 40))"""
    )
    if squeezed:
        found.append(f"{path}: choice boxes squeezed by their labels: {squeezed}")
    if b.page.locator("svg.trend-chart text").count():
        smallest = b.page.evaluate(CHART_TEXT_JS)
        if smallest < 11.5:  # 12 px text, measured by its box (glyph height ~ font size)
            found.append(f"{path}: chart text {smallest:.1f}px")


def test_every_patient_and_relative_page_fits_360_px(new_browsing, people):
    data = _rich_patient(people)
    plan = people.plan.pk
    found: list[str] = []
    patient_pages = [
        f"/plan/{plan}/",
        f"/plan/{plan}/section/treatment/",
        f"/plan/{plan}/calendar/",
        f"/plan/{plan}/calendar/{data['event'].pk}/edit/",
        f"/plan/{plan}/calendar/{data['event'].pk}/delete/",
        "/me/access-log/",
        "/messages/",
        "/messages/new/",
        f"/messages/{data['thread'].pk}/",
        "/notifications/",
        f"/plan/{plan}/questionnaires/",
        f"/plan/{plan}/questionnaires/trend/distress-thermometer/",
        f"/plan/{plan}/questionnaires/trend/symptom-report/",
        f"/questionnaires/{data['waiting'].pk}/",
        f"/questionnaires/answers/{data['response'].pk}/",
        "/symptoms/new/",
        "/symptoms/new/?s=fever&s=bleeding&s=breathless_rest&step=2",
        f"/symptoms/{data['report'].pk}/",
        f"/plan/{plan}/rehab/",
        "/care-map/",
        "/care-map/versions/",
        "/sharing/",
        "/sharing/invite/",
        f"/sharing/{people.grant.pk}/",
        "/me/questions/",
        "/symptoms/advice/fever/",
    ]
    team_event = CalendarEvent.objects.filter(plan=people.plan, created_by=people.nurse).first()
    patient_pages.append(f"/plan/{plan}/calendar/{team_event.pk}/request-change/")
    b = new_browsing(viewport=NARROW, locale="sv-SE")
    login_password(b, people.patient_user.email)
    for path in patient_pages:
        _measure(b, path, found)

    relative_pages = [
        "/",
        f"/plan/{plan}/",
        f"/plan/{plan}/section/treatment/",
        f"/plan/{plan}/calendar/",
        f"/plan/{plan}/questionnaires/",
        f"/plan/{plan}/questionnaires/trend/distress-thermometer/",
        f"/questionnaires/answers/{data['response'].pk}/",
        f"/symptoms/{data['report'].pk}/",
        f"/plan/{plan}/rehab/",
        "/messages/",
        "/notifications/",
    ]
    r = new_browsing(viewport=NARROW, locale="sv-SE")
    login_password(r, people.relative.email)
    for path in relative_pages:
        _measure(r, path, found)
    assert not found, "\n".join(found)
