"""The bench's URLconf: the site plus the bare-Django baseline (never in production: only
``careplan.bench_settings`` names this module, and it refuses to load in production)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from . import urls
from .models import CareUnit


def baseline(request: HttpRequest, pk: int) -> HttpResponse:
    """The floor the bench compares every page with: read one row by primary key."""
    unit = CareUnit.objects.only("id", "name").get(pk=pk)
    return HttpResponse(unit.name, content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("__bench__/baseline/<int:pk>/", baseline, name="bench_baseline"),
    *urls.urlpatterns,
]

handler400 = urls.handler400
handler403 = urls.handler403
handler404 = urls.handler404
handler500 = urls.handler500
