"""Read-side queries of self-monitoring for the care team: the alerts on the worklist,
answers in words (never JSON), the open alerts of one patient with the answers that
raised them, and the trend charts at admin size."""

from __future__ import annotations

from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _

from careplan import rendering
from careplan.models import Patient
from careplan.prepared import prepared
from careplan.selectors import (
    PATIENT_FIELDS,
    WorkItem,
    of_units,
    register_worklist_source,
    source_rows,
)

from . import scoring
from .definition import item_map
from .models import Alert, Instrument, Response, pick
from .svg import trend_svg
from .symptom_services import SYMPTOM_ALERT_RULE


def answers_in_words(response: Response) -> list[dict]:
    """Each answered question as text: the question, the chosen option(s) in words."""
    items = item_map(response.instrument.definition)
    answered = []
    for item_id, value in (response.answers or {}).items():
        item = items.get(item_id)
        if item is None:
            continue
        if item["type"] in ("single", "multiple"):
            labels = {str(o["value"]): pick(o["text"]) for o in item["options"]}
            shown = ", ".join(
                labels.get(str(v), str(v)) for v in (value if isinstance(value, list) else [value])
            )
        elif item["type"] == "yesno":
            shown = _("Yes") if value == "yes" else _("No")
        else:
            shown = str(value)
        answered.append({"text": pick(item["text"]), "value": shown})
    return answered


# A high score on these scales links to the matching symptom advice (symptom report ids).
ADVICE_FOR_SCALE = {
    "pain": "pain",
    "tiredness": "tiredness",
    "drowsiness": "drowsiness",
    "nausea": "nausea",
    "appetite": "appetite",
    "breath": "breathless",
    "low_mood": "depression",
    "anxiety": "anxiety",
    "wellbeing": "wellbeing",
    "distress": "anxiety",
}
HIGH_SHARE = 0.7  # a score in the top 30 % of its range is "high"


def scale_rows(response: Response) -> list[dict]:
    """Each scale's score with its range and its meaning (the band's label); a high score
    on a symptom scale links to the matching self-care advice."""
    rows = []
    for scale in response.instrument.definition.get("scales", []):
        value = (response.scores or {}).get(scale["key"])
        found = scoring.band(scale, value)
        lo, hi = scale.get("min", 0), scale.get("max", 10)
        high = value is not None and hi > lo and (value - lo) / (hi - lo) >= HIGH_SHARE
        symptom = ADVICE_FOR_SCALE.get(scale["key"])
        rows.append(
            {
                "key": scale["key"],
                "title": pick(scale["title"]),
                "value": value,
                "max": hi,
                "range": f"{lo}–{hi}",
                "band": pick(found["label"]) if found else "",
                "advice_url": rendering.url("symptom_advice", symptom) if high and symptom else "",
            }
        )
    return rows


def scores_in_words(response: Response) -> str:
    """ "Distress: 8 (0–10, high)" for every scale, one line."""
    parts = []
    for row in scale_rows(response):
        value = _("not scored") if row["value"] is None else row["value"]
        band = f", {row['band']}" if row["band"] else ""
        parts.append(f"{row['title']}: {value} ({row['range']}{band})")
    return "; ".join(parts)


_open_alerts_of_units = source_rows(
    lambda units: (
        of_units(Alert.objects.worklist(), units)
        .select_related("patient")
        .only(
            "patient_id",
            "rule",
            "severity",
            "created_at",
            "acknowledge_by",
            "text_sv",
            "text_en",
            *PATIENT_FIELDS,
        )
    )
)


@register_worklist_source("alert")
def alert_items(user, *, limit: int) -> list[WorkItem]:
    """Open alerts of my units' patients, most severe first, oldest first (one query). A
    symptom the patient reported is an alert too: graded by its triage (call now = high,
    call today = medium, self-care = low), its text naming the advice given in words."""
    to_item = rendering.route("admin:selfmonitor_alert_acknowledge")  # one reverse() for every row
    alerts = _open_alerts_of_units(user, limit)
    return [
        WorkItem(
            kind="alert",
            kind_label=(
                _("Symptom reported by the patient")
                if a.rule == SYMPTOM_ALERT_RULE
                else _("Alert from a questionnaire")
            ),
            severity=a.severity,
            since=a.created_at,
            patient=a.patient,
            title=a.text,
            url=to_item(a.pk),
            obj=a,
            acting_unit_id=a.acting_unit_id,
            due_at=a.acknowledge_by,
        )
        for a in alerts
    ]


# The overview shows the most severe, oldest open alerts in full and links the rest.
OVERVIEW_ALERTS = 5

_open_alerts = prepared(
    lambda patient_id: (
        Alert.objects.worklist()
        .filter(patient_id=patient_id)
        .select_related("response__instrument")
        # the instrument's definition from the process's parsed copy (Instrument.parsed)
        .defer("response__instrument__definition")[: OVERVIEW_ALERTS + 1]
    )
)


def open_alerts(patient: Patient) -> tuple[list[dict], bool]:
    """The ``OVERVIEW_ALERTS`` most severe, oldest open alerts with the score and the
    answers that raised them, in words, and whether there are more (one query: alerts,
    responses and instruments; the answers are on the response row)."""
    to_item = rendering.route("admin:selfmonitor_alert_acknowledge")  # one reverse() for every row
    found = _open_alerts(patient_id=patient.pk)
    alerts = found[:OVERVIEW_ALERTS]
    for a in alerts:
        a.response.instrument = Instrument.parsed(a.response.instrument)
    severity = rendering.choice_labels(Alert.Severity)
    return [
        {
            "alert": a,
            "severity_label": severity[str(a.severity)],
            "ack_url": to_item(a.pk),
            "instrument": pick(a.response.instrument.definition["title"]),
            "answered_at": a.response.submitted_at,
            # Only said when it was not the original (Swedish/English) version.
            "answered_in": a.response.instrument.language_label
            if a.response.instrument.language
            else "",
            "scales": scale_rows(a.response),
            "answers": answers_in_words(a.response),
        }
        for a in alerts
    ], len(found) > OVERVIEW_ALERTS


CHART_POINTS = 20  # the latest answers per instrument on the overview's charts

# The latest CHART_POINTS completed answers of each instrument (a window per
# instrument: rows of an instrument answered long ago still come, and no more rows are
# read and decoded than the charts draw).
_trend_rows = prepared(
    lambda patient_id: (
        Response.objects.filter(patient_id=patient_id, status=Response.Status.COMPLETED)
        .exclude(instrument__kind=Instrument.Kind.PREM)
        .annotate(
            nth=Window(
                RowNumber(), partition_by=F("instrument_key"), order_by=F("submitted_at").desc()
            )
        )
        .filter(nth__lte=CHART_POINTS)
        .order_by("-submitted_at")
        .values_list("instrument_key", "submitted_at", "scores")
    )
)


_instruments = prepared(
    lambda keys: (
        Instrument.objects.filter(key__in=keys, language="")
        .order_by("key", "-version")
        .only("key", *Instrument.LIGHT_FIELDS)  # parsed once per process (Instrument.parsed)
    )
)


def trend_charts(patient: Patient, *, points_per_chart: int = CHART_POINTS) -> list[dict]:
    """The patient's PROM trends, the same SVG charts the patient sees (two queries: the
    latest completed answers, the current instruments)."""
    rows = _trend_rows(patient_id=patient.pk)
    if not rows:
        return []
    keys = {key for key, _when, _scores in rows}
    current: dict[str, Instrument] = {}
    for latest in _instruments(keys=tuple(sorted(keys))):
        if latest.key not in current:
            current[latest.key] = Instrument.parsed(latest)
    charts = []
    for key in sorted(keys):
        instrument = current.get(key)
        if instrument is None or instrument.kind == Instrument.Kind.PREM:
            continue
        mine = [(when, scores) for k, when, scores in reversed(rows) if k == key]
        for scale in instrument.definition.get("scales", []):
            points = [
                (when, scores[scale["key"]])
                for when, scores in mine
                if scores.get(scale["key"]) is not None
            ][-points_per_chart:]
            if not points:
                continue
            title = f"{pick(instrument.definition['title'])}: {pick(scale['title'])}"
            lo, hi = scale.get("min", 0), scale.get("max", 10)
            thresholds = [(t["value"], pick(t["label"])) for t in scale.get("thresholds", [])]
            desc = (
                _("%(n)s answers from %(lo)s to %(hi)s.")
                % {
                    "n": len(points),
                    "lo": lo,
                    "hi": hi,
                }
                + " "
                + _("Latest: %(value)s.") % {"value": points[-1][1]}
            )
            charts.append(
                {
                    "title": title,
                    "svg": trend_svg(
                        points,
                        lo=lo,
                        hi=hi,
                        thresholds=thresholds,
                        title=title,
                        desc=desc,
                        chart_id=f"chart-{key}-{scale['key']}",
                    ),
                    "latest": points[-1][1],
                }
            )
    return charts
