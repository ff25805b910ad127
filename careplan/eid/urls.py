from django.urls import include, path, re_path

from . import views

urlpatterns = [
    re_path(
        r"^eid/(?P<provider_id>[^/]+)/",
        include(
            [
                path("login/", views.login, name="eid_login"),
                path("login/callback/", views.callback, name="eid_callback"),
            ]
        ),
    )
]
