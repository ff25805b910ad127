"""The care team's admin site: Django's, without the per-page cost of the model sidebar.

Installed as the default site (``careplan.apps.CareplanAdminConfig`` in INSTALLED_APPS
instead of ``django.contrib.admin``), so ``admin.site`` and ``@admin.register`` are
unchanged. Two differences, both for the cost of every admin page (issue 16):

- no navigation sidebar (``enable_nav_sidebar``): it rendered every registered model on
  every page (about 6 ms of CPU per page); the start page (the worklist) lists the models
  and every page has its breadcrumbs;
- ``available_apps`` in each page's context is built only when a template asks for it
  (Django builds the whole app list, with a permission check per model, on every page);
  the same for the start page's ``app_list``.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.template.response import TemplateResponse
from django.utils.functional import SimpleLazyObject


class CareplanAdminSite(admin.AdminSite):
    enable_nav_sidebar = False

    def index(self, request, extra_context=None):
        """The start page (the worklist, ``templates/admin/index.html``) with the app list
        built only when the page renders it: the template keeps it rendered per user and
        language for a while (``{% cache %}``), so most requests never build it."""
        context = {
            **self.each_context(request),
            "title": self.index_title,
            "subtitle": None,
            "app_list": SimpleLazyObject(lambda: self.get_app_list(request)),
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, self.index_template or "admin/index.html", context)

    def each_context(self, request):
        script_name = request.META["SCRIPT_NAME"]
        site_url = script_name if self.site_url == "/" and script_name else self.site_url
        return {
            "site_title": self.site_title,
            "site_header": self.site_header,
            "site_url": site_url,
            "has_permission": self.has_permission(request),
            "available_apps": SimpleLazyObject(lambda: self.get_app_list(request)),
            "is_popup": False,
            "is_nav_sidebar_enabled": self.enable_nav_sidebar,
            "log_entries": self.get_log_entries(request),
        }


class CareplanAdminConfig(AdminConfig):
    default_site = "careplan.admin_site.CareplanAdminSite"
