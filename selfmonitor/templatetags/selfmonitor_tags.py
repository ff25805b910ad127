from django import template

from contacts.models import Scope

register = template.Library()


@register.filter
def shares_questionnaires(plan) -> bool:
    """Whether the viewer of a plan page may see its questionnaires (no query)."""
    reach = getattr(plan, "reach", None)
    return bool(reach and reach.covers(Scope.QUESTIONNAIRES))
