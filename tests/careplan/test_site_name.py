"""One configurable site name: the header, page titles, e-mails and the admin."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse

from careplan import messaging
from careplan.models import Notification


def test_the_default_name_is_the_same_on_screen_and_in_e_mail(
    cast, settings, django_capture_on_commit_callbacks
):
    page = cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk]))
    html = page.content.decode()
    assert '<a class="site-name" href="/">Min vårdplan</a>' in html
    assert "careplan" not in html.split("<body")[1].split("<main")[0]
    with django_capture_on_commit_callbacks(execute=True):
        messaging.notify(
            recipients=[cast.patient_user],
            kind=Notification.Kind.OTHER,
            dedupe_key="site-name-test",
            url="/",
        )
    assert mail.outbox, "the notification e-mail was sent"
    message = mail.outbox[-1]
    assert "Min vårdplan" in message.subject and "careplan" not in message.subject.lower()
    assert "Min vårdplan" in message.body
    assert "Min vårdplan" in settings.DEFAULT_FROM_EMAIL


def test_a_deployment_renames_the_site_everywhere(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.CAREPLAN_SITE_NAME = "Vårdplanen Region Exempel"
    html = cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk])).content
    text = html.decode()
    assert '<a class="site-name" href="/">Vårdplanen Region Exempel</a>' in text
    assert "– Vårdplanen Region Exempel</title>" in text
    assert "Vårdplanen Region Exempel är inte till för akuta ärenden." in text
    with django_capture_on_commit_callbacks(execute=True):
        messaging.notify(
            recipients=[cast.patient_user], kind=Notification.Kind.OTHER, dedupe_key="x", url="/"
        )
    assert "Vårdplanen Region Exempel" in mail.outbox[-1].subject
