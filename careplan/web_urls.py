"""Patient and relative web site (URL names agreed in the common brief)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("plan/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plan/<int:pk>/section/<slug:key>/", views.plan_section, name="plan_section"),
    path("plan/<int:pk>/calendar/", views.plan_calendar, name="plan_calendar"),
    path("plan/<int:pk>/calendar/<int:event_id>/edit/", views.event_edit, name="event_edit"),
    path(
        "plan/<int:pk>/calendar/<int:event_id>/delete/",
        views.event_delete,
        name="event_delete",
    ),
    path("plan/<int:pk>/print.pdf", views.plan_pdf, name="plan_pdf"),
    path("me/access-log/", views.my_access_log, name="my_access_log"),
]
