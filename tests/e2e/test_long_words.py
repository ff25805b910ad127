"""What people type may be one long unbroken word (a pasted web address, a long title):
it wraps instead of widening the page. The patient's and the relative's calendar and
start page at 390 px, the nurse's patient overview at 1366 px."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.factories import CalendarEventFactory

from .conftest import NURSE_TOTP_SECRET, PHONE, Browsing, login_password, login_totp

ADDRESS = "https://www.1177.se/" + "behandling-av-brostcancer-" * 4 + "lang-adress"
ADMIN = {"width": 1366, "height": 900}


def _width(b: Browsing) -> int:
    return b.page.evaluate("document.documentElement.scrollWidth")


def test_a_long_unbroken_word_does_not_widen_any_page(new_browsing, people):
    CalendarEventFactory(
        plan=people.plan,
        created_by=people.patient_user,
        title="Peruk" + "x" * 60,
        location=ADDRESS,
        note=ADDRESS,
        starts_at=timezone.now() + dt.timedelta(days=1),
    )
    widths = {}

    patient = new_browsing(viewport=PHONE)
    login_password(patient, people.patient_user.email)
    for path in ("/", f"/plan/{people.plan.pk}/calendar/"):
        patient.goto(path)
        widths[f"patient {path}"] = _width(patient)
    patient.shot("long-word-patient-calendar")

    relative = new_browsing(viewport=PHONE)
    login_password(relative, people.relative.email)
    relative.goto(f"/plan/{people.plan.pk}/calendar/")
    widths["relative calendar"] = _width(relative)

    nurse = new_browsing(viewport=ADMIN)
    login_password(nurse, people.nurse.email)
    login_totp(nurse, NURSE_TOTP_SECRET)
    nurse.goto(f"/admin/careplan/patient/{people.patient.pk}/overview/")
    widths["overview"] = _width(nurse)
    nurse.shot("long-word-overview")

    assert widths == {
        "patient /": 390,
        f"patient /plan/{people.plan.pk}/calendar/": 390,
        "relative calendar": 390,
        "overview": 1366,
    }
