"""The care team's calendar entries are read-only for the patient on every channel (web,
API, services); the patient asks for a change instead, which becomes one item on the
unit's worklist (a double submit adds nothing) and is handled with a note."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from careplan import services
from careplan.models import AccessLog, CalendarEvent, EventChangeRequest, Notification
from tests.factories import CalendarEventFactory

from ..conftest import CAST


@pytest.fixture
def team_event(cast):
    return CalendarEventFactory(plan=cast.plan, title="Cytostatika", created_by=cast.nurse)


def test_services_refuse_a_patient_changing_a_team_entry(cast, team_event):
    team_event.title = "Flyttad"
    with pytest.raises(PermissionDenied):
        services.event_update(event=team_event, by=cast.patient_user)
    with pytest.raises(PermissionDenied):
        services.event_delete(event=team_event, by=cast.patient_user)
    assert CalendarEvent.objects.get(pk=team_event.pk).title == "Cytostatika"
    services.event_update(event=team_event, by=cast.nurse)  # staff may


def test_the_api_refuses_a_patient_changing_a_team_entry(cast, team_event):
    client = cast.client("patient")
    url = f"/api/v1/events/{team_event.pk}/"
    assert client.get(url).status_code == 200
    response = client.patch(url, {"title": "Flyttad"}, content_type="application/json")
    assert response.status_code == 403
    assert client.delete(url).status_code == 403
    assert CalendarEvent.objects.get(pk=team_event.pk).title == "Cytostatika"
    own = CalendarEventFactory(plan=cast.plan, created_by=cast.patient_user)
    response = client.patch(
        f"/api/v1/events/{own.pk}/", {"title": "Eget"}, content_type="application/json"
    )
    assert response.status_code == 200


def test_the_patient_asks_for_a_change_once_and_the_team_is_told(cast, team_event):
    client = cast.client("patient")
    url = reverse("event_change_request", args=[cast.plan.pk, team_event.pk])
    assert client.get(url).status_code == 200
    empty = client.post(url, {"text": "  "})
    assert empty.status_code == 400
    assert "Skriv vad du vill ändra." in empty.content.decode()
    data = {"text": "Kan vi flytta till\r\nfredag?"}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # sent twice
    request = EventChangeRequest.objects.get()
    assert request.text == "Kan vi flytta till\nfredag?"
    assert request.patient == cast.patient and request.handled_at is None
    note = Notification.objects.get(recipient=cast.nurse)
    assert note.url == reverse("admin:careplan_eventchangerequest_change", args=[request.pk])
    assert "fredag" not in note.label  # no health data in notifications
    assert "Du bad om en ändring" in client.get(url).content.decode()


@pytest.mark.parametrize("who", [w for w in CAST if w != "patient"])
def test_only_the_patient_asks_for_a_change(cast, team_event, who):
    url = reverse("event_change_request", args=[cast.plan.pk, team_event.pk])
    response = cast.client(who).post(url, {"text": "Flytta"})
    assert response.status_code in {"anonymous": (302,)}.get(who, (403, 404))
    assert not EventChangeRequest.objects.exists()


def test_the_request_is_on_the_nurses_worklist_and_handled_with_a_note(cast, team_event):
    from careplan import selectors

    request = services.event_change_request(event=team_event, by=cast.patient_user, text="Flytta")
    nurse = cast.client("nurse")
    change_url = reverse("admin:careplan_eventchangerequest_change", args=[request.pk])
    index = nurse.get(reverse("admin:index")).content.decode()
    # One worklist: the request is an item of it, opening where it is handled.
    assert 'id="waiting"' in index and "Önskad ändring i kalendern" in index
    assert change_url in index and "Flytta" in index
    assert AccessLog.objects.filter(
        patient=cast.patient, user=cast.nurse, object_type="EventChangeRequest"
    ).exists()
    other = cast.client("other_nurse").get(reverse("admin:index")).content.decode()
    assert "Flytta" not in other

    url = change_url
    assert nurse.post(url, {"note": ""}).status_code == 200  # the note is required
    response = nurse.post(url, {"note": "Flyttad till fredag, patienten informerad."})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.handled_by == cast.nurse and request.note.startswith("Flyttad")
    nurse.cookies["django_language"] = "en"
    start_page = nurse.get(reverse("admin:index")).content.decode()
    assert "Calendar change asked for" not in start_page
    assert "change_request" not in [i.kind for i in selectors.worklist(cast.nurse)]
    assert cast.client("other_nurse").get(url).status_code == 404


@pytest.mark.parametrize("n", [1, 3])
def test_the_worklist_source_costs_the_same_for_1_and_3_requests(
    cast, django_assert_num_queries, n
):
    from careplan import selectors

    for i in range(n):
        event = CalendarEventFactory(plan=cast.plan, title=f"Bokning {i}", created_by=cast.nurse)
        services.event_change_request(event=event, by=cast.patient_user, text="Flytta")
    nurse = type(cast.nurse).objects.get(pk=cast.nurse.pk)
    # 1 the nurse's units, 2 the open requests with patient, entry and acting unit,
    # 3 INSERT the access-log rows (one per patient).
    with django_assert_num_queries(3):
        items = selectors.change_request_items(nurse, limit=25)
        selectors.WORKLIST_SOURCES["change_request"].log(nurse, items)
    assert [i.kind for i in items] == ["change_request"] * n
    assert all(i.url.endswith(f"/{i.obj.pk}/change/") for i in items)
