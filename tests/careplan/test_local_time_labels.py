"""Object labels the admin shows (inline headings, breadcrumbs, the referral's assessment)
are written in Europe/Stockholm, like every other time on the page: a message sent at
00:15 Stockholm time on the 30th is labelled the 30th, 00:15 (not the 29th, 23:15 UTC)."""

from __future__ import annotations

import datetime as dt

from careplan.models import AccessLog, Message, User
from rehab.models import NeedsAssessment

# 2026-11-29 23:15 UTC is 2026-11-30 00:15 in Stockholm (CET, UTC+1).
LATE_UTC = dt.datetime(2026, 11, 29, 23, 15, tzinfo=dt.UTC)


def test_a_message_is_labelled_with_stockholm_time():
    message = Message(author=User(first_name="Karin", last_name="K"), created_at=LATE_UTC)
    assert str(message).endswith("2026-11-30 00:15")


def test_an_access_log_entry_is_labelled_with_stockholm_time():
    entry = AccessLog(at=LATE_UTC, user_name="Karin K", action="view", object_type="careplan")
    assert str(entry).startswith("2026-11-30 00:15 ")


def test_a_needs_assessment_is_labelled_with_the_stockholm_date(cast):
    assessment = NeedsAssessment(patient=cast.patient, assessed_at=LATE_UTC)
    assert str(assessment).endswith("(2026-11-30)")
