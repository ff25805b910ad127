"""The care map and relatives' shared read access in a real browser, phone sized.

The patient draws the care map and invites a person on it by e-mail; the relative opens
the link, signs up, accepts and reads the shared section but not the unshared calendar;
the patient ends the access and the relative is locked out on the next request. axe runs
on every page of the way (no serious or critical violations).
"""

from __future__ import annotations

import re

from django.core import mail
from playwright.sync_api import expect

from careplan.models import AccessLog, Role, User
from contacts.models import Invitation, RelativeGrant

from .conftest import Browsing, login_password
from .test_accessibility import axe_violations

RELATIVE_EMAIL = "nils.nilsson@example.test"
RELATIVE_PASSWORD = "a-long-relative-secret-42"


def _english(b: Browsing) -> None:
    """A new account's language is Swedish; the assertions read English."""
    b.context.add_cookies([{"name": "django_language", "value": "en", "url": b.base_url}])


def test_patient_invites_relative_reads_shared_part_then_is_locked_out(new_browsing, people):
    plan = people.plan
    found: list[str] = []

    def check(b: Browsing, name: str) -> None:
        expect(b.page.locator("h1").first).to_be_visible()
        found.extend(axe_violations(b, f"contacts-{name}"))

    # --- The patient draws the map.
    p = new_browsing()
    page = p.page
    login_password(p, people.patient_user.email)
    page.get_by_role("link", name="My care map").click()
    expect(page).to_have_url(re.compile(r"/care-map/$"))
    expect(page.locator("h1")).to_have_text("My care map")
    form = page.locator("#add form")
    form.locator("#id_kind").select_option("person")
    form.locator("#id_name").fill("Nils Nilsson")
    form.locator("#id_relation").fill("brother")
    form.locator("#id_closeness").select_option("inner")
    form.locator("#id_direction").select_option("cares_for_patient")
    form.locator("#id_frequency").select_option("weekly")
    form.locator("#id_email").fill(RELATIVE_EMAIL)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("Added to your care map: Nils Nilsson")
    picture = page.locator("svg.care-map__svg")
    expect(picture).to_have_attribute("role", "img")
    expect(picture.locator("title").first).to_have_text("Care map of Alva")
    expect(page.locator("#people-title + ul")).to_contain_text("Nils Nilsson")
    check(p, "care-map")

    p.goto("/care-map/print/")
    expect(page.locator("svg.care-map__svg")).to_be_visible()
    check(p, "care-map-print")
    p.goto("/care-map/versions/")
    expect(page.locator("main")).to_contain_text("Added Nils Nilsson")
    check(p, "care-map-versions")
    page.get_by_role("link", name="Version 1").click()
    check(p, "care-map-version")

    # --- From the map, invite Nils to read the plan's sections only.
    p.goto("/care-map/")
    page.get_by_role("link", name="Invite to share Nils Nilsson").click()
    expect(page.locator("h1")).to_have_text("Invite a relative")
    expect(page.locator("#id_email")).to_have_value(RELATIVE_EMAIL)
    page.get_by_label("Contact nurse details").uncheck()
    expect(page.get_by_label("Plan sections")).to_be_checked()
    check(p, "invite")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator("h1")).to_have_text("Who can read my care plan")
    expect(page.locator("main")).to_contain_text(RELATIVE_EMAIL)
    check(p, "sharing-invited")

    invitation = Invitation.objects.get(email=RELATIVE_EMAIL)
    assert invitation.scopes == ["plan_sections"]
    sent = [m for m in mail.outbox if m.to == [RELATIVE_EMAIL]]
    assert len(sent) == 1
    link = re.search(r"https?://\S+/invitation/(\S+)/", sent[0].body)
    assert link is not None
    assert "Alva" not in sent[0].body and plan.diagnosis not in sent[0].body

    # --- The relative opens the link, signs up and accepts.
    r = new_browsing()
    rpage = r.page
    r.goto(f"/invitation/{link.group(1)}/")
    expect(rpage).to_have_url(re.compile(r"/invitation/$"))  # the token leaves the URL
    expect(rpage.locator("h1")).to_have_text("Alva Andersson invites you")
    expect(rpage.locator("main")).to_contain_text("Plan sections")
    check(r, "invitation")
    with rpage.expect_navigation():
        rpage.get_by_role("link", name="Sign up").click()
    rpage.locator("input[name=email]").fill(RELATIVE_EMAIL)
    rpage.locator("input[name=password1]").fill(RELATIVE_PASSWORD)
    rpage.locator("input[name=password2]").fill(RELATIVE_PASSWORD)
    with rpage.expect_navigation():
        rpage.locator("form:has(input[name=password1]) [type=submit]").first.click()
    _english(r)
    r.goto("/invitation/")
    check(r, "invitation-logged-in")
    with rpage.expect_navigation():
        rpage.get_by_role("button", name="Accept the invitation").click()
    expect(rpage.locator("h1")).to_have_text("Shared with you")
    expect(rpage.locator(".card-list")).to_contain_text("Alva Andersson")
    check(r, "relative-home")
    relative = User.objects.get(email=RELATIVE_EMAIL)
    assert relative.role == Role.RELATIVE

    # Reads the shared section, read only; the calendar was not shared.
    rpage.get_by_role("link", name="Open Alva’s care plan").click()
    expect(rpage.locator(".banner--readonly")).to_contain_text("Read only")
    expect(rpage.locator(".contact-card")).to_have_count(0)
    rpage.get_by_role("link", name="Section treatment").click()
    expect(rpage.locator("h1")).to_have_text("Section treatment")
    expect(rpage.locator(".prose").first).to_contain_text("Text about treatment.")
    check(r, "relative-section")
    response = r.goto(f"/plan/{plan.pk}/calendar/")
    assert response.status == 404
    rows = AccessLog.objects.filter(user=relative, patient=people.patient)
    assert rows.filter(basis="relative_grant", outcome="allowed").exists()
    assert rows.filter(outcome="denied", object_type="CarePlan").exists()

    # --- The patient sees who has access and when they looked, and ends it.
    p.goto("/sharing/")
    grant_card = page.locator(".grant", has_text=RELATIVE_EMAIL.split("@")[0].split(".")[0].title())
    expect(grant_card).to_contain_text("Plan sections")
    expect(grant_card).not_to_contain_text("not yet")  # the relative has looked
    check(p, "sharing-active")
    # Ending access asks first, on a page that says what will happen (issue 10).
    with page.expect_navigation():
        grant_card.get_by_role("link", name=re.compile("End access")).click()
    expect(page.locator("main")).to_contain_text("can no longer read your care plan")
    check(p, "sharing-revoke-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, end access").click()
    expect(page.locator(".messages")).to_contain_text("no longer has access")
    assert RelativeGrant.objects.get(relative=relative).revoked_at is not None

    # The next request of the relative is refused.
    response = r.goto(f"/plan/{plan.pk}/section/treatment/")
    assert response.status == 404
    r.goto("/")
    expect(rpage.locator("main")).to_contain_text("Nobody shares a care plan with you right now.")

    # The patient's access log shows the relative's reading.
    p.goto("/me/access-log/")
    expect(page.locator(".log-day").first).to_contain_text("Nils Nilsson")

    p.assert_no_browser_errors()
    r.assert_no_browser_errors()
    assert not found, f"{len(found)} serious/critical axe violations:\n" + "\n".join(found)
