"""The access log: every access to patient data by someone other than the patient."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .patients import Patient
from .users import CareUnit


class AccessLogQuerySet(models.QuerySet["AccessLog"]):
    def update(self, **kwargs):  # noqa: ARG002
        raise PermissionError("The access log cannot be changed")

    def delete(self):
        raise PermissionError("The access log cannot be deleted")


class AccessLog(models.Model):
    """Patientdatalagen: one row per read or write of patient data by anyone but the
    patient, allowed or denied. Append-only."""

    class Action(models.TextChoices):
        VIEW = "view", _("read")
        LIST = "list", _("list")
        CREATE = "create", _("create")
        UPDATE = "update", _("change")
        DELETE = "delete", _("delete")
        PRINT = "print", _("print")
        EXPORT = "export", _("export")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("allowed")
        DENIED = "denied", _("denied")

    class Channel(models.TextChoices):
        WEB = "web", _("web")
        ADMIN = "admin", _("admin")
        API = "api", _("API")
        PDF = "pdf", _("PDF")
        TASK = "task", _("task")

    class Basis(models.TextChoices):
        CARE_RELATION = "care_relation", _("care relation")
        RELATIVE_GRANT = "relative_grant", _("shared by the patient")
        HANDOVER = "handover", _("receiving a handover")
        HANDOVER_GRACE = "handover_grace", _("after a handover (read period)")
        NONE = "none", _("none")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    user_name = models.CharField(_("name"), max_length=300, blank=True)
    role = models.CharField(_("role"), max_length=16, blank=True)
    acting_unit = models.ForeignKey(
        CareUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acting unit"),
    )
    basis = models.CharField(_("basis"), max_length=20, choices=Basis.choices)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, null=True, related_name="access_log"
    )
    object_type = models.CharField(_("object"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [
            # Serves the patient's "who has read my record" page: newest first.
            models.Index(fields=["patient", "-at"], name="accesslog_patient_time"),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.user_name} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The access log cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The access log cannot be deleted")


# --- Messages between patient and care team, and notifications ------------------------------
