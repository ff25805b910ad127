"""Relatives: the menu shows only what is shared, a part not shared says so, and the texts
address the relative ("Alvas vårdplan"), not the patient."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careplan.templatetags.careplan_tags import genitive
from contacts.models import Scope


def _menu(html: str) -> str:
    return html[html.index('<nav class="plan-nav"') : html.index("</nav>", html.index("plan-nav"))]


def test_the_relatives_menu_shows_only_the_shared_parts(cast):
    cast.grant.scopes = [Scope.PLAN_SECTIONS, Scope.CALENDAR]
    cast.grant.save()
    html = cast.client("relative").get(reverse("plan_detail", args=[cast.plan.pk])).content
    menu = _menu(html.decode())
    assert reverse("plan_calendar", args=[cast.plan.pk]) in menu
    assert reverse("selfmonitor_list", args=[cast.plan.pk]) not in menu
    assert reverse("rehab_plan", args=[cast.plan.pk]) not in menu
    assert reverse("care_map") not in menu
    assert reverse("message_list") not in html.decode()  # not in the header either
    text = html.decode()
    assert "Alva har inte delat de här delarna med dig:" in text
    assert "kontaktsjuksköterskans uppgifter" in text and "meddelanden med vårdteamet" in text
    assert "Alvas vårdplan" in text


def test_with_everything_shared_the_menu_has_every_part_and_nothing_is_said_missing(cast):
    cast.grant.scopes = [s.value for s in Scope]
    cast.grant.save()
    html = cast.client("relative").get(reverse("plan_detail", args=[cast.plan.pk])).content
    menu = _menu(html.decode())
    for url in (
        reverse("plan_calendar", args=[cast.plan.pk]),
        reverse("selfmonitor_list", args=[cast.plan.pk]),
        reverse("rehab_plan", args=[cast.plan.pk]),
        reverse("message_list"),
    ):
        assert url in menu
    assert reverse("care_map") not in menu  # the care map is the patient's own page
    assert "har inte delat" not in html.decode()


def test_the_patients_menu_reaches_questionnaires_rehab_and_care_map(cast):
    html = cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk])).content
    menu = _menu(html.decode())
    for url in (
        reverse("selfmonitor_list", args=[cast.plan.pk]),
        reverse("rehab_plan", args=[cast.plan.pk]),
        reverse("care_map"),
        reverse("message_list"),
    ):
        assert url in menu


def test_messages_not_shared_say_so_instead_of_no_messages_yet(cast):
    cast.grant.scopes = [Scope.PLAN_SECTIONS]
    cast.grant.save()
    html = cast.client("relative").get(reverse("message_list")).content.decode()
    assert "Ingen har delat sina meddelanden med vårdteamet med dig." in html
    assert "Inga meddelanden än." not in html


def test_the_calendar_and_notes_address_the_relative(cast):
    html = cast.client("relative").get(reverse("plan_calendar", args=[cast.plan.pk])).content
    assert "Alvas kalender" in html.decode()


@pytest.mark.parametrize(
    ("lang", "name", "expected"),
    [("sv", "Eva", "Evas"), ("sv", "Lars", "Lars"), ("en", "Eva", "Eva’s"), ("sv", "", "")],
)
def test_genitive(lang, name, expected):
    from django.utils import translation

    with translation.override(lang):
        assert genitive(name) == expected
