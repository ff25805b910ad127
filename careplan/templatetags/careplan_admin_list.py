"""The change list's template tags, written in Python (the same HTML, less CPU a page):

- ``{% careplan_result_list cl %}``: Django's ``{% result_list cl %}``, the whole
  ``change_list_results.html`` from ``careplan.admin.results`` (Django's template and tag
  where that module does not write it);
- ``{% careplan_search_form cl %}``, ``{% careplan_pagination cl %}``,
  ``{% careplan_filters cl %}``: the search form, the page links and the filters sidebar
  (``careplan.admin.page``; Django's templates where a model has its own);
- ``{% careplan_media_js media %}``: ``{{ media.js }}``, kept per list of scripts;
- ``{% careplan_actions %}``: the ``actions`` block of ``admin/actions.html``, the action
  form's fields rendered once per list's actions and language (``careplan.admin.page``);
- ``{% careplan_userlinks %}``: Django's ``userlinks`` block of ``admin/base.html``
  (``careplan.admin.page``).
"""

from __future__ import annotations

from django import template
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.base import InclusionAdminNode

from careplan.admin import page
from careplan.admin.results import result_list, result_list_html

register = template.Library()


class _WrittenNode(InclusionAdminNode):
    """An admin inclusion tag whose HTML ``write(cl)`` gives, or Django's template where
    it gives ``None``."""

    def __init__(self, parser, token, write, **kwargs) -> None:
        super().__init__(parser, token, takes_context=False, **kwargs)
        self.write = write

    def render(self, context):
        html = self.write(self.args[0].resolve(context))
        if html is None:
            return super().render(context)
        return html


@register.tag(name="careplan_result_list")
def careplan_result_list_tag(parser, token):
    return _WrittenNode(
        parser,
        token,
        result_list_html,
        func=result_list,
        template_name="change_list_results.html",
    )


@register.tag(name="careplan_search_form")
def careplan_search_form_tag(parser, token):
    return _WrittenNode(
        parser,
        token,
        page.search_form,
        func=admin_list.search_form,
        template_name="search_form.html",
    )


@register.tag(name="careplan_pagination")
def careplan_pagination_tag(parser, token):
    return _WrittenNode(
        parser,
        token,
        page.pagination,
        func=admin_list.pagination,
        template_name="pagination.html",
    )


@register.simple_tag
def careplan_filters(cl):
    return page.filters(cl)


@register.simple_tag
def careplan_media_js(media):
    return page.media_js(media)


@register.simple_tag(takes_context=True)
def careplan_actions(context):
    return page.actions(context)


@register.simple_tag(takes_context=True)
def careplan_userlinks(context):
    return page.userlinks(context)


@register.simple_tag(takes_context=True)
def careplan_header(context):
    return page.header(context)


@register.simple_tag(takes_context=True)
def careplan_changelist_style(context):
    return page.changelist_style(context)


@register.simple_tag
def careplan_changelist_breadcrumbs(cl):
    return page.changelist_breadcrumbs(cl)


class _ObjectToolsNode(InclusionAdminNode):
    """``{% change_list_object_tools %}``, written by ``careplan.admin.page.object_tools``
    where the model has Django's template."""

    def render(self, context):
        html = page.object_tools(context)
        if html is None:
            return super().render(context)
        return html


@register.tag(name="careplan_object_tools")
def careplan_object_tools_tag(parser, token):
    return _ObjectToolsNode(
        parser,
        token,
        func=lambda context: context,
        template_name="change_list_object_tools.html",
    )


@register.simple_tag(takes_context=True)
def careplan_head(context, name):
    return page.head(name, context)
