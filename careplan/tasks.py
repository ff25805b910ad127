"""Celery tasks: take ids, load, call a service; idempotent."""

from __future__ import annotations

import datetime as dt
import importlib
import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .mail import outbox_key, send_mail
from .models import CarePlan, Outbox

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def run_outbox(outbox_id: int) -> str:
    """Run one outbox row: claim, do the work outside any transaction, record the result.

    1. Claim (committed at once): a waiting row, or one ``sending`` whose lease lapsed
       (its worker died), becomes ``sending`` with a lease of
       ``CAREPLAN_OUTBOX_LEASE_SECONDS``. A row locked by another worker, done, dead or
       within a live lease is skipped, so duplicate deliveries of the task do nothing.
    2. The work (an e-mail, with a Message-ID from the row's key) runs with no database
       transaction open and no row lock held: a hung mail server holds only this worker
       (``EMAIL_TIMEOUT``, the task time limits).
    3. The row is marked ``done`` before the task returns (before Celery acknowledges).
       A failure backs off exponentially; after ``CAREPLAN_OUTBOX_MAX_ATTEMPTS`` the row
       is parked as ``dead`` with its error for the admin.
    """
    row = _outbox_claim(outbox_id)
    if row is None:
        return "skipped"
    try:
        module_name, func_name = row.task.rsplit(".", 1)
        func = getattr(importlib.import_module(module_name), func_name)
        with outbox_key(row.dedupe_key):
            func(**row.kwargs)
    except Exception as exc:  # noqa: BLE001 - recorded on the row, retried with back-off
        return _outbox_failed(row, exc)
    done = {"status": Outbox.Status.DONE, "done_at": timezone.now(), "last_error": ""}
    if getattr(func, "forget_kwargs_when_done", False):
        done["kwargs"] = {}
    finished = Outbox.objects.filter(pk=row.pk, status=Outbox.Status.SENDING).update(**done)
    if not finished:  # the lease lapsed and another worker took the row over
        log.warning("outbox %s finished after its lease lapsed", row.pk)
    return "done"


def _outbox_claim(outbox_id: int) -> Outbox | None:
    now = timezone.now()
    with transaction.atomic():
        row = (
            Outbox.objects.select_for_update(skip_locked=True)
            .filter(pk=outbox_id, done_at__isnull=True)
            .filter(
                Q(status=Outbox.Status.PENDING)
                | Q(status=Outbox.Status.SENDING, next_attempt_at__lte=now)
            )
            .first()
        )
        if row is None:
            return None
        row.status = Outbox.Status.SENDING
        row.attempts += 1
        row.next_attempt_at = now + dt.timedelta(seconds=settings.CAREPLAN_OUTBOX_LEASE_SECONDS)
        row.save(update_fields=["status", "attempts", "next_attempt_at"])
    return row


def outbox_backoff(attempts: int) -> dt.timedelta:
    """How long a row waits after its ``attempts``-th failure: 1, 2, 4, ... minutes,
    at most six hours."""
    base = settings.CAREPLAN_OUTBOX_BACKOFF_SECONDS
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def _outbox_failed(row: Outbox, exc: BaseException) -> str:
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    dead = row.attempts >= settings.CAREPLAN_OUTBOX_MAX_ATTEMPTS
    log.warning(
        "outbox %s (%s) failed, attempt %s%s: %s",
        row.pk,
        row.task,
        row.attempts,
        ", parked as dead" if dead else "",
        error,
    )
    Outbox.objects.filter(pk=row.pk, status=Outbox.Status.SENDING).update(
        status=Outbox.Status.DEAD if dead else Outbox.Status.PENDING,
        next_attempt_at=timezone.now() + outbox_backoff(row.attempts),
        last_error=error,
    )
    return "dead" if dead else "failed"


@shared_task
def relay_outbox(older_than_seconds: int = 60) -> int:
    """Beat: re-send rows the broker never got, a worker never finished (lapsed lease)
    or that failed and whose back-off is over. Ready rows only, the most overdue first,
    so rows that keep failing wait their turn and the rest flow."""
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        Outbox.objects.filter(
            status__in=[Outbox.Status.PENDING, Outbox.Status.SENDING],
            next_attempt_at__lte=now,
            created_at__lt=cutoff,
            done_at__isnull=True,
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[: settings.CAREPLAN_OUTBOX_RELAY_BATCH]
    )
    from .services import outbox_dispatch

    for outbox_id in ids:
        if not outbox_dispatch(outbox_id=outbox_id):
            break  # the broker is down: the next run tries again
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


def send_rendered_email(
    *, subject: str, body: str, to: list[str], from_email: str, alternatives: list
) -> None:
    """Outbox task of ``adapters.AccountAdapter.send_mail``: allauth's e-mails as
    rendered in the request (a reset link may be in them: the row forgets them when
    done)."""
    from django.core.mail import EmailMultiAlternatives

    from .mail import outbox_headers

    message = EmailMultiAlternatives(
        subject=subject, body=body, from_email=from_email, to=to, headers=outbox_headers()
    )
    for content, mimetype in alternatives:
        message.attach_alternative(content, mimetype)
    message.send()


send_rendered_email.forget_kwargs_when_done = True  # type: ignore[attr-defined]


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


def send_staff_digest(*, user_id: int) -> None:
    """Outbox task of ``messaging.staff_digests_queue``: how many things wait, and a link
    to the worklist. No patient, no health data."""
    from .models import Notification, StaffEmail, User

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
    from .messaging import staff_digests_queue

    return staff_digests_queue()


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


@shared_task
def accesslog_partitions() -> dict:
    """Beat, daily: the access log's partitions for this month and the next
    ``CAREPLAN_ACCESS_LOG_MONTHS_AHEAD``, and months older than
    ``CAREPLAN_ACCESS_LOG_KEEP_YEARS`` dropped (careplan/partitions.py). Idempotent."""
    from . import partitions

    made = partitions.ensure(months_ahead=settings.CAREPLAN_ACCESS_LOG_MONTHS_AHEAD)
    dropped = partitions.drop_expired(keep_years=settings.CAREPLAN_ACCESS_LOG_KEEP_YEARS)
    if made or dropped:
        log.info("access log partitions: created %s, dropped %s", made, dropped)
    return {"created": made, "dropped": dropped}
