"""Fixtures for the care map and relatives' access."""

from __future__ import annotations

import pytest

from contacts import services
from contacts.models import CareMapEntry, EntryKind

from .. import factories as f


@pytest.fixture
def care_map(cast):
    """The cast patient's map with a daughter (a child), a friend and home care. The
    patient reads English (the history lines are worded in the patient's language)."""
    cast.patient.language = "en"
    cast.patient.save(update_fields=["language"])
    cmap = services.care_map_of(cast.patient)
    by = cast.patient_user
    for fields in (
        dict(
            kind=EntryKind.PERSON,
            name="Ella Andersson",
            relation="daughter",
            is_child=True,
            closeness="inner",
            direction="cared_for_by_patient",
            frequency="daily",
        ),
        dict(
            kind=EntryKind.PERSON,
            name="Bo Berg",
            relation="friend",
            closeness="middle",
            direction="cares_for_patient",
            frequency="weekly",
            email="bo@example.test",
        ),
        dict(
            kind=EntryKind.CARE_CONTACT,
            name="Hemtjänsten",
            relation="home care",
            closeness="outer",
            frequency="sometimes",
            phone="010-111 11 11",
        ),
    ):
        services.care_map_entry_save(
            entry=CareMapEntry(care_map=cmap, **fields), by=by, creating=True
        )
    return cmap


@pytest.fixture
def other_patient_relative(db):
    """A relative with an active grant from another patient (another unit)."""
    plan = f.covered_plan()
    relative = f.RelativeUserFactory(first_name="Gun", last_name="Granne")
    f.RelativeGrantFactory(patient=plan.patient, relative=relative)
    return relative


@pytest.fixture
def invite(cast, django_capture_on_commit_callbacks):
    """``invite(email=..., scopes=[...])``: the cast patient invites; the e-mail is sent
    (on commit). Returns (invitation, token)."""

    def make(email="new.relative@example.test", scopes=("plan_sections",), **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.invitation_create(
                patient=cast.patient,
                by=cast.patient_user,
                email=email,
                scopes=list(scopes),
                **kwargs,
            )

    return make
