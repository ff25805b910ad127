"""The care team's admin: unit scoping, access-log rows, services behind the forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from careplan import personnummer as pnr
from careplan.models import (
    AccessLog,
    CalendarEvent,
    CarePlan,
    CareRelation,
    ContactNurseAssignment,
    Patient,
    PlanChange,
    UnitLink,
)
from careplan.testing import login
from tests import factories as f
from tests.conftest import CAST

pytestmark = pytest.mark.django_db

ALLOWED = AccessLog.Outcome.ALLOWED
DENIED = AccessLog.Outcome.DENIED


def as_english(cast, who: str) -> Client:
    """A cast member's client reading the admin in English (the assertions' language;
    the users' own language is Swedish)."""
    return english(cast.client(who))


def logged_in(user) -> Client:
    return english(login(Client(), user))


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def admin_url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


def admin_logs():
    return AccessLog.objects.filter(channel=AccessLog.Channel.ADMIN).order_by("id")


def new_pnr() -> str:
    return pnr.formatted(f.synthetic_personnummer())


def form_data(response) -> dict:
    """The POST body a browser would send back for an admin change page, unchanged."""
    data: dict = {}

    def add(form):
        for name, field in form.fields.items():
            key = form.add_prefix(name)
            value = form[name].value()
            if isinstance(field.widget, AdminSplitDateTime):
                if value:
                    local = timezone.localtime(value)
                    data[f"{key}_0"] = local.date().isoformat()
                    data[f"{key}_1"] = local.strftime("%H:%M:%S")
                continue
            if value is None or value is False:
                continue
            data[key] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            add(form)
    return data


@pytest.fixture
def event(cast):
    return f.CalendarEventFactory(
        plan=cast.plan,
        title="Cytostatika",
        created_by=cast.nurse,
        starts_at=timezone.now() + dt.timedelta(days=2),
    )


@pytest.fixture
def records(cast, event) -> dict:
    """One record per patient-data admin, all of the cast's patient."""
    return {
        "careplan_patient": cast.patient,
        "careplan_careplan": cast.plan,
        "careplan_calendarevent": event,
        "careplan_contactnurseassignment": cast.patient.contact_nurse_assignment(),
        "careplan_relativegrant": cast.grant,
    }


# --- Who gets into the admin at all ------------------------------------------------------


@pytest.mark.parametrize("who", ["patient", "relative", "stranger_relative", "anonymous"])
def test_it_keeps_patients_relatives_and_anonymous_out_of_the_admin(cast, records, who):
    client = cast.client(who)
    for url in ["/admin/", admin_url("careplan_patient_changelist")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    # /admin/login/ is allauth's login (with TOTP for staff). A logged-in patient or
    # relative is not sent round in a loop: a page says so and links home (issue 10).
    response = client.get("/admin/login/?next=/admin/")
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == 403
        assert f'href="{reverse("home")}"' in response.content.decode()
    response = client.get(admin_url("careplan_patient_change", cast.patient.pk))
    assert response.status_code == 302
    assert not admin_logs().exists()


def test_it_sends_staff_without_a_two_factor_session_away_from_the_admin(cast, records):
    client = Client()
    client.force_login(cast.nurse, backend="django.contrib.auth.backends.ModelBackend")
    for url in ["/admin/", admin_url("careplan_patient_change", cast.patient.pk)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")
    assert not admin_logs().exists()


# --- Every patient-data page for every role ------------------------------------------------

PAGES = [
    ("careplan_patient", "Patient"),
    ("careplan_careplan", "CarePlan"),
    ("careplan_calendarevent", "CalendarEvent"),
    ("careplan_contactnurseassignment", "ContactNurseAssignment"),
    ("careplan_relativegrant", "RelativeGrant"),
]


# Add forms whose patient or plan picker lists patients (a "list" row each, issue 12):
# the page -> the picker's object type.
ADD_PICKS = {
    "careplan_careplan": "Patient",
    "careplan_calendarevent": "CarePlan",
    "careplan_contactnurseassignment": "Patient",
}


def _expected(who: str, page: str, kind: str):
    """(status, log row) for one role on one page; the row is (action, outcome) or None."""
    if who not in ("nurse", "other_nurse"):
        return 302, None
    if kind == "add" and page == "careplan_relativegrant":
        return 403, None  # nobody creates a grant for the patient
    if who == "nurse":
        row = {"changelist": ("list", ALLOWED), "change": ("view", ALLOWED), "add": None}[kind]
        if kind == "add" and page in ADD_PICKS:
            row = ("list", ALLOWED)  # the patient/plan picker lists the unit's patients
        return 200, row
    if kind == "change":
        return 404, ("view", DENIED)
    return 200, None  # an empty list, an empty add form


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("page,object_type", PAGES)
@pytest.mark.parametrize("kind", ["changelist", "change", "add"])
def test_each_patient_data_page_answers_each_role_and_logs_it(
    cast, records, who, page, object_type, kind
):
    obj = records[page]
    url = admin_url(f"{page}_change", obj.pk) if kind == "change" else admin_url(f"{page}_{kind}")
    client = cast.client(who)

    response = client.get(url)

    status, row = _expected(who, page, kind)
    assert response.status_code == status
    logs = list(admin_logs())
    if row is None:
        assert logs == []
        return
    assert len(logs) == 1
    log = logs[0]
    assert (log.action, log.outcome) == row
    assert log.user == cast.user(who)
    assert log.patient == cast.patient
    if kind == "add":
        picked = {"Patient": cast.patient, "CarePlan": cast.plan}[ADD_PICKS[page]]
        object_type, obj = ADD_PICKS[page], picked
    assert log.object_type == object_type
    assert log.object_id == str(obj.pk)
    if row[1] == ALLOWED:
        assert log.acting_unit == cast.unit
        assert log.basis == AccessLog.Basis.CARE_RELATION
    else:
        assert log.acting_unit is None
        assert log.basis == AccessLog.Basis.NONE


WORKSPACE_PAGES = [
    "careplan_accesslog",
    "careplan_unitlink",
    "careplan_plantemplate",
    "careplan_careunit",
    "careplan_user",
]


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("page", WORKSPACE_PAGES)
def test_each_workspace_list_answers_each_role(cast, who, page):
    response = cast.client(who).get(admin_url(f"{page}_changelist"))

    if who not in ("nurse", "other_nurse"):
        assert response.status_code == 302
    else:
        assert response.status_code == (403 if page == "careplan_user" else 200)
    assert not admin_logs().exists()


def test_it_lists_only_the_patients_of_my_units(cast, records):
    theirs = f.PatientFactory(first_name="Olga", last_name="Lungberg")
    f.CareRelationFactory(patient=theirs, unit=cast.other_unit)

    mine = as_english(cast, "nurse").get(admin_url("careplan_patient_changelist"))
    other = as_english(cast, "other_nurse").get(admin_url("careplan_patient_changelist"))

    assert "Andersson" in mine.text and "Lungberg" not in mine.text
    assert "Lungberg" in other.text and "Andersson" not in other.text
    assert {(log.user, log.patient) for log in admin_logs()} == {
        (cast.nurse, cast.patient),
        (cast.other_nurse, theirs),
    }


@pytest.mark.parametrize("page", [p for p, _ in PAGES])
def test_other_nurse_cannot_save_a_record_of_another_unit_by_url(cast, records, page):
    obj = records[page]
    response = as_english(cast, "other_nurse").post(
        admin_url(f"{page}_change", obj.pk), {"title": "Hijack", "first_name": "X"}
    )
    assert response.status_code == 404
    log = admin_logs().get()
    assert (log.action, log.outcome, log.patient) == ("update", DENIED, cast.patient)
    cast.plan.refresh_from_db()
    assert cast.plan.title != "Hijack"


def test_other_nurse_gets_the_same_404_for_a_record_that_does_not_exist(cast):
    response = as_english(cast, "other_nurse").get(admin_url("careplan_patient_change", 999999))
    assert response.status_code == 404
    assert not admin_logs().exists()


@pytest.mark.parametrize(
    "url_name",
    ["careplan_patient_contact_nurse", "careplan_patient_history", "careplan_patient_delete"],
)
def test_other_nurse_cannot_open_the_extra_pages_of_a_patient_of_another_unit(
    cast, records, url_name
):
    response = as_english(cast, "other_nurse").get(admin_url(url_name, cast.patient.pk))
    assert response.status_code == 404
    log = admin_logs().get()
    assert (log.user, log.outcome, log.patient) == (cast.other_nurse, DENIED, cast.patient)


def test_superuser_sees_every_unit_read_only_and_is_logged(cast, records):
    boss = f.StaffFactory(is_superuser=True)
    client = logged_in(boss)

    listing = client.get(admin_url("careplan_patient_changelist"))
    page = client.get(admin_url("careplan_patient_change", cast.patient.pk))
    save = client.post(admin_url("careplan_patient_change", cast.patient.pk), {"first_name": "X"})

    assert listing.status_code == 200 and "Andersson" in listing.text
    assert page.status_code == 200
    assert not page.context["has_change_permission"]  # no care relation: read only
    assert save.status_code == 403
    rows = [(log.action, log.outcome, log.acting_unit_id) for log in admin_logs()]
    assert rows == [("list", ALLOWED, None), ("view", ALLOWED, None), ("update", DENIED, None)]
    cast.patient.refresh_from_db()
    assert cast.patient.first_name == "Alva"


# --- Patients -----------------------------------------------------------------------------


def test_patient_list_masks_the_personnummer_and_the_change_form_shows_it(cast, records):
    full = cast.patient.personnummer
    client = as_english(cast, "nurse")

    listing = client.get(admin_url("careplan_patient_changelist"))
    change = client.get(admin_url("careplan_patient_change", cast.patient.pk))

    assert cast.patient.personnummer_masked in listing.text
    assert full not in listing.text and pnr.formatted(full) not in listing.text
    assert pnr.formatted(full) in change.text


def test_patient_list_searches_by_name(cast, records):
    other = f.PatientFactory(first_name="Bertil", last_name="Berg")
    f.CareRelationFactory(patient=other, unit=cast.unit)

    response = as_english(cast, "nurse").get(admin_url("careplan_patient_changelist") + "?q=berg")

    assert "Berg" in response.text and "Andersson" not in response.text
    assert [log.patient for log in admin_logs()] == [other]


def test_change_form_shows_contact_nurse_and_care_relation_history_read_only(cast, records):
    response = as_english(cast, "nurse").get(admin_url("careplan_patient_change", cast.patient.pk))

    inlines = {fs.formset.model.__name__: fs for fs in response.context["inline_admin_formsets"]}
    assert set(inlines) == {"ContactNurseAssignment", "CareRelation"}
    for inline in inlines.values():
        assert not inline.has_add_permission and not inline.has_change_permission
    assert "Karin Kontakt" in response.text
    assert reverse("admin:careplan_patient_contact_nurse", args=[cast.patient.pk]) in (
        response.text
    )


def test_adding_a_patient_registers_the_care_relation_to_my_unit(cast):
    response = as_english(cast, "nurse").post(
        admin_url("careplan_patient_add"),
        {
            "first_name": "Nils",
            "last_name": "Nyman",
            "personnummer": new_pnr(),
            "unit": cast.unit.pk,
            "language": "sv",
        },
    )

    assert response.status_code == 302
    patient = Patient.objects.get(last_name="Nyman")
    assert patient.responsible_relation().unit == cast.unit
    assert patient.care_relations.get().created_by == cast.nurse
    log = admin_logs().get()
    assert (log.action, log.patient, log.acting_unit) == ("create", patient, cast.unit)


def test_a_nurse_of_several_units_chooses_one_of_hers(cast):
    third = f.CareUnitFactory(name="Tredje mottagningen")
    nurse = f.StaffFactory(units=[cast.unit, third])
    client = logged_in(nurse)
    data = {"first_name": "Nils", "last_name": "Nyman", "personnummer": new_pnr(), "language": "sv"}

    form = client.get(admin_url("careplan_patient_add")).context["adminform"].form
    missing = client.post(admin_url("careplan_patient_add"), data)
    foreign = client.post(admin_url("careplan_patient_add"), {**data, "unit": cast.other_unit.pk})
    chosen = client.post(admin_url("careplan_patient_add"), {**data, "unit": third.pk})

    assert set(form.fields["unit"].queryset) == {cast.unit, third}
    assert "unit" in missing.context["adminform"].form.errors
    assert "unit" in foreign.context["adminform"].form.errors
    assert chosen.status_code == 302
    assert Patient.objects.get(last_name="Nyman").responsible_relation().unit == third


def test_invalid_personnummer_is_explained_and_keeps_what_was_typed(cast):
    good = f.synthetic_personnummer()
    bad = pnr.formatted(good[:-1] + str((int(good[-1]) + 1) % 10))
    before = Patient.objects.count()

    response = as_english(cast, "nurse").post(
        admin_url("careplan_patient_add"),
        {"first_name": "Nils", "last_name": "Nyman", "personnummer": bad, "unit": cast.unit.pk},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "check digit" in errors["personnummer"][0]
    assert 'value="Nils"' in response.text and 'value="Nyman"' in response.text
    assert Patient.objects.count() == before
    assert not CareRelation.objects.filter(patient__last_name="Nyman").exists()


def test_a_personnummer_already_registered_gets_a_clear_message(cast):
    response = as_english(cast, "nurse").post(
        admin_url("careplan_patient_add"),
        {
            "first_name": "Nils",
            "last_name": "Nyman",
            "personnummer": pnr.formatted(cast.patient.personnummer),
            "unit": cast.unit.pk,
        },
    )

    assert response.status_code == 200
    assert "already registered" in response.context["adminform"].form.errors["personnummer"][0]


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@pytest.mark.parametrize("digits", [ARABIC_INDIC, FULL_WIDTH])
def test_a_personnummer_in_other_digits_is_the_same_person(cast, digits):
    typed = pnr.formatted(cast.patient.personnummer).translate(digits)
    before = Patient.objects.count()

    response = as_english(cast, "nurse").post(
        admin_url("careplan_patient_add"),
        {"first_name": "Nils", "last_name": "Nyman", "personnummer": typed, "unit": cast.unit.pk},
    )

    assert response.status_code == 200
    assert "already registered" in response.context["adminform"].form.errors["personnummer"][0]
    assert Patient.objects.count() == before


def test_editing_a_patient_normalises_the_personnummer_and_logs_the_update(cast, records):
    client = as_english(cast, "nurse")
    url = admin_url("careplan_patient_change", cast.patient.pk)
    data = form_data(client.get(url))
    new = f.synthetic_personnummer()

    response = client.post(url, {**data, "personnummer": pnr.formatted(new), "phone": "070-1"})

    assert response.status_code == 302
    cast.patient.refresh_from_db()
    assert (cast.patient.personnummer, cast.patient.phone) == (new, "070-1")
    assert [log.action for log in admin_logs()] == ["view", "update"]


# --- The contact nurse --------------------------------------------------------------------


@pytest.fixture
def colleague(cast):
    return f.StaffFactory(first_name="Kim", last_name="Kollega", units=[cast.unit])


def test_naming_a_new_contact_nurse_ends_the_previous_and_keeps_history(cast, colleague):
    url = admin_url("careplan_patient_contact_nurse", cast.patient.pk)
    client = as_english(cast, "nurse")
    page = client.get(url)
    start = timezone.localdate() + dt.timedelta(days=1)

    response = client.post(
        url,
        {
            "nurse": colleague.pk,
            "direct_phone": "010-123",
            "reachable": "Tis 9–11",
            "started_on": start.isoformat(),
        },
    )

    assert page.status_code == 200 and "Karin Kontakt" in page.text
    assert response.status_code == 302
    history = list(cast.patient.nurse_assignments.order_by("started_on"))
    assert [(a.nurse, a.ended_on) for a in history] == [(cast.nurse, start), (colleague, None)]
    assert history[1].direct_phone == "010-123" and history[1].created_by == cast.nurse
    assert PlanChange.objects.filter(plan=cast.plan, what__contains="Kim Kollega").exists()
    assert [(log.action, log.object_type) for log in admin_logs()] == [
        ("view", "Patient"),
        ("update", "Patient"),
    ]


def test_contact_nurse_must_work_in_the_responsible_unit(cast):
    url = admin_url("careplan_patient_contact_nurse", cast.patient.pk)
    response = as_english(cast, "nurse").post(
        url, {"nurse": cast.other_nurse.pk, "started_on": timezone.localdate().isoformat()}
    )

    assert response.status_code == 200
    assert "responsible care unit" in response.context["form"].errors["nurse"][0]
    assert cast.patient.contact_nurse_assignment().nurse == cast.nurse


def test_a_second_active_contact_nurse_is_refused_with_a_message(cast, colleague):
    before = ContactNurseAssignment.objects.count()

    response = as_english(cast, "nurse").post(
        admin_url("careplan_contactnurseassignment_add"),
        {
            "patient": cast.patient.pk,
            "nurse": colleague.pk,
            "started_on": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 200
    message = response.context["form"].errors["patient"][0]
    assert "already has a named contact nurse" in message and "Name contact nurse" in message
    assert ContactNurseAssignment.objects.count() == before
    assert cast.patient.contact_nurse_assignment().nurse == cast.nurse


def test_adding_an_assignment_for_a_patient_without_one_names_the_nurse(cast, colleague):
    patient = f.PatientFactory()
    f.CareRelationFactory(patient=patient, unit=cast.unit)

    response = as_english(cast, "nurse").post(
        admin_url("careplan_contactnurseassignment_add"),
        {
            "patient": patient.pk,
            "nurse": colleague.pk,
            "started_on": timezone.localdate().isoformat(),
        },
    )

    assert response.status_code == 302
    assert patient.contact_nurse_assignment().nurse == colleague
    log = admin_logs().get()
    assert (log.action, log.patient, log.object_type) == (
        "create",
        patient,
        "ContactNurseAssignment",
    )


def test_contact_nurse_assignments_cannot_be_edited_or_deleted(cast, records):
    assignment = records["careplan_contactnurseassignment"]
    client = as_english(cast, "nurse")

    page = client.get(admin_url("careplan_contactnurseassignment_change", assignment.pk))
    save = client.post(admin_url("careplan_contactnurseassignment_change", assignment.pk), {})
    delete = client.post(admin_url("careplan_contactnurseassignment_delete", assignment.pk))

    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert save.status_code == 403 and delete.status_code == 403
    assert ContactNurseAssignment.objects.filter(pk=assignment.pk, ended_on=None).exists()


# --- Care plans ---------------------------------------------------------------------------


@pytest.fixture
def template():
    return f.PlanTemplateFactory(title_sv="Bröstcancer", title_en="Breast cancer")


@pytest.fixture
def planless(cast):
    """A patient of the nurse's unit without a plan or contact nurse."""
    patient = f.PatientFactory(first_name="Nora", last_name="Planlös")
    f.CareRelationFactory(patient=patient, unit=cast.unit)
    return patient


def test_creating_a_plan_from_a_template_copies_its_sections(cast, template, planless):
    response = as_english(cast, "nurse").post(
        admin_url("careplan_careplan_add"),
        {"patient": planless.pk, "template": template.pk, "diagnosis": "Bröstcancer"},
    )

    plan = CarePlan.objects.get(patient=planless)
    assert response.status_code == 302
    assert response["Location"] == admin_url("careplan_careplan_change", plan.pk)
    assert (plan.status, plan.diagnosis, plan.created_by) == ("draft", "Bröstcancer", cast.nurse)
    assert plan.sections.count() == 3
    log = admin_logs().get()
    assert (log.action, log.patient, log.object_type) == ("create", planless, "CarePlan")


def test_creating_a_plan_for_another_units_patient_is_refused(cast, template, planless):
    before = CarePlan.objects.count()

    response = as_english(cast, "other_nurse").post(
        admin_url("careplan_careplan_add"), {"patient": planless.pk, "template": template.pk}
    )

    assert response.status_code == 200
    assert (
        "not cared for by any of your care units" in response.context["form"].errors["patient"][0]
    )
    assert "not cared for by any of your care units" in response.text
    assert CarePlan.objects.count() == before
    log = admin_logs().get()
    assert (log.user, log.patient, log.outcome) == (cast.other_nurse, planless, DENIED)


def test_a_second_open_plan_is_refused_by_the_service_with_its_message(cast, template):
    response = as_english(cast, "nurse").post(
        admin_url("careplan_careplan_add"), {"patient": cast.patient.pk, "template": template.pk}
    )

    assert response.status_code == 200
    assert "already has an open care plan" in response.text
    assert CarePlan.objects.filter(patient=cast.patient).count() == 1


def test_establishing_a_plan_needs_a_named_contact_nurse(cast, template, planless, colleague):
    plan = f.CarePlanFactory(
        patient=planless, template=template, status="draft", established_on=None
    )
    client = as_english(cast, "nurse")
    url = admin_url("careplan_careplan_establish", plan.pk)

    page = client.get(admin_url("careplan_careplan_change", plan.pk))
    refused = client.post(url, follow=True)
    plan.refresh_from_db()
    assert page.context["can_establish"] and url in page.text
    assert "Name a contact nurse before" in refused.text
    assert plan.status == "draft"

    f.ContactNurseAssignmentFactory(patient=planless, unit=cast.unit, nurse=colleague)
    done = client.post(url)
    plan.refresh_from_db()
    assert done.status_code == 302
    assert (plan.status, plan.established_on) == ("active", timezone.localdate())
    # The history speaks the patient's language (Swedish), not the nurse's.
    assert plan.changes.filter(what="Din vårdplan har upprättats.").exists()


def test_establish_only_takes_post(cast, records):
    response = as_english(cast, "nurse").get(admin_url("careplan_careplan_establish", cast.plan.pk))
    assert response.status_code == 405


def test_the_change_form_cannot_establish_a_draft_through_the_status_field(cast, planless):
    plan = f.CarePlanFactory(patient=planless, status="draft", established_on=None)
    client = as_english(cast, "nurse")
    url = admin_url("careplan_careplan_change", plan.pk)
    data = form_data(client.get(url))

    response = client.post(url, {**data, "status": "active"})

    assert response.status_code == 200
    assert "status" in response.context["adminform"].form.errors
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_a_phase_change_is_recorded_for_the_patient(cast, records):
    client = as_english(cast, "nurse")
    url = admin_url("careplan_careplan_change", cast.plan.pk)
    data = form_data(client.get(url))

    response = client.post(url, {**data, "phase": CarePlan.Phase.UPPFOLJNING})

    assert response.status_code == 302
    cast.plan.refresh_from_db()
    assert cast.plan.phase == "uppfoljning"
    change = cast.plan.changes.get()
    with translation.override(cast.patient.language):  # told in the patient's language
        assert str(CarePlan.Phase.UPPFOLJNING.label) in change.what
    assert change.by == cast.nurse
    assert [log.action for log in admin_logs()] == ["view", "update"]


def test_editing_a_section_goes_through_the_service_and_is_recorded(cast, records):
    client = as_english(cast, "nurse")
    url = admin_url("careplan_careplan_change", cast.plan.pk)
    response = client.get(url)
    data = form_data(response)
    sections = response.context["inline_admin_formsets"][0].formset
    prefix = sections.forms[1].prefix

    saved = client.post(url, {**data, f"{prefix}-personal_note": "Ring mig efter provsvaret."})

    assert saved.status_code == 302
    section = cast.plan.sections.get(pk=sections.forms[1].instance.pk)
    assert section.personal_note == "Ring mig efter provsvaret."
    change = cast.plan.changes.get()
    assert (change.section_key, change.by) == (section.key, cast.nurse)


def test_adding_an_event_in_the_plan_sets_who_added_it(cast, records):
    client = as_english(cast, "nurse")
    url = admin_url("careplan_careplan_change", cast.plan.pk)
    response = client.get(url)
    data = form_data(response)
    events = response.context["inline_admin_formsets"][1].formset
    new = events.forms[-1].prefix
    when = timezone.localtime() + dt.timedelta(days=5)

    saved = client.post(
        url,
        {
            **data,
            f"{new}-kind": "examination",
            f"{new}-title": "Mammografi",
            f"{new}-starts_at_0": when.date().isoformat(),
            f"{new}-starts_at_1": "09:30:00",
        },
    )

    assert saved.status_code == 302
    event = CalendarEvent.objects.get(title="Mammografi")
    assert (event.plan, event.created_by, event.updated_by) == (cast.plan, cast.nurse, cast.nurse)
    assert cast.plan.changes.filter(what__contains="Mammografi").exists()


def test_an_event_ending_before_it_starts_is_refused_clearly(cast, records):
    client = as_english(cast, "nurse")
    event = records["careplan_calendarevent"]
    url = admin_url("careplan_calendarevent_change", event.pk)
    data = form_data(client.get(url))
    start = timezone.localtime(event.starts_at)
    before = start - dt.timedelta(hours=2)

    response = client.post(
        url,
        {
            **data,
            "title": "Ändrad",
            "ends_at_0": before.date().isoformat(),
            "ends_at_1": before.strftime("%H:%M:%S"),
        },
    )

    assert response.status_code == 200
    assert "cannot end before it starts" in response.context["adminform"].form.errors["ends_at"][0]
    event.refresh_from_db()
    assert (event.title, event.ends_at) == ("Cytostatika", None)


def test_plan_change_form_shows_history_newest_first_and_the_pdf_link(cast, records):
    PlanChange.objects.create(plan=cast.plan, what="Äldre", at=timezone.now() - dt.timedelta(1))
    PlanChange.objects.create(plan=cast.plan, what="Nyare")

    response = as_english(cast, "nurse").get(admin_url("careplan_careplan_change", cast.plan.pk))

    history = response.context["inline_admin_formsets"][2]
    assert not history.has_add_permission and not history.has_change_permission
    assert [form.instance.what for form in history.formset.forms] == ["Nyare", "Äldre"]
    assert f"/plan/{cast.plan.pk}/print.pdf" in response.text


# --- Calendar entries ---------------------------------------------------------------------


def test_calendar_list_shows_upcoming_entries_by_default(cast, records):
    f.CalendarEventFactory(
        plan=cast.plan, title="Gammal", starts_at=timezone.now() - dt.timedelta(days=10)
    )
    client = as_english(cast, "nurse")

    upcoming = client.get(admin_url("careplan_calendarevent_changelist"))
    past = client.get(admin_url("careplan_calendarevent_changelist") + "?when=past")

    assert "Cytostatika" in upcoming.text and "Gammal" not in upcoming.text
    assert "Gammal" in past.text and "Cytostatika" not in past.text


def test_adding_an_event_offers_only_plans_of_my_units(cast, records):
    theirs = f.covered_plan(cast.other_unit)
    client = as_english(cast, "nurse")
    when = timezone.localtime() + dt.timedelta(days=1)
    data = {
        "kind": "visit",
        "title": "Läkarbesök",
        "starts_at_0": when.date().isoformat(),
        "starts_at_1": "10:00:00",
    }

    form = client.get(admin_url("careplan_calendarevent_add")).context["adminform"].form
    refused = client.post(admin_url("careplan_calendarevent_add"), {**data, "plan": theirs.pk})
    added = client.post(admin_url("careplan_calendarevent_add"), {**data, "plan": cast.plan.pk})

    assert list(form.fields["plan"].queryset) == [cast.plan]
    assert "not responsible for" in refused.context["adminform"].form.errors["plan"][0]
    assert added.status_code == 302
    event = CalendarEvent.objects.get(title="Läkarbesök")
    assert (event.created_by, event.updated_by) == (cast.nurse, cast.nurse)
    assert not CalendarEvent.objects.filter(plan=theirs).exists()


def test_deleting_an_event_is_recorded_for_the_patient(cast, records):
    event = records["careplan_calendarevent"]
    response = as_english(cast, "nurse").post(
        admin_url("careplan_calendarevent_delete", event.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not CalendarEvent.objects.filter(pk=event.pk).exists()
    assert cast.plan.changes.filter(what__contains="Cytostatika").exists()
    assert [log.action for log in admin_logs()] == ["delete"]


# --- Relatives' access: read only ---------------------------------------------------------


def test_staff_see_who_has_access_but_cannot_change_a_grant(cast, records):
    client = as_english(cast, "nurse")
    url = admin_url("careplan_relativegrant_change", cast.grant.pk)

    listing = client.get(admin_url("careplan_relativegrant_changelist"))
    page = client.get(url)
    save = client.post(url, {"valid_until": "2000-01-01"})
    delete = client.post(admin_url("careplan_relativegrant_delete", cast.grant.pk), {"post": "yes"})

    assert "Rut Relativ" in listing.text and "Calendar" in listing.text
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert save.status_code == 403 and delete.status_code == 403
    cast.grant.refresh_from_db()
    assert cast.grant.valid_until is None
    assert [(log.action, log.outcome) for log in admin_logs()] == [
        ("list", ALLOWED),
        ("view", ALLOWED),
        ("update", DENIED),
        ("update", DENIED),
    ]


# --- The access log -----------------------------------------------------------------------


@pytest.fixture
def log_row(cast):
    return AccessLog.objects.create(
        user=cast.nurse,
        user_name="Karin Kontakt",
        role="staff",
        basis="care_relation",
        patient=cast.patient,
        object_type="CarePlan",
        action="view",
        outcome="allowed",
        channel="web",
    )


@pytest.mark.parametrize("superuser", [False, True])
def test_the_access_log_cannot_be_added_changed_or_deleted_in_the_admin(cast, log_row, superuser):
    user = f.StaffFactory(is_superuser=True) if superuser else cast.nurse
    client = logged_in(user)

    page = client.get(admin_url("careplan_accesslog_change", log_row.pk))
    responses = [
        client.get(admin_url("careplan_accesslog_add")),
        client.post(admin_url("careplan_accesslog_change", log_row.pk), {"user_name": "X"}),
        client.get(admin_url("careplan_accesslog_delete", log_row.pk)),
        client.post(admin_url("careplan_accesslog_delete", log_row.pk), {"post": "yes"}),
    ]

    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    log_row.refresh_from_db()
    assert log_row.user_name == "Karin Kontakt"


def test_the_access_log_cannot_be_changed_or_deleted_through_the_orm(log_row):
    log_row.user_name = "X"
    with pytest.raises(PermissionError):
        log_row.save()
    with pytest.raises(PermissionError):
        log_row.delete()
    with pytest.raises(PermissionError):
        AccessLog.objects.filter(pk=log_row.pk).update(user_name="X")
    with pytest.raises(PermissionError):
        AccessLog.objects.filter(pk=log_row.pk).delete()
    assert AccessLog.objects.get(pk=log_row.pk).user_name == "Karin Kontakt"


def test_staff_read_the_access_log_of_their_units_patients_only(cast, log_row):
    theirs = f.PatientFactory(last_name="Lungberg")
    f.CareRelationFactory(patient=theirs, unit=cast.other_unit)
    AccessLog.objects.create(
        user_name="Olle Annan",
        basis="care_relation",
        patient=theirs,
        object_type="Patient",
        action="view",
        outcome="denied",
        channel="web",
    )
    client = as_english(cast, "nurse")

    everything = client.get(admin_url("careplan_accesslog_changelist"))
    denied = client.get(admin_url("careplan_accesslog_changelist") + "?outcome__exact=denied")

    assert list(everything.context["cl"].result_list) == [log_row]
    assert list(denied.context["cl"].result_list) == []


# --- Units, links, templates, users -------------------------------------------------------


def test_staff_manage_their_units_local_links_only(cast):
    theirs = UnitLink.objects.create(
        unit=cast.other_unit, title="Lungans parkering", url="https://example.org/p"
    )
    client = as_english(cast, "nurse")

    form = client.get(admin_url("careplan_unitlink_add")).context["adminform"].form
    added = client.post(
        admin_url("careplan_unitlink_add"),
        {
            "unit": cast.unit.pk,
            "section_key": "contacts_rights",
            "title": "Parkering",
            "url": "https://example.org/parkering",
        },
    )
    listing = client.get(admin_url("careplan_unitlink_changelist"))
    other = client.get(admin_url("careplan_unitlink_change", theirs.pk))

    assert list(form.fields["unit"].queryset) == [cast.unit]
    assert added.status_code == 302
    assert UnitLink.objects.get(title="Parkering").unit == cast.unit
    assert "Parkering" in listing.text and "Lungans" not in listing.text
    assert other.status_code == 302  # the admin's "does not exist" redirect


def test_staff_see_their_own_units_and_templates_read_only(cast, template):
    client = as_english(cast, "nurse")

    units = client.get(admin_url("careplan_careunit_changelist"))
    unit = client.get(admin_url("careplan_careunit_change", cast.unit.pk))
    save_unit = client.post(admin_url("careplan_careunit_change", cast.unit.pk), {"name": "X"})
    tpl = client.get(admin_url("careplan_plantemplate_change", template.pk))
    save_tpl = client.post(admin_url("careplan_plantemplate_change", template.pk), {})

    assert list(units.context["cl"].result_list) == [cast.unit]
    assert unit.status_code == 200 and not unit.context["has_change_permission"]
    assert save_unit.status_code == 403
    assert tpl.status_code == 200 and not tpl.context["has_change_permission"]
    assert save_tpl.status_code == 403


def test_only_superusers_manage_users_and_units(cast):
    boss = logged_in(f.StaffFactory(is_superuser=True))
    nurse = as_english(cast, "nurse")

    assert nurse.get(admin_url("careplan_user_changelist")).status_code == 403
    assert nurse.get(admin_url("careplan_careunit_add")).status_code == 403
    assert boss.get(admin_url("careplan_user_changelist")).status_code == 200
    assert boss.get(admin_url("careplan_user_change", cast.nurse.pk)).status_code == 200
    added = boss.post(
        admin_url("careplan_careunit_add"),
        {
            "name": "Ny mottagning",
            "kind": "primary",
            "hsa_id": "SE-NY-1",
            "staffmembership_set-TOTAL_FORMS": "1",
            "staffmembership_set-INITIAL_FORMS": "0",
            "staffmembership_set-0-user": cast.nurse.pk,
        },
    )
    assert added.status_code == 302
    assert cast.nurse.care_units.filter(name="Ny mottagning").exists()


def test_admin_access_is_only_for_the_care_team_role(cast):
    boss = logged_in(f.StaffFactory(is_superuser=True))
    url = admin_url("careplan_user_change", cast.relative.pk)
    data = form_data(boss.get(url))

    response = boss.post(url, {**data, "is_staff": "on"})

    assert response.status_code == 200
    assert "care team role" in response.context["adminform"].form.errors["is_staff"][0]
    cast.relative.refresh_from_db()
    assert not cast.relative.is_staff


# --- The worklist on the admin index ------------------------------------------------------


def test_the_index_shows_my_worklist_and_logs_each_patient_shown(cast, records, planless):
    draft = f.CarePlanFactory(patient=planless, status="draft", established_on=None)
    f.CalendarEventFactory(
        plan=cast.plan, title="Långt fram", starts_at=timezone.now() + dt.timedelta(days=30)
    )

    mine = as_english(cast, "nurse").get("/admin/")
    theirs = as_english(cast, "other_nurse").get("/admin/")

    assert "Waiting for the care team" in mine.text
    assert "No named contact nurse" in mine.text and "Draft plan not yet established" in mine.text
    assert "Planlös" in mine.text  # no contact nurse, and a draft plan
    assert admin_url("careplan_careplan_change", draft.pk) in mine.text
    assert admin_url("careplan_patient_contact_nurse", planless.pk) in mine.text
    # The calendar is a list of its own, linked from the start page.
    assert "Långt fram" not in mine.text
    assert admin_url("careplan_calendarevent_changelist") in mine.text
    assert "Planlös" not in theirs.text
    rows = {(log.user, log.patient, log.action) for log in admin_logs()}
    assert rows == {(cast.nurse, planless, "list"), (cast.nurse, cast.patient, "list")}
    assert admin_logs().count() == 2


# --- Query counts -------------------------------------------------------------------------


def _more_patients(cast, n: int) -> None:
    for _ in range(n):
        patient = f.PatientFactory()
        f.CareRelationFactory(patient=patient, unit=cast.unit)
        f.ContactNurseAssignmentFactory(patient=patient, unit=cast.unit, nurse=cast.nurse)
        plan = f.CarePlanFactory(patient=patient)
        f.CalendarEventFactory(plan=plan, created_by=cast.nurse)


LISTS = ["careplan_patient", "careplan_careplan", "careplan_calendarevent"]


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("page", LISTS)
def test_changelist_costs_the_same_for_one_and_three_rows(cast, records, page):
    client = as_english(cast, "nurse")
    url = admin_url(f"{page}_changelist")
    client.get(url)  # the session's first request also stores the activity time

    one = _count_queries(client, url)
    _more_patients(cast, 2)
    three = _count_queries(client, url)

    assert len(client.get(url).context["cl"].result_list) == 3
    assert one == three


@pytest.mark.parametrize("page", LISTS)
def test_changelist_query_count_is_pinned(cast, records, page, django_assert_num_queries):
    client = as_english(cast, "nurse")
    url = admin_url(f"{page}_changelist")
    client.get(url)

    # 1 session, 2 user, 3 my units (access.staff_unit_ids), 4 COUNT of the filtered
    # list, 5 the page's rows with their annotations and joins, 6 the access-log rows
    # (one INSERT, a row per patient shown). No navigation sidebar (careplan.admin_site):
    # the user's and groups' Django permissions are not asked on a list page.
    with django_assert_num_queries(6):
        client.get(url)
