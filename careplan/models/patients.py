"""Patients, the care relation (the responsible unit) and the named contact nurse."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import personnummer as pnr
from .users import CareUnit, Language


class PatientQuerySet(models.QuerySet["Patient"]):
    def for_units(self, unit_ids) -> PatientQuerySet:
        """Patients one of these units is responsible for now (active care relation)."""
        return self.filter(
            care_relations__unit_id__in=unit_ids, care_relations__ended_at__isnull=True
        )


class Patient(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="patient",
        verbose_name=_("login"),
    )
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    personnummer = models.CharField(
        _("personal identity number"),
        max_length=12,
        unique=True,
        validators=[pnr.validate_personnummer],
        help_text=_("YYYYMMDD-NNNN"),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.SV
    )
    needs_interpreter = models.BooleanField(_("needs an interpreter"), default=False)
    last_seen_plan_at = models.DateTimeField(_("last looked at the plan"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            # Serves the nurse's patient list: walk patients in name order and stop at
            # the first page instead of sorting the whole table.
            models.Index(fields=["last_name", "first_name", "id"], name="patient_name_order"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def name(self) -> str:
        return str(self)

    @property
    def personnummer_masked(self) -> str:
        return pnr.masked(self.personnummer)

    def clean(self) -> None:
        if self.personnummer:
            try:
                self.personnummer = pnr.normalize(self.personnummer)
            except ValidationError as exc:
                raise ValidationError({"personnummer": exc.messages}) from None

    def responsible_relation(self) -> CareRelation | None:
        return self.care_relations.filter(ended_at__isnull=True).select_related("unit").first()

    def contact_nurse_assignment(self) -> ContactNurseAssignment | None:
        return (
            self.nurse_assignments.filter(ended_on__isnull=True)
            .select_related("nurse", "unit")
            .first()
        )


class CareRelation(models.Model):
    """Which unit is responsible for a patient, and since when. History is kept: an ended
    relation has ``ended_at``. Responsibility moves only through ``services``."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="care_relations", verbose_name=_("patient")
    )
    unit = models.ForeignKey(
        CareUnit, on_delete=models.PROTECT, related_name="care_relations", verbose_name=_("unit")
    )
    started_at = models.DateTimeField(_("responsible since"), default=timezone.now)
    ended_at = models.DateTimeField(_("responsible until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Denormalised for the worklist: true while the patient has no named contact nurse.
    # Kept by ``services.contact_nurse_flag_sync`` (called by every service that names or
    # ends a contact nurse or moves responsibility); ``check_consistency`` verifies it.
    needs_contact_nurse = models.BooleanField(
        _("no contact nurse named"), default=True, editable=False
    )

    class Meta:
        verbose_name = _("care relation")
        verbose_name_plural = _("care relations")
        ordering = ["-started_at"]
        constraints = [
            # At most one responsible unit per patient at any moment.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(ended_at__isnull=True),
                name="carerelation_one_active_per_patient",
            ),
            models.CheckConstraint(
                name="carerelation_ends_after_start",
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
            ),
        ]
        indexes = [
            # Serves the staff scoping query: active relations of my units.
            models.Index(
                fields=["unit", "patient"],
                condition=Q(ended_at__isnull=True),
                name="carerelation_active_unit",
            ),
            # The worklist's "patients without a contact nurse": only those rows.
            models.Index(
                fields=["unit", "patient"],
                condition=Q(ended_at__isnull=True, needs_contact_nurse=True),
                name="carerelation_needs_nurse",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} → {self.unit}"


class ContactNurseAssignment(models.Model):
    """The named contact nurse (kontaktsjuksköterska), with history."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="nurse_assignments",
        verbose_name=_("patient"),
    )
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contact_nurse_for",
        verbose_name=_("contact nurse"),
    )
    unit = models.ForeignKey(CareUnit, on_delete=models.PROTECT, verbose_name=_("unit"))
    started_on = models.DateField(_("from"), default=timezone.localdate)
    ended_on = models.DateField(_("to"), null=True, blank=True)
    direct_phone = models.CharField(_("direct phone"), max_length=40, blank=True)
    reachable = models.CharField(
        _("when reachable"), max_length=200, blank=True, help_text=_("For example Mon–Thu 8–12")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("contact nurse assignment")
        verbose_name_plural = _("contact nurse assignments")
        ordering = ["-started_on", "-id"]
        constraints = [
            # At most one named contact nurse per patient at any moment.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(ended_on__isnull=True),
                name="contactnurse_one_active_per_patient",
            ),
            models.CheckConstraint(
                name="contactnurse_ends_after_start",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nurse} ({self.patient})"

    @property
    def phone(self) -> str:
        return self.direct_phone or self.unit.phone

    @property
    def when_reachable(self) -> str:
        return self.reachable or self.unit.reachable
