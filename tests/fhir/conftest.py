"""Fixtures for the FHIR suite: every shipped instrument answered in full (every item
type), a rehab plan with every goal evaluation and intervention status, a care map with
every kind of entry, grants active, revoked and expired."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from contacts import services as contact_services
from contacts.models import CareMapEntry, EntryKind
from rehab.models import FollowUp, Goal, Intervention, RehabPlan
from selfmonitor import services
from selfmonitor.definition import item_map
from selfmonitor.models import Instrument

from .. import factories as f
from ..rehab.conftest import add_goal, add_intervention

TEXT = "Första raden\r\nandra raden & <tecken>"


@pytest.fixture
def instruments(db) -> dict[str, Instrument]:
    loaded = {}
    for path in sorted(services.INSTRUMENT_DIR.glob("*.json")):
        instrument, _what = services.instrument_load(
            data=services.read_instrument_file(path), source_file=path.name
        )
        loaded[instrument.key] = instrument
    return loaded


def full_answers(instrument: Instrument) -> dict[str, list[str]]:
    """A value for every item: the top of each scale, 'yes', two options of a multiple
    choice, the first of a single choice, and text with a CR LF line break."""
    raw = {}
    for item in item_map(instrument.definition).values():
        kind = item["type"]
        if kind == "scale":
            raw[item["id"]] = [str(item.get("max", 10))]
        elif kind == "yesno":
            raw[item["id"]] = ["yes"]
        elif kind == "text":
            raw[item["id"]] = [TEXT]
        elif kind == "multiple":
            raw[item["id"]] = [o["value"] for o in item["options"][:2]]
        else:
            raw[item["id"]] = [item["options"][0]["value"]]
    return raw


@pytest.fixture
def answered(cast, instruments):
    """One completed response per shipped instrument, all items answered; the symptom
    scale entered by the nurse on the patient's behalf."""
    out = {}
    for key, instrument in instruments.items():
        assignment = services.assignment_send(
            patient=cast.patient, instrument=instrument, by=cast.nurse
        )
        by = cast.nurse if key == "symptom-scale" else cast.patient_user
        outcome = services.response_submit(
            assignment=assignment, by=by, raw=full_answers(instrument)
        )
        assert outcome.completed, (key, getattr(outcome, "errors", None))
        out[key] = outcome.response
    return out


@pytest.fixture
def rehab_full(cast) -> RehabPlan:
    plan = RehabPlan.objects.create(
        care_plan=cast.plan,
        patient=cast.patient,
        summary_assessment="Trötthet efter behandlingen.",
        timetable="Två gånger i veckan.",
        agreed_at=timezone.now(),
        created_by=cast.nurse,
    )
    add_goal(plan, "Utan utvärdering")
    today = timezone.localdate()
    for value in Goal.Evaluation.values:
        goal = add_goal(plan, f"Mål {value}")
        goal.evaluation = value
        goal.evaluated_on = today
        goal.evaluation_note = "Bra jobbat"
        goal.save()
    for status in Intervention.Status.values:
        add_intervention(plan, cast.unit, status=status, ends_on=today + dt.timedelta(days=30))
    FollowUp.objects.create(rehab_plan=plan, due_on=today + dt.timedelta(days=14), what="Ny koll")
    return plan


@pytest.fixture
def care_map_full(cast):
    cmap = contact_services.care_map_of(cast.patient)
    entries = []
    for fields in (
        dict(kind=EntryKind.PERSON, name="Ella", relation="dotter", is_child=True),
        dict(kind=EntryKind.PERSON, name="Bo", relation="vän", email="bo@example.test"),
        dict(kind=EntryKind.PERSON, name="Namnlös relation"),
        dict(kind=EntryKind.CARE_CONTACT, name="Hemtjänsten", phone="010-111 11 11"),
        dict(kind=EntryKind.CARE_CONTACT, name="Apoteket"),
    ):
        entries.append(
            contact_services.care_map_entry_save(
                entry=CareMapEntry(care_map=cmap, **fields), by=cast.patient_user, creating=True
            )
        )
    return entries


@pytest.fixture
def grants(cast):
    """The cast's active grant, a revoked one and an expired one."""
    revoked = f.RelativeGrantFactory(patient=cast.patient)
    contact_services.grant_revoke(grant=revoked, by=cast.patient_user)
    expired = f.RelativeGrantFactory(
        patient=cast.patient, valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    revoked.refresh_from_db()
    return [cast.grant, revoked, expired]
