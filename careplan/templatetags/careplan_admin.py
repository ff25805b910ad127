"""Template helpers for the staff admin."""

from __future__ import annotations

from django import template

from careplan.selectors import staff_worklist as build
from careplan.selectors import worklist

register = template.Library()


@register.simple_tag
def staff_worklist(user):
    """``{% staff_worklist request.user as worklist %}`` on the admin index: the data and
    its access-log rows come from ``careplan.selectors.staff_worklist``."""
    return build(user)


@register.simple_tag
def care_worklist(user):
    """``{% care_worklist request.user as items %}``: everything waiting for my units, most
    severe and oldest first (``careplan.selectors.worklist``, which logs the rows shown)."""
    return worklist(user)
