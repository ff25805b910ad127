"""careplan.sessions: Django's database store with a compiled read: a live session
loads, an expired or deleted one does not (the user is logged out), one query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from careplan.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_site_uses_it():
    assert settings.SESSION_ENGINE == "careplan.sessions"


def test_a_live_session_loads_in_one_query(django_assert_num_queries):
    store = SessionStore()
    store["answer"] = 42
    store.create()
    fresh = SessionStore(session_key=store.session_key)
    with django_assert_num_queries(1):
        assert fresh["answer"] == 42


def test_an_expired_or_deleted_session_is_empty_and_forgets_its_key():
    store = SessionStore()
    store["answer"] = 42
    store.create()
    Session.objects.filter(pk=store.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    expired = SessionStore(session_key=store.session_key)
    assert expired.load() == {} and expired.session_key is None
    store2 = SessionStore()
    store2["answer"] = 1
    store2.create()
    Session.objects.filter(pk=store2.session_key).delete()
    gone = SessionStore(session_key=store2.session_key)
    assert gone.load() == {} and gone.session_key is None
    assert SessionStore(session_key=None).load() == {}


def test_an_expired_session_logs_the_user_out(cast):
    client = cast.client("patient")
    url = reverse("plan_detail", args=[cast.plan.pk])
    assert client.get(url).status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_users_pk_lookup_is_djangos_in_one_query(cast, django_assert_num_queries):
    from careplan.models import User

    with django_assert_num_queries(1):
        found = User.objects.get(pk=cast.nurse.pk)
    assert found == cast.nurse and found.email == cast.nurse.email
    assert User.objects.get(id=cast.patient_user.pk).role == cast.patient_user.role
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=0)
    assert User.objects.get(email=cast.nurse.email) == cast.nurse  # other lookups: Django's
