"""The change list's template tags, written in Python (the same HTML, less CPU a page):

- ``{% careplan_result_list cl %}``: Django's ``{% result_list cl %}``, the whole
  ``change_list_results.html`` from ``careplan.admin.results`` (Django's template and tag
  where that module does not write it);
- ``{% careplan_action_fields action_form %}``: the action form's fields as
  ``admin/actions.html`` loops over them (``careplan.admin.page``);
- ``{% careplan_userlinks %}``: Django's ``userlinks`` block of ``admin/base.html``
  (``careplan.admin.page``).
"""

from __future__ import annotations

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from careplan.admin import page
from careplan.admin.results import result_list, result_list_html

register = template.Library()


class _ResultListNode(InclusionAdminNode):
    def render(self, context):
        cl = self.args[0].resolve(context)
        html = result_list_html(cl)
        if html is None:
            return super().render(context)
        return html


@register.tag(name="careplan_result_list")
def careplan_result_list_tag(parser, token):
    return _ResultListNode(
        parser,
        token,
        func=result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )


@register.simple_tag
def careplan_action_fields(action_form):
    return page.action_fields(action_form)


@register.simple_tag(takes_context=True)
def careplan_userlinks(context):
    return page.userlinks(context)
