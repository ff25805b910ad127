"""Admin forms for active handovers (each calls a service in contacts/services.py)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careplan.admin.forms import NurseChoiceField, PatientChoiceField
from careplan.models import CareUnit, Patient, Role, User

SBAR_FIELDS = ("situation", "background", "assessment", "recommendation", "needs_and_wishes")


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: CareUnit) -> str:
        return f"{obj.name} ({obj.get_kind_display()})"


def _text(label, help_text="", rows=4, required=False):
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=required,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": rows, "cols": 80}),
    )


class HandoverTextForm(forms.Form):
    situation = _text(_("Situation"), _("Why the patient is handed over now."), required=True)
    background = _text(_("Background"), _("Disease, treatment given, started care."))
    assessment = _text(
        _("Current assessment"),
        _("Filled in from the latest scores and the rehab plan; check and add."),
        rows=6,
    )
    recommendation = _text(
        _("Recommendation"),
        _(
            "Follow-up plan: checks and when, the rehab plan, who does what (the patient's "
            "own part too), lifelong risks, where to turn."
        ),
        rows=6,
        required=True,
    )
    needs_and_wishes = _text(_("The patient's needs and wishes"))


class HandoverCreateForm(HandoverTextForm):
    patient = PatientChoiceField(label=_("Patient"), queryset=Patient.objects.none())
    to_unit = UnitChoiceField(
        label=_("Hand over to"),
        queryset=CareUnit.objects.all(),
        help_text=_("Primary care, palliative care, rehabilitation or another specialist unit."),
    )
    field_order = ["patient", "to_unit", *SBAR_FIELDS]

    def __init__(self, *args, patients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients


class HandoverAcceptForm(forms.Form):
    contact_nurse = NurseChoiceField(
        label=_("New contact nurse"), queryset=User.objects.none(), required=False
    )
    contact_made_on = forms.DateField(
        label=_("Contact with the patient made on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    contact_how = forms.CharField(
        label=_("How contact was made"),
        max_length=200,
        required=False,
        help_text=_("For example by phone or at a visit"),
    )

    def __init__(self, *args, unit_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_nurse"].queryset = User.objects.filter(
            role=Role.STAFF, is_active=True, care_units=unit_id
        ).order_by("last_name", "first_name")
        self.fields["contact_nurse"].error_messages["invalid_choice"] = _(
            "The contact nurse must work in the receiving unit."
        )
        self.initial.setdefault("contact_made_on", timezone.localdate())


class HandoverDeclineForm(forms.Form):
    decline_reason = forms.CharField(
        label=_("Reason for declining"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text=_("The sending unit reads this; they stay responsible."),
    )
