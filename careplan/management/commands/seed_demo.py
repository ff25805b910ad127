"""Synthetic demo data for ``make run``: care units, contact nurses with two-factor login,
a patient with an established plan, a relative, and a few more patients for lists.

Idempotent: every object is looked up by a fixed key (HSA id, e-mail, personnummer) and
only created when missing, so a second run changes nothing. All people, numbers and
secrets here are made up; the personnummer use the 98x serial range of the test data.
Refuses to run with ``CAREPLAN_ENV=production``.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from careplan import personnummer as pnr
from careplan import services
from careplan.eid.config import DEV_PATIENT_PROVIDER
from careplan.eid.provider import number_hash
from careplan.messaging import message_send
from careplan.models import (
    CalendarEvent,
    CarePlan,
    CareRelation,
    CareUnit,
    ContactNurseAssignment,
    MessageThread,
    Outbox,
    Patient,
    PlanChange,
    PlanSection,
    PlanTemplate,
    RelativeGrant,
    Role,
    Scope,
    StaffMembership,
    User,
)
from contacts import services as contact_services
from contacts.handover import services as handover_services
from contacts.models import CareMapEntry, EntryKind
from rehab import services as rehab_services
from rehab.models import Area, FollowUp, Goal, Intervention, KvaCode, Profession
from selfmonitor import services as sm_services
from selfmonitor.definition import item_map
from selfmonitor.models import Assignment, Instrument
from selfmonitor.services import assignment_send

# Every demo account has this password (documented in README.md). Never in production.
DEMO_PASSWORD = "careplan-demo"
DEMO_DOMAIN = "demo.careplan.test"

NURSE_EMAIL = f"sjukskoterska@{DEMO_DOMAIN}"
LUNG_NURSE_EMAIL = f"lungsjukskoterska@{DEMO_DOMAIN}"
PATIENT_EMAIL = f"patient@{DEMO_DOMAIN}"
RELATIVE_EMAIL = f"narstaende@{DEMO_DOMAIN}"

# Fixed, synthetic TOTP secrets (base32 of b"careplan-demo-nurse1" / "...2").
# ``manage.py demo_totp`` prints the current code for them.
TOTP_SECRETS = {
    NURSE_EMAIL: "MNQXEZLQNRQW4LLEMVWW6LLOOVZHGZJR",
    LUNG_NURSE_EMAIL: "MNQXEZLQNRQW4LLEMVWW6LLOOVZHGZJS",
}

BREAST_HSA = "SE2321000000-DEMO0001"
LUNG_HSA = "SE2321000000-DEMO0002"
PRIMARY_HSA = "SE2321000000-DEMO0003"
PALLIATIVE_HSA = "SE2321000000-DEMO0004"

UNITS = [
    {
        "hsa_id": BREAST_HSA,
        "name": "Onkologiska kliniken – bröstmottagningen",
        "kind": CareUnit.Kind.SPECIALIST,
        "phone": "010-100 00 00",
        "email": f"brostmottagningen@{DEMO_DOMAIN}",
        "address": "Sjukhusvägen 1, 123 45 Exempelstad",
        "reachable": "Mån–fre 8–16",
        # The symptom advice says "call 1177" outside these hours.
        "phone_opens": dt.time(8, 0),
        "phone_closes": dt.time(16, 0),
        "phone_weekdays": "12345",
    },
    {
        "hsa_id": LUNG_HSA,
        "name": "Lungmottagningen",
        "kind": CareUnit.Kind.SPECIALIST,
        "phone": "010-200 00 00",
        "email": f"lungmottagningen@{DEMO_DOMAIN}",
        "address": "Sjukhusvägen 1, 123 45 Exempelstad",
        "reachable": "Mån–fre 8–15",
    },
    {
        "hsa_id": PRIMARY_HSA,
        "name": "Vårdcentralen Exempelby",
        "kind": CareUnit.Kind.PRIMARY,
        "phone": "010-300 00 00",
        "email": f"vardcentralen@{DEMO_DOMAIN}",
        "address": "Bygatan 3, 123 50 Exempelby",
        "reachable": "Mån–fre 8–17",
    },
    {
        "hsa_id": PALLIATIVE_HSA,
        "name": "Palliativa teamet",
        "kind": CareUnit.Kind.PALLIATIVE,
        "phone": "010-400 00 00",
        "email": f"palliativa@{DEMO_DOMAIN}",
        "address": "Sjukhusvägen 5, 123 45 Exempelstad",
        "reachable": "Alla dagar 8–21",
    },
]


def demo_personnummer(born: str, serial: str) -> str:
    """Twelve digits with a valid Luhn check digit; ``born`` is YYYYMMDD, ``serial`` 98x."""
    return born + serial + pnr.with_check_digit(born[2:] + serial)


DEMO_PATIENT_PNR = demo_personnummer("19680412", "982")
# Erik (the relative) and someone with no care plan here, for the test e-ID (careplan.eid).
DEMO_RELATIVE_PNR = demo_personnummer("19650923", "983")
DEMO_UNKNOWN_PNR = demo_personnummer("19900101", "984")
# Karin's own HSA-id: she logs in through the test staff IdP ("SITHS (test)") with it.
NURSE_HSA_ID = "SE2321000000-DEMOP0001"


@dataclass(frozen=True)
class ExtraPatient:
    first_name: str
    last_name: str
    born: str
    serial: str
    unit_hsa: str
    template: str
    phase: str
    status: str
    nurse_email: str | None
    established_days_ago: int = 30


EXTRA_PATIENTS = [
    ExtraPatient(
        "Anna",
        "Provsson",
        "19550923",
        "984",
        BREAST_HSA,
        "breast",
        "uppfoljning",
        "active",
        NURSE_EMAIL,
        200,
    ),
    ExtraPatient(
        "Birgitta",
        "Testberg",
        "19720105",
        "986",
        BREAST_HSA,
        "breast",
        "utredning",
        "draft",
        None,
    ),
    ExtraPatient(
        "Cecilia",
        "Demosdotter",
        "19610730",
        "988",
        BREAST_HSA,
        "breast",
        "rehabilitering",
        "active",
        NURSE_EMAIL,
        90,
    ),
    ExtraPatient(
        "Gustav",
        "Lungqvist",
        "19490311",
        "981",
        LUNG_HSA,
        "lung",
        "behandling",
        "active",
        LUNG_NURSE_EMAIL,
        14,
    ),
    ExtraPatient(
        "Hans",
        "Exempelman",
        "19580618",
        "983",
        LUNG_HSA,
        "lung",
        "utredning",
        "active",
        LUNG_NURSE_EMAIL,
        3,
    ),
]


@contextmanager
def _quiet(*names: str):
    loggers = [logging.getLogger(name) for name in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING + 10)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _latest_instruments():
    """The newest version of each loaded instrument."""
    latest = {}
    for instrument in Instrument.objects.filter(language="").order_by("key", "-version"):
        latest.setdefault(instrument.key, instrument)
    return list(latest.values())


def _row_count() -> int:
    models = [CareUnit, User, EmailAddress, StaffMembership, Authenticator, Patient]
    models += [CareRelation, ContactNurseAssignment, CarePlan, PlanSection, CalendarEvent]
    models += [PlanChange, Outbox, RelativeGrant]
    return sum(m.objects.count() for m in models)


def _at(days: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    """Local time ``days`` from today (negative: in the past)."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class Command(BaseCommand):
    help = "Create synthetic demo data (idempotent) and print how to log in as each role."

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError(
                "seed_demo creates accounts with known passwords: not in production."
            )
        templates_out = StringIO()
        call_command("load_plan_templates", stdout=templates_out)
        call_command("load_instruments", stdout=templates_out)
        if options["verbosity"] > 1:
            self.stdout.write(templates_out.getvalue())
        # Outbox e-mails to demo patients stay in memory while seeding (eager mode), and
        # the eager tasks' log lines stay out of the printed logins.
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
            _quiet("celery", "kombu"),
            transaction.atomic(),
        ):
            before = _row_count()
            self._seed()
            created = _row_count() - before
        if options["verbosity"] > 0:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data ready ({created} new rows)."
                    if created
                    else "Demo data already there: nothing changed."
                )
            )
            self.stdout.write(logins_text())

    # --- building blocks ------------------------------------------------------------------

    def _seed(self) -> None:
        units = {u["hsa_id"]: self._unit(u) for u in UNITS}
        nurse = self._staff(
            NURSE_EMAIL, "Karin", "Kontaktsson", "Kontaktsjuksköterska", units[BREAST_HSA]
        )
        lung_nurse = self._staff(
            LUNG_NURSE_EMAIL, "Lars", "Lungberg", "Kontaktsjuksköterska", units[LUNG_HSA]
        )
        nurses = {NURSE_EMAIL: nurse, LUNG_NURSE_EMAIL: lung_nurse}
        patient = self._demo_patient(units[BREAST_HSA], nurse)
        self._relative(patient)
        self._questionnaire_and_message(patient, nurse)
        for extra in EXTRA_PATIENTS:
            self._extra_patient(extra, units[extra.unit_hsa], nurses)
        self._fhir_exercise(units, nurse)

    def _fhir_exercise(self, units: dict, nurse: User) -> None:
        """Anna Provsson gets data that every FHIR export shows: answers to every shipped
        instrument (one entered by the nurse), a rehab plan with goals in each evaluation,
        KVÅ-coded interventions in each status and a follow-up, a care map with a person,
        a child and a care contact, a revoked grant beside an active one, and a handover
        sent to the primary care unit."""

        anna = Patient.objects.filter(personnummer=demo_personnummer("19550923", "984")).first()
        if anna is None or anna.rehab_plans.exists():
            return
        plan = anna.plans.exclude(status=CarePlan.Status.CLOSED).first()
        plan.treatment_summary = "Opererad för bröstcancer, strålbehandling avslutad."
        plan.followup_plan = "Mammografi en gång per år i fem år.\nKontakt vid nya besvär."
        plan.save(update_fields=["treatment_summary", "followup_plan", "updated_at"])
        if anna.user_id is None:
            anna.user = self._user(f"anna.provsson@{DEMO_DOMAIN}", Role.PATIENT, "Anna", "Provsson")
            anna.save(update_fields=["user"])
        for instrument in _latest_instruments():
            answers = {}
            for item in item_map(instrument.definition).values():
                kind = item["type"]
                if kind == "scale":
                    answers[item["id"]] = [str(min(item.get("max", 10), 7))]
                elif kind == "yesno":
                    answers[item["id"]] = ["yes"]
                elif kind == "text":
                    answers[item["id"]] = ["Tröttare på kvällarna."]
                elif kind == "multiple":
                    answers[item["id"]] = [o["value"] for o in item["options"][:2]]
                else:
                    answers[item["id"]] = [item["options"][0]["value"]]
            assignment = sm_services.assignment_send(patient=anna, instrument=instrument, by=nurse)
            by = nurse if instrument.key == "symptom-scale" else anna.user
            sm_services.response_submit(assignment=assignment, by=by, raw=answers)
        rehab = rehab_services.rehab_plan_create(
            care_plan=plan,
            by=nurse,
            summary_assessment="Trötthet och nedsatt rörlighet i axeln efter behandlingen.",
            timetable="Sjukgymnastik två gånger i veckan under åtta veckor.",
        )
        today = timezone.localdate()
        goals = [
            Goal.objects.create(
                rehab_plan=rehab,
                area=Area.FYSISKA,
                text=text,
                success_measure=measure,
                order=i,
            )
            for i, (text, measure) in enumerate(
                [
                    ("Kunna lyfta armen över huvudet", "Når översta hyllan"),
                    ("Orka promenera till affären", "Går 1 km utan vila"),
                    ("Sova hela natten", "Vaknar högst en gång"),
                    ("Börja arbeta halvtid", "Arbetar 20 timmar i veckan"),
                ]
            )
        ]
        for goal, evaluation in zip(goals[1:], Goal.Evaluation.values, strict=True):
            rehab_services.goal_evaluate(goal=goal, by=nurse, evaluation=evaluation, note="")
        codes = list(KvaCode.objects.valid_on(today).order_by("code")[:4])
        for code, status in zip(codes, Intervention.Status.values, strict=False):
            rehab_services.intervention_save(
                intervention=Intervention(
                    rehab_plan=rehab,
                    area=Area.FYSISKA,
                    kva=code,
                    description=code.title_sv[:300],
                    profession=Profession.PHYSIOTHERAPIST,
                    unit=units[BREAST_HSA],
                    starts_on=today - dt.timedelta(days=30),
                    ends_on=today + dt.timedelta(days=30),
                    status=status,
                ),
                by=nurse,
                creating=True,
            )
        FollowUp.objects.create(
            rehab_plan=rehab, due_on=today + dt.timedelta(days=21), what="Uppföljning av målen"
        )
        care_map = contact_services.care_map_of(anna)
        for fields in (
            dict(kind=EntryKind.PERSON, name="Per Provsson", relation="make"),
            dict(kind=EntryKind.PERSON, name="Lisa Provsson", relation="barnbarn", is_child=True),
            dict(kind=EntryKind.CARE_CONTACT, name="Hemtjänsten", phone="010-111 11 11"),
        ):
            contact_services.care_map_entry_save(
                entry=CareMapEntry(care_map=care_map, **fields), by=anna.user, creating=True
            )
        for email, first in (("per", "Per"), ("lisa", "Lisa")):
            relative = self._user(
                f"{email}.provsson@{DEMO_DOMAIN}", Role.RELATIVE, first, "Provsson"
            )
            grant = RelativeGrant.objects.create(
                patient=anna, relative=relative, scopes=[Scope.PLAN_SECTIONS, Scope.CALENDAR]
            )
        contact_services.grant_revoke(grant=grant, by=anna.user)
        handover = handover_services.handover_create(
            patient=anna,
            by=nurse,
            to_unit=units[PRIMARY_HSA],
            situation="Behandlingen avslutad, uppföljning i primärvården.",
            background="Opererad och strålbehandlad för bröstcancer.",
            recommendation="Årlig mammografi; stöd för återgång i arbete.",
            needs_and_wishes="Vill helst ha besök på förmiddagen.",
        )
        handover_services.handover_send(handover=handover, by=nurse)

    def _questionnaire_and_message(self, patient: Patient, nurse: User) -> None:
        """An open distress thermometer to answer and a thread the nurse has answered."""

        distress = Instrument.current("distress-thermometer")
        if distress and not Assignment.objects.filter(patient=patient).exists():
            assignment_send(patient=patient, instrument=distress, by=nurse)
        if not MessageThread.objects.filter(patient=patient).exists():
            first = message_send(
                by=patient.user,
                patient=patient,
                subject="Fråga om nästa behandling",
                body="Hej! Behöver jag vara fastande före nästa behandling?",
            )
            message_send(
                by=nurse,
                thread=first.thread,
                body="Hej Eva! Nej, du kan äta som vanligt. Hör av dig om något mer. /Karin",
            )

    def _unit(self, data: dict) -> CareUnit:
        unit, _ = CareUnit.objects.get_or_create(
            hsa_id=data["hsa_id"], defaults={k: v for k, v in data.items() if k != "hsa_id"}
        )
        return unit

    def _user(self, email: str, role: str, first: str, last: str, **extra) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email, DEMO_PASSWORD, role=role, first_name=first, last_name=last, **extra
            )
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    def _staff(self, email: str, first: str, last: str, title: str, unit: CareUnit) -> User:
        user = self._user(email, Role.STAFF, first, last, title=title, is_staff=True)
        if email == NURSE_EMAIL and user.hsa_id is None:
            user.hsa_id = NURSE_HSA_ID
            user.save(update_fields=["hsa_id"])
        StaffMembership.objects.get_or_create(user=user, unit=unit)
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, TOTP_SECRETS[email])
        if not Authenticator.objects.filter(
            user=user, type=Authenticator.Type.RECOVERY_CODES
        ).exists():
            RecoveryCodes.activate(user)
        return user

    def _template(self, slug: str) -> PlanTemplate:
        return PlanTemplate.objects.filter(slug=slug).order_by("-version").first()

    def _backdate(self, plan: CarePlan, after_id: int, when: dt.datetime) -> int:
        """Give the plan changes written since ``after_id`` the time they happened."""
        PlanChange.objects.filter(plan=plan, id__gt=after_id).update(at=when)
        return self._last_change_id()

    @staticmethod
    def _last_change_id() -> int:
        last = PlanChange.objects.order_by("-id").values_list("id", flat=True).first()
        return last or 0

    def _demo_patient(self, unit: CareUnit, nurse: User) -> Patient:
        existing = Patient.objects.filter(personnummer=DEMO_PATIENT_PNR).first()
        if existing is not None:
            return existing
        user = self._user(PATIENT_EMAIL, Role.PATIENT, "Eva", "Exempelsson")
        patient = services.patient_register(
            unit=unit,
            by=nurse,
            first_name="Eva",
            last_name="Exempelsson",
            personnummer=DEMO_PATIENT_PNR,
            user=user,
            email=PATIENT_EMAIL,
            phone="070-000 00 42",
            address="Exempelgatan 12, 123 45 Exempelstad",
        )
        mark = self._last_change_id()
        plan = services.plan_create_from_template(
            patient=patient,
            template=self._template("breast"),
            by=nurse,
            diagnosis="Bröstcancer i vänster bröst",
        )
        services.contact_nurse_assign(
            patient=patient,
            nurse=nurse,
            by=nurse,
            direct_phone="010-100 00 11",
            reachable="Mån–tor 8–12, fre 8–10",
            started_on=_at(-21).date(),
        )
        services.plan_establish(plan=plan, by=nurse, on=_at(-20).date())
        plan.phase = CarePlan.Phase.BEHANDLING
        plan.save(update_fields=["phase", "updated_at"])
        mark = self._backdate(plan, mark, _at(-20, 10, 15))

        events = [
            # (days, hour, kind, title, location, note, added by the patient)
            (
                -25,
                8,
                "examination",
                "Mammografi och ultraljud",
                "Röntgenavdelningen, plan 2",
                "",
                False,
            ),
            (
                -18,
                13,
                "visit",
                "Besök hos kirurgen",
                "Bröstmottagningen",
                "Ta gärna med en närstående.",
                False,
            ),
            (
                -7,
                9,
                "treatment",
                "Första cytostatikabehandlingen",
                "Dagvården, plan 4",
                "Räkna med att vara här 4–5 timmar.",
                False,
            ),
            (
                -6,
                10,
                "other",
                "Ringa kontaktsjuksköterskan om illamående",
                "",
                "Min egen påminnelse.",
                True,
            ),
        ]
        upcoming = [
            (
                3,
                15,
                "other",
                "Tid hos peruktillverkaren",
                "Hårstudion, Storgatan 5",
                "Remissen ligger i handväskan.",
                True,
            ),
            (
                5,
                9,
                "treatment",
                "Cytostatikabehandling 2",
                "Dagvården, plan 4",
                "Blodprov tas en timme innan.",
                False,
            ),
            (
                12,
                14,
                "visit",
                "Läkarbesök: hur har behandlingen gått?",
                "Bröstmottagningen",
                "",
                False,
            ),
            (26, 9, "treatment", "Cytostatikabehandling 3", "Dagvården, plan 4", "", False),
        ]
        relation_start = _at(-30)
        patient.care_relations.update(started_at=relation_start)
        for days, hour, kind, title, location, note, by_patient in events + upcoming:
            start = _at(days, hour)
            event = CalendarEvent(
                plan=plan,
                kind=kind,
                title=title,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                location=location,
                note=note,
            )
            services.event_create(event=event, by=user if by_patient else nurse)
            # When it was added: the patient the evening before (at the latest three days
            # ago), the nurse at establishment (past events) or yesterday (new dates).
            if by_patient:
                added = _at(min(days - 1, -3), 18)
            else:
                added = _at(-20, 10, 30) if days < 0 else _at(-1, 16)
            mark = self._backdate(plan, mark, added)

        section = plan.sections.get(key="treatment")
        services.section_update(
            section=section,
            by=nurse,
            fields={
                "personal_note": (
                    "Hej Eva! Du får sex behandlingar med tre veckors mellanrum. "
                    "Illamående de första dagarna är vanligt: ta tabletterna du fick med dig "
                    "och ring mig om det inte hjälper. /Karin"
                )
            },
        )
        self._backdate(plan, mark, timezone.now() - dt.timedelta(hours=1))
        # The patient last looked two days ago: the note and new dates are news to her.
        Patient.objects.filter(pk=patient.pk).update(last_seen_plan_at=_at(-2, 19))
        return patient

    def _relative(self, patient: Patient) -> None:
        relative = self._user(RELATIVE_EMAIL, Role.RELATIVE, "Erik", "Exempelsson")
        if not RelativeGrant.objects.filter(patient=patient, relative=relative).exists():
            RelativeGrant.objects.create(
                patient=patient,
                relative=relative,
                scopes=[Scope.PLAN_SECTIONS, Scope.CALENDAR, Scope.CONTACT_NURSE],
            )
        # Erik bound his e-ID when he accepted Eva's invitation: "BankID (test)" logs him in.
        from allauth.socialaccount.models import SocialAccount

        SocialAccount.objects.get_or_create(
            provider=DEV_PATIENT_PROVIDER,
            uid=number_hash(DEMO_RELATIVE_PNR),
            defaults={"user": relative},
        )

    def _extra_patient(self, extra: ExtraPatient, unit: CareUnit, nurses: dict) -> None:
        personnummer = demo_personnummer(extra.born, extra.serial)
        if Patient.objects.filter(personnummer=personnummer).exists():
            return
        by = nurses[NURSE_EMAIL] if unit.hsa_id == BREAST_HSA else nurses[LUNG_NURSE_EMAIL]
        patient = services.patient_register(
            unit=unit,
            by=by,
            first_name=extra.first_name,
            last_name=extra.last_name,
            personnummer=personnummer,
        )
        mark = self._last_change_id()
        plan = services.plan_create_from_template(
            patient=patient, template=self._template(extra.template), by=by
        )
        if extra.nurse_email:
            services.contact_nurse_assign(
                patient=patient,
                nurse=nurses[extra.nurse_email],
                by=by,
                started_on=_at(-extra.established_days_ago - 1).date(),
            )
        if extra.status == CarePlan.Status.ACTIVE:
            services.plan_establish(plan=plan, by=by, on=_at(-extra.established_days_ago).date())
        plan.phase = extra.phase
        plan.save(update_fields=["phase", "updated_at"])
        self._backdate(plan, mark, _at(-extra.established_days_ago, 10))


def logins_text() -> str:
    site = settings.CAREPLAN_SITE_URL.rstrip("/")
    codes = ""
    nurse = User.objects.filter(email=NURSE_EMAIL).first()
    if nurse is not None:
        rc = Authenticator.objects.filter(
            user=nurse, type=Authenticator.Type.RECOVERY_CODES
        ).first()
        unused = RecoveryCodes(rc).get_unused_codes() if rc else []
        codes = unused[0] if unused else "(none left)"
    return f"""
Log in at {site}/accounts/login/ — every demo account has the password: {DEMO_PASSWORD}

  Patient         {PATIENT_EMAIL}
                  Eva Exempelsson, established breast cancer plan, phase treatment.
  Relative        {RELATIVE_EMAIL}
                  Erik Exempelsson, reads what Eva shares (plan, calendar, contact nurse).
  Contact nurse   {NURSE_EMAIL}
                  Karin Kontaktsson, bröstmottagningen; lands in the admin ({site}/admin/).
                  Staff log in with a second step: the 6-digit code from
                      make totp        (in a second terminal; or: .venv/bin/python manage.py demo_totp)
                  Codes change every 30 seconds. A recovery code also works once: {codes}
  Test e-ID       With `make run`, "Log in with BankID (test)" on the login page opens the
                  local test IdP: choose Eva (patient), Erik (relative) or someone with no plan.
                  "Care team: log in with SITHS (test)": Karin with LoA3 skips the code,
                  with LoA2 the 6-digit code is asked.
  Lung nurse      {LUNG_NURSE_EMAIL}
                  Lars Lungberg, Lungmottagningen (another unit: sees none of Eva's data).
                      make totp EMAIL={LUNG_NURSE_EMAIL}
"""
