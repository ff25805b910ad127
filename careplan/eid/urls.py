from django.urls import path

from . import views

urlpatterns = [
    path("eid/<str:provider_id>/login/", views.login, name="eid_login"),
    path("eid/<str:provider_id>/login/callback/", views.callback, name="eid_callback"),
]
