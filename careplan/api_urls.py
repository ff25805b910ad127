"""/api/v1/: every app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from careplan import api as careplan_api

router = DefaultRouter()
router.register("plans", careplan_api.PlanViewSet, basename="plan")
router.register("sections", careplan_api.SectionViewSet, basename="section")
router.register("events", careplan_api.EventViewSet, basename="event")
router.register("contact-nurse", careplan_api.ContactNurseViewSet, basename="contact-nurse")

urlpatterns = router.urls
