"""``services.plan_update``: one way to change a plan and its sections (admin and API).

No edit is silently lost (a save from an older version is a conflict: a form error in
the admin that keeps what was typed and shows the other edit, a 409 in the API), only
real changes are recorded (browsers post textareas with CR LF), and the patient is told
once. Races run on PostgreSQL with threads.
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from careplan import services
from careplan.models import CarePlan, Notification, PlanChange, PlanSection
from careplan.testing import login
from tests import factories as f

from .test_admin import admin_url, as_english, form_data

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI runs it)"
)

TWO_PARAGRAPHS = "Första stycket.\n\nAndra stycket,\nmed radbrytning."


def _crlf(data: dict) -> dict:
    """What a browser posts: every line break in every textarea as CR LF."""
    return {k: v.replace("\n", "\r\n") if isinstance(v, str) else v for k, v in data.items()}


@pytest.fixture
def multiline(cast):
    """The cast's plan with line breaks in every text, as stored (LF)."""
    CarePlan.objects.filter(pk=cast.plan.pk).update(
        followup_plan=TWO_PARAGRAPHS, treatment_summary=TWO_PARAGRAPHS
    )
    cast.plan.sections.update(body_sv=TWO_PARAGRAPHS, body_en=TWO_PARAGRAPHS)
    cast.plan.refresh_from_db()
    return cast.plan


# --- The service ---------------------------------------------------------------------------


def test_a_save_from_an_older_version_is_a_conflict_and_writes_nothing(cast):
    section = cast.plan.sections.get(key="treatment")
    read_at = section.version
    services.section_update(
        section=section, by=cast.nurse, fields={"personal_note": "Karins text"}, version=read_at
    )
    colleague = f.StaffFactory(first_name="Maja", units=[cast.unit])

    with pytest.raises(services.EditConflict) as exc:
        services.section_update(
            section=PlanSection.objects.get(pk=section.pk),
            by=colleague,
            fields={"personal_note": "Majas text"},
            version=read_at,
        )

    assert exc.value.current.personal_note == "Karins text"
    assert exc.value.last_change.by == cast.nurse
    section.refresh_from_db()
    assert (section.personal_note, section.version) == ("Karins text", read_at + 1)
    assert PlanChange.objects.filter(section_key="treatment").count() == 1


def test_a_plan_field_saved_from_an_older_version_is_a_conflict(cast):
    read_at = cast.plan.version
    services.plan_update(
        plan=cast.plan, by=cast.nurse, fields={"diagnosis": "Bröstcancer, HER2+"}, version=read_at
    )

    with pytest.raises(services.EditConflict):
        services.plan_update(
            plan=CarePlan.objects.get(pk=cast.plan.pk),
            by=cast.nurse,
            fields={"diagnosis": "Något annat"},
            version=read_at,
        )

    cast.plan.refresh_from_db()
    assert cast.plan.diagnosis == "Bröstcancer, HER2+"


def test_a_save_that_changes_nothing_records_nothing(cast, multiline):
    sections = list(cast.plan.sections.all())
    before = cast.plan.version

    services.plan_update(
        plan=cast.plan,
        by=cast.nurse,
        fields={"followup_plan": TWO_PARAGRAPHS.replace("\n", "\r\n"), "phase": cast.plan.phase},
        version=before,
        sections=[
            services.SectionEdit(
                section=s, fields={"body_sv": s.body_sv.replace("\n", "\r\n")}, version=s.version
            )
            for s in sections
        ],
    )

    assert not PlanChange.objects.exists()
    assert not Notification.objects.exists()
    cast.plan.refresh_from_db()
    assert cast.plan.version == before
    assert [s.version for s in cast.plan.sections.all()] == [s.version for s in sections]


def test_one_changed_note_among_all_sections_gives_one_line_and_one_notice(cast, multiline):
    sections = list(cast.plan.sections.all())
    edits = [
        services.SectionEdit(
            section=s,
            fields={
                "body_sv": s.body_sv.replace("\n", "\r\n"),
                "personal_note": "Ring mig!" if s.key == "treatment" else "",
            },
            version=s.version,
        )
        for s in sections
    ]

    services.plan_update(plan=cast.plan, by=cast.nurse, sections=edits)

    assert list(PlanChange.objects.values_list("section_key", flat=True)) == ["treatment"]
    assert Notification.objects.filter(recipient=cast.patient_user).count() == 1
    assert PlanSection.objects.get(plan=cast.plan, key="treatment").personal_note == "Ring mig!"


def test_a_plan_is_established_once(cast, template_plan):
    plan = template_plan
    services.plan_establish(plan=plan, by=cast.nurse)

    with pytest.raises(ValidationError, match="redan upprättad"):
        services.plan_establish(plan=plan, by=cast.nurse)

    assert PlanChange.objects.filter(plan=plan, what__contains="upprättats").count() == 1


@pytest.fixture
def template_plan(cast):
    """A draft plan of a covered patient of the cast's unit."""
    patient = f.PatientFactory()
    f.CareRelationFactory(patient=patient, unit=cast.unit)
    f.ContactNurseAssignmentFactory(patient=patient, unit=cast.unit, nurse=cast.nurse)
    return f.CarePlanFactory(patient=patient, status="draft", established_on=None)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_nurses_saving_one_section_at_once_lose_nothing(cast):
    colleague = f.StaffFactory(first_name="Maja", units=[cast.unit])
    section = cast.plan.sections.get(key="treatment")
    read_at = section.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(who, text):
        try:
            barrier.wait(timeout=10)
            services.section_update(
                section=PlanSection.objects.select_related("plan__patient").get(pk=section.pk),
                by=who,
                fields={"personal_note": text},
                version=read_at,
            )
            outcomes[text] = "saved"
        except services.EditConflict:
            outcomes[text] = "conflict"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=save, args=(cast.nurse, "Karins text")),
        threading.Thread(target=save, args=(colleague, "Majas text")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes.values()) == ["conflict", "saved"]
    winner = next(text for text, outcome in outcomes.items() if outcome == "saved")
    section.refresh_from_db()
    assert (section.personal_note, section.version) == (winner, read_at + 1)
    # The history lists only the edit that was saved.
    assert PlanChange.objects.filter(section_key="treatment").count() == 1


# --- The admin -------------------------------------------------------------------------------


def _section_prefix(response, key: str) -> str:
    formset = response.context["inline_admin_formsets"][0].formset
    return next(form.prefix for form in formset.forms if form.instance.key == key)


def test_an_admin_save_changing_one_note_gives_exactly_one_line(cast, multiline):
    client = as_english(cast, "nurse")
    url = admin_url("careplan_careplan_change", cast.plan.pk)
    page = client.get(url)
    prefix = _section_prefix(page, "treatment")

    saved = client.post(
        url, _crlf({**form_data(page), f"{prefix}-personal_note": "Ring mig efter\nprovsvaret."})
    )

    assert saved.status_code == 302
    assert list(PlanChange.objects.values_list("section_key", flat=True)) == ["treatment"]
    note = PlanSection.objects.get(plan=cast.plan, key="treatment").personal_note
    assert note == "Ring mig efter\nprovsvaret."  # stored with LF
    assert Notification.objects.filter(recipient=cast.patient_user).count() == 1


def test_an_admin_save_that_changes_nothing_records_nothing(cast, multiline):
    client = as_english(cast, "nurse")
    url = admin_url("careplan_careplan_change", cast.plan.pk)
    version = cast.plan.version

    saved = client.post(url, _crlf(form_data(client.get(url))))

    assert saved.status_code == 302
    assert not PlanChange.objects.exists()
    cast.plan.refresh_from_db()
    assert cast.plan.version == version


def test_two_nurses_in_the_admin_the_second_is_told_and_keeps_her_text(cast):
    colleague = f.StaffFactory(first_name="Maja", last_name="Moln", units=[cast.unit])
    karin = as_english(cast, "nurse")
    maja = login(as_english(cast, "anonymous"), colleague)
    url = admin_url("careplan_careplan_change", cast.plan.pk)
    karins_page, majas_page = karin.get(url), maja.get(url)
    prefix = _section_prefix(karins_page, "treatment")

    first = karin.post(url, {**form_data(karins_page), f"{prefix}-personal_note": "Karins text"})
    second = maja.post(url, {**form_data(majas_page), f"{prefix}-personal_note": "Majas text"})

    assert first.status_code == 302
    assert second.status_code == 200
    section = PlanSection.objects.get(plan=cast.plan, key="treatment")
    assert section.personal_note == "Karins text"
    formset = second.context["inline_admin_formsets"][0].formset
    form = next(f for f in formset.forms if f.prefix == prefix)
    assert "Someone else saved the section" in form.non_field_errors()[0]
    assert "Karin Kontakt" in form.non_field_errors()[0]
    assert form.errors["personal_note"] == ["Saved meanwhile: Karins text"]
    assert "Majas text" in second.text  # what she typed is still in the form
    assert PlanChange.objects.filter(section_key="treatment").count() == 1

    # She merges and saves again from the page she was shown (its form now carries the
    # version saved meanwhile): it goes through.
    shown = dict(form.data.items())
    assert shown[f"{prefix}-version"] == str(section.version)
    again = maja.post(url, {**shown, f"{prefix}-personal_note": "Karins text. Majas text"})
    assert again.status_code == 302
    section.refresh_from_db()
    assert section.personal_note == "Karins text. Majas text"
    assert PlanChange.objects.filter(section_key="treatment").count() == 2


def test_a_plan_form_from_an_older_version_shows_the_other_edit(cast):
    client = as_english(cast, "nurse")
    url = admin_url("careplan_careplan_change", cast.plan.pk)
    page = client.get(url)
    services.plan_update(
        plan=cast.plan,
        by=f.StaffFactory(first_name="Maja", units=[cast.unit]),
        fields={"diagnosis": "Bröstcancer, HER2+"},
        version=cast.plan.version,
    )

    response = client.post(url, {**form_data(page), "diagnosis": "Bröstcancer vänster"})

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "Someone else saved this care plan" in form.non_field_errors()[0]
    assert form.errors["diagnosis"] == ["Saved meanwhile: Bröstcancer, HER2+"]
    assert 'value="Bröstcancer vänster"' in response.text
    cast.plan.refresh_from_db()
    assert cast.plan.diagnosis == "Bröstcancer, HER2+"


# --- The API ---------------------------------------------------------------------------------


def test_the_api_answers_409_for_a_section_saved_since_it_was_read(cast):
    section = cast.plan.sections.get(key="treatment")
    client = cast.client("nurse")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = f"/api/v1/sections/{section.pk}/"
    version = client.get(url).json()["version"]

    first = client.patch(
        url, {"personal_note": "Först", "version": version}, content_type="application/json"
    )
    second = client.patch(
        url, {"personal_note": "Sedan", "version": version}, content_type="application/json"
    )

    assert first.status_code == 200
    assert first.json()["version"] == version + 1
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "conflict"
    assert "Someone else saved this section" in body["detail"]
    assert body["current"]["personal_note"] == "Först"
    assert body["current"]["version"] == version + 1
    section.refresh_from_db()
    assert section.personal_note == "Först"


def test_the_api_needs_the_version_read(cast):
    section = cast.plan.sections.get(key="treatment")
    client = cast.client("nurse")

    response = client.patch(
        f"/api/v1/sections/{section.pk}/", {"personal_note": "x"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "version" in response.json()
    section.refresh_from_db()
    assert section.personal_note == ""


def test_an_api_edit_is_recorded_with_one_notice(cast):
    section = cast.plan.sections.get(key="treatment")
    client = cast.client("nurse")
    url = f"/api/v1/sections/{section.pk}/"

    client.patch(url, {"personal_note": "A\r\nB", "version": 1}, content_type="application/json")
    same = client.patch(
        url, {"personal_note": "A\nB", "version": 2}, content_type="application/json"
    )

    assert same.status_code == 200
    assert PlanChange.objects.filter(section_key="treatment").count() == 1
    assert Notification.objects.filter(recipient=cast.patient_user).count() == 1
    assert PlanSection.objects.get(pk=section.pk).personal_note == "A\nB"
