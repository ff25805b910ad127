"""Forms for the care map and for sharing. They validate input; writes go through
``contacts.services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CareMap, CareMapEntry, Scope


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class CareMapEntryForm(forms.ModelForm):
    class Meta:
        model = CareMapEntry
        fields = [
            "kind",
            "name",
            "relation",
            "closeness",
            "direction",
            "frequency",
            "phone",
            "email",
            "note",
            "is_child",
            "needs_support",
        ]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "needs_support": _("Tick if they would need support from the care team too."),
            "is_child": _("The care team offers children as relatives extra support."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = _("Write a name.")
        self.fields["email"].error_messages["invalid"] = _(
            "Enter an e-mail address like name@example.se."
        )


class MissingSupportForm(forms.ModelForm):
    class Meta:
        model = CareMap
        fields = ["missing_support"]
        widgets = {"missing_support": forms.Textarea(attrs={"rows": 3})}


class ScopesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(choices=Scope.choices, label=_("What to share"), **kwargs)
        self.error_messages["required"] = _("Choose at least one part to share.")
        self.error_messages["invalid_choice"] = _("“%(value)s” is not a part you can share.")


class InvitationForm(forms.Form):
    name = forms.CharField(label=_("Name (optional)"), max_length=200, required=False)
    email = forms.EmailField(
        label=_("Their e-mail address"),
        error_messages={
            "required": _("Enter the relative's e-mail address."),
            "invalid": _("Enter an e-mail address like name@example.se."),
        },
    )
    scopes = ScopesField()
    valid_until = forms.DateField(
        label=_("Shared until (optional)"),
        required=False,
        widget=DateInput(),
        help_text=_("Leave empty to share until you end it."),
        error_messages={"invalid": _("Enter a date, for example 2025-12-31.")},
    )


class GrantForm(forms.Form):
    scopes = ScopesField()
    valid_until = forms.DateField(
        label=_("Shared until (optional)"),
        required=False,
        widget=DateInput(),
        error_messages={"invalid": _("Enter a date, for example 2025-12-31.")},
    )
