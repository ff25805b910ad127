from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from . import admin_worklist, views

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
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("careplan.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
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
