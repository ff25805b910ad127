"""The template backend: Django's, whose ``{% load i18n %}`` is
``careplan/templatetags/careplan_i18n.py`` (Django's library with a literal
``{% translate %}`` kept per language) and whose ``{% load static %}`` is
``careplan/templatetags/careplan_static.py`` (a static file's URL kept per process).

Mapping a label to another module is what Django's ``templates.W003`` check warns of;
these mappings are deliberate, so this backend leaves them out of the check and keeps the
warning for any other label used twice.
"""

from __future__ import annotations

from django.template.backends.django import DjangoTemplates

# label -> (Django's module, ours): the labels this backend maps to its own library.
LIBRARIES = {
    "i18n": ("django.templatetags.i18n", "careplan.templatetags.careplan_i18n"),
    "static": ("django.templatetags.static", "careplan.templatetags.careplan_static"),
}


class Templates(DjangoTemplates):
    def __init__(self, params):
        params = params.copy()
        options = dict(params.get("OPTIONS", {}))
        options["libraries"] = {
            **{label: ours for label, (_django, ours) in LIBRARIES.items()},
            **options.get("libraries", {}),
        }
        params["OPTIONS"] = options
        super().__init__(params)

    def _check_for_template_tags_with_the_same_name(self):
        return [
            warning
            for warning in super()._check_for_template_tags_with_the_same_name()
            if not _deliberate(warning.msg)
        ]


def _deliberate(message: str) -> bool:
    """Whether a W003 message names one of ``LIBRARIES``' labels with exactly Django's
    module and ours."""
    label, _sep, modules = message.partition(" is used for multiple template tag modules: ")
    mapped = LIBRARIES.get(label.strip("'"))
    return mapped is not None and set(modules.replace("'", "").split(", ")) == set(mapped)
