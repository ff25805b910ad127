"""factory_boy factories. All people and numbers are synthetic."""

from __future__ import annotations

import datetime as dt
import itertools

import factory
from django.utils import timezone

from careplan import personnummer as pnr
from careplan.models import (
    CalendarEvent,
    CarePlan,
    CareRelation,
    CareUnit,
    ContactNurseAssignment,
    Patient,
    PlanSection,
    PlanTemplate,
    PlanTemplateSection,
    Role,
    StaffMembership,
    User,
)
from contacts.models import RelativeGrant

_serial = itertools.count(1)


def synthetic_personnummer() -> str:
    """A valid, synthetic personnummer (serial in the 98xx range used for tests)."""
    n = next(_serial)
    born = dt.date(1950, 1, 1) + dt.timedelta(days=(n * 37) % 15000)
    serial = f"98{n % 10}"
    nine = born.strftime("%y%m%d") + serial
    return born.strftime("%Y%m%d") + serial + pnr.with_check_digit(nine)


class CareUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareUnit

    name = factory.Sequence(lambda n: f"Onkologmottagningen {n}")
    kind = CareUnit.Kind.SPECIALIST
    hsa_id = factory.Sequence(lambda n: f"SE2321000000-TEST{n:04d}")
    phone = "010-000 00 00"
    reachable = "Mån–fre 8–16"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    role = Role.PATIENT
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(UserFactory):
    role = Role.STAFF
    is_staff = True
    title = "Sjuksköterska"

    @factory.post_generation
    def units(obj, create, extracted, **kwargs):
        if create and extracted:
            for unit in extracted:
                StaffMembership.objects.create(user=obj, unit=unit)


class RelativeUserFactory(UserFactory):
    role = Role.RELATIVE


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    # The login carries the patient's own name (as patient_login_invite does).
    user = factory.SubFactory(
        UserFactory,
        role=Role.PATIENT,
        first_name=factory.SelfAttribute("..first_name"),
        last_name=factory.SelfAttribute("..last_name"),
    )
    first_name = "Alva"
    last_name = factory.Sequence(lambda n: f"Testsson{n}")
    personnummer = factory.LazyFunction(synthetic_personnummer)
    phone = "070-000 00 00"


class CareRelationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareRelation

    patient = factory.SubFactory(PatientFactory)
    unit = factory.SubFactory(CareUnitFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return _flag_synced(super()._create(model_class, *args, **kwargs))


def _flag_synced(row):
    """Rows written past the services keep the care relation's contact-nurse flag as the
    services do (``careplan.services.contact_nurse_flag_sync``)."""
    from careplan.services import contact_nurse_flag_sync

    contact_nurse_flag_sync(patient_ids=[row.patient_id])
    return row


class ContactNurseAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactNurseAssignment

    patient = factory.SubFactory(PatientFactory)
    unit = factory.SubFactory(CareUnitFactory)
    # Works in the unit (invariant 1, checked by PostgreSQL at commit).
    nurse = factory.LazyAttribute(lambda o: StaffFactory(units=[o.unit]))
    direct_phone = "010-000 00 01"
    reachable = "Mån–tor 8–12"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return _flag_synced(super()._create(model_class, *args, **kwargs))


class PlanTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanTemplate
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"template-{n}")
    diagnosis_area = "general"
    title_sv = "Min vårdplan – cancer"
    title_en = "My care plan – cancer"

    @factory.post_generation
    def with_sections(obj, create, extracted, **kwargs):
        if not create:
            return
        for order, key in enumerate(("about_diagnosis", "treatment", "self_care")):
            PlanTemplateSection.objects.create(
                template=obj,
                key=key,
                order=order,
                title_sv=f"Avsnitt {key}",
                title_en=f"Section {key}",
                body_sv=f"Text om {key}.",
                body_en=f"Text about {key}.",
            )


class CarePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarePlan
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    template = factory.SubFactory(PlanTemplateFactory)
    title = "Min vårdplan"
    diagnosis = "Bröstcancer"
    phase = CarePlan.Phase.BEHANDLING
    status = CarePlan.Status.ACTIVE
    established_on = factory.LazyFunction(timezone.localdate)
    contact_nurse_offered_on = factory.LazyFunction(timezone.localdate)

    @factory.post_generation
    def with_sections(obj, create, extracted, **kwargs):
        if not create:
            return
        for s in obj.template.sections.all():
            PlanSection.objects.create(
                plan=obj,
                key=s.key,
                order=s.order,
                title_sv=s.title_sv,
                title_en=s.title_en,
                body_sv=s.body_sv,
                body_en=s.body_en,
                translations=s.translations,
            )


def covered_plan(unit: CareUnit | None = None, *, nurse: User | None = None, **kwargs) -> CarePlan:
    """An established plan whose patient has ``unit`` responsible and a named contact nurse
    there: invariant 1, which PostgreSQL checks at commit (and pytest-django at the end of
    every test). Use it instead of a bare ``CarePlanFactory()`` for "another patient's
    plan"; ``patient=`` and other CarePlanFactory fields pass through."""
    unit = unit or CareUnitFactory()
    patient = kwargs.pop("patient", None) or PatientFactory()
    CareRelationFactory(patient=patient, unit=unit)
    ContactNurseAssignmentFactory(
        patient=patient, unit=unit, nurse=nurse or StaffFactory(units=[unit])
    )
    return CarePlanFactory(patient=patient, **kwargs)


class CalendarEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalendarEvent

    plan = factory.SubFactory(CarePlanFactory)
    kind = CalendarEvent.Kind.TREATMENT
    title = factory.Sequence(lambda n: f"Behandling {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))
    created_by = factory.LazyAttribute(lambda o: o.plan.patient.user)


class RelativeGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RelativeGrant

    patient = factory.SubFactory(PatientFactory)
    relative = factory.SubFactory(RelativeUserFactory)
    scopes = factory.LazyFunction(lambda: ["plan_sections", "calendar", "contact_nurse"])


def verified_email(user: User, email: str | None = None) -> User:
    """Give ``user`` a verified allauth address (accepting an invitation needs the invited
    one): as signing up through the invitation link or confirming the address does."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(
        user=user, email=email or user.email, verified=True, primary=not email
    )
    return user
