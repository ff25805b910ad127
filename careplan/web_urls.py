"""Patient and relative web site (URL names agreed in the common brief)."""

from django.urls import path

from . import message_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("shared/", views.shared_with_me, name="shared_with_me"),
    path("plan/<int:pk>/", views.plan_detail, name="plan_detail"),
    path("plan/<int:pk>/section/<slug:key>/", views.plan_section, name="plan_section"),
    path("plan/<int:pk>/calendar/", views.plan_calendar, name="plan_calendar"),
    path("plan/<int:pk>/calendar/<int:event_id>/edit/", views.event_edit, name="event_edit"),
    path(
        "plan/<int:pk>/calendar/<int:event_id>/delete/",
        views.event_delete,
        name="event_delete",
    ),
    path(
        "plan/<int:pk>/calendar/<int:event_id>/request-change/",
        views.event_change_request,
        name="event_change_request",
    ),
    path("plan/<int:pk>/print.pdf", views.plan_pdf, name="plan_pdf"),
    path("me/access-log/", views.my_access_log, name="my_access_log"),
    path("me/questions/", views.visit_questions, name="visit_questions"),
    # Messages with the care team, and notifications (careplan/message_views.py).
    path("messages/", message_views.message_list, name="message_list"),
    path("messages/new/", message_views.message_new, name="message_new"),
    path("messages/<int:pk>/", message_views.message_thread, name="message_thread"),
    path("notifications/", message_views.notification_list, name="notification_list"),
    path("notifications/read/", message_views.notifications_read, name="notifications_read"),
    path("notifications/<int:pk>/", message_views.notification_open, name="notification_open"),
]
