"""The plan's start page and its sections: what each viewer sees, "what changed since your
last visit", and the pinned query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from careplan import services
from careplan.models import AccessLog, CarePlan, PlanChange, PlanSection, UnitLink
from tests.factories import CalendarEventFactory, CareUnitFactory

pytestmark = pytest.mark.django_db


def _detail(cast, who: str, client=None):
    client = client or cast.client(who)
    return client.get(reverse("plan_detail", args=[cast.plan.pk]))


def _upcoming(cast, n: int, prefix: str = "Kommande"):
    now = timezone.now()
    return [
        CalendarEventFactory(
            plan=cast.plan, title=f"{prefix} {i}", starts_at=now + dt.timedelta(days=i + 1)
        )
        for i in range(n)
    ]


# --- What each viewer sees ------------------------------------------------------------------


def test_the_patient_sees_nurse_next_events_sections_and_links(cast):
    _upcoming(cast, 4)
    CalendarEventFactory(
        plan=cast.plan, title="Förra veckan", starts_at=timezone.now() - dt.timedelta(days=7)
    )

    body = _detail(cast, "patient").content.decode()

    assert "Karin Kontakt" in body
    assert 'href="tel:0100000001"' in body
    assert "Mån–tor 8–12" in body
    assert "Bröstmottagningen" in body
    # The next three upcoming events, not the fourth, not past ones.
    assert "Kommande 0" in body and "Kommande 2" in body
    assert "Kommande 3" not in body and "Förra veckan" not in body
    assert reverse("plan_section", args=[cast.plan.pk, "treatment"]) in body
    assert reverse("plan_calendar", args=[cast.plan.pk]) in body
    assert reverse("plan_pdf", args=[cast.plan.pk]) in body
    assert reverse("my_access_log") in body
    assert "Behandling: den tid då du får behandling." in body
    assert "Endast läsning" not in body


def test_the_relative_sees_a_read_only_banner_and_no_access_log_link(cast):
    _upcoming(cast, 1)

    body = _detail(cast, "relative").content.decode()

    assert "Endast läsning" in body
    assert "delad med dig av Alva" in body
    assert "Kommande 0" in body  # calendar is shared in the cast's grant
    assert reverse("my_access_log") not in body
    assert "Vad som har ändrats sedan ditt senaste besök" not in body


def test_it_hides_the_calendar_from_a_relative_without_calendar_scope(cast):
    cast.grant.scopes = ["plan_sections", "contact_nurse"]
    cast.grant.save()
    _upcoming(cast, 2)
    client = cast.client("relative")

    detail = _detail(cast, "relative", client).content.decode()
    calendar = client.get(reverse("plan_calendar", args=[cast.plan.pk]))

    assert "Kommande" not in detail
    assert "Vad händer härnäst" not in detail
    assert reverse("plan_calendar", args=[cast.plan.pk]) not in detail
    assert calendar.status_code == 404
    denied = AccessLog.objects.get(user=cast.relative, outcome=AccessLog.Outcome.DENIED)
    assert denied.basis == AccessLog.Basis.RELATIVE_GRANT


def test_it_hides_the_contact_nurse_from_a_relative_without_that_scope(cast):
    cast.grant.scopes = ["plan_sections"]
    cast.grant.save()

    body = _detail(cast, "relative").content.decode()

    assert "Karin" not in body
    assert "0100000001" not in body


def test_it_hides_unshared_sections_from_relative(cast):
    cast.grant.scopes = ["calendar"]
    cast.grant.save()
    client = cast.client("relative")

    detail = _detail(cast, "relative", client)
    section = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"]))
    pdf = client.get(reverse("plan_pdf", args=[cast.plan.pk]))

    body = detail.content.decode()
    assert detail.status_code == 200  # the calendar part is still shared
    assert reverse("plan_section", args=[cast.plan.pk, "treatment"]) not in body
    assert "Avsnitt treatment" not in body and "Bröstcancer" not in body
    assert reverse("plan_pdf", args=[cast.plan.pk]) not in body
    assert section.status_code == 404
    assert pdf.status_code == 404


def test_a_relative_whose_grant_shares_nothing_is_not_let_in(cast):
    cast.grant.scopes = []
    cast.grant.save()

    assert _detail(cast, "relative").status_code == 404


def test_the_care_team_sees_the_whole_plan_without_edit_banner(cast):
    body = _detail(cast, "nurse").content.decode()

    assert "Vårdplan för Alva Andersson" in body
    assert "Karin Kontakt" in body
    assert "Endast läsning" not in body
    assert reverse("my_access_log") not in body


def test_the_follow_up_plan_and_summary_show_when_filled_in(cast):
    before = _detail(cast, "patient").content.decode()
    cast.plan.followup_plan = "Återbesök om tre månader.\n\n- Mammografi varje år"
    cast.plan.treatment_summary = "Opererad i mars."
    cast.plan.save()

    after = _detail(cast, "patient").content.decode()

    assert "Uppföljningsplan" not in before
    assert "Uppföljningsplan" in after and "<li>Mammografi varje år</li>" in after
    assert "Sammanfattning av diagnos och behandling" in after and "Opererad i mars." in after


def test_a_plan_without_a_named_nurse_shows_the_unit_to_call(cast):
    # Only a draft: an established plan always has a named contact nurse (invariant 1).
    CarePlan.objects.filter(pk=cast.plan.pk).update(status="draft")
    cast.patient.nurse_assignments.update(ended_on=timezone.localdate())

    body = _detail(cast, "patient").content.decode()

    assert "Ingen kontaktsjuksköterska har utsetts än." in body
    assert "Bröstmottagningen" in body


# --- What changed since your last visit ---------------------------------------------------------


def test_what_changed_shows_a_change_by_the_nurse_once(cast):
    client = cast.client("patient")
    _detail(cast, "patient", client)  # first visit: sets the mark
    services.plan_record_change(plan=cast.plan, by=cast.nurse, what="Nya råd om kost")

    second = _detail(cast, "patient", client).content.decode()
    third = _detail(cast, "patient", client).content.decode()

    assert "Nya råd om kost" in second
    assert "(Karin Kontakt)" in second  # who made the change
    assert "Nya råd om kost" not in third
    assert "Inget nytt sedan ditt senaste besök." in third


def test_what_changed_leaves_out_the_patients_own_changes(cast):
    client = cast.client("patient")
    _detail(cast, "patient", client)
    services.plan_record_change(plan=cast.plan, by=cast.patient_user, what="Egen anteckning")

    body = _detail(cast, "patient", client).content.decode()

    assert "Egen anteckning" not in body


def test_only_the_patient_moves_the_last_seen_mark(cast):
    _detail(cast, "nurse")
    _detail(cast, "relative")
    cast.patient.refresh_from_db()
    assert cast.patient.last_seen_plan_at is None

    _detail(cast, "patient")
    cast.patient.refresh_from_db()
    assert cast.patient.last_seen_plan_at is not None


# --- Query counts ---------------------------------------------------------------------------


def _fill(cast, n: int):
    """n upcoming events, n extra sections and n changes since the last visit."""
    _upcoming(cast, n)
    for i in range(n):
        PlanSection.objects.create(
            plan=cast.plan,
            key=f"extra-{i}",
            order=10 + i,
            title_sv=f"Extra {i}",
            title_en=f"Extra {i}",
            body_sv="Text",
            body_en="Text",
        )
        PlanChange.objects.create(plan=cast.plan, by=cast.nurse, what=f"Ändring {i}")


def _statements(sql: str) -> int:
    """The statements of one round trip (``careplan.prepared.together``)."""
    return sql.count("; SELECT ") + 1


@pytest.mark.parametrize("n", [1, 3])
def test_plan_detail_query_count_for_the_patient_is_pinned(cast, django_assert_num_queries, n):
    client = cast.client("patient")
    _detail(cast, "patient", client)  # warm up: session activity stamp, last-seen mark
    _fill(cast, n)

    # 1 session, 2 user, 3 plan + patient (plan_for), 4 one round trip of eight reads
    # (careplan.prepared.together): contact nurse with nurse and unit, the patient's open
    # and accepted handovers (the handover card and the to-do card's draft waiting for
    # needs and wishes), changes since the last visit with author, next three events,
    # section titles, the to-do card's open questionnaires with drafts, rehab plan and
    # unread answers; 5 UPDATE last seen.
    with django_assert_num_queries(5) as captured:
        response = _detail(cast, "patient", client)
    assert _statements(captured.captured_queries[3]["sql"]) == 8
    assert response.content.decode().count("Ändring") == n


def test_a_visit_with_nothing_new_since_the_last_leaves_the_mark_alone(
    cast, django_assert_num_queries
):
    client = cast.client("patient")
    _detail(cast, "patient", client)  # first visit: sets the mark
    cast.patient.refresh_from_db()
    mark = cast.patient.last_seen_plan_at
    assert mark is not None

    # As above without 5, the UPDATE of the last-seen mark: nothing new to mark as seen.
    with django_assert_num_queries(4):
        body = _detail(cast, "patient", client).content.decode()
    cast.patient.refresh_from_db()
    assert cast.patient.last_seen_plan_at == mark
    assert "Inget nytt sedan ditt senaste besök." in body


@pytest.mark.parametrize("n", [1, 3])
def test_plan_detail_query_count_for_the_nurse_is_pinned(cast, django_assert_num_queries, n):
    client = cast.client("nurse")
    _detail(cast, "nurse", client)
    _fill(cast, n)

    # 1 session, 2 user, 3 plan (plan_for), 4 the nurse's units, 5 the active care
    # relation in them, 6 INSERT access log, 7 one round trip of four reads: contact
    # nurse, the latest handover, next events, sections.
    with django_assert_num_queries(7) as captured:
        response = _detail(cast, "nurse", client)
    assert _statements(captured.captured_queries[6]["sql"]) == 4
    assert response.content.decode().count("Extra ") == n


@pytest.mark.parametrize("n", [1, 3])
def test_plan_detail_query_count_for_a_relative_is_pinned(cast, django_assert_num_queries, n):
    client = cast.client("relative")
    _detail(cast, "relative", client)
    _fill(cast, n)

    # 1 session, 2 user, 3 one round trip: the plan and the relative's active grants
    # (this patient's decides; the header's "Messages" link reads whether any shares
    # messages from the same rows), 4 INSERT access log, 5 one round trip of four reads:
    # contact nurse, the latest handover, next events, sections.
    with django_assert_num_queries(5) as captured:
        _detail(cast, "relative", client)
    assert _statements(captured.captured_queries[2]["sql"]) == 2
    assert _statements(captured.captured_queries[4]["sql"]) == 4


# --- Sections -------------------------------------------------------------------------------


def test_a_section_shows_the_personal_note_first_then_the_text_safely(cast):
    section = cast.plan.sections.get(key="treatment")
    section.personal_note = "Ring mig om du får feber."
    section.body_sv = "Första stycket <b>fet</b>.\n\nSå här gör du:\n- vila\n- drick vatten"
    section.body_en = section.body_sv
    section.save()

    body = (
        cast.client("patient")
        .get(reverse("plan_section", args=[cast.plan.pk, "treatment"]))
        .content.decode()
    )

    assert body.index("Ring mig om du får feber.") < body.index("Första stycket")
    assert "<p>Första stycket &lt;b&gt;fet&lt;/b&gt;.</p>" in body
    assert "<ul><li>vila</li><li>drick vatten</li></ul>" in body


def test_a_section_shows_the_responsible_units_local_links_for_that_section(cast):
    UnitLink.objects.create(
        unit=cast.unit, section_key="treatment", title="Parkering", url="https://example.org/p"
    )
    UnitLink.objects.create(
        unit=cast.unit, section_key="self_care", title="Annat avsnitt", url="https://example.org/a"
    )
    UnitLink.objects.create(
        unit=CareUnitFactory(),
        section_key="treatment",
        title="Annan enhet",
        url="https://example.org/x",
    )

    body = (
        cast.client("patient")
        .get(reverse("plan_section", args=[cast.plan.pk, "treatment"]))
        .content.decode()
    )

    assert "Parkering" in body
    assert "Annat avsnitt" not in body
    assert "Annan enhet" not in body


@pytest.mark.parametrize("n", [1, 3])
def test_the_section_page_query_count_is_pinned(cast, django_assert_num_queries, n):
    for i in range(n):
        UnitLink.objects.create(
            unit=cast.unit, section_key="treatment", title=f"Länk {i}", url="https://example.org/"
        )
    url = reverse("plan_section", args=[cast.plan.pk, "treatment"])
    patient, relative = cast.client("patient"), cast.client("relative")
    patient.get(url), relative.get(url)  # warm up: session activity stamps

    # 1 session, 2 user, 3 the section's id by plan and key, 4 the section with its plan
    # and patient (section_for), 5 one round trip of two reads: the unit's links for
    # the section, the plan's section titles (the pager).
    with django_assert_num_queries(5) as captured:
        body = patient.get(url).content.decode()
    assert body.count("Länk ") == n
    assert captured.captured_queries[4]["sql"].count("; SELECT ") == 1
    # A relative: as the patient, with 5 the active grants and 6 INSERT access log.
    with django_assert_num_queries(7):
        assert relative.get(url).status_code == 200


def test_a_section_follows_the_active_language(cast):
    client = cast.client("patient")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})

    body = client.get(reverse("plan_section", args=[cast.plan.pk, "treatment"])).content.decode()

    assert "Section treatment" in body
    assert "Text about treatment." in body


def test_an_unknown_section_is_not_found_and_not_logged(cast):
    response = cast.client("nurse").get(reverse("plan_section", args=[cast.plan.pk, "nope"]))

    assert response.status_code == 404
    assert not AccessLog.objects.exists()


def test_a_relative_reading_a_section_sees_the_banner(cast):
    body = (
        cast.client("relative")
        .get(reverse("plan_section", args=[cast.plan.pk, "treatment"]))
        .content.decode()
    )

    assert "Endast läsning" in body
    assert "Ändra" not in body
