"""Every web view × the whole cast: status code and the access-log row each access leaves.

The patient's own reads leave no row; everyone else leaves exactly one (allowed or
denied); anonymous visitors are sent to the login page and see no patient data.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from careplan.models import AccessLog, CalendarEvent
from tests.conftest import CAST
from tests.factories import CalendarEventFactory, RelativeGrantFactory, covered_plan

pytestmark = pytest.mark.django_db


A = AccessLog.Action
ALLOWED, DENIED = AccessLog.Outcome.ALLOWED, AccessLog.Outcome.DENIED
WEB, PDF = AccessLog.Channel.WEB, AccessLog.Channel.PDF
CARE, GRANT, NONE = (
    AccessLog.Basis.CARE_RELATION,
    AccessLog.Basis.RELATIVE_GRANT,
    AccessLog.Basis.NONE,
)


@pytest.fixture
def event(cast):
    return CalendarEventFactory(plan=cast.plan, title="Cytostatika 1")


def _url(name: str, cast, event) -> str:
    plan = cast.plan.pk
    return {
        "home": reverse("home"),
        "plan_detail": reverse("plan_detail", args=[plan]),
        "plan_section": reverse("plan_section", args=[plan, "treatment"]),
        "plan_calendar": reverse("plan_calendar", args=[plan]),
        "event_edit": reverse("event_edit", args=[plan, event.pk]),
        "event_delete": reverse("event_delete", args=[plan, event.pk]),
        "plan_pdf": reverse("plan_pdf", args=[plan]),
        "my_access_log": reverse("my_access_log"),
    }[name]


# Expected GET status per view and cast member; 302 means a redirect (checked below).
GET_STATUS = {
    "plan_detail": dict(
        patient=200, nurse=200, other_nurse=404, relative=200, stranger_relative=404
    ),
    "plan_section": dict(
        patient=200, nurse=200, other_nurse=404, relative=200, stranger_relative=404
    ),
    "plan_calendar": dict(
        patient=200, nurse=200, other_nurse=404, relative=200, stranger_relative=404
    ),
    "event_edit": dict(
        patient=200, nurse=200, other_nurse=404, relative=403, stranger_relative=404
    ),
    "event_delete": dict(
        patient=200, nurse=200, other_nurse=404, relative=403, stranger_relative=404
    ),
    "plan_pdf": dict(patient=200, nurse=200, other_nurse=404, relative=200, stranger_relative=404),
    "my_access_log": dict(
        patient=200, nurse=404, other_nurse=404, relative=404, stranger_relative=404
    ),
}

# The access-log row a GET leaves: (object type, action, channel).
GET_LOGGED_AS = {
    "plan_detail": ("CarePlan", A.VIEW, WEB),
    "plan_section": ("PlanSection", A.VIEW, WEB),
    "plan_calendar": ("CarePlan", A.VIEW, WEB),
    "event_edit": ("CalendarEvent", A.VIEW, WEB),
    "event_delete": ("CalendarEvent", A.VIEW, WEB),
    "plan_pdf": ("CarePlan", A.PRINT, PDF),
}

# Who reaches the patient how: (outcome when allowed by scope, basis, acting unit attr).
REACH = {
    "nurse": (CARE, "unit"),
    "other_nurse": (NONE, None),
    "relative": (GRANT, None),
    "stranger_relative": (NONE, None),
}


def _assert_one_row(cast, who, *, object_type, action, outcome, channel):
    user = cast.user(who)
    rows = list(AccessLog.objects.filter(user=user))
    assert len(rows) == 1, f"{who}: {rows}"
    row = rows[0]
    basis, unit_attr = REACH[who]
    assert row.user_name == str(user)
    assert row.role == user.role
    assert row.basis == basis
    assert row.acting_unit == (getattr(cast, unit_attr) if unit_attr else None)
    assert row.patient == cast.patient
    assert row.object_type == object_type
    assert row.action == action
    assert row.outcome == outcome
    assert row.channel == channel


@pytest.mark.parametrize("view", list(GET_STATUS))
@pytest.mark.parametrize("who", [w for w in CAST if w != "anonymous"])
def test_each_view_answers_each_cast_member_and_logs_the_access(cast, event, view, who):
    response = cast.client(who).get(_url(view, cast, event))

    expected = GET_STATUS[view][who]
    assert response.status_code == expected
    if who == "patient" or view == "my_access_log":
        assert not AccessLog.objects.filter(user=cast.user(who)).exists()
        return
    object_type, action, channel = GET_LOGGED_AS[view]
    _assert_one_row(
        cast,
        who,
        object_type=object_type,
        action=action,
        outcome=ALLOWED if expected == 200 else DENIED,
        channel=channel,
    )


@pytest.mark.parametrize("view", [*GET_STATUS, "home"])
def test_anonymous_is_sent_to_login_and_sees_no_patient_data(cast, event, view):
    response = cast.client("anonymous").get(_url(view, cast, event))

    if view == "home":
        assert response.status_code == 200  # the landing page
        assert reverse("account_login") in response.content.decode()
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    body = response.content.decode()
    assert cast.patient.last_name not in body
    assert "Cytostatika" not in body
    assert not AccessLog.objects.exists()


# --- Writes ---------------------------------------------------------------------------------


def _event_data(title="Provtagning", days=5, **extra) -> dict:
    start = timezone.localtime(timezone.now() + dt.timedelta(days=days)).replace(
        second=0, microsecond=0
    )
    data = {
        "kind": CalendarEvent.Kind.EXAMINATION,
        "title": title,
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "location": "Lab, plan 2",
        "note": "",
    }
    data.update(extra)
    return data


WRITE_STATUS = dict(patient=302, nurse=302, other_nurse=404, relative=403, stranger_relative=404)


@pytest.mark.parametrize("who", [w for w in CAST if w != "anonymous"])
def test_adding_to_the_calendar_is_for_patient_and_care_team_only(cast, who):
    response = cast.client(who).post(
        reverse("plan_calendar", args=[cast.plan.pk]), _event_data("Ny tid")
    )

    assert response.status_code == WRITE_STATUS[who]
    created = CalendarEvent.objects.filter(title="Ny tid")
    if WRITE_STATUS[who] == 302:
        assert response["Location"] == reverse("plan_calendar", args=[cast.plan.pk])
        assert created.get().created_by == cast.user(who)
    else:
        assert not created.exists()
    if who != "patient":
        _assert_one_row(
            cast,
            who,
            object_type="CarePlan",
            action=A.CREATE,
            outcome=ALLOWED if WRITE_STATUS[who] == 302 else DENIED,
            channel=WEB,
        )


@pytest.mark.parametrize("who", [w for w in CAST if w != "anonymous"])
def test_changing_an_event_is_for_patient_and_care_team_only(cast, event, who):
    response = cast.client(who).post(
        reverse("event_edit", args=[cast.plan.pk, event.pk]), _event_data("Ändrad tid")
    )

    assert response.status_code == WRITE_STATUS[who]
    event.refresh_from_db()
    assert (event.title == "Ändrad tid") is (WRITE_STATUS[who] == 302)
    if who != "patient":
        _assert_one_row(
            cast,
            who,
            object_type="CalendarEvent",
            action=A.UPDATE,
            outcome=ALLOWED if WRITE_STATUS[who] == 302 else DENIED,
            channel=WEB,
        )


@pytest.mark.parametrize("who", [w for w in CAST if w != "anonymous"])
def test_removing_an_event_is_for_patient_and_care_team_only(cast, event, who):
    response = cast.client(who).post(reverse("event_delete", args=[cast.plan.pk, event.pk]))

    assert response.status_code == WRITE_STATUS[who]
    assert CalendarEvent.objects.filter(pk=event.pk).exists() is (WRITE_STATUS[who] != 302)
    if who != "patient":
        _assert_one_row(
            cast,
            who,
            object_type="CalendarEvent",
            action=A.DELETE,
            outcome=ALLOWED if WRITE_STATUS[who] == 302 else DENIED,
            channel=WEB,
        )


@pytest.mark.parametrize("view", ["plan_calendar", "event_edit", "event_delete"])
def test_anonymous_writes_go_to_login_and_change_nothing(cast, event, view):
    response = cast.client("anonymous").post(_url(view, cast, event), _event_data("Smuggel"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not CalendarEvent.objects.filter(title="Smuggel").exists()
    assert CalendarEvent.objects.filter(pk=event.pk, title="Cytostatika 1").exists()
    assert not AccessLog.objects.exists()


def test_a_relative_asked_to_write_gets_a_helpful_403_page(cast, event):
    response = cast.client("relative").post(
        reverse("plan_calendar", args=[cast.plan.pk]), _event_data()
    )

    assert response.status_code == 403
    assert "Det går inte att göra här" in response.content.decode()


def test_an_event_of_another_plan_is_not_found_under_this_plan(cast):
    other = CalendarEventFactory(plan=covered_plan())  # another patient's plan
    client = cast.client("patient")

    response = client.get(reverse("event_edit", args=[cast.plan.pk, other.pk]))

    assert response.status_code == 404


# --- Home ------------------------------------------------------------------------------------


def test_home_sends_the_patient_to_their_plan(cast):
    response = cast.client("patient").get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("plan_detail", args=[cast.plan.pk])


def test_home_sends_staff_to_the_admin(cast):
    response = cast.client("nurse").get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert not AccessLog.objects.exists()


def test_home_greets_a_patient_without_a_plan_kindly(cast):
    cast.plan.status = "closed"
    cast.plan.save()

    response = cast.client("patient").get(reverse("home"))

    assert response.status_code == 200
    assert "Din vårdplan är inte klar än." in response.content.decode()


def test_home_lists_who_shares_with_a_relative_and_logs_it(cast):
    response = cast.client("relative").get(reverse("home"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Alva Andersson" in body
    assert reverse("plan_detail", args=[cast.plan.pk]) in body
    row = AccessLog.objects.get(user=cast.relative)
    assert (row.patient, row.action, row.basis, row.outcome, row.channel) == (
        cast.patient,
        A.LIST,
        GRANT,
        ALLOWED,
        WEB,
    )


def test_home_of_a_relative_nobody_shares_with_shows_no_patient(cast):
    response = cast.client("stranger_relative").get(reverse("home"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Ingen delar en vårdplan med dig" in body
    assert "Andersson" not in body
    assert not AccessLog.objects.exists()


def test_home_stops_listing_a_patient_after_the_grant_is_revoked(cast):
    cast.grant.revoked_at = timezone.now()
    cast.grant.save()

    response = cast.client("relative").get(reverse("home"))

    assert "Andersson" not in response.content.decode()
    assert not AccessLog.objects.exists()


# --- Headers, layout, errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "view", ["plan_detail", "plan_section", "plan_calendar", "plan_pdf", "my_access_log"]
)
def test_pages_with_patient_data_are_never_cached(cast, event, view):
    response = cast.client("patient").get(_url(view, cast, event))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_layout_has_skip_link_language_switch_logout_and_urgent_numbers(cast):
    response = cast.client("patient").get(reverse("plan_detail", args=[cast.plan.pk]))

    body = response.content.decode()
    assert 'href="#main"' in body
    assert f'action="{reverse("set_language")}"' in body
    assert 'name="language" value="en"' in body
    assert f'action="{reverse("account_logout")}"' in body
    assert 'href="tel:1177"' in body and 'href="tel:112"' in body
    assert cast.patient_user.get_full_name() in body  # the logged-in user's name
    assert "style=" not in body and "<script>" not in body  # strict CSP


def test_the_language_switch_changes_the_language(cast):
    client = cast.client("patient")

    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert client.cookies["django_language"].value == "en"


def test_the_404_page_is_generic_and_helpful(cast):
    response = cast.client("stranger_relative").get(reverse("plan_detail", args=[cast.plan.pk]))

    body = response.content.decode()
    assert response.status_code == 404
    assert "Sidan kunde inte hittas" in body
    assert "1177" in body
    assert "Andersson" not in body


def test_the_500_page_renders_without_the_request(rf):
    from careplan.views import error_500

    response = error_500(rf.get("/"))

    assert response.status_code == 500
    assert "Något gick fel" in response.content.decode()


@pytest.mark.parametrize("n", [1, 3])
def test_relative_home_query_count_is_pinned(cast, django_assert_num_queries, n):
    client = cast.client("relative")
    client.get(reverse("home"))  # warm up: session activity stamp
    for _ in range(n - 1):
        plan = covered_plan()
        RelativeGrantFactory(patient=plan.patient, relative=cast.relative)

    # 1 session, 2 user, 3 the relative's grants with their scopes (also whether any
    # shares messages, for the header's "Messages" link), 4 the patients, 5 their open
    # plans, 6 INSERT the access-log rows (one per patient, one query).
    with django_assert_num_queries(6):
        response = client.get(reverse("home"))
    assert response.content.decode().count('class="card"') == n
    assert AccessLog.objects.filter(user=cast.relative).count() == 1 + n


@pytest.mark.parametrize("n", [1, 3])
def test_shared_with_me_for_a_patient_who_is_also_a_relative_is_pinned(
    cast, django_assert_num_queries, n
):
    """One person, two roles (issue 15): the cast patient reads what others share."""
    client = cast.client("patient")
    client.get(reverse("home"))  # warm up: session activity stamp
    for _ in range(n):
        plan = covered_plan()
        RelativeGrantFactory(patient=plan.patient, relative=cast.patient_user)

    # 1 session, 2 user, 3 the grants with their scopes, 4 the patients,
    # 5 their open plans, 6 INSERT the access-log rows (one per patient, one query).
    with django_assert_num_queries(6):
        response = client.get(reverse("shared_with_me"))
    assert response.content.decode().count('class="card"') == n
    assert AccessLog.objects.filter(user=cast.patient_user).count() == n


def test_shared_with_me_is_not_for_staff(cast):
    assert cast.client("nurse").get(reverse("shared_with_me")).status_code == 404
    assert cast.client("anonymous").get(reverse("shared_with_me")).status_code == 302
