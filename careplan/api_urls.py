"""/api/v1/: every app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from careplan import api as careplan_api
from careplan import message_api
from contacts import api as contacts_api
from rehab import api as rehab_api
from selfmonitor import api as selfmonitor_api

router = DefaultRouter()
router.register("plans", careplan_api.PlanViewSet, basename="plan")
router.register("sections", careplan_api.SectionViewSet, basename="section")
router.register("events", careplan_api.EventViewSet, basename="event")
router.register("contact-nurse", careplan_api.ContactNurseViewSet, basename="contact-nurse")
router.register("care-map-entries", contacts_api.CareMapEntryViewSet, basename="care-map-entry")
router.register("relative-grants", contacts_api.RelativeGrantViewSet, basename="relative-grant")
router.register("invitations", contacts_api.InvitationViewSet, basename="invitation")
router.register(
    "invitation-acceptances", contacts_api.InvitationAcceptViewSet, basename="invitation-accept"
)
router.register(
    "care-map-versions", contacts_api.CareMapVersionViewSet, basename="care-map-version"
)
router.register("handovers", contacts_api.HandoverViewSet, basename="handover")
router.register("threads", message_api.ThreadViewSet, basename="thread")
router.register("patients", careplan_api.PatientViewSet, basename="patient")
router.register("access-log", careplan_api.AccessLogViewSet, basename="access-log")
router.register("notifications", message_api.NotificationViewSet, basename="notification")
router.register("rehab-plans", rehab_api.RehabPlanViewSet, basename="rehab-plan")
router.register("rehab-referrals", rehab_api.ReferralViewSet, basename="rehab-referral")
router.register("kva-codes", rehab_api.KvaCodeViewSet, basename="kva-code")
router.register("questionnaires", selfmonitor_api.InstrumentViewSet, basename="questionnaire")
router.register(
    "questionnaire-assignments",
    selfmonitor_api.AssignmentViewSet,
    basename="questionnaire-assignment",
)
router.register(
    "questionnaire-responses", selfmonitor_api.ResponseViewSet, basename="questionnaire-response"
)
router.register(
    "questionnaire-schedules", selfmonitor_api.ScheduleViewSet, basename="questionnaire-schedule"
)
router.register("alerts", selfmonitor_api.AlertViewSet, basename="alert")

urlpatterns = router.urls
