"""Rehab fixtures over the shared cast: a rehabilitation unit, a rehab plan with goals,
KVÅ-coded interventions and a follow-up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from careplan.models import AccessLog, CareUnit
from rehab.models import (
    Area,
    FollowUp,
    Goal,
    Intervention,
    KvaCode,
    Profession,
    RehabPlan,
    SelfCareAdvice,
)
from tests import factories as f


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def logs(**kwargs):
    return AccessLog.objects.filter(**kwargs).order_by("id")


@pytest.fixture
def rehab_unit(db) -> CareUnit:
    return f.CareUnitFactory(name="Rehabiliteringsenheten", kind=CareUnit.Kind.REHABILITATION)


@pytest.fixture
def rehab_nurse(rehab_unit):
    return f.StaffFactory(first_name="Rita", last_name="Rehab", units=[rehab_unit])


@pytest.fixture
def retired_code(db) -> KvaCode:
    """A synthetic retired code for the tests only (never shipped as data)."""
    return KvaCode.objects.create(
        code="ZZ999", title_sv="Testkod (utgången)", valid_to=dt.date(2020, 12, 31)
    )


def add_goal(rehab: RehabPlan, text: str = "Orka gå till affären själv") -> Goal:
    return Goal.objects.create(
        rehab_plan=rehab,
        area=Area.FYSISKA,
        text=text,
        success_measure="Går 500 meter utan vila",
    )


def add_intervention(rehab: RehabPlan, unit: CareUnit, code: str = "AU010", **kw) -> Intervention:
    return Intervention.objects.create(
        rehab_plan=rehab,
        area=kw.pop("area", Area.FYSISKA),
        kva=KvaCode.objects.get(code=code),
        description=kw.pop("description", "Fysioterapeutisk bedömning"),
        profession=kw.pop("profession", Profession.PHYSIOTHERAPIST),
        unit=unit,
        starts_on=kw.pop("starts_on", timezone.localdate()),
        **kw,
    )


@pytest.fixture
def rehab(cast) -> RehabPlan:
    """The cast patient's rehab plan: one goal, one intervention, one follow-up, advice."""
    plan = RehabPlan.objects.create(
        care_plan=cast.plan,
        patient=cast.patient,
        summary_assessment="Trötthet och nedsatt kondition efter behandlingen.",
        timetable="Träning två gånger i veckan under åtta veckor.",
        self_care_text="Promenera varje dag.",
        created_by=cast.nurse,
    )
    add_goal(plan)
    add_intervention(plan, cast.unit)
    FollowUp.objects.create(
        rehab_plan=plan, due_on=timezone.localdate() + dt.timedelta(days=2), what="Uppföljning"
    )
    advice = SelfCareAdvice.objects.create(
        area=Area.FYSISKA, title_sv="Rör på dig", title_en="Keep moving", body_sv="Gå ut varje dag."
    )
    plan.self_care_advice.add(advice)
    return plan
