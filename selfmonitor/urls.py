"""Questionnaires on the patient and relative web (included from careplan/urls.py)."""

from django.urls import path

from . import symptom_views, views

urlpatterns = [
    path("symptoms/new/", symptom_views.symptom_new, name="symptom_new"),
    path("symptoms/advice/<slug:symptom>/", symptom_views.symptom_advice, name="symptom_advice"),
    path("symptoms/<int:report_id>/", symptom_views.symptom_report, name="symptom_report"),
    path("plan/<int:pk>/questionnaires/", views.questionnaire_list, name="selfmonitor_list"),
    path(
        "plan/<int:pk>/questionnaires/trend/<slug:key>/",
        views.trend,
        name="selfmonitor_trend",
    ),
    path("questionnaires/<int:assignment_id>/", views.answer, name="selfmonitor_answer"),
    path(
        "questionnaires/<int:assignment_id>/autosave/",
        views.autosave,
        name="selfmonitor_autosave",
    ),
    path(
        "questionnaires/<int:assignment_id>/remind-later/",
        views.remind_later,
        name="selfmonitor_remind_later",
    ),
    path(
        "questionnaires/answers/<int:response_id>/",
        views.response_detail,
        name="selfmonitor_response",
    ),
]
