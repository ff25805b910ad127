"""Trend charts: server-rendered SVG with thresholds, labelled for screen readers, no
inline style (CSP), text escaped; the trend page also shows the figures as a table."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.urls import reverse
from django.utils import timezone

from selfmonitor import services
from selfmonitor import svg as svg_module
from selfmonitor.models import Instrument, Response
from selfmonitor.svg import trend_svg

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_chart_draws_points_a_line_and_the_threshold():
    svg = trend_svg(
        [(T0, 2), (T0 + dt.timedelta(days=7), 8)],
        lo=0,
        hi=10,
        thresholds=[(4, "Contact threshold (4)")],
        title="Distress",
        desc="2 answers",
        chart_id="c1",
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<circle") == 2
    assert "<polyline" in svg
    assert 'stroke-dasharray="6 4"' in svg
    assert "Contact threshold (4)" in svg
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert "style=" not in svg


def test_chart_escapes_text():
    svg = trend_svg([(T0, 1)], lo=0, hi=10, title="<b>x</b>", desc="&", chart_id="c")
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_threshold_y_is_right(settings):
    svg = trend_svg(
        [(T0, 0)], lo=0, hi=10, thresholds=[(10, "top")], title="t", desc="d", chart_id="c"
    )
    assert f'y1="{svg_module.TOP:.1f}"' in svg  # the top of the plot


def test_trend_page_shows_chart_table_and_threshold_for_the_nurse(cast, send):
    for value in (2, 6, 9):
        assignment = send()
        services.response_submit(
            assignment=assignment,
            by=cast.patient_user,
            raw={"distress": [str(value)], "wants_contact": ["no"]},
        )
    Response.objects.update(submitted_at=timezone.now())
    client = cast.client("nurse")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("selfmonitor_trend", args=[cast.plan.pk, "distress-thermometer"]))
    content = page.content.decode()
    assert content.count('<svg class="trend-chart"') == 1  # no problem list answered: no chart
    assert "Contact threshold (4)" in content
    assert "Show as a table" in content
    assert "<td>9</td>" in content and "High – we will be in touch" in content


def test_the_trend_tables_levels_are_the_readers_language_and_the_versions(cast, send):
    # The page keeps each value's cells per process, version, scale and language.
    for value in (2, 9):
        services.response_submit(
            assignment=send(),
            by=cast.patient_user,
            raw={"distress": [str(value)], "wants_contact": ["no"]},
        )
    url = reverse("selfmonitor_trend", args=[cast.plan.pk, "distress-thermometer"])
    client = cast.client("nurse")
    for language, low, high in (
        ("en", "Low", "High – we will be in touch"),
        ("sv", "Låg", "Hög – vi hör av oss"),
        ("en", "Low", "High – we will be in touch"),
    ):
        client.cookies["django_language"] = language
        content = client.get(url).content.decode()
        assert f"<td>2</td><td>{low}</td>" in content
        assert f"<td>9</td><td>{high}</td>" in content
    # The same version loaded again with other labels: its own cells.
    instrument = Instrument.objects.get(key="distress-thermometer", language="")
    definition = instrument.definition
    definition["scales"][0]["bands"][0]["label"] = {"sv": "Lugnt", "en": "Calm <ok>"}
    Instrument.objects.filter(pk=instrument.pk).update(
        definition=definition, loaded_at=timezone.now()
    )
    content = client.get(url).content.decode()
    assert "<td>2</td><td>Calm &lt;ok&gt;</td>" in content
    assert f"<td>9</td><td>{high}</td>" in content


def test_trend_of_a_prem_is_not_offered(cast, instruments):
    client = cast.client("patient")
    page = client.get(reverse("selfmonitor_trend", args=[cast.plan.pk, "care-experience"]))
    assert page.status_code == 404


@pytest.mark.parametrize("language", ["sv", "en"])
def test_day_label_writes_what_date_format_writes(language):
    from django.utils import translation
    from django.utils.formats import date_format

    from selfmonitor.svg import day_label

    with translation.override(language):
        label = day_label()
        for month in range(1, 13):
            day = dt.date(2026, month, 1 + month)
            assert label(day) == date_format(day, "j M Y")


@pytest.mark.parametrize("language", ["sv", "en", "ar", "fi"])
def test_an_escaped_day_label_is_the_label_escaped(language):
    from django.utils import translation
    from django.utils.html import escape

    from selfmonitor.svg import day_label

    with translation.override(language):
        label, label_html = day_label(), day_label(escaped=True)
        for month in range(1, 13):
            day = dt.datetime(2026, month, 1 + month, 23, 30, tzinfo=dt.UTC)
            assert label_html(day) == escape(label(day))


def test_a_point_shows_its_stockholm_day():
    # 00:15 on 30 November in Stockholm is 23:15 on the 29th in UTC.
    when = dt.datetime(2026, 11, 29, 23, 15, tzinfo=dt.UTC)
    svg = trend_svg([(when, 5)], lo=0, hi=10, title="t", desc="d", chart_id="c")
    assert "30 " in svg and "29 " not in svg


def test_chart_dates_are_local_not_utc(settings):
    import datetime as _dt

    # 23:30 UTC on 31 March is 1 April in Stockholm (summer time).
    late = _dt.datetime(2026, 3, 31, 23, 30, tzinfo=_dt.UTC)
    svg = trend_svg([(late, 3)], lo=0, hi=10, title="t", desc="d", chart_id="c")
    assert "1 apr 2026" in svg.lower() and "31 mar" not in svg.lower()


# --- Right to left and numbers per language (issue 14) ------------------------------------


def _svg_root(language, points, **kwargs):
    import xml.etree.ElementTree as ET

    from django.utils import translation

    with translation.override(language):
        svg = trend_svg(
            points,
            lo=0,
            hi=10,
            thresholds=[(4, "4")],
            title="t",
            desc="d",
            chart_id="c",
            **kwargs,
        )
    return ET.fromstring(str(svg))


SVG_NS = "{http://www.w3.org/2000/svg}"


def test_in_arabic_time_runs_right_to_left_and_the_axis_is_on_the_right():
    points = [(T0, 2), (T0 + dt.timedelta(days=7), 5), (T0 + dt.timedelta(days=14), 8)]
    ltr, rtl = _svg_root("sv", points), _svg_root("ar", points)
    assert (ltr.get("direction"), rtl.get("direction")) == ("ltr", "rtl")
    xs = [float(c.get("cx")) for c in rtl.iter(f"{SVG_NS}circle")]
    assert xs[0] > xs[1] > xs[2]  # the first answer on the right, the latest on the left
    ltr_xs = [float(c.get("cx")) for c in ltr.iter(f"{SVG_NS}circle")]
    assert xs == [round(svg_module.WIDTH - x, 1) for x in ltr_xs]
    rect = rtl.find(f"{SVG_NS}rect")
    plot_right = float(rect.get("x")) + float(rect.get("width"))
    texts = list(rtl.iter(f"{SVG_NS}text"))
    ticks = [t for t in texts if t.text in {"0", "2", "6", "8", "10"}]
    # The value axis' labels stand right of the plot; "end" in rtl is their left edge.
    assert ticks and all(float(t.get("x")) > plot_right for t in ticks)
    assert {t.get("text-anchor") for t in ticks} == {"end"}
    first_day, last_day = texts[-2], texts[-1]
    assert float(first_day.get("x")) > float(last_day.get("x"))  # 1 Jan right, 15 Jan left
    assert "1 " in first_day.text and "15 " in last_day.text


def test_a_chart_with_one_point_is_mirrored_in_its_middle():
    rtl = _svg_root("ar", [(T0, 3)])
    (circle,) = rtl.iter(f"{SVG_NS}circle")
    rect = rtl.find(f"{SVG_NS}rect")
    assert math.isclose(
        float(circle.get("cx")), float(rect.get("x")) + float(rect.get("width")) / 2, abs_tol=0.1
    )


@pytest.mark.parametrize(("language", "written"), [("fi", "4,5"), ("sv", "4,5"), ("en", "4.5")])
def test_a_value_is_written_as_the_language_writes_numbers(language, written):
    root = _svg_root(language, [(T0, 4.5)])
    (circle,) = root.iter(f"{SVG_NS}circle")
    assert circle.find(f"{SVG_NS}title").text.endswith(f": {written}")


def test_on_postgresql_the_trend_is_a_prepared_statement_with_the_plain_sqls_rows(cast, send):
    """The trend's query is prepared once per connection, then sent as ``EXECUTE``; its
    rows are those of the plain SQL (which runs where SQL is being looked at)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from selfmonitor.views import _trend_points, _trend_sql

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for value in (3, 8):
        services.response_submit(
            assignment=send(),
            by=cast.patient_user,
            raw={"distress": [str(value)], "wants_contact": ["no"]},
        )
    sent: list[str] = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        prepared_rows = [_trend_points(cast.patient.pk, "distress-thermometer") for _n in "ab"]
    statement = _trend_sql(connection.alias)[1]
    assert statement is not None
    assert [s for s in sent if s.startswith("EXECUTE")] == [f"EXECUTE {statement.name}(%s, %s)"] * 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [statement.name])
        assert cursor.fetchone() == (1,)
    with CaptureQueriesContext(connection) as ctx:
        plain_rows = _trend_points(cast.patient.pk, "distress-thermometer")
    assert ctx.captured_queries[0]["sql"].startswith("SELECT i.id")
    assert prepared_rows[0] == prepared_rows[1] == plain_rows
    assert [scores["distress"] for _when, scores in plain_rows[1]] == [3, 8]
