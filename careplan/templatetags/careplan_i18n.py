"""Django's ``i18n`` template library, with ``{% translate "a literal" %}`` worked out
once per language instead of on every render.

``TEMPLATES["OPTIONS"]["libraries"]`` maps the label ``i18n`` here, so every template
that says ``{% load i18n %}`` (ours and the admin's) gets it. Every other tag and filter
is Django's own. A ``{% translate %}`` of a string literal, without filters and with no
context or a literal one, gives the same text for the same active language every time:
the node keeps that text per (language, autoescape) — a page of forty such tags spent
about a millisecond asking gettext for them. Anything else (a variable, a filter, a
context from a variable) is translated as Django does, on every render.
"""

from __future__ import annotations

from django import template
from django.template.base import FilterExpression
from django.templatetags import i18n as django_i18n
from django.utils import translation

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


def _is_literal(expression: FilterExpression | None) -> bool:
    return (
        expression is not None
        and not expression.filters
        and getattr(expression.var, "literal", None) is not None
        and isinstance(expression.var.literal, str)
    )


class LiteralTranslateNode(django_i18n.TranslateNode):
    """A ``TranslateNode`` whose text is kept per language once rendered (literals only)."""

    def __init__(self, filter_expression, noop, asvar=None, message_context=None):
        super().__init__(filter_expression, noop, asvar, message_context)
        self.literal = _is_literal(self.filter_expression) and (
            message_context is None or _is_literal(message_context)
        )
        self.texts: dict[tuple[str | None, bool], str] = {}

    def render(self, context):
        if not self.literal:
            return super().render(context)
        key = (translation.get_language(), context.autoescape)
        text = self.texts.get(key)
        if text is None:
            text = self.texts[key] = self._text(context)
        if self.asvar:
            context[self.asvar] = text
            return ""
        return text

    def _text(self, context) -> str:
        """``TranslateNode.render`` without ``asvar``: the text itself."""
        from django.template.base import render_value_in_context
        from django.utils.safestring import SafeData, mark_safe

        self.filter_expression.var.translate = not self.noop
        if self.message_context:
            self.filter_expression.var.message_context = self.message_context.resolve(context)
        value = render_value_in_context(self.filter_expression.resolve(context), context)
        is_safe = isinstance(value, SafeData)
        value = value.replace("%%", "%")
        return mark_safe(value) if is_safe else value  # noqa: S308 - Django's own rule


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = django_i18n.do_translate(parser, token)
    return LiteralTranslateNode(node.filter_expression, node.noop, node.asvar, node.message_context)
