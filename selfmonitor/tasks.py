"""Celery tasks for self-monitoring: beat jobs and the e-mails (never health data)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from careplan.mail import send_mail
from careplan.models import StaffEmail, User
from careplan.outbox import outbox_task

from . import services
from .models import Alert, Assignment


@shared_task
def dispatch_questionnaires() -> int:
    """Beat: create the sendings schedules call for, open the due ones (once each)."""
    services.schedules_materialise()
    return services.dispatch_due()


@shared_task
def remind_questionnaires() -> int:
    """Beat: reminders before and after the due date; expire the old ones."""
    services.assignments_expire()
    return services.reminders_send()


@shared_task
def escalate_alerts() -> int:
    """Beat: alerts not acknowledged in time escalate once."""
    return services.alerts_escalate()


@outbox_task("selfmonitor.tasks.email_patient")
def email_patient(*, assignment_id: int, kind: str) -> None:
    """A questionnaire waits (new or reminder). No health data: not even its name."""
    assignment = Assignment.objects.select_related("patient__user").filter(pk=assignment_id).first()
    if assignment is None or not assignment.is_answerable or assignment.patient.user is None:
        return
    user = assignment.patient.user
    with translation.override(user.language or settings.LANGUAGE_CODE):
        subject = (
            _("A reminder from %(site)s") if kind == "reminder" else _("A question from %(site)s")
        ) % {"site": settings.CAREPLAN_SITE_NAME}
        send_mail(
            subject=subject,
            message=_(
                "Hello,\n\nYour care team would like you to answer a few questions in "
                "%(site)s. Log in to answer: %(url)s\n\nThis e-mail cannot be answered."
            )
            % {
                "url": settings.CAREPLAN_SITE_URL + reverse("home"),
                "site": settings.CAREPLAN_SITE_NAME,
            },
            from_email=None,
            recipient_list=[user.email],
        )


@outbox_task("selfmonitor.tasks.email_care_team")
def email_care_team(*, alert_id: int, kind: str) -> None:
    """Tell the contact nurse (escalated: everyone in the unit) that an alert waits.
    No patient name, no answer: only a link to the worklist."""
    alert = Alert.objects.select_related("patient").filter(pk=alert_id).first()
    if alert is None or alert.acknowledged_at is not None:
        return
    relation = alert.patient.responsible_relation()
    if relation is None:
        return
    if kind == "escalated":
        nurses = list(User.objects.filter(care_units=relation.unit_id, is_active=True))
    else:
        nurse = alert.patient.contact_nurse_assignment()
        # The nurse's own choice: at once here; a digest or nothing comes from careplan.
        at_once = nurse is not None and nurse.nurse.staff_email == StaffEmail.AT_ONCE
        nurses = [nurse.nurse] if at_once else []
    # Each in their own language (the unit's shared address in the site's).
    by_language: dict[str, set[str]] = {}
    for user in nurses:
        if user.email:
            by_language.setdefault(user.language or settings.LANGUAGE_CODE, set()).add(user.email)
    if relation.unit.email:
        by_language.setdefault(settings.LANGUAGE_CODE, set()).add(relation.unit.email)
    url = settings.CAREPLAN_SITE_URL + reverse("admin:selfmonitor_alert_changelist")
    for language, recipients in sorted(by_language.items()):
        with translation.override(language):
            send_mail(
                subject=_("An alert has not been acknowledged")
                if kind == "escalated"
                else _("A new alert in the worklist"),
                message=_(
                    "An alert from a questionnaire waits in the care team's worklist: %(url)s"
                )
                % {"url": url},
                from_email=None,
                recipient_list=sorted(recipients),
            )
