"""A free-text answer keeps its line breaks wherever it is read in words: the patient's
answer page, the alert acknowledgement, the alert and response change pages and the
patient overview (escaped, never as HTML the patient typed)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from selfmonitor import services
from selfmonitor.models import Alert

TYPED = "Sover dåligt\r\noch har <b>ont</b>"
SHOWN = "Sover dåligt<br>och har &lt;b&gt;ont&lt;/b&gt;"


@pytest.fixture
def alert(cast, send):
    outcome = services.response_submit(
        assignment=send("distress-thermometer"),
        by=cast.patient_user,
        raw={"distress": ["9"], "wants_contact": ["no"], "other_problem": [TYPED]},
    )
    return Alert.objects.get(response=outcome.response)


def test_the_patient_reads_the_answer_with_its_line_breaks(cast, alert):
    url = reverse("selfmonitor_response", args=[alert.response_id])
    assert SHOWN in cast.client("patient").get(url).content.decode()


@pytest.mark.parametrize(
    "url_of",
    [
        lambda a: reverse("admin:selfmonitor_alert_acknowledge", args=[a.pk]),
        lambda a: reverse("admin:selfmonitor_alert_change", args=[a.pk]),
        lambda a: reverse("admin:selfmonitor_response_change", args=[a.response_id]),
        lambda a: reverse("admin:careplan_patient_overview", args=[a.patient_id]),
    ],
    ids=["acknowledge", "alert", "response", "overview"],
)
def test_the_nurse_reads_the_answer_with_its_line_breaks(cast, alert, url_of):
    response = cast.client("nurse").get(url_of(alert))
    assert response.status_code == 200
    assert SHOWN in response.content.decode()
