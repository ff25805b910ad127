"""Rehabilitation writes (typed, keyword-only, atomic) and the small reads they share:
the screening hook, the suggested level, due reassessments and the reports.

Every refusal is a ``ValidationError`` with a message the user can act on; nothing is
half-saved (each service is one transaction).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from careplan import access
from careplan.messaging import notify
from careplan.models import CarePlan, CareRelation, CareUnit, Notification, Patient, Role, User
from careplan.outbox import outbox_enqueue
from careplan.services import patient_text, plan_record_change

from .models import (
    ASSESSMENT_CODE,
    Area,
    AssessmentReason,
    FollowUp,
    Goal,
    Intervention,
    KvaCode,
    Level,
    NeedsAssessment,
    ReassessmentRequest,
    Referral,
    RehabPlan,
    RehabPlanComment,
    RehabPlanHistory,
)

REMINDER_DAYS_BEFORE = 3


def _acting_unit(by: User, patient: Patient) -> CareUnit:
    """The unit ``by`` acts for: the one responsible for the patient."""
    relation = patient.responsible_relation()
    if relation is None:
        raise ValidationError(_("The patient has no responsible care unit."))
    if by.role != Role.STAFF or not by.care_units.filter(pk=relation.unit_id).exists():
        raise PermissionDenied(_("The patient belongs to another care unit."))
    return relation.unit


# --- Screening results (optional hook into selfmonitor) -----------------------------------


@dataclass(frozen=True)
class Screening:
    """One screening result as the assessment form shows it."""

    title: str
    answered_at: dt.datetime | None
    score: float | None
    summary: str = ""
    flagged: bool = False
    areas: tuple[str, ...] = ()


#: selfmonitor's area names → rehab's areas.
SCREENING_AREAS = {
    "physical": Area.FYSISKA,
    "psychological": Area.PSYKISKA,
    "social": Area.SOCIALA,
    "existential": Area.EXISTENTIELLA,
}


def latest_screening(patient: Patient) -> list[Screening]:
    """The patient's latest screening results, if the self-monitoring app offers them.

    The hook is ``selfmonitor.services.latest_screening(patient)``: ``None`` (never
    answered) or ``{"submitted_at", "areas": {"physical": {"score", "need",
    "wants_support"}, ...}}``; one result per area is shown. Without the app or the
    function the list is empty, and the form works as before.
    """
    if not apps.is_installed("selfmonitor"):
        return []
    try:
        from selfmonitor import services as sm  # optional app: imported only when installed
    except ImportError:
        return []
    hook = getattr(sm, "latest_screening", None)
    data = hook(patient) if hook is not None else None
    if not data:
        return []
    out = []
    for key, area in SCREENING_AREAS.items():
        item = (data.get("areas") or {}).get(key)
        if item is None:
            continue
        summary = str(_("Wants support")) if item.get("wants_support") else ""
        out.append(
            Screening(
                title=str(area.label),
                answered_at=data.get("submitted_at"),
                score=item.get("score"),
                summary=summary,
                flagged=bool(item.get("need")),
                areas=(area,),
            )
        )
    return out


@dataclass
class Suggestion:
    level: str
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(Level(self.level).label)


def suggest_level(screening: list[Screening]) -> Suggestion:
    """A suggested level with its reasons; the professional decides.

    Basic for everyone; particular when a screening result is above its threshold;
    advanced when results above threshold touch three or more areas.
    """
    flagged = [s for s in screening if s.flagged]
    if not screening:
        return Suggestion(
            Level.GRUNDLAGGANDE,
            [_("No screening results yet. The basic level is offered to everyone.")],
        )
    if not flagged:
        return Suggestion(
            Level.GRUNDLAGGANDE,
            [_("No screening result is above its threshold.")],
        )
    reasons = [
        _("%(title)s is above its threshold (%(score)s).")
        % {"title": s.title, "score": s.score if s.score is not None else "–"}
        for s in flagged
    ]
    areas = {a for s in flagged for a in s.areas}
    if len(areas) >= 3:
        reasons.append(
            _("Needs above threshold in %(count)s areas: consider advanced needs.")
            % {"count": len(areas)}
        )
        return Suggestion(Level.AVANCERAD, reasons)
    return Suggestion(Level.SARSKILD, reasons)


# --- Needs assessment ----------------------------------------------------------------------


@transaction.atomic
def assessment_record(
    *,
    patient: Patient,
    by: User,
    level: str,
    summary: str,
    needs: dict[str, str] | None = None,
    reason: str = AssessmentReason.INITIAL,
    suggested_level: str = "",
    assessed_at: dt.datetime | None = None,
) -> NeedsAssessment:
    """Record an assessment, coded AU010 (basic) or AW019 (particular, advanced); it
    resolves the patient's open reassessment requests."""
    if level not in Level.values:
        raise ValidationError(
            {"level": _("Choose one of the three levels: basic, particular or advanced.")}
        )
    if not (summary or "").strip():
        raise ValidationError({"summary": _("Write a summary of the assessment.")})
    unit = _acting_unit(by, patient)
    code = KvaCode.resolve(ASSESSMENT_CODE[Level(level)], field="level")
    plan = CarePlan.objects.filter(patient=patient).exclude(status=CarePlan.Status.CLOSED).first()
    needs = needs or {}
    assessment = NeedsAssessment(
        patient=patient,
        plan=plan,
        plan_phase=plan.phase if plan else "",
        unit=unit,
        level=level,
        reason=reason,
        summary=summary,
        suggested_level=suggested_level,
        kva=code,
        assessed_at=assessed_at or timezone.now(),
        assessed_by=by,
        **{f: needs.get(area, "") for area, f in NeedsAssessment.NEED_FIELDS.items()},
    )
    assessment.full_clean()
    assessment.save()
    ReassessmentRequest.objects.filter(patient=patient, resolved_by__isnull=True).update(
        resolved_by=assessment
    )
    if plan is not None:
        plan_record_change(
            plan=plan,
            by=by,
            what=patient_text(plan, gettext_lazy("Your rehabilitation needs were assessed.")),
        )
    return assessment


def reassessment_request(
    *, patient: Patient, reason: str, detail: str = ""
) -> ReassessmentRequest | None:
    """Ask for a reassessment (called by other apps: an alert, a handover). Asking again
    while one is open does nothing (returns None)."""
    if reason not in AssessmentReason.values:
        raise ValueError(f"unknown reason {reason!r}")
    if ReassessmentRequest.objects.filter(
        patient=patient, reason=reason, resolved_by__isnull=True
    ).exists():
        return None
    with transaction.atomic():
        return ReassessmentRequest.objects.create(patient=patient, reason=reason, detail=detail)


def due_reassessments(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Patients with an open care plan whose rehabilitation needs must be (re)assessed,
    one query. Each row carries ``rehab_due_*`` flags (see ``due_reasons``):

    - never assessed;
    - the plan's phase differs from the phase at the latest assessment (phase change);
    - the responsible unit took over after the latest assessment (handover);
    - an open reassessment request (an alert, a handover reported by another app).
    """
    latest = NeedsAssessment.objects.filter(patient=OuterRef("pk")).order_by("-assessed_at", "-id")
    open_plan = CarePlan.objects.filter(patient=OuterRef("pk")).exclude(
        status=CarePlan.Status.CLOSED
    )
    relation = CareRelation.objects.filter(patient=OuterRef("pk"), ended_at__isnull=True)
    earlier_relation = CareRelation.objects.filter(patient=OuterRef("pk"), ended_at__isnull=False)
    requests = ReassessmentRequest.objects.filter(patient=OuterRef("pk"), resolved_by__isnull=True)
    alert = _alert_model()
    alert_after = (
        Exists(
            alert.objects.filter(patient=OuterRef("pk"), created_at__gt=OuterRef("rehab_last_at"))
        )
        if alert is not None
        else Value(False)
    )
    qs = patients.annotate(
        rehab_last_at=Subquery(latest.values("assessed_at")[:1]),
        rehab_last_phase=Subquery(latest.values("plan_phase")[:1]),
        rehab_plan_phase=Subquery(open_plan.values("phase")[:1]),
        rehab_relation_since=Subquery(relation.values("started_at")[:1]),
        # The latest ended relation, as a scalar subquery: probed per row through the
        # patient's index (an EXISTS here is planned as a hash of every ended relation).
        rehab_earlier_unit_until=Subquery(
            earlier_relation.order_by("-ended_at").values("ended_at")[:1]
        ),
        rehab_open_request=Subquery(requests.order_by("requested_at").values("reason")[:1]),
    ).filter(rehab_plan_phase__isnull=False)
    qs = qs.annotate(rehab_alert_since=alert_after)
    return qs.filter(
        Q(rehab_last_at__isnull=True)
        | ~Q(rehab_last_phase=F("rehab_plan_phase"))
        | Q(rehab_earlier_unit_until__isnull=False, rehab_relation_since__gt=F("rehab_last_at"))
        | Q(rehab_open_request__isnull=False)
        | Q(rehab_alert_since=True)
    )


def due_reasons(patient: Patient) -> list[str]:
    """Why a row of ``due_reassessments`` is due, in words."""
    if getattr(patient, "rehab_last_at", None) is None:
        return [_("Not yet assessed")]
    reasons = []
    if patient.rehab_last_phase != patient.rehab_plan_phase:
        reasons.append(
            _("Phase changed to %(phase)s")
            % {"phase": CarePlan.Phase(patient.rehab_plan_phase).label}
        )
    had_earlier_unit = getattr(patient, "rehab_earlier_unit_until", None) is not None
    if had_earlier_unit and patient.rehab_relation_since > patient.rehab_last_at:
        reasons.append(_("Handover to a new responsible unit"))
    if patient.rehab_open_request:
        reasons.append(str(AssessmentReason(patient.rehab_open_request).label))
    elif getattr(patient, "rehab_alert_since", False):
        reasons.append(str(AssessmentReason.ALERT.label))
    return reasons


def _alert_model():
    """selfmonitor's Alert (patient, created_at) if that app has one: an alert after
    the latest assessment makes a reassessment due."""
    try:
        model = apps.get_model("selfmonitor", "Alert")
    except LookupError:
        return None
    names = {f.name for f in model._meta.get_fields()}
    return model if {"patient", "created_at"} <= names else None


def worklist_reassessments(patients: QuerySet[Patient], user, *, limit: int = 10) -> list:
    """The nurse's worklist part: due reassessments with their reasons (one query).
    Rows carry ``acting_unit_id`` for the access log and ``rehab_due_reasons``."""
    rows = list(
        access.with_acting_unit(due_reassessments(patients), user, patient_path="pk").order_by(
            "last_name", "first_name", "id"
        )[:limit]
    )
    for row in rows:
        row.rehab_due_reasons = due_reasons(row)
    return rows


# --- Referral ------------------------------------------------------------------------------


@transaction.atomic
def referral_send(
    *, assessment: NeedsAssessment, to_unit: CareUnit, by: User, reason: str
) -> Referral:
    """Advanced needs: refer to a rehabilitation unit."""
    unit = _acting_unit(by, assessment.patient)
    if to_unit.kind != CareUnit.Kind.REHABILITATION:
        raise ValidationError({"to_unit": _("Choose a rehabilitation unit.")})
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Write the reason for the referral.")})
    referral = Referral.objects.create(
        patient=assessment.patient,
        assessment=assessment,
        from_unit=unit,
        to_unit=to_unit,
        reason=reason,
        sent_by=by,
    )
    return referral


@transaction.atomic
def referral_decide(*, referral: Referral, by: User, accept: bool, reason: str) -> Referral:
    """The rehabilitation unit accepts or declines; declining needs a reason."""
    if by.role != Role.STAFF or not by.care_units.filter(pk=referral.to_unit_id).exists():
        raise PermissionDenied(_("Only the receiving rehabilitation unit decides."))
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status != Referral.Status.SENT:
        raise ValidationError(_("This referral has already been decided."))
    if not accept and not (reason or "").strip():
        raise ValidationError({"decision_reason": _("Write why the referral is declined.")})
    referral.status = Referral.Status.ACCEPTED if accept else Referral.Status.DECLINED
    referral.decision_reason = reason
    referral.decided_at = timezone.now()
    referral.decided_by = by
    referral.save()
    plan = (
        CarePlan.objects.filter(patient=referral.patient)
        .exclude(status=CarePlan.Status.CLOSED)
        .first()
    )
    if plan is not None and accept:
        plan_record_change(
            plan=plan,
            by=by,
            what=patient_text(
                plan,
                gettext_lazy("%(unit)s will contact you about rehabilitation."),
                unit=referral.to_unit.name,
            ),
        )
    return referral


# --- The rehabilitation plan ---------------------------------------------------------------


def history_note(*, rehab_plan: RehabPlan, by: User | None, what: str) -> RehabPlanHistory:
    """One history row with the plan as it now is."""
    return RehabPlanHistory.objects.create(
        rehab_plan=rehab_plan, by=by, what=what[:300], snapshot=rehab_plan.snapshot()
    )


def _tell_patient(rehab_plan: RehabPlan, by: User | None, message, **params) -> None:
    plan = rehab_plan.care_plan
    plan_record_change(plan=plan, by=by, what=patient_text(plan, message, **params))


def _notify_patient_to_look(rehab_plan: RehabPlan, history: RehabPlanHistory) -> None:
    """An in-app notification: a new or changed rehabilitation plan to look at (once per
    saved version; the e-mail says only that something is waiting)."""
    patient = rehab_plan.patient
    if patient.user_id is None:
        return
    notify(
        recipients=[patient.user],
        kind=Notification.Kind.OTHER,
        dedupe_key=f"rehab-plan:{rehab_plan.pk}:{history.pk}",
        url=reverse("rehab_plan", args=[rehab_plan.care_plan_id]),
        patient=patient,
        text=patient_text(
            rehab_plan.care_plan, gettext_lazy("Your rehabilitation plan is ready to look at")
        ),
    )


@transaction.atomic
def rehab_plan_create(*, care_plan: CarePlan, by: User, **fields) -> RehabPlan:
    _acting_unit(by, care_plan.patient)
    if care_plan.status == CarePlan.Status.CLOSED:
        raise ValidationError(_("The care plan is closed."))
    if RehabPlan.objects.filter(care_plan=care_plan).exists():
        raise ValidationError({"care_plan": _("This care plan already has a rehabilitation plan.")})
    rehab_plan = RehabPlan(care_plan=care_plan, patient=care_plan.patient, created_by=by, **fields)
    rehab_plan.full_clean()
    rehab_plan.save()
    history = history_note(rehab_plan=rehab_plan, by=by, what=_("Rehabilitation plan created"))
    _tell_patient(rehab_plan, by, gettext_lazy("Your rehabilitation plan was started."))
    _notify_patient_to_look(rehab_plan, history)
    return rehab_plan


@transaction.atomic
def rehab_plan_update(
    *, rehab_plan: RehabPlan, by: User, what: str = "", content_changed: bool = True
) -> RehabPlan:
    """Save changes made by the care team (the plan and its parts, already validated).

    A change of content after the patient agreed asks for a new agreement."""
    _acting_unit(by, rehab_plan.patient)
    rehab_plan.full_clean()
    if content_changed and rehab_plan.agreed_at is not None:
        rehab_plan.agreed_at = None
    rehab_plan.save()
    history = history_note(
        rehab_plan=rehab_plan, by=by, what=what or _("Rehabilitation plan changed")
    )
    if content_changed:
        _tell_patient(rehab_plan, by, gettext_lazy("Your rehabilitation plan was updated."))
        _notify_patient_to_look(rehab_plan, history)
    return rehab_plan


@transaction.atomic
def intervention_units(*, patient: Patient, by: User) -> QuerySet[CareUnit]:
    """The units that may perform an intervention in ``patient``'s rehab plan: the
    patient's responsible unit, the staff member's own units, and the units the patient
    is referred to (a referral sent or accepted, not declined)."""
    relation = patient.responsible_relation()
    referred = Referral.objects.filter(patient=patient).exclude(status=Referral.Status.DECLINED)
    return CareUnit.objects.filter(
        Q(pk__in=by.care_units.values("pk"))
        | Q(pk__in=referred.values("to_unit_id"))
        | Q(pk=relation.unit_id if relation else None)
    )


def intervention_save(*, intervention: Intervention, by: User, creating: bool) -> Intervention:
    patient = intervention.rehab_plan.patient
    _acting_unit(by, patient)
    stored_unit = (
        None
        if creating
        else Intervention.objects.filter(pk=intervention.pk)
        .values_list("unit_id", flat=True)
        .first()
    )
    if (creating or intervention.unit_id != stored_unit) and not intervention_units(
        patient=patient, by=by
    ).filter(pk=intervention.unit_id).exists():
        raise ValidationError(
            {
                "unit": _(
                    "Choose your own unit, the patient's responsible unit or a unit the "
                    "patient is referred to."
                )
            }
        )
    intervention.full_clean()
    intervention.save()
    return intervention


@transaction.atomic
def rehab_plan_agree(*, rehab_plan: RehabPlan, by: User) -> RehabPlan:
    """The patient marks the plan as agreed. A plan without goals cannot be agreed."""
    if by.pk != rehab_plan.patient.user_id:
        raise PermissionDenied(_("Only the patient marks the plan as agreed."))
    if not rehab_plan.goals.exists():
        raise ValidationError(
            _(
                "The plan has no goals yet, so it cannot be agreed. Talk with your care "
                "team about what you want to reach."
            )
        )
    if rehab_plan.agreed_at is None:
        rehab_plan.agreed_at = timezone.now()
        rehab_plan.save(update_fields=["agreed_at", "updated_at"])
        history_note(rehab_plan=rehab_plan, by=by, what=_("Agreed by the patient"))
    return rehab_plan


@transaction.atomic
def goal_evaluate(
    *, goal: Goal, by: User, evaluation: str, note: str = "", on: dt.date | None = None
) -> Goal:
    _acting_unit(by, goal.rehab_plan.patient)
    if evaluation not in Goal.Evaluation.values:
        raise ValidationError({"evaluation": _("Choose reached, partly reached or not reached.")})
    goal.evaluation = evaluation
    goal.evaluation_note = note
    goal.evaluated_on = on or timezone.localdate()
    goal.full_clean()
    goal.save()
    history_note(
        rehab_plan=goal.rehab_plan,
        by=by,
        what=_("Goal evaluated: %(result)s") % {"result": goal.get_evaluation_display()},
    )
    return goal


# --- The patient's comments on the plan -----------------------------------------------------


def rehab_comment_admin_url(comment: RehabPlanComment) -> str:
    from django.urls import reverse

    return reverse("admin:rehab_rehabplancomment_change", args=[comment.pk])


def _clean_comment_text(value: str, *, field: str, empty: str) -> str:
    """CR LF (browsers) made LF, outer blanks dropped; empty or too long is refused with
    a message on ``field``."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ValidationError({field: empty})
    limit = RehabPlanComment.MAX_LENGTH
    if len(text) > limit:
        raise ValidationError(
            {
                field: _("This is %(length)s characters long; at most %(max)s fit. Shorten it.")
                % {"length": len(text), "max": limit}
            }
        )
    return text


@transaction.atomic
def rehab_plan_comment_create(
    *,
    rehab_plan: RehabPlan,
    by: User,
    text: str,
    submission_key: uuid.UUID | None = None,
) -> RehabPlanComment:
    """The patient comments on (or asks about) their rehabilitation plan: an item on the
    responsible unit's worklist at once, and the contact nurse (else the unit's staff) is
    told, without health data. Only the patient writes; relatives read.

    With ``submission_key`` (the form's, or the API's Idempotency-Key) a second submit of
    the same form returns the first one's comment and stores nothing."""
    from careplan.messaging import notify, unit_staff
    from careplan.models import Notification

    patient = rehab_plan.patient
    if by.role != Role.PATIENT or patient.user_id != by.pk:
        raise PermissionDenied(_("Only the patient comments on the rehabilitation plan."))
    text = _clean_comment_text(
        text, field="text", empty=_("Write your comment or question before you send it.")
    )
    if submission_key is not None:
        # Two submits at once: the second waits for the first, then finds its row.
        RehabPlan.objects.select_for_update().filter(pk=rehab_plan.pk).values_list("pk").first()
        existing = RehabPlanComment.objects.filter(
            written_by=by, submission_key=submission_key
        ).first()
        if existing is not None:
            return existing
    comment = RehabPlanComment.objects.create(
        rehab_plan=rehab_plan,
        patient=patient,
        text=text,
        written_by=by,
        submission_key=submission_key,
    )
    nurse = patient.contact_nurse_assignment()
    relation = patient.responsible_relation()
    recipients = [nurse.nurse] if nurse else list(unit_staff(relation.unit_id)) if relation else []
    notify(
        recipients=recipients,
        kind=Notification.Kind.OTHER,
        text=str(gettext_lazy("A patient commented on their rehabilitation plan")),
        dedupe_key=f"rehab-plan-comment:{comment.pk}",
        url=rehab_comment_admin_url(comment),
        patient=patient,
    )
    return comment


@transaction.atomic
def rehab_plan_comment_handle(
    *, comment: RehabPlanComment, by: User, answer: str = ""
) -> RehabPlanComment:
    """The care team handles a comment: with an answer the patient reads under it (and is
    told about), or without one ("read by the care team"). It leaves the worklist and the
    staff's notifications about it are read."""
    from careplan.messaging import notifications_resolve, notify
    from careplan.models import Notification

    _acting_unit(by, comment.patient)
    answer = (answer or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if answer:
        answer = _clean_comment_text(answer, field="answer", empty="")
    updated = RehabPlanComment.objects.filter(pk=comment.pk, handled_at__isnull=True).update(
        handled_at=timezone.now(), handled_by=by, answer=answer
    )
    if not updated:
        raise ValidationError(_("This comment was already handled."))
    comment.refresh_from_db()
    notifications_resolve(url=rehab_comment_admin_url(comment))
    patient = comment.patient
    if answer and patient.user_id is not None:
        from django.urls import reverse

        notify(
            recipients=[patient.user],
            kind=Notification.Kind.OTHER,
            dedupe_key=f"rehab-plan-comment-answer:{comment.pk}",
            url=reverse("rehab_plan", args=[comment.rehab_plan.care_plan_id]) + "#comments",
            patient=patient,
            text=patient_text(
                comment.rehab_plan.care_plan,
                gettext_lazy("Your care team answered your comment on the rehabilitation plan"),
            ),
        )
    return comment


# --- Follow-up reminders --------------------------------------------------------------------


def followup_reminders_queue(*, today: dt.date | None = None) -> int:
    """Queue one reminder per follow-up due within ``REMINDER_DAYS_BEFORE`` days
    (idempotent: the outbox's dedupe key holds the follow-up and its date)."""
    today = today or timezone.localdate()
    due = FollowUp.objects.filter(
        done_on__isnull=True,
        due_on__gte=today,
        due_on__lte=today + dt.timedelta(days=REMINDER_DAYS_BEFORE),
    ).values_list("pk", "due_on")
    queued = 0
    for pk, due_on in due:
        with transaction.atomic():
            row = outbox_enqueue(
                task="rehab.tasks.send_followup_reminder",
                kwargs={"followup_id": pk},
                dedupe_key=f"rehab-followup:{pk}:{due_on.isoformat()}",
            )
            if row is not None:
                FollowUp.objects.filter(pk=pk).update(reminder_queued_at=timezone.now())
                queued += 1
    return queued


# --- Reports --------------------------------------------------------------------------------


@dataclass
class Report:
    unit: CareUnit
    start: dt.date
    end: dt.date
    patients_with_plan: int
    assessed: int
    by_level: dict[str, int]
    interventions_by_code: list[tuple[str, str, int]]
    referrals: dict[str, int]
    patient_ids: list[int]

    @property
    def share_assessed(self) -> float:
        return self.assessed / self.patients_with_plan if self.patients_with_plan else 0.0

    def share_by_level(self) -> list[tuple[str, int, float]]:
        return [
            (
                str(Level(level).label),
                self.by_level.get(level, 0),
                self.by_level.get(level, 0) / self.patients_with_plan
                if self.patients_with_plan
                else 0.0,
            )
            for level in Level.values
        ]

    def referral_rows(self) -> list[tuple[str, int]]:
        """Referrals by outcome, every outcome named (zero included)."""
        return [
            (str(label), self.referrals.get(value, 0)) for value, label in Referral.Status.choices
        ]

    def csv_rows(self) -> list[list[str]]:
        rows = [
            ["unit_hsa_id", "period_start", "period_end", "measure", "key", "value"],
        ]
        base = [self.unit.hsa_id, self.start.isoformat(), self.end.isoformat()]
        rows.append([*base, "patients_with_active_plan", "", str(self.patients_with_plan)])
        rows.append([*base, "patients_assessed", "", str(self.assessed)])
        rows.append([*base, "share_assessed", "", f"{self.share_assessed:.3f}"])
        for level in Level.values:
            n = self.by_level.get(level, 0)
            share = n / self.patients_with_plan if self.patients_with_plan else 0.0
            rows.append([*base, "assessed_by_level", level, str(n)])
            rows.append([*base, "share_assessed_by_level", level, f"{share:.3f}"])
        for code, _title, n in self.interventions_by_code:
            rows.append([*base, "interventions_by_kva", code, str(n)])
        for status in Referral.Status.values:
            rows.append([*base, "referrals", status, str(self.referrals.get(status, 0))])
        return rows


def unit_report(*, unit: CareUnit, start: dt.date, end: dt.date) -> Report:
    """Per unit and period: share of the unit's patients with an active plan whose needs
    were assessed (by the level of the latest assessment in the period), interventions
    by KVÅ code and referrals by outcome. Five queries."""
    if end < start:
        raise ValidationError({"end": _("The period cannot end before it starts.")})
    patient_ids = list(
        CarePlan.objects.active()
        .filter(patient__care_relations__unit=unit, patient__care_relations__ended_at__isnull=True)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    in_period = NeedsAssessment.objects.filter(
        patient_id__in=patient_ids,
        assessed_at__date__gte=start,
        assessed_at__date__lte=end,
    )
    latest_level: dict[int, str] = {}
    for pid, level in in_period.order_by("patient_id", "assessed_at", "id").values_list(
        "patient_id", "level"
    ):
        latest_level[pid] = level
    by_level = Counter(latest_level.values())
    interventions = (
        Intervention.objects.filter(
            rehab_plan__patient_id__in=patient_ids,
            starts_on__lte=end,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=start))
        .exclude(status=Intervention.Status.CANCELLED)
        .values("kva__code", "kva__title_sv")
        .annotate(n=Count("id"))
        .order_by("kva__code")
    )
    referrals = (
        Referral.objects.filter(from_unit=unit, sent_at__date__gte=start, sent_at__date__lte=end)
        .values("status")
        .annotate(n=Count("id"))
    )
    return Report(
        unit=unit,
        start=start,
        end=end,
        patients_with_plan=len(patient_ids),
        assessed=len(latest_level),
        by_level=dict(by_level),
        interventions_by_code=[(r["kva__code"], r["kva__title_sv"], r["n"]) for r in interventions],
        referrals={r["status"]: r["n"] for r in referrals},
        patient_ids=patient_ids,
    )
