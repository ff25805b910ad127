"""The rehabilitation plan in a real browser, phone sized: the patient reaches it from
the care plan, is told clearly that a plan without goals cannot be agreed, agrees once
it has goals (with and without JavaScript), prints it; a relative reads it only with the
part shared. axe-core on each page in Swedish and English: no serious or critical
violations."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from contacts.models import Scope
from rehab.models import Area, FollowUp, Goal, Intervention, KvaCode, RehabPlan, SelfCareAdvice

from .conftest import Browsing, login_password
from .test_accessibility import axe_violations


@pytest.fixture(autouse=True)
def _kva_seed(transactional_db):
    """The live server's transactional database is flushed between tests, data
    migrations included: load the shipped seed again."""
    from rehab import kva

    kva.import_rows(kva.parse(kva.SEED_FILE.read_bytes()))


def _rehab_plan(people, *, goals: bool = True) -> RehabPlan:
    rehab = RehabPlan.objects.create(
        care_plan=people.plan,
        patient=people.patient,
        summary_assessment="Tired after treatment; wants to work again.",
        timetable="Training twice a week for eight weeks.",
        self_care_text="Walk every day.",
        created_by=people.nurse,
    )
    if goals:
        Goal.objects.create(
            rehab_plan=rehab,
            area=Area.FYSISKA,
            text="Walk to the shop on my own",
            success_measure="500 metres without a rest",
        )
    Intervention.objects.create(
        rehab_plan=rehab,
        area=Area.FYSISKA,
        kva=KvaCode.objects.get(code="AU010"),
        description="Assessment by a physiotherapist",
        profession="physiotherapist",
        unit=people.unit,
        starts_on=timezone.localdate(),
    )
    FollowUp.objects.create(rehab_plan=rehab, due_on=timezone.localdate(), what="Follow-up call")
    advice = SelfCareAdvice.objects.create(
        area=Area.FYSISKA,
        title_sv="Rör på dig",
        title_en="Keep moving",
        body_sv="Gå ut varje dag.",
        body_en="Go outside every day.",
    )
    rehab.self_care_advice.add(advice)
    return rehab


def test_patient_reads_the_rehab_plan_is_refused_without_goals_then_agrees(new_browsing, people):
    rehab = _rehab_plan(people, goals=False)
    plan = people.plan
    b = new_browsing()
    page = b.page
    login_password(b, people.patient_user.email)

    # exact: the to-do card also links here ("Look at your rehabilitation plan ...").
    page.get_by_role("link", name="Rehabilitation plan", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/plan/{plan.pk}/rehab/$"))
    expect(page.locator("h1")).to_have_text("Rehabilitation plan")
    expect(page.get_by_text("No goals yet.")).to_be_visible()

    # No goals: refused in plain words, nothing changes (htmx swaps the box).
    page.get_by_role("button", name="I agree with this plan").click()
    expect(page.locator("#agree .error-summary")).to_contain_text(
        "The plan has no goals yet, so it cannot be agreed."
    )
    rehab.refresh_from_db()
    assert rehab.agreed_at is None
    b.shot("rehab-agree-refused")

    # The care team adds a goal; the patient agrees.
    Goal.objects.create(
        rehab_plan=rehab, area=Area.FYSISKA, text="Walk to the shop", success_measure="Weekly"
    )
    page.reload()
    page.get_by_role("button", name="I agree with this plan").click()
    expect(page.locator("#agree")).to_contain_text("The rehabilitation plan is marked as agreed.")
    expect(page.locator("#agree")).to_contain_text("Agreed on")
    rehab.refresh_from_db()
    assert rehab.agreed_at is not None
    b.shot("rehab-agreed")

    # Print.
    href = page.get_by_role("link", name="Print the rehabilitation plan (PDF)").get_attribute(
        "href"
    )
    response = page.request.get(b.base_url + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    b.assert_no_browser_errors()


def test_patient_agrees_without_javascript(new_browsing, people):
    rehab = _rehab_plan(people)
    b = new_browsing(javascript=False)
    login_password(b, people.patient_user.email)
    b.goto(f"/plan/{people.plan.pk}/rehab/")
    with b.page.expect_navigation():
        b.page.get_by_role("button", name="I agree with this plan").click()
    expect(b.page.locator(".messages")).to_contain_text("marked as agreed")
    rehab.refresh_from_db()
    assert rehab.agreed_at is not None


def test_a_relative_reads_the_rehab_plan_only_when_it_is_shared(new_browsing, people):
    _rehab_plan(people)
    plan = people.plan
    r = new_browsing()
    login_password(r, people.relative.email)
    response = r.goto(f"/plan/{plan.pk}/rehab/")
    assert response.status == 404

    people.grant.scopes = [*people.grant.scopes, Scope.REHAB_PLAN]
    people.grant.save()
    r.goto(f"/plan/{plan.pk}/")
    r.page.get_by_role("link", name="Rehabilitation plan").click()
    expect(r.page.locator("h1")).to_have_text("Rehabilitation plan")
    expect(r.page.locator(".banner--readonly")).to_be_visible()
    expect(r.page.get_by_role("button", name="I agree with this plan")).to_have_count(0)
    expect(r.page.get_by_text("Walk to the shop on my own")).to_be_visible()


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_rehab_pages_have_no_serious_accessibility_violations(new_browsing, people, lang):
    for user in (people.patient_user, people.relative):
        user.language = lang
        user.save(update_fields=["language"])
    _rehab_plan(people)
    people.grant.scopes = [*people.grant.scopes, Scope.REHAB_PLAN]
    people.grant.save()
    plan = people.plan
    locale = "sv-SE" if lang == "sv" else "en-GB"
    found: list[str] = []

    def check(b: Browsing, name: str) -> None:
        expect(b.page.locator("h1").first).to_be_visible()
        assert b.page.locator("html").get_attribute("lang") == lang
        found.extend(axe_violations(b, f"a11y-{lang}-{name}"))

    b = new_browsing(locale=locale)
    login_password(b, people.patient_user.email)
    b.goto(f"/plan/{plan.pk}/rehab/")
    check(b, "rehab-plan")
    b.page.locator("#agree button[type=submit]").click()
    expect(b.page.locator("#agree .notice")).to_be_visible()
    check(b, "rehab-plan-agreed")
    b.assert_no_browser_errors()

    r = new_browsing(locale=locale)
    login_password(r, people.relative.email)
    r.goto(f"/plan/{plan.pk}/rehab/")
    check(r, "rehab-plan-relative")

    assert not found, "\n".join(found)


def test_patient_comments_on_the_plan_the_nurse_answers_and_the_patient_reads_it(
    new_browsing, people
):
    """Phone sized: an empty comment is refused in words, a comment sent with a double
    click is stored once (htmx swaps the comments box), the care team's answer shows
    under it; no sideways scroll; axe finds nothing serious."""
    from rehab import services
    from rehab.models import RehabPlanComment

    _rehab_plan(people)
    b = new_browsing()
    page = b.page
    login_password(b, people.patient_user.email)
    b.goto(f"/plan/{people.plan.pk}/rehab/")
    box = page.locator("#comments")
    box.get_by_role("button", name="Send to the care team").click()
    expect(page.locator("#comments .error-summary")).to_contain_text(
        "Write your comment or question before you send it."
    )
    page.get_by_label("Your comment or question").fill("Can I cycle\nto the training?")
    page.locator("#comments button[type=submit]").dblclick()
    expect(page.locator("#comments .notice")).to_contain_text("Your care team has your comment")
    expect(page.locator("#comments")).to_contain_text("Waiting for the care team to read it.")
    assert RehabPlanComment.objects.count() == 1
    comment = RehabPlanComment.objects.get()
    assert comment.text == "Can I cycle\nto the training?"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    services.rehab_plan_comment_handle(comment=comment, by=people.nurse, answer="Yes, gladly.")
    page.reload()
    expect(page.locator("#comments")).to_contain_text("Yes, gladly.")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    found = axe_violations(b, "a11y-en-rehab-comments")
    assert not found, "\n".join(found)
    b.shot("rehab-comment-answered")
    b.assert_no_browser_errors()
