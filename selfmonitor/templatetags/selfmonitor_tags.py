from django import template

from careplan.models import Scope
from selfmonitor import admin as admin_worklists

register = template.Library()


@register.filter
def shares_questionnaires(plan) -> bool:
    """Whether the viewer of a plan page may see its questionnaires (no query)."""
    reach = getattr(plan, "reach", None)
    return bool(reach and reach.covers(Scope.QUESTIONNAIRES))


@register.simple_tag
def alert_worklist(user):
    """The alerts part of the admin worklist (see ``selfmonitor.admin.alert_worklist``)."""
    return admin_worklists.alert_worklist(user)
