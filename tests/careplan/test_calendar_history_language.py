"""The plan's history is read by the patient: a calendar entry added or changed by a nurse
working in English is noted in the patient's language (as removals already were)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone, translation

from careplan import services
from careplan.models import CalendarEvent


def test_an_entry_added_and_changed_in_english_is_noted_in_swedish_for_the_patient(cast):
    assert cast.patient.language == "sv"
    with translation.override("en"):  # the nurse's admin language
        event = services.event_create(
            event=CalendarEvent(
                plan=cast.plan,
                kind="visit",
                title="Provtagning",
                starts_at=timezone.now() + dt.timedelta(days=2),
            ),
            by=cast.nurse,
        )
        event.title = "Provtagning 2"
        services.event_update(event=event, by=cast.nurse)
    lines = list(cast.plan.changes.order_by("id").values_list("what", flat=True))
    assert lines == ["Tillagt i kalendern: Provtagning", "Ändrat i kalendern: Provtagning 2"]
