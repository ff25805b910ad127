"""The outbox: work to do after a commit (e-mails, notices), with retries."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Outbox(models.Model):
    """Side effects stored in the same transaction as the change that caused them and
    relayed to Celery after commit, again by beat if the broker was down.

    A worker claims a row (``sending`` with a lease in ``next_attempt_at``), commits the
    claim, does the work outside any transaction, then marks it ``done``. A failure backs
    off (``next_attempt_at``) and after ``CAREPLAN_OUTBOX_MAX_ATTEMPTS`` parks the row as
    ``dead`` with its error for the admin (``careplan.outbox.run_outbox``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENDING = "sending", _("being sent")
        DONE = "done", _("done")
        DEAD = "dead", _("failed: needs attention")

    task = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    dedupe_key = models.CharField(_("key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("handed to the broker"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Pending: not before this time (back-off). Sending: the claim's lease ends then.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox")
        indexes = [
            # Serves the relay: rows ready to run (waiting, or sending with a lapsed
            # lease) by the time they are due, so failing rows backing off stay out of
            # the way of the rest.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="outbox_ready",
            ),
            # Serves the admin's list of dead rows.
            models.Index(fields=["created_at"], condition=Q(status="dead"), name="outbox_dead"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.dedupe_key}"
