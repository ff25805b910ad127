"""Active handovers: the rules in contacts/handover/services.py (states, responsibility, refusals)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.utils import timezone, translation

from careplan.models import CareRelation, CareUnit, ContactNurseAssignment, Notification
from contacts.handover import services
from contacts.models import Handover, HandoverEvent

from .. import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def primary(cast):
    cast.other_unit.kind = CareUnit.Kind.PRIMARY
    cast.other_unit.save(update_fields=["kind"])
    return cast.other_unit


def _draft(cast, **kwargs):
    fields = dict(
        patient=cast.patient,
        by=cast.nurse,
        to_unit=cast.other_unit,
        situation="Treatment finished",
        background="Breast cancer, operated and irradiated",
        recommendation="Yearly mammography; lymphoedema risk",
    )
    fields.update(kwargs)
    return services.handover_create(**fields)


def _sent(cast):
    return services.handover_send(handover=_draft(cast), by=cast.nurse)


def _accept(cast, handover, **kwargs):
    fields = dict(
        handover=handover,
        by=cast.other_nurse,
        contact_nurse=cast.other_nurse,
        contact_made_on=timezone.localdate(),
        contact_how="By phone",
    )
    fields.update(kwargs)
    return services.handover_accept(**fields)


def _msg(exc) -> str:
    return " ".join(exc.messages)


def test_a_handover_walks_draft_sent_accepted_completed_with_who_and_when(cast, primary):
    handover = _sent(cast)
    handover = _accept(cast, handover)
    handover = services.handover_complete(handover=handover, by=cast.other_nurse)
    assert handover.state == Handover.State.COMPLETED
    events = list(HandoverEvent.objects.filter(handover=handover))
    assert [(e.from_state, e.to_state) for e in events] == [
        ("", "draft"),
        ("draft", "sent"),
        ("sent", "accepted"),
        ("accepted", "completed"),
    ]
    assert [e.by for e in events] == [cast.nurse, cast.nurse, cast.other_nurse, cast.other_nurse]
    assert all(e.at is not None for e in events)


def test_the_sender_stays_responsible_until_acceptance(cast, primary):
    _sent(cast)
    assert cast.patient.responsible_relation().unit == cast.unit
    assert cast.patient.contact_nurse_assignment().nurse == cast.nurse


def test_acceptance_moves_responsibility_and_contact_nurse_at_once(cast, primary):
    handover = _accept(cast, _sent(cast))
    assert cast.patient.responsible_relation().unit == primary
    assignment = cast.patient.contact_nurse_assignment()
    assert (assignment.nurse, assignment.unit) == (cast.other_nurse, primary)
    assert CareRelation.objects.filter(patient=cast.patient, ended_at__isnull=True).count() == 1
    assert (
        ContactNurseAssignment.objects.filter(patient=cast.patient, ended_on__isnull=True).count()
        == 1
    )
    old = CareRelation.objects.get(patient=cast.patient, unit=cast.unit)
    assert old.ended_at is not None
    assert handover.contact_how == "By phone"
    assert handover.accepted_by == cast.other_nurse


def test_sending_tells_the_receiving_units_staff_once(cast, primary):
    handover = _sent(cast)
    notes = Notification.objects.filter(recipient=cast.other_nurse, kind="handover")
    assert notes.count() == 1
    assert notes.get().url == f"/admin/contacts/handover/{handover.pk}/change/"
    assert not Notification.objects.filter(recipient=cast.nurse, kind="handover").exists()


def test_steps_cannot_be_skipped(cast, primary):
    draft = _draft(cast)
    with pytest.raises(ValidationError) as exc:
        _accept(cast, draft)
    assert "draft cannot become accepted" in _msg(exc.value)
    with pytest.raises(ValidationError):
        services.handover_complete(handover=draft, by=cast.other_nurse)
    draft.refresh_from_db()
    assert draft.state == Handover.State.DRAFT
    assert cast.patient.responsible_relation().unit == cast.unit


def test_a_declined_handover_keeps_the_sender_responsible_and_needs_a_reason(cast, primary):
    handover = _sent(cast)
    with pytest.raises(ValidationError) as exc:
        services.handover_decline(handover=handover, by=cast.other_nurse, reason="  ")
    assert "Give a reason" in _msg(exc.value)
    handover.refresh_from_db()
    assert handover.state == Handover.State.SENT
    handover = services.handover_decline(
        handover=handover, by=cast.other_nurse, reason="Patient lives outside our area"
    )
    assert handover.state == Handover.State.DECLINED
    assert handover.decline_reason == "Patient lives outside our area"
    assert cast.patient.responsible_relation().unit == cast.unit
    with pytest.raises(ValidationError):
        _accept(cast, handover)


def test_the_sender_can_cancel_and_then_start_a_new_one(cast, primary):
    handover = _sent(cast)
    with pytest.raises(PermissionDenied):
        services.handover_cancel(handover=handover, by=cast.other_nurse)
    services.handover_cancel(handover=handover, by=cast.nurse)
    handover.refresh_from_db()
    assert handover.state == Handover.State.CANCELLED
    assert _draft(cast).state == Handover.State.DRAFT


def test_a_handover_to_the_patients_own_unit_is_refused(cast):
    with pytest.raises(ValidationError) as exc:
        _draft(cast, to_unit=cast.unit)
    assert "already responsible" in _msg(exc.value)
    assert not Handover.objects.exists()


def test_a_second_open_handover_for_the_same_patient_is_refused(cast, primary):
    _draft(cast)
    palliative = f.CareUnitFactory(name="ASIH", kind=CareUnit.Kind.PALLIATIVE)
    with pytest.raises(ValidationError) as exc:
        _draft(cast, to_unit=palliative)
    assert "already has an open handover" in _msg(exc.value)
    assert Handover.objects.count() == 1


def test_only_the_responsible_units_staff_start_a_handover(cast, primary):
    with pytest.raises(PermissionDenied):
        _draft(cast, by=cast.other_nurse)
    assert not Handover.objects.exists()


def test_acceptance_by_a_unit_that_is_not_the_receiver_is_refused(cast, primary):
    handover = _sent(cast)
    third = f.CareUnitFactory(name="Vårdcentralen Norr", kind=CareUnit.Kind.PRIMARY)
    stranger = f.StaffFactory(units=[third])
    for who in (stranger, cast.nurse):
        with pytest.raises(PermissionDenied):
            _accept(cast, handover, by=who, contact_nurse=cast.other_nurse)
    handover.refresh_from_db()
    assert handover.state == Handover.State.SENT
    assert cast.patient.responsible_relation().unit == cast.unit


def test_acceptance_without_a_contact_nurse_is_refused_and_nothing_moves(cast, primary):
    handover = _sent(cast)
    with pytest.raises(ValidationError) as exc:
        _accept(cast, handover, contact_nurse=None)
    assert exc.value.message_dict["contact_nurse"] == ["Name the patient's new contact nurse."]
    handover.refresh_from_db()
    assert handover.state == Handover.State.SENT
    assert cast.patient.responsible_relation().unit == cast.unit
    assert cast.patient.contact_nurse_assignment().nurse == cast.nurse


def test_acceptance_with_a_nurse_of_another_unit_is_refused(cast, primary):
    handover = _sent(cast)
    with pytest.raises(ValidationError) as exc:
        _accept(cast, handover, contact_nurse=cast.nurse)
    assert "must work in the receiving unit" in _msg(exc.value)
    assert cast.patient.responsible_relation().unit == cast.unit


def test_acceptance_needs_a_date_not_in_the_future_and_how(cast, primary):
    handover = _sent(cast)
    with pytest.raises(ValidationError) as exc:
        _accept(
            cast,
            handover,
            contact_made_on=timezone.localdate() + dt.timedelta(days=1),
            contact_how="",
        )
    assert set(exc.value.message_dict) == {"contact_made_on", "contact_how"}
    assert Handover.objects.get().state == Handover.State.SENT


def test_sending_needs_situation_and_recommendation(cast, primary):
    draft = _draft(cast, situation="", recommendation="")
    with pytest.raises(ValidationError) as exc:
        services.handover_send(handover=draft, by=cast.nurse)
    assert "situation and the recommendation" in _msg(exc.value)
    assert Handover.objects.get().state == Handover.State.DRAFT


def test_the_patient_adds_needs_and_wishes_to_a_draft_only(cast, primary):
    draft = _draft(cast)
    services.handover_update(
        handover=draft, by=cast.patient_user, needs_and_wishes="I want visits at home"
    )
    draft.refresh_from_db()
    assert draft.needs_and_wishes == "I want visits at home"
    with pytest.raises(PermissionDenied):
        services.handover_update(handover=draft, by=cast.patient_user, situation="x")
    services.handover_send(handover=draft, by=cast.nurse)
    with pytest.raises(ValidationError):
        services.handover_update(handover=draft, by=cast.patient_user, needs_and_wishes="more")


def test_current_assessment_is_empty_without_scores_or_rehab(cast):
    assert services.handover_current_assessment(cast.patient) == ""


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and deferred triggers need PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_people_accepting_at_once_give_one_acceptance(cast, primary):
    colleague = f.StaffFactory(units=[primary])
    handover = _sent(cast)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(who):
        try:
            barrier.wait(timeout=10)
            _accept(cast, Handover.objects.get(pk=handover.pk), by=who, contact_nurse=who)
            outcomes.append("accepted")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(u,)) for u in (cast.other_nurse, colleague)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["accepted", "refused"]
    assert CareRelation.objects.filter(patient=cast.patient, ended_at__isnull=True).count() == 1
    assert (
        ContactNurseAssignment.objects.filter(patient=cast.patient, ended_on__isnull=True).count()
        == 1
    )
    assert HandoverEvent.objects.filter(handover=handover, to_state="accepted").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trial", range(6))
def test_acceptance_while_the_sender_names_a_new_contact_nurse_leaves_no_old_nurse(
    cast, primary, trial
):
    from careplan import services as careplan_services

    sender_colleague = f.StaffFactory(first_name="Stina", units=[cast.unit])
    handover = _sent(cast)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def accept():
        translation.activate("en")  # per thread
        try:
            barrier.wait(timeout=10)
            _accept(cast, Handover.objects.get(pk=handover.pk))
            outcomes["accept"] = "done"
        except (ValidationError, PermissionDenied) as exc:
            outcomes["accept"] = f"refused: {_msg(exc) if hasattr(exc, 'messages') else exc}"
        except Exception as exc:  # noqa: BLE001 - an IntegrityError here is the bug
            outcomes["accept"] = f"error: {exc!r}"
        finally:
            connections.close_all()

    def rename():
        translation.activate("en")
        try:
            barrier.wait(timeout=10)
            careplan_services.contact_nurse_assign(
                patient=cast.patient.__class__.objects.get(pk=cast.patient.pk),
                nurse=sender_colleague,
                by=cast.nurse,
            )
            outcomes["rename"] = "done"
        except (ValidationError, PermissionDenied) as exc:
            outcomes["rename"] = f"refused: {_msg(exc) if hasattr(exc, 'messages') else exc}"
        except Exception as exc:  # noqa: BLE001 - an IntegrityError here is the bug
            outcomes["rename"] = f"error: {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept), threading.Thread(target=rename)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    # The handover always goes through; the sender's change either came first (and was
    # then handed over) or is refused with a clear message. Never a database error.
    assert outcomes["accept"] == "done", outcomes
    assert outcomes["rename"] in ("done", "refused: The patient belongs to another care unit."), (
        outcomes
    )
    relation = CareRelation.objects.get(patient=cast.patient, ended_at__isnull=True)
    nurse = ContactNurseAssignment.objects.get(patient=cast.patient, ended_on__isnull=True)
    assert relation.unit == primary
    assert (nurse.nurse, nurse.unit) == (cast.other_nurse, primary)


def test_the_acceptance_records_that_the_senders_access_ends(cast, primary, settings):
    handover = _accept(cast, _sent(cast))
    event = handover.events.get(to_state="accepted")
    assert "the access of Bröstmottagningen ends now" in event.what
    settings.CAREPLAN_HANDOVER_READ_GRACE_HOURS = 2
    services.handover_complete(handover=handover, by=cast.other_nurse)
    assert services._handover_access_end_text() == "in 2 hours"


def test_the_patient_is_told_of_each_handover_step_once(cast, primary):
    handover = _sent(cast)
    handover = _accept(cast, handover)
    handover = services.handover_complete(handover=handover, by=cast.other_nurse)
    notes = Notification.objects.filter(recipient=cast.patient_user, kind="other")
    assert sorted(n.dedupe_key.rsplit(":", 1)[1] for n in notes) == [
        "accepted",
        "completed",
        "draft",
        "sent",
    ]
    draft = notes.get(dedupe_key__endswith=":draft")
    assert draft.url == f"/handover/{handover.pk}/needs/"
    assert "wishes" in draft.text or "önskar" in draft.text
