"""/fhir/: the read-only FHIR R4 endpoint (careplan.fhir_views)."""

from django.urls import path, re_path

from . import fhir_views as views

urlpatterns = [
    path("metadata", views.MetadataView.as_view(), name="fhir-metadata"),
    path("Observation", views.ObservationSearch.as_view(), name="fhir-observation-search"),
    path(
        "QuestionnaireResponse",
        views.QuestionnaireResponseSearch.as_view(),
        name="fhir-questionnaire-response-search",
    ),
    path("Patient/<str:rid>/$everything", views.EverythingView.as_view(), name="fhir-everything"),
    re_path(
        r"^(?P<resource_type>[A-Za-z]+)/(?P<rid>[A-Za-z0-9\-.]{1,64})$",
        views.ReadView.as_view(),
        name="fhir-read",
    ),
    re_path(r"^(?P<rest>[\s\S]*)$", views.NotFoundView.as_view(), name="fhir-not-found"),
]
