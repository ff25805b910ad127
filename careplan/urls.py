from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView
from oauth2_provider.views import TokenView

from . import views
from .admin import worklist as admin_worklist
from .api_errors import RedocView, SwaggerView, api_not_found

# django-oauth-toolkit's own admin pages stay out of the staff admin: /fhir/ clients are
# made with ``manage.py fhir_client`` (careplan.fhir_clients).
for _model in [m for m in admin.site._registry if m._meta.app_label == "oauth2_provider"]:
    admin.site.unregister(_model)

admin.site.site_header = settings.CAREPLAN_SITE_NAME
admin.site.site_title = settings.CAREPLAN_SITE_NAME
admin.site.index_title = _("Care team workspace")

urlpatterns = [
    # The admin logs in through allauth, so staff pass the two-factor step.
    path("admin/login/", admin_worklist.admin_login, name="admin_login_redirect"),
    path(
        "admin/notifications/",
        admin.site.admin_view(admin_worklist.notifications_view),
        name="admin_notifications",
    ),
    path(
        "admin/notifications/<int:pk>/",
        admin.site.admin_view(admin_worklist.open_notification),
        name="admin_notification_open",
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("api/v1/", include("careplan.api_urls")),
    path("fhir/", include("careplan.fhir_urls")),
    # OAuth2 token endpoint for /fhir/ machine clients (client credentials).
    path("o/token/", TokenView.as_view(), name="oauth2-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="api-redoc"),
    # Anything else under /api/ is a JSON 404 with a stable code, never an HTML page.
    re_path(r"^api/(?P<rest>[\s\S]*)$", api_not_found, name="api-not-found"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that do not name one (the admin).
    path("favicon.ico", views.favicon, name="favicon"),
    path("", include("careplan.web_urls")),
    path("", include("selfmonitor.urls")),
    path("", include("rehab.urls")),
    path("", include("contacts.urls")),
]

handler400 = "careplan.views.error_400"
handler403 = "careplan.views.error_403"
handler404 = "careplan.views.error_404"
handler500 = "careplan.views.error_500"
