"""Access to questionnaires, through careplan's access rules (one helper per resource).

The patient answers and reads their own; staff of the responsible unit read and enter
answers on the patient's behalf; a relative reads results only with the
``questionnaires`` scope, and never answers. A PREM answer is the patient's alone: staff
see PREMs only aggregated per unit (``reports.prem_summary``), so anyone but the
patient gets a 404 and a denied row for a single PREM.
"""

from __future__ import annotations

from django.http import Http404

from careplan import access
from careplan.models import AccessLog, Role, Scope

from .models import Alert, Assignment, Instrument, Response, Schedule, SymptomReport

Channel = AccessLog.Channel


def _refuse_prem(user, patient, obj, *, write: bool, channel: str) -> None:
    r = access.reach(user, patient)
    if r.is_self:
        return
    access.log_access(
        user=user,
        patient=patient,
        obj=obj,
        action=AccessLog.Action.UPDATE if write else AccessLog.Action.VIEW,
        allowed=False,
        channel=channel,
        reach_=r,
    )
    raise Http404


def assignment_for(user, pk, *, write: bool = False, channel: str = Channel.WEB) -> Assignment:
    assignment = (
        Assignment.objects.select_related("patient", "instrument", "plan").filter(pk=pk).first()
    )
    if assignment is None:
        raise Http404
    if assignment.instrument.kind == Instrument.Kind.PREM:
        _refuse_prem(user, assignment.patient, assignment, write=write, channel=channel)
    assignment.reach = access.authorize(
        user,
        assignment.patient,
        assignment,
        write=write,
        channel=channel,
        scope=Scope.QUESTIONNAIRES,
    )
    return assignment


def response_for(user, pk, *, channel: str = Channel.WEB) -> Response:
    response = (
        Response.objects.select_related("patient", "instrument", "assignment", "entered_by")
        .filter(pk=pk)
        .first()
    )
    if response is None:
        raise Http404
    if response.status != Response.Status.COMPLETED:
        # A draft is read only on its answer page, by whoever answers: here it is a 404
        # for everyone, and a denied row for anyone but the patient.
        r = access.reach(user, response.patient)
        access.log_access(
            user=user,
            patient=response.patient,
            obj=response,
            action=AccessLog.Action.VIEW,
            allowed=False,
            channel=channel,
            reach_=r,
        )
        raise Http404
    if response.instrument.kind == Instrument.Kind.PREM:
        _refuse_prem(user, response.patient, response, write=False, channel=channel)
    response.reach = access.authorize(
        user, response.patient, response, write=False, channel=channel, scope=Scope.QUESTIONNAIRES
    )
    return response


def alert_for(user, pk, *, write: bool = False, channel: str = Channel.WEB) -> Alert:
    alert = Alert.objects.select_related("patient", "response").filter(pk=pk).first()
    if alert is None:
        raise Http404
    alert.reach = access.authorize(
        user, alert.patient, alert, write=write, channel=channel, scope=Scope.QUESTIONNAIRES
    )
    return alert


def responses_for(user):
    """Completed PROM responses a user may list (PREMs: the patient's own only)."""
    patients = access.patients_for(user, scope=Scope.QUESTIONNAIRES)
    qs = Response.objects.filter(status=Response.Status.COMPLETED, patient__in=patients)
    if getattr(user, "role", None) != "patient":
        qs = qs.exclude(instrument__kind=Instrument.Kind.PREM)
    return qs


def schedules_for(user):
    """One patient's questionnaire schedules, for staff of the responsible unit (as the
    admin shows them); ``acting_unit_id`` annotated for the log. Template schedules hold
    no patient data and are not here."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.STAFF:
        return Schedule.objects.none()
    qs = Schedule.objects.filter(patient__in=access.patients_for(user))
    return access.with_acting_unit(qs, user)


def schedule_for(
    user, pk, *, write: bool = False, channel: str = Channel.API, action: str | None = None
) -> Schedule:
    """A patient's schedule, for staff of the responsible unit (a staff tool: the patient
    and relatives get 404, a denied row for anyone but the patient)."""
    schedule = (
        Schedule.objects.select_related("patient").filter(pk=pk, patient__isnull=False).first()
    )
    if schedule is None:
        raise Http404
    if user.role != Role.STAFF:
        _refuse_prem(user, schedule.patient, schedule, write=write, channel=channel)
        raise Http404  # the patient themself: not logged, not theirs to manage here
    schedule.reach = access.authorize(
        user, schedule.patient, schedule, write=write, channel=channel, scope=None, action=action
    )
    return schedule


def symptom_report_for(user, pk, *, channel: str = Channel.WEB):
    """A symptom report: the patient's own, the responsible unit's staff, a relative with
    the ``questionnaires`` scope (read only)."""
    report = (
        SymptomReport.objects.select_related("patient", "response", "guide").filter(pk=pk).first()
    )
    if report is None:
        raise Http404
    report.reach = access.authorize(
        user, report.patient, report, write=False, channel=channel, scope=Scope.QUESTIONNAIRES
    )
    return report
