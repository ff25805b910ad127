"""The plan's calendar, patients' requests to change an entry and their questions for the
next visit."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .patients import Patient
from .plans import CarePlan
from .users import Role

#: How far back and ahead a calendar entry may be dated (model and forms; the database
#: refuses anything outside 1900–2199, ``calendarevent_sensible_dates``).
CALENDAR_YEARS = 10
DB_FIRST_DATE = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
DB_END_DATE = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def calendar_window() -> tuple[dt.date, dt.date]:
    """The dates a calendar entry may have: today ± ``CALENDAR_YEARS`` (Stockholm)."""
    today = timezone.localdate()
    years = CALENDAR_YEARS
    try:
        return today.replace(year=today.year - years), today.replace(year=today.year + years)
    except ValueError:  # 29 February
        day = today - dt.timedelta(days=1)
        return day.replace(year=day.year - years), day.replace(year=day.year + years)


def calendar_date_error() -> str:
    first, last = calendar_window()
    return _(
        "Enter a date between %(first)s and %(last)s (the calendar reaches %(years)s years "
        "back and ahead)."
    ) % {"first": first.isoformat(), "last": last.isoformat(), "years": CALENDAR_YEARS}


class CalendarEvent(models.Model):
    class Kind(models.TextChoices):
        EXAMINATION = "examination", _("Examination")
        TREATMENT = "treatment", _("Treatment")
        VISIT = "visit", _("Visit")
        OTHER = "other", _("Other")

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.VISIT)
    title = models.CharField(_("what"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    location = models.CharField(_("where"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The key of the form (or the API's Idempotency-Key) it was added with: a second
    # submit of the same form finds this row instead of adding another.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("calendar event")
        verbose_name_plural = _("calendar events")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="calendarevent_ends_after_start",
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
            ),
            # One row per submit (``services.event_create``; this is the last defence).
            models.UniqueConstraint(
                fields=["created_by", "submission_key"],
                condition=Q(submission_key__isnull=False),
                name="calendarevent_once_per_submit",
            ),
            # A year-1 date was once stored and then could not even be read back (500s
            # everywhere). The model keeps a narrower window; this is the last defence.
            models.CheckConstraint(
                name="calendarevent_sensible_dates",
                condition=Q(starts_at__gte=DB_FIRST_DATE, starts_at__lt=DB_END_DATE)
                & (
                    Q(ends_at__isnull=True) | Q(ends_at__gte=DB_FIRST_DATE, ends_at__lt=DB_END_DATE)
                ),
            ),
        ]
        indexes = [
            # Serves "what is next" and the calendar: a plan's events by time.
            models.Index(fields=["plan", "starts_at"], name="calendarevent_plan_time"),
            # Serves the worklist's "calendar, the next days" over a unit's many plans:
            # upcoming entries in time order, stopping at the first ten of my patients
            # (at 100 000 plans, 485 ms without it, under 1 ms with it).
            models.Index(fields=["starts_at"], name="calendarevent_time"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        first, last = calendar_window()
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            try:
                inside = value is None or first <= timezone.localdate(value) <= last
            except (OverflowError, ValueError):  # beyond what a date can hold
                inside = False
            if not inside:
                errors[name] = calendar_date_error()
        if errors:
            raise ValidationError(errors)
        if self.ends_at and self.starts_at and self.ends_at < self.starts_at:
            raise ValidationError({"ends_at": _("The event cannot end before it starts.")})

    @property
    def is_past(self) -> bool:
        return (self.ends_at or self.starts_at) < timezone.now()

    def editable_by(self, user) -> bool:
        """Staff change any entry of a plan they reach; a patient only their own entries
        (the care team's bookings are read-only for the patient)."""
        if getattr(user, "role", None) == Role.PATIENT:
            return self.created_by_id == user.pk
        return True

    def added_by_label(self) -> str:
        user = self.created_by
        return f"{user} ({user.title})" if user.title else str(user)


class EventChangeRequestQuerySet(models.QuerySet["EventChangeRequest"]):
    def open(self) -> EventChangeRequestQuerySet:
        return self.filter(handled_at__isnull=True)


class EventChangeRequest(models.Model):
    """The patient asks the care team to change one of the team's calendar entries (the
    patient cannot change those). An item on the unit's worklist until handled."""

    event = models.ForeignKey(
        CalendarEvent,
        on_delete=models.CASCADE,
        related_name="change_requests",
        verbose_name=_("calendar entry"),
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    text = models.TextField(_("what the patient asks"), max_length=2000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    note = models.TextField(_("what was done"), blank=True, max_length=2000)

    objects = EventChangeRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar change request")
        verbose_name_plural = _("calendar change requests")
        ordering = ["created_at", "id"]
        constraints = [
            # One open request per entry: a double submit finds it.
            models.UniqueConstraint(
                fields=["event"],
                condition=Q(handled_at__isnull=True),
                name="eventchangerequest_one_open",
            ),
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True) | ~Q(note=""),
                name="eventchangerequest_handled_with_note",
            ),
        ]
        indexes = [
            # The worklist: a unit's open requests, oldest first.
            models.Index(
                fields=["created_at"],
                condition=Q(handled_at__isnull=True),
                name="eventchangerequest_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event}: {self.text[:60]}"


class VisitQuestion(models.Model):
    """A question the patient wants to ask at the next visit: the patient's own list,
    which the care team reads on the patient overview (``careplan.selectors``)."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="visit_questions", db_index=False
    )
    text = models.TextField(_("question"), max_length=1000)
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("question for the next visit")
        verbose_name_plural = _("questions for the next visit")
        ordering = ["created_at", "id"]
        indexes = [
            # The patient's list and the care team's overview: a patient's questions.
            models.Index(fields=["patient", "created_at"], name="visitquestion_patient"),
        ]

    def __str__(self) -> str:
        return self.text[:60]
