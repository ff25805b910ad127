"""Self-monitoring: questionnaire instruments as versioned data, schedules, assignments,
responses (drafts kept as the patient goes), scores, alerts to the care team.

An instrument version is loaded from a file under ``selfmonitor/instruments/`` and never
edited once it has answers (``load_instruments`` refuses; a new version is loaded). A
response belongs to one assignment (one-to-one: a double submit stores one response) and
keeps the instrument version it was answered in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from careplan import content
from careplan.models import CarePlan, CareUnit, Language, Patient, PlanTemplate
from careplan.prepared import prepared


def pick(text: dict | str | None, lang: str | None = None) -> str:
    """A ``{"sv": …, "en": …}`` text in the active language (Swedish as fallback)."""
    if not text:
        return ""
    if isinstance(text, str):
        return text
    lang = (lang or get_language() or "sv")[:2]
    return text.get(lang) or text.get("sv") or next(iter(text.values()), "")


class Instrument(models.Model):
    class Kind(models.TextChoices):
        PROM = "prom", _("Patient-reported outcome (PROM)")
        PREM = "prem", _("Patient-reported experience (PREM)")

    class TextStatus(models.TextChoices):  # careplan.content's DRAFT and REVIEWED
        DRAFT = "draft", _("Draft")
        REVIEWED = "reviewed", _("Reviewed")

    key = models.SlugField(_("identifier"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    # A language version (Arabic, Finnish, …) is its own row of the same key and version:
    # the original's items, values and scoring with texts in one more language. Empty for
    # the original (Swedish and English).
    language = models.CharField(
        _("language version"), max_length=2, choices=Language.choices, blank=True, default=""
    )
    original = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="language_versions",
        verbose_name=_("translation of"),
    )
    text_status = models.CharField(
        _("translation status"), max_length=10, choices=TextStatus.choices, blank=True
    )
    reviewed_by = models.CharField(_("reviewed by"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    title_sv = models.CharField(_("title (Swedish)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_local = models.CharField(_("title (its language)"), max_length=200, blank=True)
    definition = models.JSONField(_("definition"))
    checksum = models.CharField(_("checksum"), max_length=64)
    source_file = models.CharField(_("file"), max_length=300, blank=True)
    source_note = models.TextField(_("source"), blank=True)
    licence_note = models.TextField(_("licence"), blank=True)
    loaded_at = models.DateTimeField(_("loaded"), default=timezone.now)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "version", "language"], name="instrument_key_version_language"
            ),
            models.CheckConstraint(
                condition=Q(language="", original__isnull=True, text_status="")
                | (~Q(language="") & Q(original__isnull=False) & ~Q(text_status="")),
                name="instrument_language_version_has_original",
            ),
        ]

    def __str__(self) -> str:
        if self.language:
            return f"{self.title} (v{self.version}, {self.get_language_display()})"
        return f"{self.title} (v{self.version})"

    @property
    def title(self) -> str:
        texts = {"sv": self.title_sv, "en": self.title_en}
        if self.language:
            texts[self.language] = self.title_local
        return pick(texts)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages a reader can read this version in."""
        return ("sv", "en", self.language) if self.language else ("sv", "en")

    @property
    def language_label(self) -> str:
        """The language answers to this version were given in, as the nurse reads it."""
        if not self.language:
            return gettext("Swedish or English (the original)")
        if self.text_status == self.TextStatus.DRAFT:
            return gettext("%(language)s (draft translation)") % {
                "language": self.get_language_display()
            }
        return str(self.get_language_display())

    def reads_in(self, lang: str | None = None) -> bool:
        """Whether a reader of ``lang`` (the active language) reads it in their own."""
        return (lang or get_language() or "sv")[:2] in self.languages

    def in_language(self, lang: str | None) -> Instrument:
        """This version as a reader of ``lang`` is given it: its language version in
        ``lang`` if there is one, else the original (Swedish and English)."""
        lang = (lang or "")[:2]
        if self.language == lang:
            return self
        original_id = self.original_id or self.pk
        if lang and lang not in ("sv", "en"):
            found = Instrument.objects.filter(original_id=original_id, language=lang).first()
            if found is not None:
                return found
        return self if not self.language else Instrument.objects.get(pk=original_id)

    @classmethod
    def current(cls, key: str) -> Instrument | None:
        """The newest version of ``key`` (the original; see ``in_language``)."""
        return cls.objects.filter(key=key, language="").order_by("-version").first()

    # A version's definition never changes once loaded (a change is a new version), so a
    # process keeps the parsed rows: a page that names 50 answers does not decode the same
    # 5 kB of JSON 50 times. Keyed by (id, checksum, loaded_at): a reused id is a new entry.
    LIGHT_FIELDS = ("id", "checksum", "loaded_at")
    _parsed: dict[tuple, Instrument] = {}

    @classmethod
    def parsed(cls, light: Instrument) -> Instrument:
        """The whole, parsed row for ``light`` (a row with at least ``LIGHT_FIELDS``),
        shared within the process: read it, never change it."""
        key = (light.pk, light.checksum, light.loaded_at)
        found = cls._parsed.get(key)
        if found is None:
            found = cls.objects.get(pk=light.pk)
            if len(cls._parsed) > 256:
                cls._parsed.clear()
            cls._parsed[key] = found
        return found

    @classmethod
    def attach_parsed(cls, rows) -> list:
        """Give each row (read with ``related_only()``) its shared, parsed instrument."""
        rows = list(rows)
        for row in rows:
            row.instrument = cls.parsed(row.instrument)
        return rows

    @classmethod
    def related_only(cls, qs, *fields: str):
        """``qs`` joined to its instrument's ``LIGHT_FIELDS`` only (plus ``fields``)."""
        light = [f"instrument__{f}" for f in cls.LIGHT_FIELDS]
        return qs.select_related("instrument").only(*fields, "instrument_id", *light)


class Schedule(models.Model):
    """When a questionnaire is sent: for every plan of a template, or for one patient."""

    class Trigger(models.TextChoices):
        PLAN_START = "plan_start", _("At plan start")
        PHASE_CHANGE = "phase_change", _("When the phase changes")
        HANDOVER = "handover", _("At a handover to another unit")
        EVERY = "every", _("Every N days")

    instrument_key = models.SlugField(_("questionnaire"), max_length=60)
    template = models.ForeignKey(
        PlanTemplate,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="questionnaire_schedules",
        verbose_name=_("plan template"),
    )
    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="questionnaire_schedules",
        verbose_name=_("patient"),
    )
    trigger = models.CharField(_("when"), max_length=20, choices=Trigger.choices)
    phase = models.CharField(
        _("only in phase"), max_length=20, choices=CarePlan.Phase.choices, blank=True
    )
    every_days = models.PositiveIntegerField(_("every N days"), null=True, blank=True)
    due_days = models.PositiveIntegerField(_("days to answer"), default=7)
    expire_days = models.PositiveIntegerField(_("days until it expires"), default=14)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire schedule")
        verbose_name_plural = _("questionnaire schedules")
        constraints = [
            models.CheckConstraint(
                condition=Q(template__isnull=True, patient__isnull=False)
                | Q(template__isnull=False, patient__isnull=True),
                name="schedule_template_xor_patient",
            ),
            models.CheckConstraint(
                condition=~Q(trigger="every") | Q(every_days__gte=1),
                name="schedule_every_needs_days",
            ),
            models.CheckConstraint(
                condition=Q(expire_days__gte=models.F("due_days")),
                name="schedule_expires_after_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_key}: {self.get_trigger_display()}"


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def open(self) -> AssignmentQuerySet:
        return self.filter(status=Assignment.Status.OPEN, expires_at__gt=timezone.now())


class Assignment(models.Model):
    """One sending of a questionnaire to a patient: due date and expiry."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", _("Waiting for answers")
        COMPLETED = "completed", _("Answered")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("patient")
    )
    plan = models.ForeignKey(
        CarePlan, on_delete=models.SET_NULL, null=True, blank=True, related_name="assignments"
    )
    unit = models.ForeignKey(
        CareUnit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible unit"),
    )
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="+", verbose_name=_("questionnaire")
    )
    schedule = models.ForeignKey(
        Schedule, on_delete=models.SET_NULL, null=True, blank=True, related_name="assignments"
    )
    # What made it (a schedule's occurrence: "start", "phase:behandling", "every:3", …);
    # unique per schedule and patient, so beat creates each sending exactly once.
    occurrence = models.CharField(max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED
    )
    available_at = models.DateTimeField(_("sent"))
    due_at = models.DateTimeField(_("answer by"))
    expires_at = models.DateTimeField(_("expires"))
    dispatched_at = models.DateTimeField(null=True, blank=True)
    remind_after = models.DateTimeField(_("remind later, after"), null=True, blank=True)
    reminded_before_at = models.DateTimeField(null=True, blank=True)
    reminded_after_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("questionnaire sent")
        verbose_name_plural = _("questionnaires sent")
        ordering = ["-available_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "patient", "occurrence"],
                condition=Q(schedule__isnull=False),
                name="assignment_once_per_occurrence",
            ),
            models.CheckConstraint(
                condition=Q(due_at__gte=models.F("available_at"))
                & Q(expires_at__gte=models.F("due_at")),
                name="assignment_dates_in_order",
            ),
        ]
        indexes = [
            # dispatch: scheduled ones whose time has come
            models.Index(fields=["status", "available_at"], name="assignment_status_avail"),
            # the patient's open questionnaires
            models.Index(fields=["patient", "status"], name="assignment_patient_status"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.title} → {self.patient}"

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.EXPIRED or (
            self.status in (self.Status.OPEN, self.Status.SCHEDULED)
            and self.expires_at <= timezone.now()
        )

    @property
    def is_answerable(self) -> bool:
        return self.status == self.Status.OPEN and self.expires_at > timezone.now()


class Response(models.Model):
    """The answers to one assignment: a draft while the patient goes, then completed."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        COMPLETED = "completed", _("Completed")

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="response")
    # No index of its own: response_trend starts with the patient.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        related_name="responses",
        verbose_name=_("patient"),
        db_index=False,
    )
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="+", verbose_name=_("questionnaire")
    )
    # Denormalised for the trend query across versions.
    instrument_key = models.SlugField(max_length=60)
    unit = models.ForeignKey(
        CareUnit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    answers = models.JSONField(_("answers"), default=dict)
    scores = models.JSONField(_("scores"), default=dict)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("answered"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )

    class Meta:
        verbose_name = _("questionnaire answer")
        verbose_name_plural = _("questionnaire answers")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="response_completed_has_time",
            ),
        ]
        indexes = [
            # the trend page: one patient's completed answers to one instrument over time
            # (newest first, a backward scan); also serves "this patient's answers"
            models.Index(
                fields=["patient", "instrument_key", "submitted_at"],
                condition=Q(status="completed"),
                name="response_trend",
            ),
            # PREM aggregates and unit reports: a unit's answers in a period
            models.Index(fields=["unit", "instrument_key", "submitted_at"], name="response_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.title}, {self.patient}"

    @property
    def entered_on_behalf(self) -> bool:
        return self.entered_by_id is not None and self.entered_by_id != self.patient.user_id


# A patient's open questionnaires (``Assignment.objects.open()`` by the database's clock,
# so the SQL holds no time), each marked ``started`` if a draft exists, the earliest due
# first, with the instrument's light fields only (its parsed row is shared in the
# process: ``Instrument.attach_parsed``). The questionnaire list and the start page's
# to-do card read it; compiled once per process.
open_assignments = prepared(
    lambda patient_id: Instrument.related_only(
        Assignment.objects.filter(
            patient_id=patient_id, status=Assignment.Status.OPEN, expires_at__gt=Now()
        ).annotate(
            started=Exists(
                Response.objects.filter(assignment=OuterRef("pk"), status=Response.Status.DRAFT)
            )
        ),
        "id",
        "due_at",
        "status",
    ).order_by("due_at", "id")
)


class AlertQuerySet(models.QuerySet["Alert"]):
    def open(self) -> AlertQuerySet:
        return self.filter(acknowledged_at__isnull=True)

    def worklist(self) -> AlertQuerySet:
        """Open alerts, most severe first, oldest first within a severity."""
        return self.open().order_by("-severity", "created_at", "id")


class Alert(models.Model):
    class Severity(models.IntegerChoices):
        LOW = 1, _("Low")
        MEDIUM = 2, _("Medium")
        HIGH = 3, _("High")

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="alerts")
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("patient")
    )
    rule = models.SlugField(_("rule"), max_length=80)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    text_sv = models.CharField(max_length=300)
    text_en = models.CharField(max_length=300)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    acknowledge_by = models.DateTimeField(_("acknowledge by"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    note = models.TextField(_("note"), blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-severity", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["response", "rule"], name="alert_once_per_rule"),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | ~Q(note=""),
                name="alert_acknowledged_with_note",
            ),
        ]
        indexes = [
            # the worklist and the escalation job: open alerts by severity and age
            models.Index(
                fields=["-severity", "created_at"],
                condition=Q(acknowledged_at__isnull=True),
                name="alert_open_worklist",
            ),
            # the patient overview: one patient's open alerts in worklist order (without
            # it the planner walks every open alert of every patient in that order)
            models.Index(
                fields=["patient", "-severity", "created_at"],
                condition=Q(acknowledged_at__isnull=True),
                name="alert_open_patient",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return pick({"sv": self.text_sv, "en": self.text_en})


class TemplateSchedule(Schedule):
    """Schedules for every plan of a template (the admin keeps them apart from one
    patient's schedules, which are patient data)."""

    class Meta:
        proxy = True
        verbose_name = _("schedule for a plan template")
        verbose_name_plural = _("schedules for plan templates")


class TriageGuide(models.Model):
    """One version of the symptom advice and its triage rules, loaded from
    ``selfmonitor/symptoms/triage.v<N>.json`` (like an instrument: versioned data, never
    edited in place once a report used it)."""

    key = models.SlugField(_("identifier"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    checksum = models.CharField(_("checksum"), max_length=64)
    source_file = models.CharField(_("file"), max_length=300, blank=True)
    loaded_at = models.DateTimeField(_("loaded"), default=timezone.now)
    #: Versions of its texts in languages the definition lacks, and every language's review
    #: status (careplan/content.py), loaded from ``symptoms/languages/triage.v<N>.json``.
    #: Not part of the checksum: a version is added to a guide that reports already used
    #: (the Swedish original and the rules never change).
    translations = models.JSONField(_("language versions"), default=dict, blank=True)

    class Meta:
        verbose_name = _("symptom advice guide")
        verbose_name_plural = _("symptom advice guides")
        ordering = ["key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["key", "version"], name="triageguide_key_version"),
        ]

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"

    def original(self, key: str) -> str:
        """The Swedish text of ``key``: "review_note", "levels.<level>", "advice.<rule>"."""
        d = self.definition
        kind, _dot, name = key.partition(".")
        if kind == "review_note":
            text = d.get("review_note")
        elif kind == "levels":
            text = (d["levels"].get(name) or {}).get("title")
        else:
            text = next((r["advice"] for r in d["rules"] if r["key"] == name), None)
        return pick(text, content.ORIGINAL)

    def shown(self, key: str, text: dict | None = None, lang: str | None = None) -> content.Shown:
        """The text of ``key`` for a reader of ``lang``. ``text`` is the ``{"sv", "en"}``
        dict actually to be shown (a report's stored advice, a unit's own wording); a
        version from ``translations`` is used only while its Swedish original is that
        text's (a unit's own wording has no Arabic version of the guide's)."""
        lang = content.reader_language(lang)
        if text is None:
            text = {content.ORIGINAL: self.original(key)}
        sv = pick(text, content.ORIGINAL)
        if lang == content.ORIGINAL:
            return content.Shown(sv, lang, None, False)
        if isinstance(text, dict) and text.get(lang):
            return content.Shown(text[lang], lang, content.version_status(self, lang), False)
        version = (self.translations or {}).get(lang) or {}
        if version.get(key) and self.original(key) == sv:
            return content.Shown(version[key], lang, content.version_status(self, lang), False)
        return content.Shown(sv, content.ORIGINAL, None, True)


class UnitAdvice(models.Model):
    """A care unit's own wording of one advice entry (the triage level stays the guide's:
    a unit adapts what the patient is told to do, not how urgent a symptom is)."""

    unit = models.ForeignKey(
        CareUnit, on_delete=models.CASCADE, related_name="symptom_advice", verbose_name=_("unit")
    )
    rule_key = models.SlugField(_("advice entry"), max_length=80)
    text_sv = models.TextField(_("advice (Swedish)"), max_length=2000)
    text_en = models.TextField(_("advice (English)"), max_length=2000)
    source = models.CharField(
        _("source"),
        max_length=300,
        help_text=_("Where the wording comes from, e.g. the unit's own patient information."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("unit's symptom advice")
        verbose_name_plural = _("units' symptom advice")
        ordering = ["unit", "rule_key"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "rule_key"], name="unitadvice_once_per_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.unit}: {self.rule_key}"


class SymptomReport(models.Model):
    """A symptom report the patient made on their own initiative: the answers are a
    completed ``Response`` (so trends and FHIR exports include it); this row keeps the
    triage the patient was shown, word for word, and the form's one-time token (a double
    submit finds the same report)."""

    class Level(models.TextChoices):
        SELF_CARE = "self_care", _("Self-care advice")
        CALL_TODAY = "call_today", _("Call the unit today")
        CALL_NOW = "call_now", _("Call the unit now")

    patient = models.ForeignKey(
        Patient,
        on_delete=models.CASCADE,
        related_name="symptom_reports",
        verbose_name=_("patient"),
        db_index=False,
    )
    token = models.UUIDField()
    response = models.OneToOneField(
        Response, on_delete=models.CASCADE, related_name="symptom_report"
    )
    guide = models.ForeignKey(TriageGuide, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("triage"), max_length=12, choices=Level.choices)
    in_treatment = models.BooleanField(_("during treatment with cancer medicine"))
    results = models.JSONField(_("advice given"), default=list)
    created_at = models.DateTimeField(_("reported"), default=timezone.now)

    class Meta:
        verbose_name = _("symptom report")
        verbose_name_plural = _("symptom reports")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One form, one report: the double submit finds this row.
            models.UniqueConstraint(fields=["patient", "token"], name="symptomreport_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()}, {self.patient}"
