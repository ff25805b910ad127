"""One page for one patient in the admin: ``/admin/careplan/patient/<id>/overview/``.

Everything the contact nurse needs before a call, from the apps' selectors: the person
(masked personnummer, phone, responsible unit and contact nurse), the plan, the next
calendar entries and the patient's open requests to change one, the patient's questions
for the next visit, open message threads with their last message, open alerts with the
score and the answers that raised them (in words), trends, the latest rehab needs
assessment and plan with the patient's open comments on it, the care map's flags,
relatives with access, the handover, and the last access-log entries. Actions lead to the pages that do them.

One access-log row (``view`` of the patient) for the whole page, and a fixed number of
queries whatever the number of messages or answers (``tests/careplan/test_overview.py``).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from contacts import selectors as contacts_selectors
from rehab import selectors as rehab_selectors
from selfmonitor import selectors as selfmonitor_selectors

from .. import access, selectors
from ..models import AccessLog, Patient


def patient_overview(request: HttpRequest, object_id: str) -> HttpResponse:
    """The page (wrapped by ``admin_site.admin_view``: staff with a two-factor session).

    Patients not in my units: 404 and, if the patient exists, a denied row."""
    user = request.user
    pk = int(object_id) if str(object_id).isdigit() else None
    patient = selectors.overview_patient(user, pk) if pk and access.is_care_staff(user) else None
    if patient is None:
        other = Patient.objects.filter(pk=pk).first() if pk else None
        if other is not None:
            access.log_access(
                user=user,
                patient=other,
                obj=other,
                action=AccessLog.Action.VIEW,
                allowed=False,
                channel=AccessLog.Channel.ADMIN,
                object_type="PatientOverview",
            )
        raise Http404(gettext("No such record in your care units."))
    access.log_access(
        user=user,
        patient=patient,
        obj=patient,
        action=AccessLog.Action.VIEW,
        allowed=True,
        channel=AccessLog.Channel.ADMIN,
        reach_=access.Reach(
            allowed=True,
            basis=AccessLog.Basis.CARE_RELATION,
            acting_unit_id=patient.acting_unit_id,
        ),
        object_type="PatientOverview",
    )
    from django.contrib import admin  # the site's context (header, counter, theme)

    here = reverse("admin:careplan_patient_overview", args=[patient.pk])
    alerts, more_alerts = selfmonitor_selectors.open_alerts(patient)
    context = {
        **admin.site.each_context(request),
        "title": gettext("Patient overview"),
        "subtitle": f"{patient.last_name}, {patient.first_name}",
        "patient": patient,
        "here": here,
        "plan": (plan := selectors.current_plan(patient)),
        "translation_gaps": selectors.plan_translation_gaps(plan, patient.language),
        "events": selectors.next_events(patient),
        "change_requests": selectors.open_change_requests(patient),
        "visit_questions": selectors.open_visit_questions(patient),
        "threads": selectors.open_threads(patient),
        "alerts": alerts,
        "more_alerts": more_alerts,
        "charts": selfmonitor_selectors.trend_charts(patient),
        "assessment": rehab_selectors.latest_assessment(patient),
        "rehab_plan": (rehab_plan := rehab_selectors.current_rehab_plan(patient)),
        # Comments are on a rehabilitation plan: none without one (no query).
        "rehab_comments": rehab_selectors.open_comments(patient) if rehab_plan else [],
        "flags": contacts_selectors.care_map_flags(patient),
        "grants": contacts_selectors.relatives_with_access(patient),
        "handover": contacts_selectors.handover_state(patient),
        "log": selectors.access_log_tail(patient),
    }
    return TemplateResponse(request, "admin/careplan/patient/overview.html", context)
