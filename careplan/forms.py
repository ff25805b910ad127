"""Forms for the patient and relative web. Forms validate input; writes go through
``careplan.services``."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CalendarEvent

DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class SubmissionKeyField(forms.UUIDField):
    """A hidden key made when the form is shown (one per page view). The service stores
    it with the row it adds, so a second submit of the same form (a double click, a
    resent POST) finds that row and adds nothing: one row per submit, as questionnaires
    (one response per assignment). After a success the page shows a fresh form.

    The key alone is never a change: an untouched extra form stays untouched."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, initial=uuid.uuid4, **kwargs)

    def has_changed(self, initial, data) -> bool:
        return False


def submission_field() -> SubmissionKeyField:
    return SubmissionKeyField()


class DateTimeLocalInput(forms.DateTimeInput):
    """A phone-friendly date and time picker; older browsers get a text box that takes
    the same format (2025-03-14T09:30 or 2025-03-14 09:30)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_INPUT)


class CalendarEventForm(forms.ModelForm):
    """Add or change a calendar entry. An end before the start is refused by the model's
    ``clean()`` with a message on the end field."""

    submission = submission_field()
    # Unbound, the visible fields render alike for everyone (careplan_tags.form_fields).
    static_unbound_html = True

    class Meta:
        model = CalendarEvent
        fields = ["kind", "title", "starts_at", "ends_at", "location", "note"]
        widgets = {
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "title": _("What"),
            "starts_at": _("Starts"),
            "ends_at": _("Ends (optional)"),
            "location": _("Where (optional)"),
            "note": _("Note (optional)"),
        }
        help_texts = {
            "starts_at": _("Pick the date and time. Typed by hand: 2025-03-14 09:30."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            field = self.fields[name]
            field.input_formats = [DATETIME_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%d"]
            field.error_messages["invalid"] = _(
                "Enter a date and time, for example 2025-03-14 09:30."
            )
        self.fields["title"].error_messages["required"] = _("Write what it is.")
        self.fields["starts_at"].error_messages["required"] = _("Enter when it starts.")
