"""Messages between patient and care team, and the one notification mechanism.

Writes here follow ``services.py``: typed, keyword-only, atomic. Side effects (e-mail) are
stored in the outbox with the change and sent after commit (``outbox.outbox_enqueue``),
so nothing is lost when the broker is down and a retry never sends twice.

``notify(...)`` is what every app calls to tell someone that something new is waiting:
one in-app ``Notification`` row per recipient (shown in the site header's count and the
notification list) plus an e-mail that only says something is waiting, never health data.
For example, a questionnaire that is due::

    notify(
        recipients=[patient.user],
        kind=Notification.Kind.QUESTIONNAIRE,
        url=reverse(...),
        patient=patient,
        dedupe_key=f"questionnaire-due:{assignment.pk}",
    )
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from . import access
from .models import (
    MESSAGE_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Message,
    MessageThread,
    Notification,
    Patient,
    Role,
    StaffEmail,
    User,
)
from .outbox import outbox_enqueue

NOTIFICATION_EMAIL_TASK = "careplan.tasks.send_notification_email"


# --- Notifications ------------------------------------------------------------------------


@transaction.atomic
def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    dedupe_key: str,
    url: str = "",
    patient: Patient | None = None,
    text: str | Promise = "",
    email: bool = True,
) -> list[Notification]:
    """Tell each recipient that something new is waiting.

    One ``Notification`` per recipient and ``dedupe_key`` (a second call with the same
    key is a no-op for that person), the recipient's unread count, and, if ``email``, an
    outbox e-mail sent after commit that names no health data. ``text`` must not hold
    health data either: it is short, generic wording for kinds added by other apps; pass
    it lazily (``gettext_lazy``) and each recipient gets it in their own language.
    Returns the notifications created now.
    """
    created: list[Notification] = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        # A lazy text (gettext_lazy) is written in each recipient's own language.
        with translation.override(user.language or settings.LANGUAGE_CODE):
            own_text = str(text)
        try:
            with transaction.atomic():
                created.append(
                    Notification.objects.create(
                        recipient=user,
                        kind=kind,
                        text=own_text[:200],
                        url=url[:300],
                        patient=patient,
                        dedupe_key=dedupe_key[:200],
                    )
                )
        except IntegrityError:
            continue  # this person has already been told
    if created:
        User.objects.filter(pk__in=[n.recipient_id for n in created]).update(
            unread_notifications=F("unread_notifications") + 1
        )
    if email:
        for notification in created:
            if _staff_email_choice(notification.recipient) != StaffEmail.AT_ONCE:
                continue  # the digest (or nothing) tells them; the counter shows it now
            outbox_enqueue(
                task=NOTIFICATION_EMAIL_TASK,
                kwargs={"notification_id": notification.pk},
                dedupe_key=f"notification-email:{notification.pk}",
            )
    return created


@transaction.atomic
def notifications_mark_read(
    *, user: User, ids: Iterable[int] | None = None, url: str | None = None
) -> int:
    """Mark a user's unread notifications read (all, these ``ids``, or those linking to
    ``url``) and set the header's count again from the rows. Returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    if url is not None:
        unread = unread.filter(url=url)
    changed = unread.update(read_at=timezone.now())
    if changed:
        left = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        User.objects.filter(pk=user.pk).update(unread_notifications=left)
        user.unread_notifications = left
    return changed


def _staff_email_choice(user: User) -> str:
    """Patients and relatives are always e-mailed; staff as they chose."""
    return user.staff_email if user.role == Role.STAFF else StaffEmail.AT_ONCE


def notifications_resolve(*, url: str) -> int:
    """The thing a set of notifications points at has been dealt with (an answer sent, an
    alert acknowledged): everyone's notifications to it are read, and their counters set
    again from the rows. Returns how many changed."""
    unread = Notification.objects.filter(url=url, read_at__isnull=True)
    recipients = list(unread.values_list("recipient_id", flat=True).distinct())
    if not recipients:
        return 0
    changed = unread.update(read_at=timezone.now())
    for user_id in recipients:
        left = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
        User.objects.filter(pk=user_id).update(unread_notifications=left)
    return changed


def unit_staff(unit_id: int):
    """The active care staff of a unit: who is told that something waits for the unit."""
    return User.objects.filter(
        care_units__id=unit_id, role=Role.STAFF, is_staff=True, is_active=True
    )


# --- Messages -----------------------------------------------------------------------------


def thread_url(thread: MessageThread) -> str:
    return reverse("message_thread", args=[thread.pk])


def thread_admin_url(thread: MessageThread) -> str:
    return reverse("admin:careplan_messagethread_change", args=[thread.pk])


def _clean_text(value: str, *, field: str, empty: str, max_length: int) -> tuple[str, dict]:
    text = (value or "").strip()
    if not text:
        return text, {field: empty}
    if len(text) > max_length:
        return text, {
            field: _(
                "This is %(length)s characters long; at most %(max)s fit. "
                "Shorten it, or split it into two messages."
            )
            % {"length": len(text), "max": max_length}
        }
    return text, {}


@transaction.atomic
def message_send(
    *,
    by: User,
    body: str,
    thread: MessageThread | None = None,
    patient: Patient | None = None,
    subject: str = "",
    submission_key: uuid.UUID | None = None,
) -> Message:
    """Write in a thread, or start one (``patient`` and ``subject``, no ``thread``).

    The patient writes to their responsible unit; staff of that unit answer. Relatives
    never write. A patient message waits for an answer (``awaiting_reply_since``) and
    re-opens a handled thread; an answer from the care team tells the patient.

    With ``submission_key`` (the form's, or the API's Idempotency-Key) a second submit of
    the same form returns the message the first one stored and stores nothing.
    """
    body, errors = _clean_text(
        body,
        field="body",
        empty=_("Write your message before you send it."),
        max_length=MESSAGE_MAX_LENGTH,
    )
    if thread is None:
        subject, subject_errors = _clean_text(
            subject,
            field="subject",
            empty=_("Write what the message is about."),
            max_length=SUBJECT_MAX_LENGTH,
        )
        errors.update(subject_errors)
        if patient is None:
            raise ValueError("message_send needs a thread or a patient")
    else:
        patient = thread.patient

    if by.role == Role.PATIENT and by.pk == patient.user_id:
        from_patient, unit = True, None
    elif by.role == Role.STAFF:
        unit = access.responsible_unit_for_write(by, patient)
        from_patient = False
    else:
        raise PermissionDenied(_("Only the patient and the care team write messages."))
    if errors:
        raise ValidationError(errors)
    if submission_key is not None:
        # Two submits at once: the second waits for the first (the thread's row for a
        # reply, the patient's for a new thread), then finds its message.
        if thread is None:
            Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()
        else:
            MessageThread.objects.select_for_update().filter(pk=thread.pk).values_list("pk").first()
        existing = Message.objects.filter(author=by, submission_key=submission_key).first()
        if existing is not None:
            return existing

    now = timezone.now()
    if thread is None:
        relation = patient.responsible_relation()
        if relation is None:
            raise ValidationError(
                _("There is no care unit responsible for you right now. Call your care unit.")
            )
        thread = MessageThread.objects.create(
            patient=patient,
            unit=relation.unit,
            subject=subject,
            created_by=by,
            created_at=now,
            last_message_at=now,
        )
    else:
        # Serialise writers of one thread (patient and nurse answering at the same time).
        thread = (
            MessageThread.objects.select_for_update().select_related("patient").get(pk=thread.pk)
        )
    message = Message.objects.create(
        thread=thread,
        author=by,
        from_patient=from_patient,
        unit=unit,
        body=body,
        created_at=now,
        submission_key=submission_key,
    )
    thread.last_message_at = now
    if from_patient:
        thread.last_patient_message_at = now
        thread.patient_read_at = now
        if thread.awaiting_reply_since is None:
            thread.awaiting_reply_since = now
            thread.escalated_at = None  # a new waiting period may escalate once
        thread.status = MessageThread.Status.OPEN
        thread.handled_at = None
        thread.handled_by = None
    else:
        thread.last_staff_message_at = now
        thread.staff_read_at = now
        thread.awaiting_reply_since = None
    thread.save()
    if from_patient:
        # The unit's staff: the header's counter now, e-mail as each of them chose. The
        # worklist shows the thread the moment this commits.
        notify(
            recipients=unit_staff(relation_unit_id(patient, thread)),
            kind=Notification.Kind.PATIENT_MESSAGE,
            url=thread_admin_url(thread),
            patient=patient,
            dedupe_key=f"patient-message:{message.pk}",
        )
    else:
        notifications_resolve(url=thread_admin_url(thread))
    if not from_patient and patient.user_id:
        notify(
            recipients=[patient.user],
            kind=Notification.Kind.MESSAGE,
            url=thread_url(thread),
            patient=patient,
            dedupe_key=f"message:{message.pk}",
        )
    return message


@transaction.atomic
def thread_mark_handled(*, thread: MessageThread, by: User) -> MessageThread:
    """The care team is done with the thread for now: it leaves the list of threads
    waiting for an answer until the patient writes again."""
    access.responsible_unit_for_write(by, thread.patient)
    now = timezone.now()
    thread.status = MessageThread.Status.HANDLED
    thread.handled_at = now
    thread.handled_by = by
    thread.awaiting_reply_since = None
    thread.staff_read_at = now
    notifications_resolve(url=thread_admin_url(thread))
    thread.save(
        update_fields=[
            "status",
            "handled_at",
            "handled_by",
            "awaiting_reply_since",
            "staff_read_at",
        ]
    )
    return thread


def relation_unit_id(patient: Patient, thread: MessageThread) -> int:
    relation = patient.responsible_relation()
    return relation.unit_id if relation else thread.unit_id


def thread_mark_read(*, thread: MessageThread, by: User) -> None:
    """The patient, or the care team (for the unit), has seen the thread now. The
    patient's notifications that lead to it are read too."""
    now = timezone.now()
    if by.role == Role.PATIENT and by.pk == thread.patient.user_id:
        if thread.unread_for_patient:
            MessageThread.objects.filter(pk=thread.pk).update(patient_read_at=now)
            thread.patient_read_at = now
        if by.unread_notifications:
            notifications_mark_read(user=by, url=thread_url(thread))
    elif by.role == Role.STAFF:
        if thread.unread_for_staff:
            MessageThread.objects.filter(pk=thread.pk).update(staff_read_at=now)
            thread.staff_read_at = now
        if by.unread_notifications:
            notifications_mark_read(user=by, url=thread_admin_url(thread))


# --- Escalation ---------------------------------------------------------------------------


def escalation_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    hours = settings.CAREPLAN_MESSAGE_ESCALATE_AFTER_HOURS
    return (now or timezone.now()) - dt.timedelta(hours=hours)


@transaction.atomic
def thread_escalate(*, thread_id: int, now: dt.datetime | None = None) -> bool:
    """Tell the responsible unit's staff that a thread has waited too long. Once per
    waiting period: ``escalated_at`` is set under a row lock, and the notifications are
    deduplicated on the thread and the time it started waiting."""
    now = now or timezone.now()
    thread = (
        MessageThread.objects.select_for_update()
        .select_related("patient")
        .filter(
            pk=thread_id,
            awaiting_reply_since__isnull=False,
            awaiting_reply_since__lte=escalation_cutoff(now),
            escalated_at__isnull=True,
        )
        .first()
    )
    if thread is None:
        return False
    relation = thread.patient.responsible_relation()
    unit_id = relation.unit_id if relation else thread.unit_id
    thread.escalated_at = now
    thread.save(update_fields=["escalated_at"])
    notify(
        recipients=unit_staff(unit_id),
        kind=Notification.Kind.ESCALATION,
        url=thread_admin_url(thread),
        patient=thread.patient,
        dedupe_key=f"escalation:{thread.pk}:{thread.awaiting_reply_since.isoformat()}",
    )
    return True


def escalate_due_threads(*, now: dt.datetime | None = None) -> int:
    """Beat: escalate every thread waiting past the configured time. Idempotent."""
    ids = list(
        MessageThread.objects.filter(
            awaiting_reply_since__lte=escalation_cutoff(now), escalated_at__isnull=True
        )
        .order_by("awaiting_reply_since")
        .values_list("id", flat=True)[:500]
    )
    return sum(thread_escalate(thread_id=thread_id, now=now) for thread_id in ids)


# --- The staff's daily digest ----------------------------------------------------------------

STAFF_DIGEST_TASK = "careplan.tasks.send_staff_digest"


def staff_digests_queue(*, now: dt.datetime | None = None) -> int:
    """Beat (hourly; idempotent): one digest e-mail a day to each staff member who chose
    the digest and has unread notifications from the last day. Deduplicated on the person
    and the Stockholm date, so the hourly run sends each of them one a day."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=1)
    users = (
        User.objects.filter(
            role=Role.STAFF,
            is_active=True,
            staff_email=StaffEmail.DIGEST,
            notifications__read_at__isnull=True,
            notifications__created_at__gte=since,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    day = timezone.localdate(now).isoformat()
    queued = 0
    for user_id in users:
        with transaction.atomic():
            row = outbox_enqueue(
                task=STAFF_DIGEST_TASK,
                kwargs={"user_id": user_id},
                dedupe_key=f"staff-digest:{user_id}:{day}",
            )
        queued += row is not None
    return queued
