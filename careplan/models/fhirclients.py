"""Systems that read the FHIR API (OAuth2 clients of a care unit)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .users import CareUnit


class FhirClient(models.Model):
    """A machine client of /fhir/ (a region's integration platform): an OAuth2
    application (client credentials) bound to one care unit through its service account
    (``application.user``, a staff member of that unit only) and to read scopes such as
    ``system/Observation.read``. Its reads are logged as the service account."""

    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="fhir_client"
    )
    unit = models.ForeignKey(
        CareUnit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    scopes = models.CharField(
        _("scopes"), max_length=1000, help_text=_("Space-separated, e.g. system/Observation.read")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("FHIR client")
        verbose_name_plural = _("FHIR clients")

    def __str__(self) -> str:
        return f"{self.application.name} @ {self.unit}"
