from django import template

from contacts import admin as admin_worklists

register = template.Library()


@register.simple_tag
def support_worklist(user):
    """The care map part of the admin worklist (see ``contacts.admin.support_worklist``)."""
    return admin_worklists.support_worklist(user)


@register.simple_tag
def handover_worklist(user):
    """Handovers on the admin worklist (see ``contacts.admin.handover_worklist``)."""
    return admin_worklists.handover_worklist(user)
