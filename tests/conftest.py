"""Shared fixtures: the fixed cast for permission tests, and logged-in clients.

The cast (CONVENTIONS.md): the patient, the patient's contact nurse, a nurse of another
unit, a relative with a grant, a relative without, and anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from careplan import celery_app
from careplan.models import CarePlan, CareUnit, Patient, User
from careplan.testing import login  # shared with manage.py bench
from contacts.models import RelativeGrant

from . import factories as f


@pytest.fixture(autouse=True)
def _eager_tasks_and_clean_cache():
    """Tests run tasks in-process; the integration suite starts a real worker instead."""
    celery_app.conf.task_always_eager = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language(settings):
    """Every test starts in the site's default language (Swedish). A request activates
    its own language in the thread and nothing resets it, so without this, code called
    outside a request (services, PDF, tasks) would speak whatever the previous test left."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every factory user gets a password: hash them cheaply (PBKDF2 costs ~1 s each)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Cast:
    unit: CareUnit
    other_unit: CareUnit
    patient_user: User
    patient: Patient
    plan: CarePlan
    nurse: User
    other_nurse: User
    relative: User
    grant: RelativeGrant
    stranger_relative: User

    def client(self, who: str) -> Client:
        """A client logged in as one of: patient, nurse, other_nurse, relative,
        stranger_relative, anonymous."""
        c = Client()
        if who == "anonymous":
            return c
        user = {"patient": self.patient_user}.get(who) or getattr(self, who)
        return login(c, user)

    def user(self, who: str) -> User | None:
        if who == "anonymous":
            return None
        return {"patient": self.patient_user}.get(who) or getattr(self, who)


CAST = ["patient", "nurse", "other_nurse", "relative", "stranger_relative", "anonymous"]


@pytest.fixture
def cast(db) -> Cast:
    unit = f.CareUnitFactory(name="Bröstmottagningen")
    other_unit = f.CareUnitFactory(name="Lungmottagningen")
    nurse = f.StaffFactory(first_name="Karin", last_name="Kontakt", units=[unit])
    other_nurse = f.StaffFactory(first_name="Olle", last_name="Annan", units=[other_unit])
    patient = f.PatientFactory(first_name="Alva", last_name="Andersson")
    f.CareRelationFactory(patient=patient, unit=unit)
    f.ContactNurseAssignmentFactory(patient=patient, unit=unit, nurse=nurse)
    plan = f.CarePlanFactory(patient=patient)
    relative = f.RelativeUserFactory(first_name="Rut", last_name="Relativ")
    grant = f.RelativeGrantFactory(patient=patient, relative=relative)
    stranger = f.RelativeUserFactory(first_name="Sven", last_name="Främling")
    return Cast(
        unit=unit,
        other_unit=other_unit,
        patient_user=patient.user,
        patient=patient,
        plan=plan,
        nurse=nurse,
        other_nurse=other_nurse,
        relative=relative,
        grant=grant,
        stranger_relative=stranger,
    )
