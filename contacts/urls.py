"""The patient's care map and sharing, and the relative's invitation (web)."""

from django.urls import path

from . import views
from .handover import views as handover_views

urlpatterns = [
    path("care-map/", views.care_map, name="care_map"),
    path("care-map/print/", views.care_map_print, name="care_map_print"),
    path("care-map/support/", views.care_map_support, name="care_map_support"),
    path("care-map/versions/", views.care_map_versions, name="care_map_versions"),
    path("care-map/versions/<int:number>/", views.care_map_version, name="care_map_version"),
    path("care-map/<int:entry_id>/edit/", views.care_map_entry_edit, name="care_map_entry_edit"),
    path(
        "care-map/<int:entry_id>/delete/", views.care_map_entry_delete, name="care_map_entry_delete"
    ),
    path("sharing/", views.sharing, name="sharing"),
    path("sharing/invite/", views.invite, name="invite"),
    path("sharing/<int:grant_id>/", views.grant_change, name="grant_change"),
    path("sharing/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path(
        "sharing/invitations/<int:invitation_id>/cancel/",
        views.invitation_cancel,
        name="invitation_cancel",
    ),
    path("handover/<int:pk>/needs/", handover_views.handover_needs, name="handover_needs"),
    path("invitation/", views.invitation_accept, name="invitation_accept"),
    path("invitation/<str:token>/", views.invitation_open, name="invitation_open"),
]
