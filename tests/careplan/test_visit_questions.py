"""Questions for my next visit: the patient's own list, and the selector the care team's
patient overview calls."""

from __future__ import annotations

import pytest
from django.urls import reverse

from careplan import selectors
from careplan.models import VisitQuestion

from ..conftest import CAST


def test_the_patient_adds_ticks_off_and_removes_questions(cast):
    client = cast.client("patient")
    url = reverse("visit_questions")
    assert client.post(url, {"text": "Hur länge\r\nvarar tröttheten?"}).status_code == 302
    client.post(url, {"text": "Får jag resa?"})
    first, second = VisitQuestion.objects.order_by("pk")
    assert first.text == "Hur länge\nvarar tröttheten?"
    client.post(url, {"action": "answered", "question": first.pk})
    assert [q.text for q in selectors.visit_questions(cast.patient)] == ["Får jag resa?"]
    assert len(selectors.visit_questions(cast.patient, include_answered=True)) == 2
    client.post(url, {"action": "delete", "question": second.pk})
    assert VisitQuestion.objects.count() == 1
    page = client.get(url).content.decode()
    assert "Redan frågat" in page and "Hur länge" in page


def test_an_empty_question_is_refused_with_a_message(cast):
    response = cast.client("patient").post(reverse("visit_questions"), {"text": "  "})
    assert response.status_code == 400
    assert "Skriv din fråga först." in response.content.decode()
    assert not VisitQuestion.objects.exists()


@pytest.mark.parametrize("who", [w for w in CAST if w != "patient"])
def test_only_the_patient_has_a_question_list(cast, who):
    question = VisitQuestion.objects.create(patient=cast.patient, text="Min fråga")
    client = cast.client(who)
    assert client.get(reverse("visit_questions")).status_code in (302, 404)
    client.post(reverse("visit_questions"), {"action": "delete", "question": question.pk})
    assert VisitQuestion.objects.filter(pk=question.pk).exists()


def test_another_patients_question_cannot_be_touched(cast):
    from tests.factories import PatientFactory

    other = VisitQuestion.objects.create(patient=PatientFactory(), text="Annans")
    response = cast.client("patient").post(
        reverse("visit_questions"), {"action": "delete", "question": other.pk}
    )
    assert response.status_code == 404
    assert VisitQuestion.objects.filter(pk=other.pk).exists()


def test_the_selector_is_one_query(cast, django_assert_num_queries):
    for i in range(3):
        VisitQuestion.objects.create(patient=cast.patient, text=f"Fråga {i}")
    with django_assert_num_queries(1):
        assert len(list(selectors.visit_questions(cast.patient.pk))) == 3


@pytest.mark.parametrize("n", [1, 3])
def test_the_question_list_query_count_is_pinned(cast, django_assert_num_queries, n):
    client = cast.client("patient")
    client.get(reverse("visit_questions"))  # warm up: session activity stamp
    for i in range(n):
        VisitQuestion.objects.create(patient=cast.patient, text=f"Fråga {i}")
    # 1 session, 2 user, 3 the patient, 4 the questions, 5 the open plan (back link).
    with django_assert_num_queries(5):
        response = client.get(reverse("visit_questions"))
    assert response.content.decode().count('<p class="prewrap">Fråga ') == n
