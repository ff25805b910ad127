from django import template

register = template.Library()


@register.simple_tag
def support_worklist(user):
    """The care map part of the admin worklist (see ``contacts.admin.support_worklist``)."""
    from contacts.admin import support_worklist as worklist

    return worklist(user)


@register.simple_tag
def handover_worklist(user):
    """Handovers on the admin worklist (see ``contacts.admin.handover_worklist``)."""
    from contacts.admin import handover_worklist as worklist

    return worklist(user)
