"""People and care units: users and their roles, care units and their staff."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..prepared import prepared


class Role(models.TextChoices):
    PATIENT = "patient", _("Patient")
    STAFF = "staff", _("Care team")
    RELATIVE = "relative", _("Relative")


class Language(models.TextChoices):
    """The languages a patient or relative can read careplan in (settings.LANGUAGES)."""

    SV = "sv", _("Swedish")
    EN = "en", _("English")
    AR = "ar", _("Arabic")
    FI = "fi", _("Finnish")


class StaffEmail(models.TextChoices):
    """A staff member's own choice of e-mail about new work (the counter is always on)."""

    AT_ONCE = "at_once", _("At once")
    DIGEST = "digest", _("Once a day (a digest)")
    NONE = "none", _("No e-mail")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.STAFF)
        return self.create_user(email, password, **extra)

    def get(self, *args, **kwargs):
        """``User.objects.get(pk=<int>)``, which loads the session's user on every request
        (``ModelBackend.get_user``), through a query compiled once (``careplan.prepared``);
        any other lookup, a historical model in a migration or another database as
        Django's own."""
        if not args and len(kwargs) == 1 and self._db is None and self.model is User:
            ((key, value),) = kwargs.items()
            if key in ("pk", "id") and type(value) is int:
                rows = _user_by_pk(pk=value)
                if not rows:
                    raise User.DoesNotExist("User matching query does not exist.")
                return rows[0]
        return super().get(*args, **kwargs)


_user_by_pk = prepared(lambda pk: User.objects.filter(pk=pk))


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in. ``role`` decides where they work: patients and relatives on
    the web site, staff in the admin (``is_staff``)."""

    email = models.EmailField(_("e-mail address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.PATIENT)
    title = models.CharField(
        _("professional title"), max_length=100, blank=True, help_text=_("For example nurse")
    )
    language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.SV
    )
    # Staff log in through the organisation's IdP by this id (careplan.eid); never set
    # for patients or relatives.
    hsa_id = models.CharField(
        _("HSA id"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The person's HSA-id, for logging in through the organisation's IdP."),
    )
    is_staff = models.BooleanField(_("admin access"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Kept by careplan.messaging (notify / mark read), so the site header shows the
    # count without a query of its own: the user row is loaded on every request anyway.
    unread_notifications = models.PositiveIntegerField(_("unread notifications"), default=0)
    # Staff only: how they are e-mailed about what waits for the care team.
    staff_email = models.CharField(
        _("e-mail about new work"),
        max_length=10,
        choices=StaffEmail.choices,
        default=StaffEmail.AT_ONCE,
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_admin_access_only_for_staff",
                condition=Q(is_staff=False) | Q(role="staff"),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_care_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_relative(self) -> bool:
        return self.role == Role.RELATIVE


class CareUnit(models.Model):
    class Kind(models.TextChoices):
        SPECIALIST = "specialist", _("Specialist clinic")
        PRIMARY = "primary", _("Primary care")
        PALLIATIVE = "palliative", _("Palliative care")
        REHABILITATION = "rehabilitation", _("Rehabilitation")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    hsa_id = models.CharField(
        _("HSA id"), max_length=64, unique=True, help_text=_("The unit's identifier (HSA-id).")
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    reachable = models.CharField(
        _("when reachable"), max_length=200, blank=True, help_text=_("For example Mon–Fri 8–16")
    )
    # The phone's opening hours as data, so the patient's advice can say "call 1177" when
    # the unit is closed. Empty: unknown (both the unit's number and 1177 are shown).
    phone_opens = models.TimeField(_("phone opens"), null=True, blank=True)
    phone_closes = models.TimeField(_("phone closes"), null=True, blank=True)
    phone_weekdays = models.CharField(
        _("phone open on weekdays"),
        max_length=7,
        default="12345",
        blank=True,
        help_text=_("Day numbers, 1 = Monday … 7 = Sunday; 12345 is Monday to Friday."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="StaffMembership",
        related_name="care_units",
        verbose_name=_("staff"),
    )

    class Meta:
        verbose_name = _("care unit")
        verbose_name_plural = _("care units")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def phone_open_at(self, when=None) -> bool | None:
        """Whether the unit's phone is open at ``when`` (local time); None if unknown."""
        if self.phone_opens is None or self.phone_closes is None:
            return None
        local = timezone.localtime(when or timezone.now())
        if str(local.isoweekday()) not in (self.phone_weekdays or ""):
            return False
        return self.phone_opens <= local.time() < self.phone_closes


class StaffMembership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    unit = models.ForeignKey(CareUnit, on_delete=models.CASCADE)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit"], name="staffmembership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit}"
