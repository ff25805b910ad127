"""``manage.py check_consistency`` (issue 12): a restored database's invariants, each
broken on purpose here (past the PostgreSQL triggers, as a data-only restore or a hand
fix would) and found by the check. The restore drill itself (pg_dump, pg_restore, the
check as a separate process) is tests/integration/test_restore_drill.py."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from careplan.consistency import consistency_problems
from careplan.models import CareRelation, ContactNurseAssignment, Outbox, StaffMembership
from contacts.models import Handover, HandoverState
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def past_the_triggers():
    """Write as a data-only restore would: PostgreSQL's triggers (the invariant's
    constraint triggers, foreign keys) do not fire. SQLite has none to pass."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        yield


def _checks() -> set[str]:
    return {p.check for p in consistency_problems()}


def test_a_consistent_database_passes(cast, capsys):
    Outbox.objects.create(task="careplan.tasks.notify_plan_changed", kwargs={}, dedupe_key="a")
    assert consistency_problems() == []
    call_command("check_consistency")
    assert "consistent" in capsys.readouterr().out


def test_an_established_plan_without_a_contact_nurse_is_found(cast, capsys):
    with past_the_triggers():
        ContactNurseAssignment.objects.filter(patient=cast.patient).update(
            ended_on=timezone.localdate()
        )
        # A careful hand fix keeps the worklist's flag (else that is found too, below).
        CareRelation.objects.filter(patient=cast.patient).update(needs_contact_nurse=True)
    with pytest.raises(CommandError, match="1 consistency problem"):
        call_command("check_consistency")
    err = capsys.readouterr().err
    assert "contact_nurse: 1 patients with an established plan have no contact nurse" in err
    assert f"ids {cast.patient.pk}" in err
    assert cast.patient.personnummer not in err


@pytest.mark.parametrize("flag", [True, False])
def test_a_contact_nurse_flag_that_contradicts_the_assignments_is_found(cast, flag):
    with past_the_triggers():
        if flag:  # flagged "no nurse" while one is named
            CareRelation.objects.filter(patient=cast.patient).update(needs_contact_nurse=True)
        else:  # the nurse's assignment ended by hand, the flag left as it was
            ContactNurseAssignment.objects.filter(patient=cast.patient).update(
                ended_on=timezone.localdate()
            )
    problems = [p for p in consistency_problems() if p.check == "contact_nurse_flag"]
    assert len(problems) == 1
    relation = CareRelation.objects.get(patient=cast.patient)
    assert f"(ids {relation.pk})" in problems[0].detail


def test_an_established_plan_without_a_responsible_unit_is_found(cast):
    with past_the_triggers():
        CareRelation.objects.filter(patient=cast.patient).update(ended_at=timezone.now())
    assert "responsible_unit" in _checks()


def test_a_contact_nurse_outside_the_responsible_unit_is_found(cast):
    with past_the_triggers():
        StaffMembership.objects.filter(user=cast.nurse, unit=cast.unit).delete()
    problems = consistency_problems()
    assert [p.check for p in problems] == ["contact_nurse_unit"]
    assert "does not work in the responsible unit" in problems[0].detail


def test_an_open_handover_from_a_unit_no_longer_responsible_is_found(cast):
    Handover.objects.create(
        patient=cast.patient,
        from_unit=cast.other_unit,
        to_unit=f.CareUnitFactory(),
        state=HandoverState.SENT,
        sent_at=timezone.now(),
        created_by=cast.other_nurse,
    )
    assert _checks() == {"handover"}


def test_outbox_rows_in_impossible_states_are_found():
    now = timezone.now()
    for key, fields in {
        "done-without-time": {"status": Outbox.Status.DONE},
        "dead-without-error": {"status": Outbox.Status.DEAD},
        "stuck": {"status": Outbox.Status.SENDING, "next_attempt_at": now - dt.timedelta(days=1)},
    }.items():
        Outbox.objects.create(task="careplan.tasks.notify_plan_changed", dedupe_key=key, **fields)
    Outbox.objects.create(task="careplan.tasks.no_such_task", dedupe_key="gone")
    details = "\n".join(str(p) for p in consistency_problems())
    assert "contradicts their time done" in details
    assert "dead outbox rows have no error" in details
    assert "stuck in 'sending'" in details
    assert "careplan.tasks.no_such_task" in details
