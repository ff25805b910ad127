"""A real worker sends the e-mail of ``messaging.notify``: the nurse's answer is stored,
committed, handed to the broker through the outbox, and the worker writes an e-mail that
only says something new is waiting (invariant 6). Skips like the other worker tests when
no Redis or no shareable database is at hand."""

from __future__ import annotations

import pytest
from django.db import transaction

from careplan import messaging
from careplan.models import Notification, Outbox

from .test_celery_worker import _wait_until_done, to_worker, worker  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_mails_the_patient_that_an_answer_is_waiting(cast, to_worker):  # noqa: F811
    thread = messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject="Feber", body="Jag har feber."
    ).thread
    with transaction.atomic():
        messaging.message_send(by=cast.nurse, thread=thread, body="Ring oss direkt om feber.")

    notification = Notification.objects.get(recipient=cast.patient_user)
    row = _wait_until_done(Outbox.objects.get(kwargs__notification_id=notification.pk).pk)
    assert row.done_at is not None, to_worker["log"].read_text()
    # The patient's message also e-mailed the nurse at once (issue 10, the staff member's
    # default choice); the patient gets exactly one e-mail, for the answer.
    mails = [m for m in to_worker["mail_dir"].iterdir() if cast.patient_user.email in m.read_text()]
    assert len(mails) == 1, to_worker["log"].read_text()
    text = mails[0].read_text()
    assert "https://careplan.example.org/notifications/" in text
    for secret in ("Feber", "feber", "Ring oss", cast.patient.last_name, cast.unit.name):
        assert secret not in text
