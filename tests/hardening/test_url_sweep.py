"""The URL sweep: every pattern in the resolver (web, admin, API, FHIR, PDFs, htmx
partials) x the attackers of the fixed cast, GET and the write methods, with marker
strings planted in the victim's data (issue 12, "Access and privacy").

Nothing an attacker gets may hold a marker they are not entitled to, nothing answers
500, nothing of the victim's changes, and where the access module promises it, a
denied attempt leaves a denied access-log row.

``ROUTES`` names every pattern and how to fill its URL kwargs with the victim's ids: a
pattern added to the resolver without an entry here fails
``test_every_url_pattern_is_in_the_sweep_table``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from dataclasses import dataclass, field

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from careplan import messaging
from careplan.models import (
    AccessLog,
    CalendarEvent,
    CarePlan,
    CareUnit,
    EventChangeRequest,
    Notification,
    Outbox,
    PlanSection,
    Role,
    UnitLink,
    VisitQuestion,
)
from careplan.testing import login
from contacts import services as contacts_services
from contacts.handover import services as handover_services
from contacts.models import CareMapEntry, EntryKind, Invitation, RelativeGrant
from rehab import services as rehab_services
from rehab.models import Goal, KvaCode, RehabPlan, RehabPlanComment, SelfCareAdvice
from selfmonitor import services as sm_services
from selfmonitor import symptom_services
from selfmonitor.models import Alert, Schedule, TemplateSchedule, UnitAdvice
from tests import factories as f

# --- Markers ---------------------------------------------------------------------------------

# Every marker starts with "Qzx" (found nowhere else); each sits in one part of the
# victim's data, so a leak names its part.
NAME = "QzxEfternamn"  # the victim's surname (patient and login)
DIAGNOSIS = "QzxDiagnos"  # diagnosis, treatment summary, follow-up plan (plan_sections)
NOTE = "QzxAnteckning"  # a section's personal note (plan_sections)
EVENT = "QzxHändelse"  # a calendar entry (calendar)
MESSAGE = "QzxMeddelande"  # a message and its thread's subject (messages)
ANSWER = "QzxSvar"  # a completed questionnaire's free text (questionnaires)
DRAFT = "QzxUtkast"  # a draft answer (the patient's alone)
MAP = "QzxKarta"  # a care-map entry (the patient's and the care team's)
REHAB = "QzxRehab"  # the rehabilitation plan (rehab_plan)
HANDOVER = "QzxÖverrapport"  # a handover's situation (the care team's)
INVITED = "QzxInbjuden"  # an invitation's name (the patient's)
MARKERS = [NAME, DIAGNOSIS, NOTE, EVENT, MESSAGE, ANSWER, DRAFT, MAP, REHAB, HANDOVER, INVITED]

# What each attacker may legitimately see: the relative shared only the calendar sees
# whose calendar it is and its entries; nobody else sees anything of the victim's.
ENTITLED = {
    "narrow_relative": {NAME, EVENT},
    "questionnaire_relative": {NAME, ANSWER},
    "message_relative": {NAME, MESSAGE},
}
ATTACKERS = [
    "anonymous",
    "other_patient",
    "narrow_relative",
    "questionnaire_relative",
    "message_relative",
    "revoked_relative",
    "expired_relative",
    "other_nurse",
]


# --- The victim's world -----------------------------------------------------------------------


@dataclass
class World:
    ids: dict[str, object]
    victim: object  # Patient
    users: dict[str, object]
    fingerprint: object = field(default=None)


def _build_world(cast) -> World:
    patient, plan, nurse = cast.patient, cast.plan, cast.nurse
    for obj in (patient, patient.user):
        obj.last_name = NAME
        obj.save()
    plan.diagnosis = f"{DIAGNOSIS} bröstcancer"
    plan.treatment_summary = f"{DIAGNOSIS} sammanfattning"
    plan.followup_plan = f"{DIAGNOSIS} uppföljning"
    plan.save()
    section = PlanSection.objects.get(plan=plan, key="treatment")
    section.personal_note = f"{NOTE} från sköterskan"
    section.save()
    event = f.CalendarEventFactory(plan=plan, title=f"{EVENT} cytostatika", note=EVENT)

    message = messaging.message_send(
        by=patient.user, patient=patient, subject=f"{MESSAGE} ämne", body=f"{MESSAGE} text"
    )
    messaging.message_send(by=nurse, thread=message.thread, body=f"{MESSAGE} svar")
    notification = Notification.objects.filter(recipient=patient.user).first() or (
        Notification.objects.create(
            recipient=patient.user, kind=Notification.Kind.values[0], patient=patient, url="/"
        )
    )

    # The symptom advice guide (content, with its language versions; read by the care team).
    _symptoms, guide = symptom_services.symptom_setup()
    instruments = {}
    for path in sorted(sm_services.INSTRUMENT_DIR.glob("*.json")):
        instrument, _what = sm_services.instrument_load(
            data=sm_services.read_instrument_file(path), source_file=path.name
        )
        instruments[instrument.key] = instrument
    thermometer = instruments["distress-thermometer"]
    done = sm_services.assignment_send(patient=patient, instrument=thermometer, by=nurse)
    response = sm_services.response_submit(
        assignment=done,
        by=patient.user,
        raw={"distress": ["8"], "wants_contact": ["yes"], "other_problem": [ANSWER]},
    ).response
    alert = Alert.objects.filter(response=response).first()
    draft_assignment = sm_services.assignment_send(
        patient=patient, instrument=thermometer, by=nurse
    )
    draft = sm_services.response_save_draft(
        assignment=draft_assignment, by=patient.user, raw={"other_problem": [DRAFT]}
    ).response
    schedule = Schedule.objects.filter(patient=patient).first() or Schedule.objects.create(
        patient=patient, instrument_key=thermometer.key, trigger="every", every_days=7
    )
    template_schedule = TemplateSchedule.objects.first()

    rehab_unit = f.CareUnitFactory(name="Rehabenheten", kind=CareUnit.Kind.REHABILITATION)
    rehab = RehabPlan.objects.create(
        care_plan=plan,
        patient=patient,
        summary_assessment=f"{REHAB} bedömning",
        timetable=REHAB,
        self_care_text=REHAB,
        created_by=nurse,
    )
    goal = Goal.objects.create(
        rehab_plan=rehab, area="fysiska", text=f"{REHAB} mål", success_measure=REHAB
    )
    assessment = rehab_services.assessment_record(
        patient=patient, by=nurse, level="sarskild", summary=f"{REHAB} behov"
    )
    referral = rehab_services.referral_send(
        assessment=assessment, to_unit=rehab_unit, by=nurse, reason=f"{REHAB} remiss"
    )

    cmap = contacts_services.care_map_of(patient)
    entry = contacts_services.care_map_entry_save(
        entry=CareMapEntry(care_map=cmap, kind=EntryKind.PERSON, name=f"{MAP} dotter", note=MAP),
        by=patient.user,
        creating=True,
    )
    invitation, _token = contacts_services.invitation_create(
        patient=patient,
        by=patient.user,
        email="inbjuden@example.test",
        scopes=["calendar"],
        name=f"{INVITED} Person",
    )
    third_unit = f.CareUnitFactory(name="Vårdcentralen", kind=CareUnit.Kind.PRIMARY)
    handover = handover_services.handover_create(
        patient=patient,
        by=nurse,
        to_unit=third_unit,
        situation=f"{HANDOVER} situation",
        recommendation=HANDOVER,
    )

    # The attackers.
    cast.grant.scopes = ["calendar"]
    cast.grant.save(update_fields=["scopes"])
    other_patient = f.covered_plan(cast.other_unit).patient
    revoked = f.RelativeUserFactory(first_name="Re", last_name="Voked")
    every_part = ["plan_sections", "calendar", "contact_nurse", "rehab_plan", "questionnaires"]
    f.RelativeGrantFactory(patient=patient, relative=revoked, scopes=[*every_part, "messages"])
    RelativeGrant.objects.filter(relative=revoked).update(revoked_at=timezone.now())
    # Relatives shared one other part each: they see that part, nothing else.
    questionnaire_relative = f.RelativeUserFactory(first_name="Qu", last_name="Estion")
    f.RelativeGrantFactory(
        patient=patient, relative=questionnaire_relative, scopes=["questionnaires"]
    )
    message_relative = f.RelativeUserFactory(first_name="Me", last_name="Ssage")
    f.RelativeGrantFactory(patient=patient, relative=message_relative, scopes=["messages"])
    expired = f.RelativeUserFactory(first_name="Ex", last_name="Pired")
    f.RelativeGrantFactory(
        patient=patient,
        relative=expired,
        scopes=[*every_part, "messages"],
    )
    RelativeGrant.objects.filter(relative=expired).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    totp = Authenticator.objects.create(
        user=nurse, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    email = EmailAddress.objects.create(
        user=patient.user, email=patient.user.email, verified=True, primary=True
    )
    log_row = AccessLog.objects.filter(patient=patient).first() or AccessLog.objects.create(
        user=nurse,
        user_name=str(nurse),
        role=Role.STAFF,
        basis=AccessLog.Basis.CARE_RELATION,
        patient=patient,
        object_type="CarePlan",
        object_id=str(plan.pk),
        action=AccessLog.Action.VIEW,
        outcome=AccessLog.Outcome.ALLOWED,
        channel=AccessLog.Channel.ADMIN,
    )
    link = UnitLink.objects.create(unit=cast.unit, title="Parkering", url="https://example.org/")
    # The patient's side (issue 11): a calendar change request, a question for the next
    # visit, a symptom report (its alert is the victim's too), the unit's own advice.
    change_request = EventChangeRequest.objects.create(
        event=event, patient=patient, text="Kan vi flytta?", requested_by=patient.user
    )
    VisitQuestion.objects.create(patient=patient, text="Får jag träna?")
    rehab_comment = RehabPlanComment.objects.create(
        rehab_plan=rehab, patient=patient, text=f"{REHAB} kommentar", written_by=patient.user
    )
    symptom_report = symptom_services.symptom_report_submit(
        patient=patient,
        by=patient.user,
        token=uuid.uuid4(),
        raw={"tiredness": ["1"]},
        picked=["tiredness"],
    ).report
    unit_advice = UnitAdvice.objects.create(
        unit=cast.unit, rule_key="tiredness", text_sv="Vila.", text_en="Rest.", source="Enheten"
    )

    ids = {
        "patient": patient.pk,
        "plan": plan.pk,
        "section": section.pk,
        "section_key": "treatment",
        "event": event.pk,
        "thread": message.thread_id,
        "notification": notification.pk,
        "assignment": done.pk,
        "draft_assignment": draft_assignment.pk,
        "response": response.pk,
        "draft": draft.pk,
        "alert": alert.pk,
        "instrument": thermometer.pk,
        "guide": guide.pk,
        "trend_key": "distress-thermometer",
        "schedule": schedule.pk,
        "template_schedule": template_schedule.pk if template_schedule else 1,
        "rehab": rehab.pk,
        "assessment": assessment.pk,
        "referral": referral.pk,
        "kva": KvaCode.objects.first().pk,
        "advice": (
            SelfCareAdvice.objects.first() or SelfCareAdvice.objects.create(title_sv="Råd")
        ).pk,
        "care_map": cmap.pk,
        "entry": entry.pk,
        "version": 1,
        "grant": cast.grant.pk,
        "invitation": invitation.pk,
        "handover": handover.pk,
        "assignment_cn": patient.contact_nurse_assignment().pk,
        "user": patient.user_id,
        "unit": cast.unit.pk,
        "template": plan.template_id,
        "link": link.pk,
        "change_request": change_request.pk,
        "rehab_comment": rehab_comment.pk,
        "symptom_report": symptom_report.pk,
        "symptom": "tiredness",
        "unit_advice": unit_advice.pk,
        "access_log": log_row.pk,
        "outbox": Outbox.objects.order_by("pk").values_list("pk", flat=True).first() or 1,
        "email": email.pk,
        "authenticator": totp.pk,
        "group": 1,
        "ct_plan": ContentType.objects.get_for_model(CarePlan).pk,
        "app_label": "careplan",
        "confirm_key": "not-a-key",
        "eid_provider": "bankid-test",
        "uidb36": "1",
        "reset_key": "not-a-key",
        "catch_all": "no-such-page/",
        "format": "json",
        # Issue 13: the FHIR endpoint's reads (types x ids: the mismatched pairs are 404s)
        # and the care map's saved versions.
        "fhir_patient": "Patient",
        "fhir_response": "QuestionnaireResponse",
        "fhir_task": "Task",
        "fhir_careplan": "CarePlan",
        "fhir_careteam": "CareTeam",
        "fhir_patient_id": str(patient.pk),
        "fhir_response_id": f"response-{response.pk}",
        "fhir_task_id": f"handover-{handover.pk}",
        "fhir_careplan_id": f"careplan-{plan.pk}",
        "fhir_careteam_id": f"careteam-{patient.pk}",
        "fhir_goal": "Goal",
        "fhir_goal_id": f"rehab-goal-{goal.pk}",
        "fhir_related_person": "RelatedPerson",
        "fhir_related_person_id": f"caremap-{entry.pk}",
        "fhir_consent": "Consent",
        "fhir_consent_id": f"relative-grant-{cast.grant.pk}",
        "fhir_service_request": "ServiceRequest",
        "fhir_service_request_id": f"handover-{handover.pk}-request",
        "map_version": cmap.versions.order_by("id").first().pk,
    }
    users = {
        "other_patient": other_patient.user,
        "narrow_relative": cast.relative,
        "questionnaire_relative": questionnaire_relative,
        "message_relative": message_relative,
        "revoked_relative": revoked,
        "expired_relative": expired,
        "other_nurse": cast.other_nurse,
    }
    return World(ids=ids, victim=patient, users=users)


def _fingerprint(world: World) -> list:
    """The victim's stored data, to compare before and after the attacks (times a read
    touches, like a grant's last look, left out)."""
    patient = world.victim
    skip = {"last_seen_at", "last_visit_at", "updated_at"}
    parts = [
        CarePlan.objects.filter(patient=patient),
        PlanSection.objects.filter(plan__patient=patient),
        CalendarEvent.objects.filter(plan__patient=patient),
        messaging.MessageThread.objects.filter(patient=patient),
        messaging.Message.objects.filter(thread__patient=patient),
        CareMapEntry.objects.filter(care_map__patient=patient),
        RelativeGrant.objects.filter(patient=patient),
        Invitation.objects.filter(patient=patient),
        RehabPlan.objects.filter(patient=patient),
        Alert.objects.filter(patient=patient),
        Schedule.objects.filter(patient=patient),
        EventChangeRequest.objects.filter(patient=patient),
        VisitQuestion.objects.filter(patient=patient),
        RehabPlanComment.objects.filter(patient=patient),
    ]
    return [
        sorted(
            (
                tuple(sorted((k, str(v)) for k, v in row.items() if k not in skip))
                for row in qs.values()
            ),
        )
        for qs in parts
    ]


# --- The table ----------------------------------------------------------------------------------

# Pattern name -> {URL kwarg: key in World.ids, or a tuple of keys to try each}. Admin model pages are listed per model
# below (ADMIN_MODELS); API routes get their format-suffixed twin (``name.fmt``).
WEB = {
    "home": {},
    "healthz": {},
    "favicon": {},
    "set_language": {},
    "plan_detail": {"pk": "plan"},
    "plan_section": {"pk": "plan", "key": "section_key"},
    "plan_calendar": {"pk": "plan"},
    "event_edit": {"pk": "plan", "event_id": "event"},
    "event_delete": {"pk": "plan", "event_id": "event"},
    "plan_pdf": {"pk": "plan"},
    "my_access_log": {},
    "message_list": {},
    "message_new": {},
    "message_thread": {"pk": "thread"},
    "notification_list": {},
    "notifications_read": {},
    "notification_open": {"pk": "notification"},
    "selfmonitor_list": {"pk": "plan"},
    "selfmonitor_trend": {"pk": "plan", "key": "trend_key"},
    "selfmonitor_answer": {"assignment_id": "draft_assignment"},
    "selfmonitor_autosave": {"assignment_id": "draft_assignment"},
    "selfmonitor_remind_later": {"assignment_id": "draft_assignment"},
    "selfmonitor_response": {"response_id": ("response", "draft")},
    "rehab_plan": {"pk": "plan"},
    "rehab_plan_agree": {"pk": "plan"},
    "rehab_plan_comment": {"pk": "plan"},
    "rehab_plan_pdf": {"pk": "plan"},
    "care_map": {},
    "care_map_print": {},
    "care_map_support": {},
    "care_map_versions": {},
    "care_map_version": {"number": "version"},
    "care_map_entry_edit": {"entry_id": "entry"},
    "care_map_entry_delete": {"entry_id": "entry"},
    "sharing": {},
    "invite": {},
    "grant_change": {"grant_id": "grant"},
    "grant_revoke": {"grant_id": "grant"},
    "invitation_cancel": {"invitation_id": "invitation"},
    "handover_needs": {"pk": "handover"},
    "invitation_accept": {},
    "invitation_open": {"token": "confirm_key"},
    # One person, two roles: what others share with a patient (issue 15).
    "shared_with_me": {},
    # The patient's side (issue 11).
    "event_change_request": {"pk": "plan", "event_id": "event"},
    "visit_questions": {},
    "symptom_new": {},
    "symptom_advice": {"symptom": "symptom"},
    "symptom_report": {"report_id": "symptom_report"},
    # e-ID (careplan.eid, issue 15) and allauth's social-account pages: none names a
    # patient; swept for 500s and markers.
    "eid_login": {"provider_id": "eid_provider"},
    "eid_callback": {"provider_id": "eid_provider"},
    "socialaccount_connections": {},
    "socialaccount_login_cancelled": {},
    "socialaccount_login_error": {},
    "socialaccount_signup": {},
    "accounts/social/connections/": {},
    "accounts/social/login/cancelled/": {},
    "accounts/social/login/error/": {},
    "accounts/social/signup/": {},
    # Accounts (allauth): none names a patient; swept for 500s and markers.
    "account_login": {},
    "account_logout": {},
    "account_inactive": {},
    "account_signup": {},
    "account_reauthenticate": {},
    "account_request_reauthentication_code": {},
    "account_confirm_reauthentication_code": {},
    "account_email": {},
    "account_email_verification_sent": {},
    "account_change_password": {},
    "account_set_password": {},
    "account_reset_password": {},
    "account_confirm_login_code": {},
    "account_confirm_email": {"key": "confirm_key"},
    "account_reset_password_from_key_done": {},
    "account_reset_password_from_key": {"uidb36": "uidb36", "key": "reset_key"},
    "account_reset_password_done": {},
    "mfa_index": {},
    "mfa_authenticate": {},
    "mfa_reauthenticate": {},
    "mfa_activate_totp": {},
    "mfa_deactivate_totp": {},
    "mfa_view_recovery_codes": {},
    "mfa_generate_recovery_codes": {},
    "mfa_download_recovery_codes": {},
    # The API's schema and docs.
    "schema": {},
    "api-docs": {},
    "api-redoc": {},
    "api-not-found": {"rest": "catch_all"},
    # FHIR (issue 13) and its OAuth2 token endpoint.
    "fhir-metadata": {},
    "fhir-observation-search": {},
    "fhir-questionnaire-response-search": {},
    "fhir-everything": {"rid": "patient"},
    "fhir-read": {
        "resource_type": (
            "fhir_patient",
            "fhir_response",
            "fhir_task",
            "fhir_careplan",
            "fhir_careteam",
            "fhir_goal",
            "fhir_related_person",
            "fhir_consent",
            "fhir_service_request",
        ),
        "rid": (
            "fhir_patient_id",
            "fhir_response_id",
            "fhir_task_id",
            "fhir_careplan_id",
            "fhir_careteam_id",
            "fhir_goal_id",
            "fhir_related_person_id",
            "fhir_consent_id",
            "fhir_service_request_id",
        ),
    },
    "fhir-not-found": {"rest": "catch_all"},
    "oauth2-token": {},
}

API = {
    "api-root": {},
    "plan-list": {},
    "plan-detail": {"pk": "plan"},
    "section-detail": {"pk": "section"},
    "event-list": {},
    "event-detail": {"pk": "event"},
    "contact-nurse-list": {},
    "care-map-entry-list": {},
    "care-map-entry-detail": {"pk": "entry"},
    "care-map-entry-fhir": {"pk": "entry"},
    "relative-grant-list": {},
    "relative-grant-detail": {"pk": "grant"},
    "relative-grant-fhir": {"pk": "grant"},
    "relative-grant-revoke": {"pk": "grant"},
    "invitation-list": {},
    "invitation-cancel": {"pk": "invitation"},
    "thread-list": {},
    "thread-detail": {"pk": "thread"},
    "thread-handled": {"pk": "thread"},
    "thread-messages": {"pk": "thread"},
    "notification-list": {},
    "notification-read-all": {},
    "notification-read": {"pk": "notification"},
    "rehab-plan-list": {},
    "rehab-plan-detail": {"pk": "rehab"},
    "rehab-plan-agree": {"pk": "rehab"},
    "rehab-plan-fhir": {"pk": "rehab"},
    "rehab-plan-interventions": {"pk": "rehab"},
    "kva-code-list": {},
    "questionnaire-list": {},
    "questionnaire-detail": {"pk": "instrument"},
    "questionnaire-fhir": {"pk": "instrument"},
    "questionnaire-assignment-list": {},
    "questionnaire-assignment-detail": {"pk": "assignment"},
    "questionnaire-assignment-answers": {"pk": "draft_assignment"},
    "questionnaire-response-list": {},
    "questionnaire-response-detail": {"pk": ("response", "draft")},
    "questionnaire-response-fhir": {"pk": "response"},
    "questionnaire-response-observations": {"pk": "response"},
    "alert-list": {},
    "alert-detail": {"pk": "alert"},
    "alert-acknowledge": {"pk": "alert"},
    # Issue 13: the API covers the product.
    "patient-list": {},
    "patient-detail": {"pk": "patient"},
    "access-log-list": {},
    "access-log-detail": {"pk": "access_log"},
    "handover-list": {},
    "handover-detail": {"pk": "handover"},
    "handover-fhir": {"pk": "handover"},
    "handover-send": {"pk": "handover"},
    "handover-cancel": {"pk": "handover"},
    "handover-accept": {"pk": "handover"},
    "handover-decline": {"pk": "handover"},
    "handover-complete": {"pk": "handover"},
    "invitation-accept-list": {},
    "care-map-version-list": {},
    "care-map-version-detail": {"pk": "map_version"},
    "rehab-plan-goals": {"pk": "rehab"},
    "rehab-plan-evaluate-goal": {"pk": "rehab"},
    "rehab-plan-follow-ups": {"pk": "rehab"},
    "questionnaire-schedule-list": {},
    "questionnaire-schedule-detail": {"pk": "schedule"},
    "questionnaire-schedule-deactivate": {"pk": "schedule"},
    "rehab-referral-list": {},
    "rehab-referral-detail": {"pk": "referral"},
    "rehab-referral-accept": {"pk": "referral"},
    "rehab-referral-decline": {"pk": "referral"},
}

# Admin model -> the victim's object (World.ids key). Each model's changelist, add,
# history, delete, change and bare-id redirect are swept.
ADMIN_MODELS = {
    "auth_group": "group",
    "careplan_patient": "patient",
    "careplan_contactnurseassignment": "assignment_cn",
    "careplan_careplan": "plan",
    "careplan_calendarevent": "event",
    "careplan_unitlink": "link",
    "careplan_plantemplate": "template",
    "careplan_careunit": "unit",
    "careplan_user": "user",
    "careplan_accesslog": "access_log",
    "careplan_messagethread": "thread",
    "careplan_outbox": "outbox",
    "careplan_eventchangerequest": "change_request",
    "selfmonitor_unitadvice": "unit_advice",
    "selfmonitor_alert": "alert",
    "selfmonitor_response": "response",
    "selfmonitor_assignment": "assignment",
    "selfmonitor_schedule": "schedule",
    "selfmonitor_templateschedule": "template_schedule",
    "selfmonitor_instrument": "instrument",
    "selfmonitor_triageguide": "guide",
    "rehab_kvacode": "kva",
    "rehab_selfcareadvice": "advice",
    "rehab_needsassessment": "assessment",
    "rehab_referral": "referral",
    "rehab_rehabplan": "rehab",
    "rehab_rehabplancomment": "rehab_comment",
    "careplan_relativegrant": "grant",
    "contacts_caremap": "care_map",
    "contacts_handover": "handover",
    "account_emailaddress": "email",
    "mfa_authenticator": "authenticator",
}

ADMIN = {
    "admin_login_redirect": {},
    "admin:index": {},
    "admin:login": {},
    "admin:logout": {},
    "admin:password_change": {},
    "admin:password_change_done": {},
    "admin:autocomplete": {},
    "admin:jsi18n": {},
    "admin:view_on_site": {"content_type_id": "ct_plan", "object_id": "plan"},
    "admin:app_list": {"app_label": "app_label"},
    "admin:careplan_patient_contact_nurse": {"object_id": "patient"},
    "admin:careplan_careplan_establish": {"object_id": "plan"},
    "admin:selfmonitor_alert_acknowledge": {"object_id": "alert"},
    "admin:selfmonitor_reports": {},
    "admin:rehab_referral_decide": {"object_id": "referral"},
    "admin:rehab_rehabplan_report": {},
    "admin:contacts_handover_edit": {"object_id": "handover"},
    "admin:contacts_handover_send": {"object_id": "handover"},
    "admin:contacts_handover_cancel": {"object_id": "handover"},
    "admin:contacts_handover_accept": {"object_id": "handover"},
    "admin:contacts_handover_decline": {"object_id": "handover"},
    "admin:contacts_handover_complete": {"object_id": "handover"},
    "admin:contacts_handover_pdf": {"object_id": "handover"},
    "admin:contacts_handover_fhir": {"object_id": "handover"},
    "admin:contacts_handover_report": {},
    "admin:auth_user_password_change": {"id": "user"},
    # The nurse's day (issue 10): the patient overview, notifications, care-map removal
    # behind a confirmation, the KVÅ search (catalogue data only).
    "admin:careplan_patient_overview": {"object_id": "patient"},
    "admin:contacts_caremap_remove_entry": {"object_id": "care_map", "entry_id": "entry"},
    "admin:rehab_kvacode_search": {},
    "admin_notifications": {},
    "admin_notification_open": {"pk": "notification"},
    "admin/(?P<url>.*)$": {"url": "catch_all"},
}
for _model, _obj in ADMIN_MODELS.items():
    ADMIN[f"admin:{_model}_changelist"] = {}
    ADMIN[f"admin:{_model}_add"] = {}
    ADMIN[f"admin:{_model}_history"] = {"object_id": _obj}
    ADMIN[f"admin:{_model}_delete"] = {"object_id": _obj}
    ADMIN[f"admin:{_model}_change"] = {"object_id": _obj}
    ADMIN[f"admin/{_model.replace('_', '/', 1)}/<path:object_id>/"] = {"object_id": _obj}

# Patterns whose denied attempt the access module promises to log: an attacker who
# reaches the view (is not sent to log in) and is refused (403/404) leaves a denied row
# naming the victim. Admin pages: the other unit's nurse (the only attacker let in).
LOGGED = {
    "plan_detail",
    "plan_section",
    "plan_calendar",
    "event_edit",
    "event_delete",
    "plan_pdf",
    "message_thread",
    "selfmonitor_list",
    "selfmonitor_trend",
    "selfmonitor_answer",
    "selfmonitor_autosave",
    "selfmonitor_remind_later",
    "selfmonitor_response",
    "rehab_plan",
    "rehab_plan_agree",
    "rehab_plan_comment",
    "rehab_plan_pdf",
    "care_map_entry_edit",
    "care_map_entry_delete",
    "grant_change",
    "grant_revoke",
    "invitation_cancel",
    "handover_needs",
    "plan-detail",
    "section-detail",
    "event-detail",
    "care-map-entry-detail",
    "care-map-entry-fhir",
    "relative-grant-detail",
    "relative-grant-fhir",
    "relative-grant-revoke",
    "invitation-cancel",
    "thread-detail",
    "thread-handled",
    "thread-messages",
    "rehab-plan-detail",
    "rehab-plan-agree",
    "rehab-plan-fhir",
    "rehab-plan-interventions",
    "questionnaire-assignment-detail",
    "questionnaire-assignment-answers",
    "questionnaire-response-detail",
    "questionnaire-response-fhir",
    "questionnaire-response-observations",
    "alert-detail",
    "alert-acknowledge",
    "questionnaire-schedule-detail",
    "questionnaire-schedule-deactivate",
    "rehab-referral-detail",
    "rehab-referral-accept",
    "rehab-referral-decline",
    "admin:careplan_patient_contact_nurse",
    "admin:careplan_careplan_establish",
    "admin:selfmonitor_alert_acknowledge",
    "admin:rehab_referral_decide",
    "admin:contacts_handover_edit",
    "admin:contacts_handover_send",
    "admin:contacts_handover_cancel",
    "admin:contacts_handover_accept",
    "admin:contacts_handover_decline",
    "admin:contacts_handover_complete",
    "admin:contacts_handover_pdf",
    "admin:contacts_handover_fhir",
    "admin:careplan_patient_overview",
    "admin:contacts_caremap_remove_entry",
}
PATIENT_ADMIN_MODELS = {
    "careplan_patient",
    "careplan_contactnurseassignment",
    "careplan_careplan",
    "careplan_calendarevent",
    "careplan_messagethread",
    "selfmonitor_alert",
    "selfmonitor_response",
    "selfmonitor_assignment",
    "selfmonitor_schedule",
    "rehab_needsassessment",
    "rehab_referral",
    "rehab_rehabplan",
    "careplan_relativegrant",
    "contacts_caremap",
    "contacts_handover",
}
for _model in PATIENT_ADMIN_MODELS:
    LOGGED |= {f"admin:{_model}_{page}" for page in ("history", "delete", "change")}

ROUTES = {
    **WEB,
    **{name: kwargs for name, kwargs in API.items()},
    **{f"{name}.fmt": {**kwargs, "format": "format"} for name, kwargs in API.items()},
    **ADMIN,
}


# --- The resolver ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    key: str  # the ROUTES key
    name: str | None  # for reverse(), with namespace
    route: str  # the full route, for unnamed patterns
    kwargs: tuple[str, ...]


def _patterns(resolver=None, prefix: str = "", namespace: str = "") -> list[Pattern]:
    found = []
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            found += _patterns(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            kwargs = tuple(sorted(p.pattern.regex.groupindex))
            route = prefix + str(p.pattern)
            name = f"{namespace}{p.name}" if p.name else None
            if name is None:
                key = route
            elif "format" in kwargs and not name.endswith("api-root"):
                key = f"{name}.fmt"
            elif name.endswith("api-root") and "format" in kwargs:
                key = "api-root.fmt"
            else:
                key = name
            found.append(Pattern(key=key, name=name, route=route, kwargs=kwargs))
    return found


def test_every_url_pattern_is_in_the_sweep_table():
    missing = sorted({p.key for p in _patterns()} - set(ROUTES))
    assert not missing, f"URL patterns without a sweep entry in ROUTES: {missing}"
    stale = sorted(set(ROUTES) - {p.key for p in _patterns()})
    assert not stale, f"sweep entries for no URL pattern: {stale}"


def _urls(pattern: Pattern, world: World) -> list[str]:
    spec = ROUTES[pattern.key]
    choices = [spec[kw] if isinstance(spec[kw], tuple) else (spec[kw],) for kw in pattern.kwargs]
    return [
        _url(pattern, {kw: world.ids[key] for kw, key in zip(pattern.kwargs, keys, strict=True)})
        for keys in itertools.product(*choices)
    ]


def _url(pattern: Pattern, kwargs: dict) -> str:
    if pattern.name:
        if pattern.key == "api-root.fmt":
            return reverse("api-root") + ".json"
        return reverse(pattern.name, kwargs=kwargs)
    route = pattern.route
    for kw, value in kwargs.items():
        route = re.sub(rf"<(?:\w+:)?{kw}>|\(\?P<{kw}>[^)]*\)", str(value), route)
    return "/" + route.lstrip("^").rstrip("$")


def _methods(pattern: Pattern) -> list[str]:
    """GET and the writes; the API's plain routes also in the browsable API (its HTML
    forms list choices) and its detail routes with PUT, PATCH and DELETE."""
    if pattern.key in API:
        detail = "pk" in pattern.kwargs
        return ["get", "browse", "post", *(("put", "patch", "delete") if detail else ())]
    return ["get", "post"]


def _request(client: Client, method: str, url: str):
    if method == "browse":
        return client.get(url, {"format": "api"})
    if method in ("put", "patch", "delete"):
        return getattr(client, method)(url, {}, content_type="application/json")
    return getattr(client, method)(url)


# --- The sweep ------------------------------------------------------------------------------------


def _client(world: World, who: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if who == "anonymous":
        return client
    return login(client, world.users[who])


def _denied_rows(world: World, user) -> int:
    return AccessLog.objects.filter(
        patient=world.victim, user=user, outcome=AccessLog.Outcome.DENIED
    ).count()


@pytest.fixture
def world(cast, settings, django_capture_on_commit_callbacks):
    settings.ACCOUNT_RATE_LIMITS = False
    with django_capture_on_commit_callbacks(execute=True):
        built = _build_world(cast)
    built.fingerprint = _fingerprint(built)
    return built


@pytest.mark.parametrize("who", ATTACKERS)
def test_no_attacker_gets_anything_of_the_victims_from_any_url(world, who, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

    # The sweep is thousands of requests by one user: no throttling here (tested apart).
    monkeypatch.setattr(UserRateThrottle, "allow_request", lambda self, r, v: True)
    monkeypatch.setattr(AnonRateThrottle, "allow_request", lambda self, r, v: True)
    client = _client(world, who)
    user = world.users.get(who)
    forbidden = [m for m in MARKERS if m not in ENTITLED.get(who, set())]
    problems: list[str] = []
    statuses: dict[int, int] = {}
    for pattern, url in ((p, u) for p in _patterns() for u in _urls(p, world)):
        for method in _methods(pattern):
            before = _denied_rows(world, user) if user is not None else 0
            response = _request(client, method, url)
            where = f"{method.upper()} {url} ({pattern.key})"
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
                continue
            body = b"".join(response) if response.streaming else response.content
            text = body.decode("utf-8", "replace") + response.get("Location", "")
            leaked = [m for m in forbidden if m.lower() in text.lower()]
            if leaked:
                problems.append(f"{where}: {response.status_code} shows {leaked}")
            if (
                pattern.key.removesuffix(".fmt") in LOGGED
                and user is not None
                and response.status_code in (403, 404)
                and _denied_rows(world, user) == before
            ):
                problems.append(f"{where}: {response.status_code} without a denied row")
            if who != "anonymous" and not client.session.get("_auth_user_id"):
                client = _client(world, who)  # a logout URL ended the session
    assert not problems, "\n".join(problems)
    expected = sum(len(_methods(p)) * len(_urls(p, world)) for p in _patterns())
    assert sum(statuses.values()) == expected > 800  # every pattern, every method, ran
    assert _fingerprint(world) == world.fingerprint, "an attacker changed the victim's data"


def test_the_sweep_finds_a_planted_leak(world):
    """The sweep's checks can fail: the victim's own client sees every marker."""
    client = login(Client(HTTP_ACCEPT_LANGUAGE="en"), world.victim.user)
    seen = ""
    for name, kwargs in [
        ("plan_detail", {"pk": world.ids["plan"]}),
        ("plan_section", {"pk": world.ids["plan"], "key": "treatment"}),
        ("message_thread", {"pk": world.ids["thread"]}),
        ("care_map", {}),
        ("selfmonitor_response", {"response_id": world.ids["response"]}),
        ("plan_calendar", {"pk": world.ids["plan"]}),
        ("rehab_plan", {"pk": world.ids["plan"]}),
        ("sharing", {}),
    ]:
        seen += client.get(reverse(name, kwargs=kwargs)).content.decode()
    for marker in (NAME, DIAGNOSIS, NOTE, EVENT, MESSAGE, ANSWER, MAP, REHAB, INVITED):
        assert marker in seen, marker
