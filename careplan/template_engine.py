"""The template backend: Django's, whose ``{% load i18n %}`` is
``careplan/templatetags/careplan_i18n.py`` (Django's library with a literal
``{% translate %}`` kept per language).

Mapping a label to another module is what Django's ``templates.W003`` check warns of;
that one mapping is deliberate, so this backend leaves it out of the check and keeps the
warning for any other label used twice.
"""

from __future__ import annotations

from django.template.backends.django import DjangoTemplates

I18N_LIBRARIES = {"django.templatetags.i18n", "careplan.templatetags.careplan_i18n"}


class Templates(DjangoTemplates):
    def __init__(self, params):
        params = params.copy()
        options = dict(params.get("OPTIONS", {}))
        options["libraries"] = {
            "i18n": "careplan.templatetags.careplan_i18n",
            **options.get("libraries", {}),
        }
        params["OPTIONS"] = options
        super().__init__(params)

    def _check_for_template_tags_with_the_same_name(self):
        return [
            warning
            for warning in super()._check_for_template_tags_with_the_same_name()
            if not warning.msg.startswith("'i18n' is used for multiple template tag modules: ")
            or set(warning.msg.split(": ", 1)[1].replace("'", "").split(", ")) != I18N_LIBRARIES
        ]
