"""Template helpers for the staff admin."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def staff_worklist(user):
    """``{% staff_worklist request.user as worklist %}`` on the admin index: the data and
    its access-log rows come from ``careplan.admin.staff_worklist``."""
    from careplan.admin import staff_worklist as build

    return build(user)


@register.simple_tag
def change_request_worklist(user):
    """``{% change_request_worklist request.user as work %}``: patients' open requests to
    change the care team's calendar entries (``careplan.admin.change_request_worklist``)."""
    from careplan.admin import change_request_worklist as build

    return build(user)
