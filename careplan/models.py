"""Core domain: people, care units, the care relation, the contact nurse, the care plan
and the access log.

Business rules that touch one object are methods here; writes that span several models
are in ``careplan/services.py``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import personnummer as pnr


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


def _localized(obj, field: str, lang: str | None = None) -> str:
    return getattr(obj, f"{field}_{_localized_language(obj, field, lang)}")


def _localized_language(obj, field: str, lang: str | None = None) -> str:
    """The language ``field`` is shown in: the reader's if the text has a version in it,
    else Swedish (content has Swedish and English versions so far)."""
    lang = (lang or get_language() or "sv")[:2]
    has_version = lang in ("sv", "en") and getattr(obj, f"{field}_{lang}", "")
    return lang if has_version else "sv"


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
    is_active = models.BooleanField(_("offered for new plans"), default=True)

    class Meta:
        verbose_name = _("plan template")
        verbose_name_plural = _("plan templates")
        ordering = ["diagnosis_area", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="plantemplate_slug_version"),
        ]

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


#: How far back and ahead a calendar entry may be dated (model and forms; the database
#: refuses anything outside 1900–2199, ``calendarevent_sensible_dates``).
CALENDAR_YEARS = 10
DB_FIRST_DATE = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
DB_END_DATE = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def calendar_window() -> tuple[dt.date, dt.date]:
    """The dates a calendar entry may have: today ± ``CALENDAR_YEARS`` (Stockholm)."""
    today = timezone.localdate()
    years = CALENDAR_YEARS
    try:
        return today.replace(year=today.year - years), today.replace(year=today.year + years)
    except ValueError:  # 29 February
        day = today - dt.timedelta(days=1)
        return day.replace(year=day.year - years), day.replace(year=day.year + years)


def calendar_date_error() -> str:
    first, last = calendar_window()
    return _(
        "Enter a date between %(first)s and %(last)s (the calendar reaches %(years)s years "
        "back and ahead)."
    ) % {"first": first.isoformat(), "last": last.isoformat(), "years": CALENDAR_YEARS}


class CalendarEvent(models.Model):
    class Kind(models.TextChoices):
        EXAMINATION = "examination", _("Examination")
        TREATMENT = "treatment", _("Treatment")
        VISIT = "visit", _("Visit")
        OTHER = "other", _("Other")

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.VISIT)
    title = models.CharField(_("what"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    location = models.CharField(_("where"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The key of the form (or the API's Idempotency-Key) it was added with: a second
    # submit of the same form finds this row instead of adding another.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("calendar event")
        verbose_name_plural = _("calendar events")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="calendarevent_ends_after_start",
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")),
            ),
            # One row per submit (``services.event_create``; this is the last defence).
            models.UniqueConstraint(
                fields=["created_by", "submission_key"],
                condition=Q(submission_key__isnull=False),
                name="calendarevent_once_per_submit",
            ),
            # A year-1 date was once stored and then could not even be read back (500s
            # everywhere). The model keeps a narrower window; this is the last defence.
            models.CheckConstraint(
                name="calendarevent_sensible_dates",
                condition=Q(starts_at__gte=DB_FIRST_DATE, starts_at__lt=DB_END_DATE)
                & (
                    Q(ends_at__isnull=True) | Q(ends_at__gte=DB_FIRST_DATE, ends_at__lt=DB_END_DATE)
                ),
            ),
        ]
        indexes = [
            # Serves "what is next" and the calendar: a plan's events by time.
            models.Index(fields=["plan", "starts_at"], name="calendarevent_plan_time"),
            # Serves the worklist's "calendar, the next days" over a unit's many plans:
            # upcoming entries in time order, stopping at the first ten of my patients
            # (at 100 000 plans, 485 ms without it, under 1 ms with it).
            models.Index(fields=["starts_at"], name="calendarevent_time"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        first, last = calendar_window()
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            try:
                inside = value is None or first <= timezone.localdate(value) <= last
            except (OverflowError, ValueError):  # beyond what a date can hold
                inside = False
            if not inside:
                errors[name] = calendar_date_error()
        if errors:
            raise ValidationError(errors)
        if self.ends_at and self.starts_at and self.ends_at < self.starts_at:
            raise ValidationError({"ends_at": _("The event cannot end before it starts.")})

    @property
    def is_past(self) -> bool:
        return (self.ends_at or self.starts_at) < timezone.now()

    def editable_by(self, user) -> bool:
        """Staff change any entry of a plan they reach; a patient only their own entries
        (the care team's bookings are read-only for the patient)."""
        if getattr(user, "role", None) == Role.PATIENT:
            return self.created_by_id == user.pk
        return True

    def added_by_label(self) -> str:
        user = self.created_by
        return f"{user} ({user.title})" if user.title else str(user)


class EventChangeRequestQuerySet(models.QuerySet["EventChangeRequest"]):
    def open(self) -> EventChangeRequestQuerySet:
        return self.filter(handled_at__isnull=True)


class EventChangeRequest(models.Model):
    """The patient asks the care team to change one of the team's calendar entries (the
    patient cannot change those). An item on the unit's worklist until handled."""

    event = models.ForeignKey(
        CalendarEvent,
        on_delete=models.CASCADE,
        related_name="change_requests",
        verbose_name=_("calendar entry"),
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", verbose_name=_("patient")
    )
    text = models.TextField(_("what the patient asks"), max_length=2000)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("asked"), default=timezone.now)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    note = models.TextField(_("what was done"), blank=True, max_length=2000)

    objects = EventChangeRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar change request")
        verbose_name_plural = _("calendar change requests")
        ordering = ["created_at", "id"]
        constraints = [
            # One open request per entry: a double submit finds it.
            models.UniqueConstraint(
                fields=["event"],
                condition=Q(handled_at__isnull=True),
                name="eventchangerequest_one_open",
            ),
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True) | ~Q(note=""),
                name="eventchangerequest_handled_with_note",
            ),
        ]
        indexes = [
            # The worklist: a unit's open requests, oldest first.
            models.Index(
                fields=["created_at"],
                condition=Q(handled_at__isnull=True),
                name="eventchangerequest_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event}: {self.text[:60]}"


class VisitQuestion(models.Model):
    """A question the patient wants to ask at the next visit: the patient's own list,
    which the care team reads on the patient overview (``careplan.selectors``)."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="visit_questions", db_index=False
    )
    text = models.TextField(_("question"), max_length=1000)
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("question for the next visit")
        verbose_name_plural = _("questions for the next visit")
        ordering = ["created_at", "id"]
        indexes = [
            # The patient's list and the care team's overview: a patient's questions.
            models.Index(fields=["patient", "created_at"], name="visitquestion_patient"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


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


class Outbox(models.Model):
    """Side effects stored in the same transaction as the change that caused them and
    relayed to Celery after commit, again by beat if the broker was down.

    A worker claims a row (``sending`` with a lease in ``next_attempt_at``), commits the
    claim, does the work outside any transaction, then marks it ``done``. A failure backs
    off (``next_attempt_at``) and after ``CAREPLAN_OUTBOX_MAX_ATTEMPTS`` parks the row as
    ``dead`` with its error for the admin (``careplan.tasks.run_outbox``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        SENDING = "sending", _("being sent")
        DONE = "done", _("done")
        DEAD = "dead", _("failed: needs attention")

    task = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    dedupe_key = models.CharField(_("key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("handed to the broker"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Pending: not before this time (back-off). Sending: the claim's lease ends then.
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox")
        indexes = [
            # Serves the relay: rows ready to run (waiting, or sending with a lapsed
            # lease) by the time they are due, so failing rows backing off stay out of
            # the way of the rest.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="outbox_ready",
            ),
            # Serves the admin's list of dead rows.
            models.Index(fields=["created_at"], condition=Q(status="dead"), name="outbox_dead"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.dedupe_key}"


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

MESSAGE_MAX_LENGTH = 4000
SUBJECT_MAX_LENGTH = 120


class MessageThreadQuerySet(models.QuerySet["MessageThread"]):
    def waiting(self) -> MessageThreadQuerySet:
        """Threads whose latest patient message has no answer yet."""
        return self.filter(awaiting_reply_since__isnull=False)

    def inbox_order(self) -> MessageThreadQuerySet:
        """The care team's order: unanswered first, the longest waiting first; then the
        rest, latest activity first."""
        return self.order_by(
            models.F("awaiting_reply_since").asc(nulls_last=True), "-last_message_at", "-id"
        )


class MessageThread(models.Model):
    """A conversation between a patient and the responsible care team: the unit, not one
    person. ``unit`` is the unit it was first addressed to; who may read and answer is
    decided by the patient's responsible unit now (``careplan.access``), so the history
    follows the patient when responsibility moves."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        HANDLED = "handled", _("Handled")

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="message_threads", verbose_name=_("patient")
    )
    unit = models.ForeignKey(
        CareUnit,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("first addressed to"),
    )
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    last_message_at = models.DateTimeField(_("latest message"), default=timezone.now)
    # The oldest patient message without an answer (None: nothing waits for the team).
    awaiting_reply_since = models.DateTimeField(_("waiting for an answer since"), null=True)
    last_patient_message_at = models.DateTimeField(null=True)
    last_staff_message_at = models.DateTimeField(null=True)
    # Read marks: the patient's, and the care team's (any member of the unit).
    patient_read_at = models.DateTimeField(null=True)
    staff_read_at = models.DateTimeField(null=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Set once per waiting period by the escalation job (Celery beat).
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    objects = MessageThreadQuerySet.as_manager()

    class Meta:
        verbose_name = _("message thread")
        verbose_name_plural = _("messages")
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="messagethread_handled_has_time",
                condition=~Q(status="handled") | Q(handled_at__isnull=False),
            ),
        ]
        indexes = [
            # Serves the patient's list: their threads, latest activity first.
            models.Index(fields=["patient", "-last_message_at"], name="thread_patient_latest"),
            # Serves the escalation job: threads waiting, oldest first.
            models.Index(
                fields=["awaiting_reply_since"],
                condition=Q(awaiting_reply_since__isnull=False, escalated_at__isnull=True),
                name="thread_waiting_unescalated",
            ),
            # Serves the worklist: waiting threads oldest first, stopping at the first of
            # my units' patients (at 2 000 waiting threads, 56 ms without it, 1 ms with).
            models.Index(
                fields=["awaiting_reply_since", "id"],
                condition=Q(awaiting_reply_since__isnull=False),
                name="thread_waiting",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def unread_for_patient(self) -> bool:
        last = self.last_staff_message_at
        return last is not None and (self.patient_read_at is None or self.patient_read_at < last)

    @property
    def unread_for_staff(self) -> bool:
        last = self.last_patient_message_at
        return last is not None and (self.staff_read_at is None or self.staff_read_at < last)


class Message(models.Model):
    """One message in a thread, by the patient or by a member of the care team."""

    thread = models.ForeignKey(
        MessageThread, on_delete=models.CASCADE, related_name="messages", verbose_name=_("thread")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    from_patient = models.BooleanField(_("from the patient"))
    # The unit a staff author answered for (None for the patient).
    unit = models.ForeignKey(
        CareUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("message"), max_length=MESSAGE_MAX_LENGTH)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    # As ``CalendarEvent.submission_key``: one message per submit of a form.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            # One row per submit (``messaging.message_send``; the last defence).
            models.UniqueConstraint(
                fields=["author", "submission_key"],
                condition=Q(submission_key__isnull=False),
                name="message_once_per_submit",
            ),
        ]
        indexes = [
            # Serves a thread's page: its messages in order.
            models.Index(fields=["thread", "created_at"], name="message_thread_time"),
        ]

    def __str__(self) -> str:
        return f"{self.author} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

    def author_label(self) -> str:
        user = self.author
        name = user.get_full_name() or str(user)
        return f"{name} ({user.title})" if (not self.from_patient and user.title) else name


class Notification(models.Model):
    """Something new for one user, shown in the site's notification list. The e-mail that
    goes with it only says that something is waiting (``careplan.messaging.notify``)."""

    class Kind(models.TextChoices):
        MESSAGE = "message", _("New message from your care team")
        PLAN_CHANGED = "plan_changed", _("Your care plan has changed")
        PATIENT_MESSAGE = "patient_message", _("New message from a patient")
        ESCALATION = "escalation", _("A message is waiting too long for an answer")
        # For the other apps' triggers (selfmonitor, contacts): call messaging.notify.
        QUESTIONNAIRE = "questionnaire", _("A questionnaire is waiting for you")
        ALERT = "alert", _("An alert needs the care team's attention")
        HANDOVER = "handover", _("A handover is waiting for your unit")
        OTHER = "other", _("Something new is waiting for you")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("to"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    # A short text for kinds other apps add later; the kind's label is used when empty.
    text = models.CharField(_("text"), max_length=200, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same news reaches a person once, however often it is triggered.
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notification_once_per_recipient"
            ),
        ]
        indexes = [
            # Serves the notification list: a user's newest first.
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.text or str(self.get_kind_display())


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
