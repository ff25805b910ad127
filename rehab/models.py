"""Cancer rehabilitation: the KVÅ catalogue, needs assessments on three levels, the
rehabilitation plan (goals, KVÅ-coded interventions, follow-up, self-care advice),
referrals to rehabilitation units and the plan's history.

Rules that touch one object are methods here; writes that span several models are in
``rehab/services.py``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careplan import content
from careplan.models import CarePlan, CareUnit, Patient


class Level(models.TextChoices):
    """Insatsnivåer: the three levels of rehabilitation needs."""

    GRUNDLAGGANDE = "grundlaggande", _("Basic (grundläggande)")
    SARSKILD = "sarskild", _("Particular (särskild)")
    AVANCERAD = "avancerad", _("Advanced (avancerad)")


class Area(models.TextChoices):
    """The four areas of rehabilitation needs and interventions."""

    FYSISKA = "fysiska", _("Physical")
    PSYKISKA = "psykiska", _("Psychological")
    SOCIALA = "sociala", _("Social")
    EXISTENTIELLA = "existentiella", _("Existential")


#: The KVÅ code each level's assessment is registered with (Socialstyrelsen, see
#: rehab/data/kva-seed.csv for the sources).
ASSESSMENT_CODE = {
    Level.GRUNDLAGGANDE: "AU010",
    Level.SARSKILD: "AW019",
    Level.AVANCERAD: "AW019",
}


# --- KVÅ ----------------------------------------------------------------------------------


class KvaCodeQuerySet(models.QuerySet["KvaCode"]):
    def valid_on(self, day: dt.date) -> KvaCodeQuerySet:
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )


class KvaCode(models.Model):
    """One code of Socialstyrelsen's Klassifikation av vårdåtgärder, with its validity.

    Codes are data: imported with ``manage.py import_kva`` (the shipped seed is
    ``rehab/data/kva-seed.csv``). A retired code keeps its row (``valid_to``) so that
    old interventions still name it; new ones are refused (``KvaCode.resolve``).
    """

    code = models.CharField(_("code"), max_length=10, unique=True)
    title_sv = models.CharField(_("title (Swedish)"), max_length=400)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=400, blank=True)
    source = models.CharField(_("source"), max_length=400, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = KvaCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("KVÅ code")
        verbose_name_plural = _("KVÅ codes")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="kvacode_valid_to_after_from",
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title_sv}"

    def is_valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or self.valid_to >= day
        )

    def refusal_on(self, day: dt.date) -> str | None:
        """Why this code may not be used on ``day`` (None: it may)."""
        if self.valid_to is not None and self.valid_to < day:
            return _(
                "The KVÅ code %(code)s was retired on %(date)s. Choose a code that is valid."
            ) % {"code": self.code, "date": self.valid_to.isoformat()}
        if self.valid_from is not None and self.valid_from > day:
            return _("The KVÅ code %(code)s is valid only from %(date)s.") % {
                "code": self.code,
                "date": self.valid_from.isoformat(),
            }
        return None

    @classmethod
    def normalize(cls, code: str) -> str:
        return (code or "").strip().upper().replace(" ", "")

    @classmethod
    def resolve(cls, code: str, *, on: dt.date | None = None, field: str = "kva") -> KvaCode:
        """The catalogue row for ``code`` valid on ``on``; unknown or retired codes raise a
        ValidationError with a message the user can act on."""
        code = cls.normalize(code)
        if not code:
            raise ValidationError({field: _("Give a KVÅ code.")})
        row = cls.objects.filter(code=code).first()
        if row is None:
            raise ValidationError(
                {field: _("%(code)s is not a KVÅ code in the catalogue.") % {"code": code}}
            )
        refusal = row.refusal_on(on or timezone.localdate())
        if refusal:
            raise ValidationError({field: refusal})
        return row


# --- Self-care advice library -------------------------------------------------------------


class SelfCareAdvice(models.Model):
    """A library of self-care advice per area, kept by the care team's superusers."""

    area = models.CharField(_("area"), max_length=20, choices=Area.choices)
    title_sv = models.CharField(_("title (Swedish)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_sv = models.TextField(_("text (Swedish)"))
    body_en = models.TextField(_("text (English)"), blank=True)
    #: Versions in the other languages and their review status (careplan/content.py).
    translations = models.JSONField(_("language versions"), default=dict, blank=True)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("self-care advice")
        verbose_name_plural = _("self-care advice library")
        ordering = ["area", "title_sv"]

    def __str__(self) -> str:
        return f"{self.get_area_display()}: {self.title_sv}"

    @property
    def title(self) -> str:
        return content.localized(self, "title")

    @property
    def body(self) -> str:
        return content.localized(self, "body")

    @property
    def shown_body(self) -> content.Shown:
        return content.shown(self, "body")


# --- Needs assessment ---------------------------------------------------------------------


class AssessmentReason(models.TextChoices):
    INITIAL = "initial", _("First assessment")
    PHASE_CHANGE = "phase_change", _("Phase change")
    ALERT = "alert", _("After an alert")
    HANDOVER = "handover", _("At a handover")
    NEEDS_CHANGED = "needs_changed", _("Needs changed")
    FOLLOW_UP = "follow_up", _("Follow-up")


class NeedsAssessmentQuerySet(models.QuerySet["NeedsAssessment"]):
    def latest_per_patient(self) -> NeedsAssessmentQuerySet:
        newer = NeedsAssessment.objects.filter(
            patient=models.OuterRef("patient"), assessed_at__gt=models.OuterRef("assessed_at")
        )
        return self.filter(~models.Exists(newer))


class NeedsAssessment(models.Model):
    """A professional's assessment of a patient's rehabilitation needs (a record: a new
    assessment is made when needs change; old ones are kept)."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="rehab_assessments",
        verbose_name=_("patient"),
    )
    plan = models.ForeignKey(
        CarePlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rehab_assessments",
        verbose_name=_("care plan"),
    )
    plan_phase = models.CharField(
        _("phase of the care plan"), max_length=20, choices=CarePlan.Phase.choices, blank=True
    )
    unit = models.ForeignKey(
        CareUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    reason = models.CharField(
        _("occasion"),
        max_length=20,
        choices=AssessmentReason.choices,
        default=AssessmentReason.INITIAL,
    )
    needs_physical = models.TextField(_("physical needs"), blank=True)
    needs_psychological = models.TextField(_("psychological needs"), blank=True)
    needs_social = models.TextField(_("social needs"), blank=True)
    needs_existential = models.TextField(_("existential needs"), blank=True)
    summary = models.TextField(_("summary"))
    suggested_level = models.CharField(
        _("suggested level"), max_length=20, choices=Level.choices, blank=True
    )
    kva = models.ForeignKey(
        KvaCode, on_delete=models.PROTECT, related_name="+", verbose_name=_("KVÅ code")
    )
    assessed_at = models.DateTimeField(_("assessed"), default=timezone.now)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = NeedsAssessmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("needs assessment")
        verbose_name_plural = _("needs assessments")
        ordering = ["-assessed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="needsassessment_level_known",
                condition=Q(level__in=Level.values),
            ),
        ]
        indexes = [
            # Serves "latest assessment of a patient" (worklist, suggestion, reports).
            models.Index(fields=["patient", "-assessed_at"], name="needsassessment_patient"),
            # Serves the report: assessments of a unit in a period.
            models.Index(fields=["unit", "assessed_at"], name="needsassessment_unit_time"),
        ]

    def __str__(self) -> str:
        return f"{self.patient} – {self.get_level_display()} ({timezone.localtime(self.assessed_at):%Y-%m-%d})"

    def clean(self) -> None:
        if self.level not in Level.values:
            raise ValidationError(
                {"level": _("Choose one of the three levels: basic, particular or advanced.")}
            )

    NEED_FIELDS = {
        Area.FYSISKA: "needs_physical",
        Area.PSYKISKA: "needs_psychological",
        Area.SOCIALA: "needs_social",
        Area.EXISTENTIELLA: "needs_existential",
    }

    def needs(self) -> list[tuple[str, str]]:
        return [(Area(a).label, getattr(self, f)) for a, f in self.NEED_FIELDS.items()]


class ReassessmentRequest(models.Model):
    """A reassessment asked for by an event another app knows of (an alert from
    self-monitoring, a handover). Phase changes and changes of the responsible unit are
    also found without a request (``services.due_reassessments``). Resolved by the next
    assessment of the patient."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="rehab_reassessment_requests"
    )
    reason = models.CharField(_("occasion"), max_length=20, choices=AssessmentReason.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        NeedsAssessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("reassessment request")
        verbose_name_plural = _("reassessment requests")
        constraints = [
            # One open request per patient and occasion: asking twice is asking once.
            models.UniqueConstraint(
                fields=["patient", "reason"],
                condition=Q(resolved_by__isnull=True),
                name="reassessment_one_open_per_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient}: {self.get_reason_display()}"


# --- Referral -----------------------------------------------------------------------------


class Referral(models.Model):
    """Advanced needs: a referral to a rehabilitation unit, which accepts or declines it
    with a reason."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="rehab_referrals", verbose_name=_("patient")
    )
    assessment = models.ForeignKey(
        NeedsAssessment,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("needs assessment"),
    )
    from_unit = models.ForeignKey(
        CareUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("from unit")
    )
    to_unit = models.ForeignKey(
        CareUnit,
        on_delete=models.PROTECT,
        related_name="incoming_rehab_referrals",
        verbose_name=_("rehabilitation unit"),
    )
    reason = models.TextField(_("reason for referral"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SENT
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        verbose_name = _("rehabilitation referral")
        verbose_name_plural = _("rehabilitation referrals")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="referral_decline_has_reason",
                condition=~Q(status="declined") | ~Q(decision_reason=""),
            ),
            models.CheckConstraint(
                name="referral_decided_has_time",
                condition=Q(status="sent") | Q(decided_at__isnull=False),
            ),
        ]
        indexes = [
            # Serves the rehabilitation unit's incoming list.
            models.Index(fields=["to_unit", "status"], name="referral_incoming"),
        ]

    def __str__(self) -> str:
        return f"{self.patient} → {self.to_unit}"


# --- The rehabilitation plan --------------------------------------------------------------


class RehabPlan(models.Model):
    """The rehabilitation plan, part of the patient's care plan (one per care plan)."""

    care_plan = models.OneToOneField(
        CarePlan, on_delete=models.PROTECT, related_name="rehab_plan", verbose_name=_("care plan")
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="rehab_plans", verbose_name=_("patient")
    )
    summary_assessment = models.TextField(_("summary assessment"), blank=True)
    timetable = models.TextField(
        _("timetable"), blank=True, help_text=_("When what happens, in words the patient uses.")
    )
    self_care_advice = models.ManyToManyField(
        SelfCareAdvice, blank=True, related_name="+", verbose_name=_("self-care advice")
    )
    self_care_text = models.TextField(_("own self-care advice"), blank=True)
    agreed_at = models.DateTimeField(_("agreed by the patient"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("rehabilitation plan")
        verbose_name_plural = _("rehabilitation plans")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return _("Rehabilitation plan of %(patient)s") % {"patient": self.patient}

    @property
    def is_agreed(self) -> bool:
        return self.agreed_at is not None

    def snapshot(self) -> dict:
        """The plan's content as data, for its history."""
        return {
            "summary_assessment": self.summary_assessment,
            "timetable": self.timetable,
            "self_care_text": self.self_care_text,
            "self_care_advice": [a.pk for a in self.self_care_advice.all()],
            "goals": [
                {
                    "text": g.text,
                    "success_measure": g.success_measure,
                    "area": g.area,
                    "evaluation": g.evaluation,
                }
                for g in self.goals.all()
            ],
            "interventions": [
                {
                    "area": i.area,
                    "kva": i.kva.code,
                    "description": i.description,
                    "profession": i.profession,
                    "unit": i.unit_id,
                    "starts_on": i.starts_on.isoformat(),
                    "ends_on": i.ends_on.isoformat() if i.ends_on else None,
                    "status": i.status,
                }
                for i in self.interventions.select_related("kva")
            ],
            "follow_ups": [f.due_on.isoformat() for f in self.follow_ups.all()],
            "agreed_at": self.agreed_at.isoformat() if self.agreed_at else None,
        }


class Goal(models.Model):
    class Evaluation(models.TextChoices):
        REACHED = "reached", _("Reached")
        PARTLY = "partly", _("Partly reached")
        NOT_REACHED = "not_reached", _("Not reached")

    rehab_plan = models.ForeignKey(RehabPlan, on_delete=models.CASCADE, related_name="goals")
    area = models.CharField(_("area"), max_length=20, choices=Area.choices)
    text = models.TextField(_("goal in the patient's words"))
    success_measure = models.TextField(_("how we will know it is reached"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    evaluation = models.CharField(
        _("evaluation"), max_length=20, choices=Evaluation.choices, blank=True
    )
    evaluated_on = models.DateField(_("evaluated on"), null=True, blank=True)
    evaluation_note = models.TextField(_("evaluation note"), blank=True)

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                name="goal_evaluated_has_date",
                condition=Q(evaluation="") | Q(evaluated_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    def clean(self) -> None:
        if self.evaluation and self.evaluated_on is None:
            self.evaluated_on = timezone.localdate()


class Profession(models.TextChoices):
    NURSE = "nurse", _("Nurse")
    PHYSICIAN = "physician", _("Physician")
    PHYSIOTHERAPIST = "physiotherapist", _("Physiotherapist")
    OCCUPATIONAL_THERAPIST = "occupational_therapist", _("Occupational therapist")
    COUNSELLOR = "counsellor", _("Counsellor (kurator)")
    PSYCHOLOGIST = "psychologist", _("Psychologist")
    DIETITIAN = "dietitian", _("Dietitian")
    SPEECH_THERAPIST = "speech_therapist", _("Speech therapist")
    OTHER = "other", _("Other")


class Intervention(models.Model):
    """A planned rehabilitation intervention, action-coded with KVÅ."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ONGOING = "ongoing", _("Ongoing")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    rehab_plan = models.ForeignKey(
        RehabPlan, on_delete=models.CASCADE, related_name="interventions"
    )
    area = models.CharField(_("area"), max_length=20, choices=Area.choices)
    kva = models.ForeignKey(
        KvaCode, on_delete=models.PROTECT, related_name="interventions", verbose_name=_("KVÅ code")
    )
    description = models.CharField(_("what"), max_length=300)
    profession = models.CharField(
        _("responsible profession"), max_length=30, choices=Profession.choices
    )
    unit = models.ForeignKey(
        CareUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible unit")
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )

    class Meta:
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")
        ordering = ["starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="intervention_ends_after_start",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
            ),
        ]
        indexes = [
            # Serves the report: interventions by KVÅ code.
            models.Index(fields=["kva", "starts_on"], name="intervention_kva_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kva_id and self.kva.code} {self.description}"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors.setdefault("ends_on", []).append(
                _("The intervention cannot end before it starts.")
            )
        if self.kva_id is None:
            errors.setdefault("kva", []).append(_("Give a KVÅ code."))
        elif self.starts_on:
            # Only a new code or a changed date is checked: an old intervention keeps
            # the code it was registered with.
            refusal = self.kva.refusal_on(self.starts_on)
            if refusal and self._kva_checked_changed():
                errors.setdefault("kva", []).append(refusal)
        if errors:
            raise ValidationError(errors)

    def _kva_checked_changed(self) -> bool:
        if self.pk is None:
            return True
        old = Intervention.objects.filter(pk=self.pk).values("kva_id", "starts_on").first()
        return old is None or old["kva_id"] != self.kva_id or old["starts_on"] != self.starts_on


class FollowUp(models.Model):
    rehab_plan = models.ForeignKey(RehabPlan, on_delete=models.CASCADE, related_name="follow_ups")
    due_on = models.DateField(_("follow-up date"))
    what = models.CharField(_("what"), max_length=200, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    reminder_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "id"]
        indexes = [
            # Serves the reminder job: undone follow-ups by date.
            models.Index(fields=["due_on"], condition=Q(done_on__isnull=True), name="followup_due"),
        ]

    def __str__(self) -> str:
        return f"{self.due_on} {self.what}".strip()


class RehabPlanHistory(models.Model):
    """The plan's history: what changed, by whom, and the plan as it was after."""

    rehab_plan = models.ForeignKey(RehabPlan, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    what = models.CharField(max_length=300)
    snapshot = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("rehabilitation plan history")
        verbose_name_plural = _("rehabilitation plan history")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return self.what


class RehabPlanCommentQuerySet(models.QuerySet["RehabPlanComment"]):
    def open(self) -> RehabPlanCommentQuerySet:
        return self.filter(handled_at__isnull=True)


class RehabPlanComment(models.Model):
    """The patient's comment or question on their rehabilitation plan. An item on the
    responsible unit's worklist until the care team handles it, with an answer the
    patient reads on the plan's page (or none: "read by the care team")."""

    MAX_LENGTH = 2000

    rehab_plan = models.ForeignKey(
        RehabPlan,
        on_delete=models.CASCADE,
        related_name="comments",
        verbose_name=_("rehabilitation plan"),
    )
    # The plan's patient, kept on the row so the worklist filters by patient alone.
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    text = models.TextField(_("the patient's comment"), max_length=MAX_LENGTH)
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    submission_key = models.UUIDField(null=True, blank=True, editable=False)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    answer = models.TextField(
        _("answer to the patient"),
        max_length=MAX_LENGTH,
        blank=True,
        help_text=_("The patient reads it under the comment. Leave it empty to mark as read."),
    )

    objects = RehabPlanCommentQuerySet.as_manager()

    class Meta:
        verbose_name = _("comment on a rehabilitation plan")
        verbose_name_plural = _("comments on rehabilitation plans")
        ordering = ["created_at", "id"]
        constraints = [
            # A second submit of the same form finds the first one's row.
            models.UniqueConstraint(
                fields=["written_by", "submission_key"],
                condition=Q(submission_key__isnull=False),
                name="rehabplancomment_one_per_submit",
            ),
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True) | Q(handled_by__isnull=False),
                name="rehabplancomment_handled_by_someone",
            ),
        ]
        indexes = [
            # The worklist: open comments, oldest first (few rows whatever the patients).
            models.Index(
                fields=["created_at"],
                condition=Q(handled_at__isnull=True),
                name="rehabplancomment_open",
            ),
            # The patient overview: one patient's open comments (not a walk through
            # everyone's open comments in time order).
            models.Index(
                fields=["patient", "created_at"],
                condition=Q(handled_at__isnull=True),
                name="rehabplancomment_open_patient",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]
