"""Relatives' access: a patient shares parts of their plan (``Scope``) with a relative,
read only (``RelativeGrant``). Next to the access check (``careplan/access.py``) that
reads it; the invitations that create grants are in ``contacts``.

The table is still ``contacts_relativegrant``: the model moved by state-only migrations
(``careplan`` 0022, ``contacts`` 0004)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .patients import Patient


class Scope(models.TextChoices):
    PLAN_SECTIONS = "plan_sections", _("Plan sections")
    CALENDAR = "calendar", _("Calendar")
    CONTACT_NURSE = "contact_nurse", _("Contact nurse details")
    REHAB_PLAN = "rehab_plan", _("Rehabilitation plan")
    QUESTIONNAIRES = "questionnaires", _("Questionnaire results")
    MESSAGES = "messages", _("Messages")


class RelativeGrantQuerySet(models.QuerySet["RelativeGrant"]):
    def active(self) -> RelativeGrantQuerySet:
        today = timezone.localdate()
        return self.filter(revoked_at__isnull=True).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today)
        )


class RelativeGrant(models.Model):
    """A patient shares parts of their plan with a relative, read only."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="relative_grants", verbose_name=_("patient")
    )
    relative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="relative_grants",
        verbose_name=_("relative"),
    )
    scopes = models.JSONField(_("shared parts"), default=list)
    valid_until = models.DateField(_("until"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last looked"), null=True, blank=True)

    objects = RelativeGrantQuerySet.as_manager()

    class Meta:
        db_table = "contacts_relativegrant"  # moved from contacts, the table kept
        verbose_name = _("relative's access")
        verbose_name_plural = _("relatives' access")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "relative"],
                condition=Q(revoked_at__isnull=True),
                name="relativegrant_one_open_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.relative} → {self.patient}"

    def clean(self) -> None:
        unknown = set(self.scopes or []) - set(Scope.values)
        if unknown:
            raise ValidationError({"scopes": _("Unknown shared part: %s") % ", ".join(unknown)})

    def touch(self) -> None:
        """Record when the relative last looked (at most once a minute)."""
        now = timezone.now()
        if self.last_seen_at is None or (now - self.last_seen_at).total_seconds() > 60:
            RelativeGrant.objects.filter(pk=self.pk).update(last_seen_at=now)
            self.last_seen_at = now
