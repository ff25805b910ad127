"""The care plan: diagnosis templates, the plan, its sections and documents, the units'
own links and the plan's history of changes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import content
from .patients import Patient
from .users import CareUnit


def _localized(obj, field: str, lang: str | None = None) -> str:
    """``field`` in the reader's language version, else Swedish (careplan/content.py)."""
    return content.localized(obj, field, lang)


def _localized_language(obj, field: str, lang: str | None = None) -> str:
    """The language ``field`` is shown in: the reader's if the text has a version in it,
    else Swedish."""
    return content.localized_language(obj, field, lang)


def _translations_field():
    return models.JSONField(
        _("language versions"),
        default=dict,
        blank=True,
        help_text=_("Versions in other languages and their review status."),
    )


class DiagnosisArea(models.TextChoices):
    GENERAL = "general", _("General")
    BREAST = "breast", _("Breast cancer")
    PROSTATE = "prostate", _("Prostate cancer")
    COLORECTAL = "colorectal", _("Colorectal cancer")
    LUNG = "lung", _("Lung cancer")


class PlanTemplate(models.Model):
    """Diagnosis-specific plan content, loaded from ``careplan/plan_templates/*.json``."""

    slug = models.SlugField(_("identifier"), max_length=50)
    version = models.PositiveIntegerField(_("version"), default=1)
    diagnosis_area = models.CharField(
        _("diagnosis area"), max_length=20, choices=DiagnosisArea.choices
    )
    title_sv = models.CharField(_("title (Swedish)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    #: Versions in the other languages and their review status (careplan/content.py).
    translations = _translations_field()
    is_active = models.BooleanField(_("offered for new plans"), default=True)

    class Meta:
        verbose_name = _("plan template")
        verbose_name_plural = _("plan templates")
        ordering = ["diagnosis_area", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="plantemplate_slug_version"),
        ]
        # Marking a language version of any content reviewed (careplan/content.py).
        permissions = [("review_translation", _("Can mark a translated text reviewed"))]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    @property
    def title(self) -> str:
        return _localized(self, "title")


class PlanTemplateSection(models.Model):
    template = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(max_length=50)
    order = models.PositiveSmallIntegerField(default=0)
    title_sv = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    body_sv = models.TextField()
    body_en = models.TextField()
    translations = _translations_field()

    class Meta:
        ordering = ["order"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="templatesection_unique_key"),
        ]

    def __str__(self) -> str:
        return self.title_sv


class UnitLink(models.Model):
    """A unit's own local link, shown in a plan section (e.g. the unit's parking page)."""

    unit = models.ForeignKey(
        CareUnit, on_delete=models.CASCADE, related_name="links", verbose_name=_("unit")
    )
    section_key = models.SlugField(
        _("section"), max_length=50, default="contacts_rights", help_text=_("Section key")
    )
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("address"))

    class Meta:
        verbose_name = _("local link")
        verbose_name_plural = _("local links")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CarePlanQuerySet(models.QuerySet["CarePlan"]):
    def active(self) -> CarePlanQuerySet:
        return self.filter(status=CarePlan.Status.ACTIVE)

    def for_units(self, unit_ids) -> CarePlanQuerySet:
        return self.filter(
            patient__care_relations__unit_id__in=unit_ids,
            patient__care_relations__ended_at__isnull=True,
        )


class CarePlan(models.Model):
    class Phase(models.TextChoices):
        UTREDNING = "utredning", _("Investigation")
        BEHANDLING = "behandling", _("Treatment")
        UPPFOLJNING = "uppfoljning", _("Follow-up")
        REHABILITERING = "rehabilitering", _("Rehabilitation")
        PALLIATIV = "palliativ", _("Palliative care")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Established")
        CLOSED = "closed", _("Closed")

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="plans", verbose_name=_("patient")
    )
    template = models.ForeignKey(
        PlanTemplate, on_delete=models.PROTECT, related_name="+", verbose_name=_("template")
    )
    title = models.CharField(_("title"), max_length=200)
    diagnosis = models.CharField(
        _("diagnosis"), max_length=200, blank=True, help_text=_("In words the patient uses")
    )
    phase = models.CharField(
        _("phase"), max_length=20, choices=Phase.choices, default=Phase.UTREDNING
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # Register indicators (nationella kvalitetsregister).
    contact_nurse_offered_on = models.DateField(
        _("named contact nurse offered on"), null=True, blank=True
    )
    established_on = models.DateField(_("plan established on"), null=True, blank=True)
    # After treatment.
    followup_plan = models.TextField(_("follow-up plan"), blank=True)
    treatment_summary = models.TextField(_("summary of diagnosis and treatment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    # Raised by every change through ``services.plan_update``: an edit made from an
    # older version is a conflict, never a silent overwrite.
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    objects = CarePlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        ordering = ["-created_at"]
        indexes = [
            # Serves the API's plan list: its order, read as a cursor (careplan/pagination.py).
            models.Index(fields=["-created_at", "-id"], name="careplan_created"),
            # The worklist's drafts not yet established: only those rows, oldest first.
            models.Index(
                fields=["created_at", "id"], condition=Q(status="draft"), name="careplan_draft"
            ),
        ]
        constraints = [
            # One open plan (draft or established) per patient.
            models.UniqueConstraint(
                fields=["patient"],
                condition=~Q(status="closed"),
                name="careplan_one_open_per_patient",
            ),
            # An established plan records when it was established.
            models.CheckConstraint(
                name="careplan_established_has_date",
                condition=~Q(status="active") | Q(established_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def changes_since(self, when):
        qs = self.changes.select_related("by")
        return qs.filter(at__gt=when) if when else qs.none()


class PlanDocument(models.Model):
    """The printed plan (PDF), kept for reuse while nothing it shows has changed.

    ``fingerprint`` is a hash of everything the document shows (the plan, its sections,
    the upcoming events, the contact nurse and unit, the patient's name, the print date,
    the language, the parts shared) and of the layout's version, so any change that shows
    in it makes a new document; the view checks access before it is served. Kept in the
    database, where patient data may be kept, never in the shared cache.
    """

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="+")
    variant = models.CharField(max_length=200)  # language and the parts shown
    fingerprint = models.CharField(max_length=64)
    pdf = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "variant"], name="plandocument_one_per_variant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.variant}"


class PlanSection(models.Model):
    """A plan's section, copied from the template and individualised by the nurse."""

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="sections")
    key = models.SlugField(_("key"), max_length=50)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title_sv = models.CharField(_("title (Swedish)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_sv = models.TextField(_("text (Swedish)"))
    body_en = models.TextField(_("text (English)"))
    #: Copied from the template section with the texts; a version whose Swedish original
    #: the nurse changes is dropped (``services.plan_update``): never an outdated translation.
    translations = _translations_field()
    personal_note = models.TextField(
        _("personal note from the care team"),
        blank=True,
        help_text=_("Shown first, written for this patient."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    # As ``CarePlan.version``: checked and raised by ``services.plan_update``.
    version = models.PositiveIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("plan section")
        verbose_name_plural = _("plan sections")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="plansection_unique_key"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return _localized(self, "title")

    @property
    def body(self) -> str:
        return _localized(self, "body")

    @property
    def body_language(self) -> str:
        """The language ``body`` is in (Swedish when the reader's has no version)."""
        return _localized_language(self, "body")


class PlanChange(models.Model):
    """One row per change a patient should know about: drives "what changed since your
    last visit" and the plan's history."""

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(_("time"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    what = models.CharField(_("what"), max_length=300)
    section_key = models.SlugField(max_length=50, blank=True)

    class Meta:
        verbose_name = _("plan change")
        verbose_name_plural = _("plan history")
        ordering = ["-at", "-id"]
        indexes = [
            # Serves "changed since last visit": a plan's changes after a time.
            models.Index(fields=["plan", "at"], name="planchange_plan_time"),
        ]

    def __str__(self) -> str:
        return self.what
