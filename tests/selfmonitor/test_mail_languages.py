"""E-mails and in-app notifications in the recipient's own language (issue 14), written
at send time whatever language the sender or the job runs in, and never with health data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from careplan.messaging import notify
from careplan.models import Notification, StaffEmail
from selfmonitor import services as sm_services
from selfmonitor import tasks as sm_tasks
from selfmonitor.models import Alert
from tests import factories as f

REMINDER = {
    "ar": ("تذكير من Min vårdplan", "يرغب فريق الرعاية"),
    "fi": ("Muistutus palvelusta Min vårdplan", "Hoitotiimisi"),
}


@pytest.mark.parametrize("lang", ["ar", "fi"])
def test_a_patient_gets_the_questionnaire_reminder_in_their_language(
    cast, instruments, django_capture_on_commit_callbacks, lang
):
    cast.patient_user.language = lang
    cast.patient_user.save(update_fields=["language"])
    with translation.override("sv"):  # the beat job runs in the site's language
        assignment = sm_services.assignment_send(
            patient=cast.patient,
            instrument=instruments["distress-thermometer"],
            by=cast.nurse,
            due_days=2,
            expire_days=10,
        )
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            later = timezone.now() + dt.timedelta(days=1, hours=1)
            assert sm_services.reminders_send(now=later) == 1
    reminders = [m for m in mail.outbox if cast.patient_user.email in m.to]
    assert len(reminders) == 1
    subject, words = REMINDER[lang]
    assert reminders[0].subject == subject
    assert words in reminders[0].body
    # No health data: not the questionnaire's name in any language.
    for text in assignment.instrument.definition["title"].values():
        assert text not in reminders[0].body and text not in reminders[0].subject


def test_a_notification_text_is_written_in_each_recipients_language(cast):
    cast.nurse.language = "fi"
    cast.nurse.save(update_fields=["language"])
    colleague = f.StaffFactory(units=[cast.unit])  # Swedish
    with translation.override("en"):  # the patient who caused it reads English
        created = notify(
            recipients=[cast.nurse, colleague],
            kind=Notification.Kind.OTHER,
            dedupe_key="test:lazy",
            text=gettext_lazy("A patient asks to change a calendar entry"),
            email=False,
        )
    texts = {n.recipient_id: n.text for n in created}
    with translation.override("fi"):
        assert texts[cast.nurse.pk] == str(
            gettext_lazy("A patient asks to change a calendar entry")
        )
    assert texts[colleague.pk] == "En patient vill ändra en kalenderpost"


def test_an_alert_mail_reaches_each_nurse_in_their_language(
    cast, instruments, django_capture_on_commit_callbacks
):
    cast.nurse.language = "ar"
    cast.nurse.staff_email = StaffEmail.AT_ONCE
    cast.nurse.save(update_fields=["language", "staff_email"])
    colleague = f.StaffFactory(units=[cast.unit], language="fi")
    assignment = sm_services.assignment_send(
        patient=cast.patient, instrument=instruments["distress-thermometer"], by=cast.nurse
    )
    sm_services.response_submit(
        assignment=assignment,
        by=cast.patient_user,
        raw={"distress": ["9"], "wants_contact": ["no"]},
    )
    alert = Alert.objects.get(patient=cast.patient)
    mail.outbox.clear()
    with translation.override("sv"):
        sm_tasks.email_care_team(alert_id=alert.pk, kind="escalated")
    by_recipient = {to: m for m in mail.outbox for to in m.to}
    assert by_recipient[cast.nurse.email].subject == "تنبيه لم يُطّلع عليه"
    assert by_recipient[colleague.email].subject == "Hälytystä ei ole kuitattu"
    assert cast.patient.first_name not in by_recipient[colleague.email].body


@pytest.mark.django_db(transaction=True)
def test_a_password_reset_mail_is_in_the_account_holders_language():
    from allauth.account.models import EmailAddress

    from careplan import tasks
    from careplan.models import Outbox
    from tests.faults import broker_at, dead_url

    user = f.UserFactory(email="fi-reset@example.test", language="fi")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client = Client()
    client.cookies["django_language"] = "en"  # asked for from an English browser
    with broker_at(dead_url()):
        response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    Outbox.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    assert tasks.relay_outbox() == 1
    (sent,) = [m for m in mail.outbox if user.email in m.to]
    subject = "Password Reset Email"  # allauth's own msgid (its catalogues have fi)
    with translation.override("fi"):
        finnish = gettext(subject)
    assert finnish != subject
    assert finnish in sent.subject
