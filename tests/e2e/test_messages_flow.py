"""Messages in a real browser: the patient writes to the care team, the nurse answers in
the admin (password + TOTP), the patient sees the answer and a notification. Then axe on
every new patient and relative page, in Swedish and English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from careplan import messaging
from careplan.models import AccessLog, Message, MessageThread
from contacts.models import Scope

from .conftest import DESKTOP, NURSE_TOTP_SECRET, Browsing, login_password, login_totp
from .test_accessibility import axe_violations

SUBJECT = "Question about my tablets"
QUESTION = "Should I take the tablet in the morning or in the evening?"
ANSWER = "In the morning, with breakfast. Call us if you feel sick."


def test_patient_sends_nurse_answers_in_admin_patient_sees_answer_and_notification(
    new_browsing, people
):
    # The patient writes from the header's Messages link.
    patient = new_browsing()
    ppage = patient.page
    login_password(patient, people.patient_user.email)
    ppage.locator(".site-links").get_by_role("link", name="Messages").click()
    expect(ppage).to_have_url(re.compile(r"/messages/$"))
    expect(ppage.locator(".expectations")).to_contain_text("answers within 2 days")
    ppage.get_by_role("link", name="Write a new message").click()

    # Empty message: refused, the subject kept.
    ppage.get_by_role("textbox", name="Subject").fill(SUBJECT)
    with ppage.expect_navigation():
        ppage.get_by_role("button", name="Send").click()
    expect(ppage.locator(".error-summary")).to_contain_text("Write your message before")
    expect(ppage.get_by_role("textbox", name="Subject")).to_have_value(SUBJECT)

    ppage.get_by_role("textbox", name="Your message").fill(QUESTION)
    with ppage.expect_navigation():
        ppage.get_by_role("button", name="Send").click()
    expect(ppage.locator(".messages")).to_contain_text("You can expect an answer within 2 days")
    expect(ppage.locator(".messages")).to_contain_text("1177")
    expect(ppage.locator(".message--patient")).to_contain_text(QUESTION)
    thread = MessageThread.objects.get()
    assert thread.awaiting_reply_since is not None
    patient.shot("messages-patient-sent")
    patient.assert_no_browser_errors()

    # The nurse: password, TOTP, the inbox, the thread, the answer.
    nurse = new_browsing(viewport=DESKTOP)
    npage = nurse.page
    login_password(nurse, people.nurse.email)
    login_totp(nurse, NURSE_TOTP_SECRET)
    expect(npage).to_have_url(re.compile(r"/admin/$"))
    npage.locator("#content").get_by_role("link", name="Messages", exact=True).click()
    expect(npage).to_have_url(re.compile(r"/admin/careplan/messagethread/"))
    npage.locator("#result_list").get_by_role("link", name=SUBJECT).click()
    expect(npage.locator("#messages-group")).to_contain_text(QUESTION)
    npage.locator("textarea[name=answer]").fill(ANSWER)
    nurse.shot("messages-nurse-answer")
    with npage.expect_navigation():
        npage.locator("input[name=_continue]").click()
    expect(npage.locator(".messagelist")).to_contain_text("Your answer was sent.")
    expect(npage.locator("#messages-group")).to_contain_text(ANSWER)
    assert Message.objects.filter(thread=thread, from_patient=False, author=people.nurse).exists()
    assert AccessLog.objects.filter(
        user=people.nurse, patient=people.patient, channel=AccessLog.Channel.ADMIN
    ).exists()
    nurse.assert_no_browser_errors()

    # The patient: the header's count, the notification, the answer.
    patient.goto("/")
    badge = ppage.locator(".notification-link .badge")
    expect(badge).to_contain_text("1")
    ppage.locator(".notification-link").click()
    expect(ppage).to_have_url(re.compile(r"/notifications/$"))
    with ppage.expect_navigation():
        ppage.get_by_role("link", name="New message from your care team").click()
    expect(ppage).to_have_url(re.compile(rf"/messages/{thread.pk}/$"))
    expect(ppage.locator(".message--team")).to_contain_text(ANSWER)
    expect(ppage.locator(".message--team")).to_contain_text("Karin Kontakt")
    expect(ppage.locator(".notification-link .badge")).to_have_count(0)
    patient.shot("messages-patient-answer")
    patient.assert_no_browser_errors()


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_message_and_notification_pages_have_no_serious_accessibility_violations(
    new_browsing, people, lang
):
    for user in (people.patient_user, people.relative):
        user.language = lang
        user.save(update_fields=["language"])
    people.grant.scopes = [*people.grant.scopes, Scope.MESSAGES]
    people.grant.save(update_fields=["scopes"])
    thread = messaging.message_send(
        by=people.patient_user, patient=people.patient, subject="Fråga", body="Hur gör jag?"
    ).thread
    messaging.message_send(by=people.nurse, thread=thread, body="Så här gör du.")
    locale = "sv-SE" if lang == "sv" else "en-GB"
    found: list[str] = []

    def check(b: Browsing, name: str) -> None:
        expect(b.page.locator("h1").first).to_be_visible()
        found.extend(axe_violations(b, f"a11y-{lang}-{name}"))

    b = new_browsing(locale=locale)
    page = b.page
    login_password(b, people.patient_user.email)
    b.goto("/messages/")
    check(b, "messages")
    b.goto("/messages/new/")
    check(b, "message-new")
    with page.expect_navigation():
        page.locator("form[action='/messages/new/'] button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    check(b, "message-new-error")
    b.goto("/notifications/")
    check(b, "notifications")
    b.goto(f"/messages/{thread.pk}/")
    check(b, "message-thread")
    # An htmx reply: the conversation is swapped with the confirmation.
    page.locator("#reply textarea").fill("Tack!")
    page.locator("#reply button[type=submit]").click()
    expect(page.locator("#message-notice")).to_be_visible()
    check(b, "message-thread-sent")
    b.assert_no_browser_errors()

    r = new_browsing(locale=locale)
    login_password(r, people.relative.email)
    r.goto("/messages/")
    check(r, "relative-messages")
    r.goto(f"/messages/{thread.pk}/")
    expect(r.page.locator(".banner--readonly")).to_be_visible()
    expect(r.page.locator("#reply")).to_have_count(0)
    check(r, "relative-message-thread")
    r.assert_no_browser_errors()

    assert not found, f"{len(found)} serious/critical axe violations:\n" + "\n".join(found)
