"""Relatives and the people around a patient: the care map, invitations of relatives and
handovers between units. The grant itself (``RelativeGrant``, ``Scope``) lives in
``careplan.models`` next to the access check that reads it; it is re-exported here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careplan.models import Patient, RelativeGrant, RelativeGrantQuerySet, Scope  # noqa: F401  (moved)

# --- The care map ("Vem bryr du dig om och vem bryr sig om dig?") --------------------------


class Closeness(models.TextChoices):
    INNER = "inner", _("Closest (inner circle)")
    MIDDLE = "middle", _("Close (middle circle)")
    OUTER = "outer", _("Further away (outer circle)")


class EntryKind(models.TextChoices):
    PERSON = "person", _("Relative, friend or other person")
    CARE_CONTACT = "care_contact", _("Care contact")


class Direction(models.TextChoices):
    CARES_FOR_PATIENT = "cares_for_patient", _("Cares for me")
    CARED_FOR_BY_PATIENT = "cared_for_by_patient", _("I care for them")
    BOTH = "both", _("We care for each other")
    NEITHER = "neither", _("Neither")


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    SOMETIMES = "sometimes", _("Now and then")


class CareMap(models.Model):
    """One care map per patient: the people and care contacts around them.

    The entries are the map as it is now; every change saves a ``CareMapVersion`` (a
    snapshot) so earlier versions can be seen.
    """

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, related_name="care_map", verbose_name=_("patient")
    )
    missing_support = models.TextField(
        _("support I am missing"),
        blank=True,
        max_length=2000,
        help_text=_("Support you would need but do not have, in your own words."),
    )
    version = models.PositiveIntegerField(_("version"), default=0)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("care map")
        verbose_name_plural = _("care maps")

    def __str__(self) -> str:
        return str(_("Care map of %(name)s") % {"name": self.patient})

    def snapshot(self, entries) -> dict:
        return {
            "missing_support": self.missing_support,
            "entries": [e.as_snapshot() for e in entries],
        }


class CareMapEntryQuerySet(models.QuerySet["CareMapEntry"]):
    def needing_support(self) -> CareMapEntryQuerySet:
        """Relatives the care team should offer support: marked by the patient, or children."""
        return self.filter(kind=EntryKind.PERSON).filter(Q(needs_support=True) | Q(is_child=True))


class CareMapEntry(models.Model):
    """A person or care contact on the map."""

    care_map = models.ForeignKey(
        CareMap, on_delete=models.CASCADE, related_name="entries", verbose_name=_("care map")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    name = models.CharField(_("name"), max_length=200)
    relation = models.CharField(
        _("relation"),
        max_length=100,
        blank=True,
        help_text=_("For example daughter, neighbour, home care or patient association."),
    )
    closeness = models.CharField(
        _("how close"), max_length=10, choices=Closeness.choices, default=Closeness.MIDDLE
    )
    direction = models.CharField(
        _("who cares for whom"), max_length=24, choices=Direction.choices, default=Direction.NEITHER
    )
    frequency = models.CharField(
        _("how often"), max_length=10, choices=Frequency.choices, default=Frequency.SOMETIMES
    )
    phone = models.CharField(_("phone (optional)"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail (optional)"), blank=True)
    note = models.TextField(_("note (optional)"), blank=True, max_length=2000)
    is_child = models.BooleanField(_("a child (under 18)"), default=False)
    needs_support = models.BooleanField(_("needs support themselves"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CareMapEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("person or care contact")
        verbose_name_plural = _("people and care contacts")
        ordering = ["closeness", "kind", "name", "id"]
        indexes = [
            # Serves the care team's worklist: relatives who need support, per map.
            models.Index(
                fields=["care_map"],
                condition=Q(needs_support=True) | Q(is_child=True),
                name="caremapentry_needs_support",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.relation})" if self.relation else self.name

    @property
    def flagged(self) -> bool:
        return self.kind == EntryKind.PERSON and (self.needs_support or self.is_child)

    def as_snapshot(self) -> dict:
        return {
            "id": self.pk,
            "kind": self.kind,
            "name": self.name,
            "relation": self.relation,
            "closeness": self.closeness,
            "direction": self.direction,
            "frequency": self.frequency,
            "phone": self.phone,
            "email": self.email,
            "note": self.note,
            "is_child": self.is_child,
            "needs_support": self.needs_support,
        }


class CareMapVersion(models.Model):
    """A saved copy of the map after a change, so changes over time can be seen."""

    care_map = models.ForeignKey(
        CareMap, on_delete=models.CASCADE, related_name="versions", verbose_name=_("care map")
    )
    number = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("saved"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    what = models.CharField(_("what changed"), max_length=300, blank=True)
    snapshot = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("care map version")
        verbose_name_plural = _("care map versions")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["care_map", "number"], name="caremapversion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.care_map} v{self.number}"


# --- Invitations -------------------------------------------------------------------------------


INVITATION_DAYS = 7


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """A patient invites a relative by e-mail. Single use; only a hash of the token is
    stored; it expires after ``INVITATION_DAYS`` days."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("patient")
    )
    entry = models.ForeignKey(
        CareMapEntry,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("on the care map"),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail address"))
    scopes = models.JSONField(_("shared parts"), default=list)
    valid_until = models.DateField(_("shared until"), null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    grant = models.OneToOneField(
        RelativeGrant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitation",
        verbose_name=_("access"),
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per patient and address.
            models.UniqueConstraint(
                fields=["patient", "email"],
                condition=Q(status="pending"),
                name="invitation_one_pending_per_address",
            ),
        ]
        indexes = [
            # Serves the expiry job: pending invitations past their time.
            models.Index(
                fields=["expires_at"], condition=Q(status="pending"), name="invitation_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.patient})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


# --- Active handovers between units ("aktiv överlämning") -----------------------------------


class HandoverState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


# The only moves a handover may make; anything else (a skipped step) is refused.
HANDOVER_TRANSITIONS: dict[str, frozenset[str]] = {
    HandoverState.DRAFT: frozenset({HandoverState.SENT, HandoverState.CANCELLED}),
    HandoverState.SENT: frozenset(
        {HandoverState.ACCEPTED, HandoverState.DECLINED, HandoverState.CANCELLED}
    ),
    HandoverState.ACCEPTED: frozenset({HandoverState.COMPLETED}),
    HandoverState.COMPLETED: frozenset(),
    HandoverState.DECLINED: frozenset(),
    HandoverState.CANCELLED: frozenset(),
}

# Open: the sender is still responsible and the patient may not get a second one.
HANDOVER_OPEN_STATES = (HandoverState.DRAFT, HandoverState.SENT)


class Handover(models.Model):
    """An active handover of responsibility from one unit to another, in SBAR form.

    The sender stays responsible until the receiver accepts (records contact with the
    patient and names the new contact nurse); state changes go through
    ``contacts.handover.services`` and each leaves a ``HandoverEvent``."""

    State = HandoverState

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="handovers", verbose_name=_("patient")
    )
    from_unit = models.ForeignKey(
        "careplan.CareUnit",
        on_delete=models.PROTECT,
        related_name="handovers_sent",
        verbose_name=_("from unit"),
    )
    to_unit = models.ForeignKey(
        "careplan.CareUnit",
        on_delete=models.PROTECT,
        related_name="handovers_received",
        verbose_name=_("to unit"),
    )
    state = models.CharField(
        _("state"), max_length=12, choices=HandoverState.choices, default=HandoverState.DRAFT
    )
    situation = models.TextField(_("situation"), blank=True, max_length=4000)
    background = models.TextField(_("background"), blank=True, max_length=8000)
    assessment = models.TextField(_("current assessment"), blank=True, max_length=8000)
    recommendation = models.TextField(
        _("recommendation"),
        blank=True,
        max_length=8000,
        help_text=_(
            "Follow-up plan: checks and when, the rehab plan, who does what (the patient's "
            "own part too), lifelong risks, where to turn."
        ),
    )
    needs_and_wishes = models.TextField(
        _("the patient's needs and wishes"), blank=True, max_length=4000
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    contact_nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("new contact nurse"),
    )
    contact_made_on = models.DateField(_("contact with the patient made on"), null=True, blank=True)
    contact_how = models.CharField(
        _("how contact was made"), max_length=200, blank=True, help_text=_("For example by phone")
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(state__in=["draft", "sent"]),
                name="handover_one_open_per_patient",
            ),
            models.CheckConstraint(
                name="handover_to_another_unit",
                condition=~Q(from_unit=models.F("to_unit")),
            ),
        ]
        indexes = [
            # Serves the receiving unit's inbox and the reminder job.
            models.Index(
                fields=["to_unit", "sent_at"],
                condition=Q(state="sent"),
                name="handover_sent_inbox",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} → {self.to_unit}"

    @property
    def is_open(self) -> bool:
        return self.state in HANDOVER_OPEN_STATES

    def may_become(self, state: str) -> bool:
        return state in HANDOVER_TRANSITIONS[self.state]


class HandoverEvent(models.Model):
    """One change of a handover: who, when, from which state to which."""

    handover = models.ForeignKey(
        Handover, on_delete=models.CASCADE, related_name="events", verbose_name=_("handover")
    )
    from_state = models.CharField(
        _("from state"), max_length=12, choices=HandoverState.choices, blank=True
    )
    to_state = models.CharField(_("to state"), max_length=12, choices=HandoverState.choices)
    what = models.CharField(_("what"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("handover event")
        verbose_name_plural = _("handover events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"
