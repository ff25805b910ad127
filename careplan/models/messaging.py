"""Messages between patients and their care team, and notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .patients import Patient
from .users import CareUnit

MESSAGE_MAX_LENGTH = 4000
SUBJECT_MAX_LENGTH = 120


class MessageThreadQuerySet(models.QuerySet["MessageThread"]):
    def waiting(self) -> MessageThreadQuerySet:
        """Threads whose latest patient message has no answer yet."""
        return self.filter(awaiting_reply_since__isnull=False)

    def inbox_order(self) -> MessageThreadQuerySet:
        """The care team's order: unanswered first, the longest waiting first; then the
        rest, latest activity first."""
        return self.order_by(
            models.F("awaiting_reply_since").asc(nulls_last=True), "-last_message_at", "-id"
        )


class MessageThread(models.Model):
    """A conversation between a patient and the responsible care team: the unit, not one
    person. ``unit`` is the unit it was first addressed to; who may read and answer is
    decided by the patient's responsible unit now (``careplan.access``), so the history
    follows the patient when responsibility moves."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        HANDLED = "handled", _("Handled")

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="message_threads", verbose_name=_("patient")
    )
    unit = models.ForeignKey(
        CareUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("first addressed to"),
    )
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    last_message_at = models.DateTimeField(_("latest message"), default=timezone.now)
    # The oldest patient message without an answer (None: nothing waits for the team).
    awaiting_reply_since = models.DateTimeField(_("waiting for an answer since"), null=True)
    last_patient_message_at = models.DateTimeField(null=True)
    last_staff_message_at = models.DateTimeField(null=True)
    # Read marks: the patient's, and the care team's (any member of the unit).
    patient_read_at = models.DateTimeField(null=True)
    staff_read_at = models.DateTimeField(null=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Set once per waiting period by the escalation job (Celery beat).
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    objects = MessageThreadQuerySet.as_manager()

    class Meta:
        verbose_name = _("message thread")
        verbose_name_plural = _("messages")
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="messagethread_handled_has_time",
                condition=~Q(status="handled") | Q(handled_at__isnull=False),
            ),
        ]
        indexes = [
            # Serves the patient's list: their threads, latest activity first.
            models.Index(fields=["patient", "-last_message_at"], name="thread_patient_latest"),
            # Serves the escalation job: threads waiting, oldest first.
            models.Index(
                fields=["awaiting_reply_since"],
                condition=Q(awaiting_reply_since__isnull=False, escalated_at__isnull=True),
                name="thread_waiting_unescalated",
            ),
            # Serves the worklist: waiting threads oldest first, stopping at the first of
            # my units' patients (at 2 000 waiting threads, 56 ms without it, 1 ms with).
            models.Index(
                fields=["awaiting_reply_since", "id"],
                condition=Q(awaiting_reply_since__isnull=False),
                name="thread_waiting",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def unread_for_patient(self) -> bool:
        last = self.last_staff_message_at
        return last is not None and (self.patient_read_at is None or self.patient_read_at < last)

    @property
    def unread_for_staff(self) -> bool:
        last = self.last_patient_message_at
        return last is not None and (self.staff_read_at is None or self.staff_read_at < last)


class Message(models.Model):
    """One message in a thread, by the patient or by a member of the care team."""

    thread = models.ForeignKey(
        MessageThread, on_delete=models.CASCADE, related_name="messages", verbose_name=_("thread")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    from_patient = models.BooleanField(_("from the patient"))
    # The unit a staff author answered for (None for the patient).
    unit = models.ForeignKey(
        CareUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("message"), max_length=MESSAGE_MAX_LENGTH)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    # As ``CalendarEvent.submission_key``: one message per submit of a form.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            # One row per submit (``messaging.message_send``; the last defence).
            models.UniqueConstraint(
                fields=["author", "submission_key"],
                condition=Q(submission_key__isnull=False),
                name="message_once_per_submit",
            ),
        ]
        indexes = [
            # Serves a thread's page: its messages in order.
            models.Index(fields=["thread", "created_at"], name="message_thread_time"),
        ]

    def __str__(self) -> str:
        return f"{self.author} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

    def author_label(self) -> str:
        user = self.author
        name = user.get_full_name() or str(user)
        return f"{name} ({user.title})" if (not self.from_patient and user.title) else name


class Notification(models.Model):
    """Something new for one user, shown in the site's notification list. The e-mail that
    goes with it only says that something is waiting (``careplan.messaging.notify``)."""

    class Kind(models.TextChoices):
        MESSAGE = "message", _("New message from your care team")
        PLAN_CHANGED = "plan_changed", _("Your care plan has changed")
        PATIENT_MESSAGE = "patient_message", _("New message from a patient")
        ESCALATION = "escalation", _("A message is waiting too long for an answer")
        # For the other apps' triggers (selfmonitor, contacts): call messaging.notify.
        QUESTIONNAIRE = "questionnaire", _("A questionnaire is waiting for you")
        ALERT = "alert", _("An alert needs the care team's attention")
        HANDOVER = "handover", _("A handover is waiting for your unit")
        OTHER = "other", _("Something new is waiting for you")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("to"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # A short text for kinds other apps add later; the kind's label is used when empty.
    text = models.CharField(_("text"), max_length=200, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same news reaches a person once, however often it is triggered.
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notification_once_per_recipient"
            ),
        ]
        indexes = [
            # Serves the notification list: a user's newest first.
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.text or str(self.get_kind_display())
