"""The admin lists' rows (careplan.admin.results) are Django's own HTML, cell for cell, for
every registered admin: orders, filters kept in the links, empty values, booleans, dates,
links and the row checkbox; only the CPU per row is less (issue 16)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from careplan import messaging
from careplan.admin import results, row_url
from careplan.models import AccessLog, CalendarEvent, MessageThread
from careplan.testing import login
from selfmonitor import services as sm_services
from tests import factories as f
from tests.selfmonitor.conftest import instruments, send  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows_of_every_kind(cast, send):  # noqa: F811
    """A few rows in the patient-data lists: threads (waiting, read, escalated), alerts
    (open and acknowledged), plans, calendar entries, a second patient with no nurse."""
    thread = messaging.message_send(
        by=cast.patient_user, patient=cast.patient, subject="Fråga <om> & provsvar", body="Hej"
    ).thread
    MessageThread.objects.filter(pk=thread.pk).update(
        escalated_at=timezone.now(), staff_read_at=timezone.now()
    )
    plan = f.covered_plan(cast.unit)
    messaging.message_send(by=plan.patient.user, patient=plan.patient, subject="Andra", body="x")
    f.CalendarEventFactory(plan=cast.plan, starts_at=timezone.now() + dt.timedelta(days=2))
    for distress in (9, 1):
        response = sm_services.response_submit(
            assignment=send("distress-thermometer"),
            by=cast.patient_user,
            raw={"distress": [str(distress)], "wants_contact": ["yes"]},
        ).response
    alert = response.alerts.first()
    sm_services.alert_acknowledge(alert=alert, by=cast.nurse, note="Ringde.")
    assert CalendarEvent.objects.exists()


def _changelists(client: Client):
    """Every registered admin's list this user may open."""
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url)
        if response.status_code != 200 or "cl" not in (response.context or {}):
            continue
        yield model_admin, url, response


def _djangos_rows(cl) -> list[str]:
    return ["".join(row) for row in admin_list.result_list(cl)["results"]]


def _our_rows(cl) -> list[str]:
    return [str(row[0]) for row in results.result_list(cl)["results"]]


@pytest.mark.parametrize("superuser", [False, True])
@pytest.mark.parametrize("language", ["sv", "en", "ar", "fi"])
def test_every_lists_rows_are_djangos_html(cast, rows_of_every_kind, superuser, language):
    user = f.StaffFactory(units=[cast.unit], is_superuser=True) if superuser else cast.nurse
    client = login(Client(), user)
    client.cookies["django_language"] = language
    seen = 0
    for model_admin, url, response in _changelists(client):
        for query in ("", "?o=-2.1", "?o=3&q=a", "?all="):
            if query:
                response = client.get(url + query)
                if response.status_code != 200:
                    continue
            cl = response.context["cl"]
            with translation.override(language):
                ours, djangos = _our_rows(cl), _djangos_rows(cl)
            assert ours == djangos, (model_admin, query)
            seen += len(ours)
    assert seen > 20


def test_a_list_page_shows_the_same_rows_as_djangos_template(cast, rows_of_every_kind):
    client = login(Client(), cast.nurse)
    response = client.get(reverse("admin:careplan_messagethread_changelist") + "?waiting=all")
    html = response.content.decode()
    cl = response.context["cl"]
    with translation.override("sv"):
        rows = _djangos_rows(cl)
    assert len(rows) == 2
    for row in rows:
        assert f"<tr>{row}</tr>" in html
    # and the filters are kept in each row's link
    assert "/change/?_changelist_filters=waiting%3Dall" in html


def test_row_url_is_reverse(cast):
    for name, pk in (
        ("admin:careplan_patient_overview", cast.patient.pk),
        ("admin:careplan_patient_change", 7),
        ("admin:selfmonitor_alert_acknowledge", 123456),
        ("admin:careplan_patient_change", "a/b"),
    ):
        assert row_url(name, pk) == reverse(name, args=[pk])


def test_the_lists_still_log_each_patient_shown(cast, rows_of_every_kind):
    client = login(Client(), cast.nurse)
    before = AccessLog.objects.filter(action=AccessLog.Action.LIST).count()
    client.get(reverse("admin:careplan_messagethread_changelist") + "?waiting=all")
    assert AccessLog.objects.filter(action=AccessLog.Action.LIST).count() == before + 2
