"""Forms for the staff admin (``careplan.admin``).

Forms validate what was typed and show clear messages; the writes happen in
``careplan/services.py``. ``apply_service_error`` turns a service's refusal into form
errors, so a refused save re-renders the form with everything the nurse typed.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import personnummer as pnr
from .. import services
from ..forms import submission_field
from ..models import (
    MESSAGE_MAX_LENGTH,
    CalendarEvent,
    CarePlan,
    CareUnit,
    MessageThread,
    Patient,
    PlanSection,
    PlanTemplate,
    Role,
    User,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def apply_service_error(form: forms.Form, exc: ValidationError | PermissionDenied) -> None:
    """Show a service's ValidationError/PermissionDenied on the form that asked for it."""
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc) or _("You may not do this for this patient."))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    form.add_error(None, exc)


def call_service(form: forms.Form, service, **kwargs):
    """Run a service; on refusal put its message on ``form`` and return ``None``."""
    try:
        return service(**kwargs)
    except (ValidationError, PermissionDenied) as exc:
        apply_service_error(form, exc)
        return None


class PatientChoiceField(forms.ModelChoiceField):
    """Patients of my units, named with the masked personal identity number."""

    default_error_messages = {
        "invalid_choice": _(
            "This patient is not cared for by any of your care units. You can only work "
            "with patients your units are responsible for."
        ),
    }

    def label_from_instance(self, obj: Patient) -> str:
        return f"{obj.last_name}, {obj.first_name} ({obj.personnummer_masked})"


class NurseChoiceField(forms.ModelChoiceField):
    default_error_messages = {
        "invalid_choice": _("Choose a nurse who works in the patient's responsible care unit."),
    }

    def label_from_instance(self, obj: User) -> str:
        return f"{obj} ({obj.title})" if obj.title else str(obj)


class PlanChoiceField(forms.ModelChoiceField):
    default_error_messages = {
        "invalid_choice": _(
            "This care plan belongs to a patient your care units are not responsible for."
        ),
    }

    def label_from_instance(self, obj: CarePlan) -> str:
        return f"{obj.patient} – {obj.title} ({obj.get_status_display()})"


def unit_staff(unit_ids) -> QuerySet[User]:
    return (
        User.objects.filter(role=Role.STAFF, is_active=True, care_units__in=unit_ids)
        .distinct()
        .order_by("last_name", "first_name")
    )


# --- Patient -----------------------------------------------------------------------------

_PNR_UNIQUE = _(
    "A patient with this personal identity number is already registered. If another care "
    "unit is responsible, ask them for a handover."
)


class PatientChangeForm(forms.ModelForm):
    """The full personal identity number is shown and edited here only (lists mask it)."""

    class Meta:
        model = Patient
        fields = [
            "first_name",
            "last_name",
            "personnummer",
            "phone",
            "email",
            "address",
            "language",
            "needs_interpreter",
        ]

    personnummer = forms.CharField(
        label=_("Personal identity number"),
        max_length=13,
        help_text=_("YYYYMMDD-NNNN"),
        error_messages={"unique": _PNR_UNIQUE},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.personnummer:
            self.initial["personnummer"] = pnr.formatted(self.instance.personnummer)

    def clean_personnummer(self) -> str:
        """Stored as twelve digits; typed with or without the dash (clear message if not)."""
        return pnr.normalize(self.cleaned_data["personnummer"])


class PatientAddForm(PatientChangeForm):
    """Register a patient for one of my units (``services.patient_register``)."""

    unit = forms.ModelChoiceField(
        label=_("Responsible care unit"),
        queryset=CareUnit.objects.none(),
        help_text=_("The unit that takes responsibility for the patient."),
    )
    #: set per request by ``PatientAdmin.get_form``
    unit_ids: frozenset[int] = frozenset()

    class Meta(PatientChangeForm.Meta):
        fields = [*PatientChangeForm.Meta.fields, "unit"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        units = CareUnit.objects.filter(id__in=self.unit_ids)
        field = self.fields["unit"]
        field.queryset = units
        if len(self.unit_ids) == 1:
            field.initial = next(iter(self.unit_ids))
            field.widget = forms.HiddenInput()


# --- Contact nurse -----------------------------------------------------------------------


class ContactNurseForm(forms.Form):
    """Name the contact nurse (``services.contact_nurse_assign``). With ``patients`` the
    form also asks which patient (the plain "add" page of the assignments list)."""

    patient = PatientChoiceField(label=_("Patient"), queryset=Patient.objects.none())
    nurse = NurseChoiceField(label=_("Contact nurse"), queryset=User.objects.none())
    direct_phone = forms.CharField(
        label=_("Direct phone"),
        max_length=40,
        required=False,
        help_text=_("Leave empty to show the unit's phone number."),
    )
    reachable = forms.CharField(
        label=_("When reachable"),
        max_length=200,
        required=False,
        help_text=_("For example Mon–Thu 8–12"),
    )
    started_on = forms.DateField(label=_("From"), widget=DATE_INPUT)

    def __init__(self, *args, unit_ids, patients=None, refuse_if_named=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.refuse_if_named = refuse_if_named
        self.refused_assignment = None
        if patients is None:
            del self.fields["patient"]
        else:
            self.fields["patient"].queryset = patients
        self.fields["nurse"].queryset = unit_staff(unit_ids)
        self.fields["started_on"].initial = timezone.localdate()

    def clean_patient(self) -> Patient:
        patient = self.cleaned_data["patient"]
        current = patient.contact_nurse_assignment() if self.refuse_if_named else None
        if current is not None:
            self.refused_assignment = current
            raise ValidationError(
                _(
                    "%(patient)s already has a named contact nurse (%(nurse)s since "
                    "%(since)s). Use “Name contact nurse” on the patient to change it: the "
                    "previous assignment then ends and the history is kept."
                ),
                code="contact_nurse_exists",
                params={"patient": patient, "nurse": current.nurse, "since": current.started_on},
            )
        return patient


# --- Care plan ---------------------------------------------------------------------------


class PlanCreateForm(forms.Form):
    """Create a plan from a diagnosis template (``services.plan_create_from_template``)."""

    patient = PatientChoiceField(label=_("Patient"), queryset=Patient.objects.none())
    template = forms.ModelChoiceField(
        label=_("Plan template"),
        queryset=PlanTemplate.objects.filter(is_active=True),
        help_text=_("The diagnosis-specific content the plan starts from."),
    )
    diagnosis = forms.CharField(
        label=_("Diagnosis"),
        max_length=200,
        required=False,
        help_text=_("In words the patient uses"),
    )

    def __init__(self, *args, patients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients


def _version_field() -> forms.IntegerField:
    """The version the nurse opened; a save from an older one is a conflict."""
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


def _shown(value) -> str:
    if value in (None, ""):
        return gettext("(empty)")
    if hasattr(value, "isoformat"):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def check_edit_version(form: forms.ModelForm, conflict_of) -> None:
    """Refuse a save made from an older version, keeping what the nurse typed.

    ``conflict_of(version)`` locks the object and returns the ``EditConflict`` (or None).
    The other person's edit is shown at each field the nurse changed, and the form
    now carries the current version: looking it over and saving again goes through."""
    version = form.cleaned_data.get("version")
    if version is None:
        if "version" not in form.errors:
            form.add_error(
                None, _("This page is out of date. Reload it and make your change again.")
            )
        return
    conflict = conflict_of(version)
    if conflict is None:
        return
    current, change = conflict.current, conflict.last_change
    who = (
        gettext("%(name)s, %(time)s")
        % {
            "name": change.by or gettext("someone"),
            "time": formats.date_format(timezone.localtime(change.at), "SHORT_DATETIME_FORMAT"),
        }
        if change is not None
        else gettext("someone")
    )
    form.add_error(
        None,
        ValidationError(
            _(
                "%(problem)s Saved by %(who)s. Nothing of yours was saved, and what you typed "
                "is kept below; the text saved meanwhile is shown at each field you changed. "
                "Merge the two, then save again."
            ),
            code="conflict",
            params={"problem": conflict.message, "who": who},
        ),
    )
    for name in form.changed_data:
        if name == "version" or not hasattr(current, name):
            continue
        if services.normalize_newlines(form.cleaned_data.get(name)) != getattr(current, name):
            form.add_error(
                name,
                ValidationError(
                    _("Saved meanwhile: %(value)s"),
                    code="conflict",
                    params={"value": _shown(getattr(current, name))},
                ),
            )
    data = form.data.copy()
    data[form.add_prefix("version")] = str(current.version)
    form.data = data


class CarePlanChangeForm(forms.ModelForm):
    """Establishing is a button (it needs a contact nurse); here a plan can only stay as
    it is or be closed, and a closed plan stays closed."""

    class Meta:
        model = CarePlan
        fields = [
            "title",
            "diagnosis",
            "phase",
            "status",
            "contact_nurse_offered_on",
            "established_on",
            "followup_plan",
            "treatment_summary",
        ]
        widgets = {"contact_nurse_offered_on": DATE_INPUT, "established_on": DATE_INPUT}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("version", self.instance.version)
        if "status" in self.fields:
            current = self.instance.status or CarePlan.Status.DRAFT
            allowed = {current, CarePlan.Status.CLOSED}
            self.fields["status"].choices = [
                (value, label) for value, label in CarePlan.Status.choices if value in allowed
            ]
            self.fields["status"].help_text = _(
                "Use “Establish plan” to establish a draft with the patient."
            )

    version = _version_field()

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            # Locks the plan until the admin's transaction ends: the sections' forms and
            # the save (``services.plan_update``) run behind this check, not beside it.
            plan = services.plan_lock_for_edit(plan=self.instance)
            check_edit_version(
                self, lambda version: services.plan_conflict(plan=plan, version=version)
            )
        if (
            data.get("status", self.instance.status) == CarePlan.Status.ACTIVE
            and "established_on" in self.fields
            and not data.get("established_on")
            and "established_on" not in self.errors
        ):
            self.add_error(
                "established_on", _("An established plan needs the date it was established.")
            )
        return data


class PlanSectionForm(forms.ModelForm):
    """A section in the plan's admin page; saved with the plan by ``services.plan_update``
    (the plan's form has locked the plan when this one is checked)."""

    version = _version_field()

    class Meta:
        model = PlanSection
        fields = ["title_sv", "title_en", "personal_note", "body_sv", "body_en"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("version", self.instance.version)

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.has_changed():
            check_edit_version(self, self._conflict)
        return data

    def _conflict(self, version: int):
        section = PlanSection.objects.select_related("plan").get(pk=self.instance.pk)
        return services.section_conflict(section=section, version=version)


class CalendarEventForm(forms.ModelForm):
    """A calendar entry; the model refuses an end before the start with a clear message.
    ``submission``: a second submit of the same add form adds nothing."""

    submission = submission_field()

    class Meta:
        model = CalendarEvent
        fields = ["plan", "kind", "title", "starts_at", "ends_at", "location", "note"]


# --- Users -------------------------------------------------------------------------------

_STAFF_ONLY = _("Only users with the care team role can have admin access.")
_HSA_STAFF_ONLY = _("Only users with the care team role log in with an HSA-id.")


class UserChangeForm(auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean(self):
        data = super().clean()
        if data.get("is_staff") and data.get("role") != Role.STAFF:
            self.add_error("is_staff", _STAFF_ONLY)
        if data.get("hsa_id") and data.get("role") != Role.STAFF:
            self.add_error("hsa_id", _HSA_STAFF_ONLY)
        return data


class UserCreationForm(auth_forms.AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "role", "hsa_id", "title", "is_staff")

    def clean(self):
        data = super().clean()
        if data.get("is_staff") and data.get("role") != Role.STAFF:
            self.add_error("is_staff", _STAFF_ONLY)
        if data.get("hsa_id") and data.get("role") != Role.STAFF:
            self.add_error("hsa_id", _HSA_STAFF_ONLY)
        return data


class MessageAnswerForm(forms.ModelForm):
    """The care team's answer on a thread's admin page, and "mark handled". The text is
    checked here so a refusal keeps what was typed; the write is
    ``careplan.messaging.message_send``."""

    answer = forms.CharField(
        label=_("Answer"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text=lazy(
            lambda: (
                gettext(
                    "The patient sees your name and title, and gets a notification that says "
                    "only that something new is waiting. At most %(max)s characters."
                )
                % {"max": MESSAGE_MAX_LENGTH}
            ),
            str,
        )(),
    )
    submission = submission_field()
    mark_handled = forms.BooleanField(
        label=_("Mark handled"),
        required=False,
        help_text=_("Removes the thread from the list of threads waiting for an answer."),
    )

    class Meta:
        model = MessageThread
        fields: list[str] = []

    def clean(self):
        cleaned = super().clean()
        answer = cleaned.get("answer") or ""
        if len(answer.strip()) > MESSAGE_MAX_LENGTH:
            self.add_error(
                "answer",
                _(
                    "This is %(length)s characters long; at most %(max)s fit. "
                    "Shorten it, or split it into two messages."
                )
                % {"length": len(answer.strip()), "max": MESSAGE_MAX_LENGTH},
            )
        elif not answer.strip() and not cleaned.get("mark_handled"):
            self.add_error(
                "answer", _("Write an answer, or tick “Mark handled” if none is needed.")
            )
        return cleaned
