"""Celery tasks: take ids, load, call a service; idempotent.

Outbox tasks (``@outbox_task``) are registered under the names their rows store; the
outbox's own Celery tasks (``run_outbox``, ``relay_outbox``) live in ``careplan.outbox``
and keep their Celery names ``careplan.tasks.*``."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import partitions
from .mail import outbox_headers, send_mail
from .messaging import escalate_due_threads, staff_digests_queue
from .models import CarePlan, Notification, StaffEmail, User
from .outbox import outbox_backoff, outbox_task, relay_outbox, run_outbox

__all__ = ["outbox_backoff", "relay_outbox", "run_outbox"]  # re-exported from careplan.outbox

log = logging.getLogger(__name__)


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


@outbox_task("careplan.tasks.send_rendered_email", forget_kwargs_when_done=True)
def send_rendered_email(
    *, subject: str, body: str, to: list[str], from_email: str, alternatives: list
) -> None:
    """Outbox task of ``adapters.AccountAdapter.send_mail``: allauth's e-mails as
    rendered in the request (a reset link may be in them: the row forgets them when
    done)."""
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(
        subject=subject, body=body, from_email=from_email, to=to, headers=outbox_headers()
    )
    for content, mimetype in alternatives:
        message.attach_alternative(content, mimetype)
    message.send()


@outbox_task("careplan.tasks.send_notification_email")
def send_notification_email(*, notification_id: int) -> None:
    """Outbox task of ``messaging.notify``: e-mail the recipient, unless they have read
    the notification already or have no active account."""
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


@outbox_task("careplan.tasks.send_staff_digest")
def send_staff_digest(*, user_id: int) -> None:
    """Outbox task of ``messaging.staff_digests_queue``: how many things wait, and a link
    to the worklist. No patient, no health data."""
    user = User.objects.filter(pk=user_id, is_active=True, staff_email=StaffEmail.DIGEST).first()
    if user is None or not user.email:
        return
    count = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    if not count:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        send_mail(
            subject=_("Waiting for your care team in careplan"),
            message=ngettext(
                "Hello,\n\n%(count)d new thing is waiting for your care team in careplan. "
                "Log in to the worklist: %(url)s\n\nThis e-mail cannot be answered.",
                "Hello,\n\n%(count)d new things are waiting for your care team in careplan. "
                "Log in to the worklist: %(url)s\n\nThis e-mail cannot be answered.",
                count,
            )
            % {"count": count, "url": settings.CAREPLAN_SITE_URL + reverse("admin:index")},
            from_email=None,
            recipient_list=[user.email],
        )


@shared_task
def queue_staff_digests() -> int:
    """Beat: the daily digest for staff who chose it (once a day per person)."""
    return staff_digests_queue()


@outbox_task("careplan.tasks.notify_plan_changed")
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
    return escalate_due_threads()


@outbox_task("careplan.tasks.send_login_invitation")
def send_login_invitation(*, user_id: int) -> None:
    """E-mail a new patient account a link to choose a password (allauth's reset key)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

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


@shared_task
def accesslog_partitions() -> dict:
    """Beat, daily: the access log's partitions for this month and the next
    ``CAREPLAN_ACCESS_LOG_MONTHS_AHEAD``, and months older than
    ``CAREPLAN_ACCESS_LOG_KEEP_YEARS`` dropped (careplan/partitions.py). Idempotent."""
    made = partitions.ensure(months_ahead=settings.CAREPLAN_ACCESS_LOG_MONTHS_AHEAD)
    dropped = partitions.drop_expired(keep_years=settings.CAREPLAN_ACCESS_LOG_KEEP_YEARS)
    if made or dropped:
        log.info("access log partitions: created %s, dropped %s", made, dropped)
    return {"created": made, "dropped": dropped}
