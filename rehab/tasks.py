"""Celery tasks for rehabilitation: follow-up reminders (beat, idempotent, via the
outbox). Tasks take ids, load, call a service."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from careplan.mail import send_mail
from careplan.outbox import outbox_task

from .models import FollowUp
from .services import followup_reminders_queue


@shared_task
def queue_followup_reminders() -> int:
    """Beat (daily): queue a reminder for each follow-up due in the next days. Running
    it twice queues nothing new (the outbox's dedupe key)."""
    return followup_reminders_queue()


@outbox_task("rehab.tasks.send_followup_reminder")
def send_followup_reminder(*, followup_id: int) -> None:
    """E-mail the patient that a follow-up is coming. No health data: only that there is
    a follow-up and where to read about it."""
    followup = (
        FollowUp.objects.select_related("rehab_plan__patient__user", "rehab_plan__care_plan")
        .filter(pk=followup_id, done_on__isnull=True)
        .first()
    )
    if followup is None:
        return
    user = followup.rehab_plan.patient.user
    if user is None or not user.email:
        return
    url = settings.CAREPLAN_SITE_URL + reverse(
        "rehab_plan", args=[followup.rehab_plan.care_plan_id]
    )
    with translation.override(user.language or settings.LANGUAGE_CODE):
        send_mail(
            subject=_("A follow-up is coming up"),
            message=_(
                "Hello,\n\nYou have a follow-up of your rehabilitation plan on %(date)s. "
                "Log in to read your plan: %(url)s\n\nThis e-mail cannot be answered."
            )
            % {"date": followup.due_on.isoformat(), "url": url},
            from_email=None,
            recipient_list=[user.email],
        )
