"""Celery tasks: take ids, load, call a service; idempotent."""

from __future__ import annotations

import datetime as dt
import importlib
import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import CarePlan, Outbox

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def run_outbox(outbox_id: int) -> str:
    """Run one outbox row exactly once (row lock + done_at)."""
    with transaction.atomic():
        row = Outbox.objects.select_for_update().filter(pk=outbox_id).first()
        if row is None or row.done_at is not None:
            return "skipped"
        module_name, func_name = row.task.rsplit(".", 1)
        func = getattr(importlib.import_module(module_name), func_name)
        func(**row.kwargs)
        row.done_at = timezone.now()
        row.save(update_fields=["done_at"])
    return "done"


@shared_task
def relay_outbox(older_than_seconds: int = 60) -> int:
    """Beat: re-send rows the broker never got or a worker never finished."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        Outbox.objects.filter(done_at__isnull=True, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[:500]
    )
    for outbox_id in ids:
        run_outbox.delay(outbox_id)
    Outbox.objects.filter(id__in=ids, sent_at__isnull=True).update(sent_at=timezone.now())
    return len(ids)


def _mail_something_waiting(user, *, path: str) -> None:
    """The only e-mail a notification sends: something new is waiting. Never health data."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        send_mail(
            subject=_("There is news in %(site)s") % {"site": settings.CAREPLAN_SITE_NAME},
            message=_(
                "Hello,\n\nThere is something new waiting for you in %(site)s. "
                "Log in to read it: %(url)s\n\nThis e-mail cannot be answered."
            )
            % {"url": settings.CAREPLAN_SITE_URL + path, "site": settings.CAREPLAN_SITE_NAME},
            from_email=None,
            recipient_list=[user.email],
        )


def send_notification_email(*, notification_id: int) -> None:
    """Outbox task of ``messaging.notify``: e-mail the recipient, unless they have read
    the notification already or have no active account."""
    from .models import Notification

    notification = (
        Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    )
    if notification is None or notification.read_at is not None:
        return
    user = notification.recipient
    if not user.is_active or not user.email:
        return
    path = reverse("admin:index") if user.is_staff else reverse("notification_list")
    _mail_something_waiting(user, path=path)


def notify_plan_changed(*, plan_id: int) -> None:
    """Outbox rows stored before plan changes went through ``messaging.notify`` still
    name this task: the same e-mail, nothing else."""
    plan = CarePlan.objects.select_related("patient__user").filter(pk=plan_id).first()
    if plan is None or plan.patient.user is None:
        return
    _mail_something_waiting(plan.patient.user, path=reverse("home"))


@shared_task
def escalate_unanswered_threads() -> int:
    """Beat: threads unanswered past CAREPLAN_MESSAGE_ESCALATE_AFTER_HOURS go to the
    unit's staff, once per waiting period."""
    from .messaging import escalate_due_threads

    return escalate_due_threads()


def send_login_invitation(*, user_id: int) -> None:
    """E-mail a new patient account a link to choose a password (allauth's reset key)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    from .models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password():
        return
    key = default_token_generator.make_token(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
    )
    with translation.override(user.language or settings.LANGUAGE_CODE):
        send_mail(
            subject=_("Your login to %(site)s") % {"site": settings.CAREPLAN_SITE_NAME},
            message=_(
                "Hello,\n\nYour care team has made an account in %(site)s for you. "
                "Choose your password here to log in:\n%(url)s\n\n"
                "If you were not expecting this e-mail, you can ignore it.\n"
                "This e-mail cannot be answered."
            )
            % {"url": settings.CAREPLAN_SITE_URL + path, "site": settings.CAREPLAN_SITE_NAME},
            from_email=None,
            recipient_list=[user.email],
        )
