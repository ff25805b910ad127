"""The outbox runs tasks registered by name (``careplan.outbox.outbox_task``), never by
importing a stored module path: rows stored before the registry (their task is the old
dotted path) still run, because every task is registered under that same name."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from careplan import outbox, tasks
from careplan.models import Outbox

# Every task name the code has stored in outbox rows (issue 17: rows already in
# production databases name these).
STORED_NAMES = {
    "careplan.tasks.send_rendered_email": tasks.send_rendered_email,
    "careplan.tasks.send_notification_email": tasks.send_notification_email,
    "careplan.tasks.send_staff_digest": tasks.send_staff_digest,
    "careplan.tasks.notify_plan_changed": tasks.notify_plan_changed,
    "careplan.tasks.send_login_invitation": tasks.send_login_invitation,
    "selfmonitor.tasks.email_patient": None,
    "selfmonitor.tasks.email_care_team": None,
    "rehab.tasks.send_followup_reminder": None,
    "contacts.tasks.send_invitation_email": None,
}

RAN: list[dict] = []


@outbox.outbox_task("tests.a name that is no module path")
def _not_at_its_name(**kwargs) -> None:
    RAN.append(kwargs)


@pytest.mark.parametrize("name", sorted(STORED_NAMES))
def test_every_stored_task_name_is_registered(name):
    task = outbox.task_named(name)
    assert task.name == name
    if STORED_NAMES[name] is not None:
        assert task.func is STORED_NAMES[name]


def test_only_the_rendered_email_forgets_its_arguments():
    forgetting = {name for name in STORED_NAMES if outbox.task_named(name).forget_kwargs_when_done}
    assert forgetting == {"careplan.tasks.send_rendered_email"}


@pytest.mark.django_db
def test_a_row_stored_with_the_old_dotted_path_runs():
    # A row as stored before the registry: nothing in it changed.
    row = Outbox.objects.create(
        task="careplan.tasks.notify_plan_changed", kwargs={"plan_id": 987654}, dedupe_key="old"
    )
    assert outbox.run_outbox(row.pk) == "done"
    row.refresh_from_db()
    assert row.status == Outbox.Status.DONE


@pytest.mark.django_db
def test_the_name_is_looked_up_not_imported():
    RAN.clear()
    row = Outbox.objects.create(
        task="tests.a name that is no module path", kwargs={"n": 1}, dedupe_key="named"
    )
    assert outbox.run_outbox(row.pk) == "done"
    assert RAN == [{"n": 1}]


@pytest.mark.django_db
def test_a_path_that_is_not_registered_is_not_imported():
    # ``careplan.mail.send_mail`` exists as a module path, but nobody registered it.
    row = Outbox.objects.create(task="careplan.mail.send_mail", kwargs={}, dedupe_key="path")
    assert outbox.run_outbox(row.pk) == "failed"
    row.refresh_from_db()
    assert row.last_error == (
        "AttributeError: no outbox task is registered as 'careplan.mail.send_mail'"
    )
    assert not outbox.is_registered("careplan.mail.send_mail")


def test_two_functions_may_not_share_a_name():
    def other(**kwargs) -> None:
        pass

    with pytest.raises(ImproperlyConfigured):
        outbox.outbox_task("careplan.tasks.notify_plan_changed")(other)
    assert outbox.task_named("careplan.tasks.notify_plan_changed").func is (
        tasks.notify_plan_changed
    )
