"""Rehab editing through the API (issue 13): goals, evaluations and follow-ups by the care
team; the patient, relatives and other units cannot; every write logged."""

from __future__ import annotations

import pytest
from django.utils import timezone

from careplan.models import AccessLog
from rehab.models import FollowUp, Goal

pytestmark = pytest.mark.django_db
JSON = "application/json"


def _url(rehab, what):
    return f"/api/v1/rehab-plans/{rehab.pk}/{what}/"


def test_the_care_team_adds_and_evaluates_goals_and_follow_ups(cast, rehab):
    nurse = cast.client("nurse")
    created = nurse.post(
        _url(rehab, "goals"),
        {"area": "fysiska", "text": "Gå i trappor", "success_measure": "Två våningar"},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    assert created.json()["evaluation"] is None
    goal_id = created.json()["id"]
    evaluated = nurse.post(
        _url(rehab, "evaluate-goal"),
        {"goal": goal_id, "evaluation": "partly", "note": "Nästan"},
        content_type=JSON,
    )
    assert evaluated.status_code == 200
    assert evaluated.json()["evaluation"] == "partly"
    assert Goal.objects.get(pk=goal_id).evaluated_on == timezone.localdate()
    bad = nurse.post(
        _url(rehab, "evaluate-goal"), {"goal": 999999, "evaluation": "partly"}, content_type=JSON
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    follow = nurse.post(
        _url(rehab, "follow-ups"),
        {"due_on": timezone.localdate().isoformat(), "what": "Ny koll"},
        content_type=JSON,
    )
    assert follow.status_code == 201
    assert FollowUp.objects.filter(rehab_plan=rehab, what="Ny koll").exists()
    assert (
        AccessLog.objects.filter(patient=cast.patient, channel="api", outcome="allowed")
        .exclude(action="view")
        .count()
        == 4  # goal, evaluation, the refused evaluation (the plan was reached), follow-up
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("patient", 403), ("other_nurse", 404), ("relative", 404), ("stranger_relative", 404)],
)
def test_nobody_else_edits_the_plan(cast, rehab, who, status):
    goals = rehab.goals.count()
    response = cast.client(who).post(
        _url(rehab, "goals"),
        {"area": "fysiska", "text": "x", "success_measure": "y"},
        content_type=JSON,
    )
    assert response.status_code == status
    assert rehab.goals.count() == goals
