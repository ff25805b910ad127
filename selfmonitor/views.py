"""Questionnaires on the web: the patient answers (a page of items per screen, drafts kept
on the server), reads results and trends; a nurse may enter answers on the patient's
behalf; a relative with the ``questionnaires`` scope reads results only.

Every object is reached through ``selfmonitor.access`` (careplan's rules and access log).
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careplan import access
from careplan.models import AccessLog, CareRelation, Scope
from careplan.prepared import Statement, execute, prepared, together
from careplan.rendering import route, time_tag
from careplan.views import Shared

from . import access as sm_access
from . import scoring, selectors, services
from .definition import is_shown, item_map, missing_required
from .models import Alert, Assignment, Instrument, Response, open_assignments, pick
from .svg import labelled_svg, month_names

TREND_POINTS = 200  # the latest answers drawn per chart


def _plan_ctx(plan) -> dict:
    return {
        "plan": plan,
        "patient": plan.patient,
        "reach": plan.reach,
        "shared": Shared.of(plan.reach),
    }


def _item_rows(page: dict, values: dict[str, list[str]], errors: dict[str, str], answers):
    rows = []
    for item in page["items"]:
        chosen = [str(v) for v in values.get(item["id"], [])]
        options = []
        if item["type"] == "scale":
            anchors = item.get("anchors", {})
            for n in range(item.get("min", 0), item.get("max", 10) + 1):
                options.append(
                    {"value": str(n), "label": str(n), "anchor": pick(anchors.get(str(n)))}
                )
        elif item["type"] == "yesno":
            options = [{"value": "yes", "label": _("Yes")}, {"value": "no", "label": _("No")}]
        elif item["type"] in ("single", "multiple"):
            options = [
                {"value": str(o["value"]), "label": pick(o["text"])} for o in item["options"]
            ]
        for option in options:
            option["checked"] = option["value"] in chosen
        condition = item.get("when")
        rows.append(
            {
                "id": item["id"],
                "type": item["type"],
                "text": pick(item["text"]),
                "help": pick(item.get("help")),
                "required": item.get("required", False),
                "conditional": bool(condition),
                "shown": is_shown(item, answers),
                "options": options,
                "value": chosen[0] if chosen else "",
                "max_length": item.get("max_length", 2000),
                "error": errors.get(item["id"], ""),
            }
        )
    return rows


def _values_of(answers: dict) -> dict[str, list[str]]:
    return {k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in answers.items()}


def _page_no(value, pages) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 1
    return min(max(n, 1), len(pages))


def _render_answer(
    request,
    assignment: Assignment,
    *,
    page_no: int,
    values: dict,
    errors: dict | None = None,
    missing: list[str] | None = None,
    refused: str = "",
    status: int = 200,
):
    definition = assignment.instrument.definition
    pages = definition["pages"]
    page = pages[page_no - 1]
    errors = errors or {}
    items = item_map(definition)
    answers = {k: (v if len(v) > 1 else v[0]) for k, v in values.items() if v}
    summary = []
    for item_id, message in errors.items():
        label = pick(items[item_id]["text"]) if item_id in items else item_id
        summary.append({"id": item_id, "label": label, "message": message, "here": True})
    for item_id in missing or []:
        where = next(n for n, p in enumerate(pages, 1) if item_id in {i["id"] for i in p["items"]})
        summary.append(
            {
                "id": item_id,
                "label": pick(items[item_id]["text"]),
                "message": _("Please answer this question."),
                "page": where,
                "here": where == page_no,
            }
        )
    if missing:
        errors = errors | {m: _("Please answer this question.") for m in missing}
    ctx = {
        "assignment": assignment,
        "instrument": assignment.instrument,
        "title": pick(definition["title"]),
        "intro": pick(definition.get("intro")),
        "page": page,
        "page_title": pick(page["title"]),
        "page_help": pick(page.get("help")),
        "page_no": page_no,
        "page_count": len(pages),
        "items": _item_rows(page, values, errors, answers),
        "summary": summary,
        "refused": refused,
        "on_behalf": assignment.reach.basis == AccessLog.Basis.CARE_RELATION,
        "version_tag": f"{assignment.instrument.key}:{assignment.instrument.version}",
        "urgent_unit": _urgent_unit(assignment.patient),
    } | _language_ctx(assignment.instrument, page)
    return render(request, "selfmonitor/answer.html", ctx, status=status)


def _language_ctx(instrument: Instrument, page: dict) -> dict:
    """The notes on a questionnaire's language: shown in Swedish because the reader's
    language has no version, or a draft translation with the page's Swedish original one
    tap away."""
    draft = bool(instrument.language) and instrument.text_status == Instrument.TextStatus.DRAFT
    return {
        "not_in_language": not instrument.reads_in(),
        "draft_translation": draft and instrument.reads_in(),
        "original_texts": [pick(i["text"], "sv") for i in page["items"]] if draft else [],
    }


def _urgent_unit(patient):
    """The footer's unit to call (``patient.responsible_relation()``'s unit)."""
    relation = next(iter(_responsible_relation(patient_id=patient.pk)), None)
    return relation.unit if relation else None


# Fixed queries of the questionnaire pages, compiled once per process (careplan.prepared).
_responsible_relation = prepared(
    lambda patient_id: CareRelation.objects.filter(
        patient_id=patient_id, ended_at__isnull=True
    ).select_related("unit")[:1]
)


def _answered(patient_id: int, *, with_prem: bool):
    """The latest 50 answers as (id, instrument_key, submitted_at) and their instrument's
    ``Instrument.LIGHT_FIELDS`` (see ``Instrument.parsed``): tuples, not model rows (a
    list of 50); others than the patient do not see experience (PREM) answers."""
    done = Response.objects.filter(patient_id=patient_id, status=Response.Status.COMPLETED)
    if not with_prem:
        done = done.exclude(instrument__kind=Instrument.Kind.PREM)
    light = [f"instrument__{f}" for f in Instrument.LIGHT_FIELDS]
    return done.order_by("-submitted_at").values_list(
        "id", "instrument_key", "submitted_at", *light
    )[:50]


class _Light(NamedTuple):
    """An instrument's ``LIGHT_FIELDS`` as ``Instrument.parsed`` reads them."""

    pk: int
    checksum: str
    loaded_at: datetime


def _trend_points(
    patient_id: int, key: str
) -> tuple[_Light | None, list[tuple[datetime | None, dict]]]:
    """The current version of questionnaire ``key`` (the original's ``LIGHT_FIELDS``, as
    the process's parsed copy is keyed by; None when there is none) and its latest
    ``TREND_POINTS`` answers as (submitted_at, scores), oldest first: one statement. The
    answers are one indexed subquery (response_trend: patient, instrument_key,
    submitted_at) whose rows the database gathers into one JSON array. Two hundred rows
    read one by one cost about 1.1 ms of Python (a timestamp and a JSON document each);
    one array of them is decoded at once."""
    alias = router.db_for_read(Response)
    connection_for_read = connections[alias]
    sql, statement = _trend_sql(alias)
    params = [patient_id, key, Response.Status.COMPLETED.value, TREND_POINTS, key]
    with connection_for_read.cursor() as cursor:
        execute(cursor, statement, {"patient_id": patient_id, "key": key}, sql, params)
        row = cursor.fetchone()
    if row is None:
        return None, []
    pk, checksum, loaded_at, found = row
    if isinstance(loaded_at, str):  # SQLite: text, in UTC
        loaded_at = _when(loaded_at)
    light = _Light(pk, checksum, loaded_at)
    decoded = json.loads(found) if found else []
    if connection_for_read.vendor != "postgresql":
        points = [(_when(when), scores or {}) for when, scores in decoded]
        points.sort(key=lambda p: (p[0] is not None, p[0]))
        return light, points
    # PostgreSQL writes each time with its offset: no call per answer to add one.
    parse = datetime.fromisoformat
    return light, [
        (parse(when) if when is not None else None, scores or {}) for when, scores in decoded
    ]


# Database alias -> the trend's SQL and, on PostgreSQL, the same as a server-side prepared
# statement (careplan.prepared.Statement; None elsewhere or when turned off): planning the
# query cost the database twice what running it did (0.8 and 0.4 ms, 100 000 patients).
_TREND_SQL: dict[str, tuple[str, Statement | None]] = {}
# The values' stand-ins while the statement is made (as prepared() finds its values).
_STAND_IN_ID, _STAND_IN_KEY = -7_340_029_000_001, "trend-stand-in-key"


def _trend_sql(alias: str) -> tuple[str, Statement | None]:
    """``_trend_points``' SQL for this database (its values: patient id, key, status, the
    number of points, key) and its prepared statement (values: patient id, key)."""
    found = _TREND_SQL.get(alias)
    if found is not None:
        return found
    connection = connections[alias]
    quote = connection.ops.quote_name
    table, instruments = quote(Response._meta.db_table), quote(Instrument._meta.db_table)
    if connection.vendor == "postgresql":
        point = "json_build_array(submitted_at, scores) ORDER BY submitted_at"
        gather = f"json_agg({point})::text"
    else:  # SQLite: rows in the subquery's order
        gather = "json_group_array(json_array(submitted_at, json(scores)))"
    sql = (
        "SELECT i.id, i.checksum, i.loaded_at, "  # noqa: S608 - names only
        f"(SELECT {gather} FROM (SELECT submitted_at, scores FROM {table} "
        "WHERE patient_id = %s AND instrument_key = %s AND status = %s "
        "ORDER BY submitted_at DESC LIMIT %s) AS latest) "
        f"FROM {instruments} AS i WHERE i.key = %s AND i.language = '' "
        "ORDER BY i.version DESC LIMIT 1"
    )
    patient_id, key = _STAND_IN_ID, _STAND_IN_KEY
    stand_ins = (patient_id, key, Response.Status.COMPLETED.value, TREND_POINTS, key)
    where = {patient_id: ("patient_id", None), key: ("key", None)}
    statement = Statement.make(alias, sql, stand_ins, where)
    _TREND_SQL[alias] = found = (sql, statement)
    return found


def _when(text: str | None) -> datetime | None:
    """A timestamp as the JSON array writes it (ISO 8601; SQLite's without an offset,
    in UTC as Django stores it)."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_answered_by_self = prepared(lambda patient_id: _answered(patient_id, with_prem=True))
_answered_shown = prepared(lambda patient_id: _answered(patient_id, with_prem=False))


def _resume_page(definition: dict, answers: dict) -> int:
    """Where a half-done questionnaire goes on: the first page with a shown question
    not yet answered (the last page when all are)."""
    pages = definition["pages"]
    for n, page in enumerate(pages, 1):
        if any(is_shown(i, answers) and i["id"] not in answers for i in page["items"]):
            return n
    return len(pages)


@require_http_methods(["GET", "POST"])
@login_required
def answer(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = sm_access.assignment_for(request.user, assignment_id, write=True)
    pages = assignment.instrument.definition["pages"]
    response = Response.objects.filter(assignment=assignment).first()
    if response is not None and response.status == Response.Status.COMPLETED:
        messages.info(request, _("These answers have been sent."))
        return redirect("selfmonitor_response", response_id=response.pk)

    if request.method == "GET":
        if response is None and assignment.is_answerable:
            # The version in the patient's language (they may have changed it since).
            instrument = services.assignment_match_language(assignment_id=assignment.pk)
            if instrument.pk != assignment.instrument_id:
                assignment.instrument = instrument
        if request.GET.get("page") is None and response is not None:
            page_no = _resume_page(assignment.instrument.definition, response.answers)
        else:
            page_no = _page_no(request.GET.get("page"), pages)
        values = _values_of(response.answers if response else {})
        if not assignment.is_answerable:
            return _render_answer(
                request,
                assignment,
                page_no=page_no,
                values=values,
                refused=_("This questionnaire can no longer be answered."),
            )
        return _render_answer(request, assignment, page_no=page_no, values=values)

    page_no = _page_no(request.POST.get("page"), pages)
    page_items = [i["id"] for i in pages[page_no - 1]["items"]]
    raw = {k[2:]: request.POST.getlist(k) for k in request.POST if k.startswith("a-")}
    values = _values_of(response.answers if response else {}) | {
        item_id: raw.get(item_id, []) for item_id in page_items
    }
    extra = {
        k: _("This question is not part of the questionnaire.") for k in raw if k not in page_items
    }
    if (
        request.POST.get("instrument")
        != f"{assignment.instrument.key}:{assignment.instrument.version}"
    ):
        return _render_answer(
            request,
            assignment,
            page_no=page_no,
            values=values,
            refused=_(
                "The form did not match this questionnaire, so nothing was saved. "
                "Check your answers and send again."
            ),
            status=400,
        )
    action = request.POST.get("action", "save")
    page_raw = {k: v for k, v in raw.items() if k in page_items}
    try:
        if action == "submit":
            outcome = services.response_submit(
                assignment=assignment, by=request.user, raw=page_raw, page_items=page_items
            )
        else:
            outcome = services.response_save_draft(
                assignment=assignment, by=request.user, raw=page_raw, page_items=page_items
            )
    except ValidationError as exc:
        return _render_answer(
            request,
            assignment,
            page_no=page_no,
            values=values,
            refused=" ".join(exc.messages),
            status=400,
        )
    if outcome.already:
        messages.info(request, _("These answers had already been sent; they were stored once."))
        return redirect("selfmonitor_response", response_id=outcome.response.pk)
    if outcome.completed:
        return redirect("selfmonitor_response", response_id=outcome.response.pk)
    errors = outcome.errors | extra
    if errors or outcome.missing:
        if outcome.missing and not errors:
            first = outcome.missing[0]
            page_no = next(
                n for n, p in enumerate(pages, 1) if first in {i["id"] for i in p["items"]}
            )
        return _render_answer(
            request,
            assignment,
            page_no=page_no,
            values=values,
            errors=errors,
            missing=outcome.missing,
            status=400,
        )
    if action == "next":
        # "Next" says at once what is missing on this page; every answer is kept.
        here = [
            m
            for m in missing_required(assignment.instrument.definition, outcome.response.answers)
            if m in page_items
        ]
        if here:
            return _render_answer(
                request,
                assignment,
                page_no=page_no,
                values=values,
                missing=here,
                status=400,
            )
    target = page_no
    if action == "next":
        target = min(page_no + 1, len(pages))
    elif action == "back":
        target = max(page_no - 1, 1)
    else:
        messages.success(request, _("Your answers so far are saved. You can go on later."))
    return redirect(f"{reverse('selfmonitor_answer', args=[assignment.pk])}?page={target}")


@require_POST
@login_required
def autosave(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """htmx: keep this page's answers as the patient goes (the valid ones)."""
    assignment = sm_access.assignment_for(request.user, assignment_id, write=True)
    pages = assignment.instrument.definition["pages"]
    page_no = _page_no(request.POST.get("page"), pages)
    page_items = [i["id"] for i in pages[page_no - 1]["items"]]
    raw = {k[2:]: request.POST.getlist(k) for k in request.POST if k[2:] in page_items}
    try:
        outcome = services.response_save_draft(
            assignment=assignment, by=request.user, raw=raw, page_items=page_items
        )
    except ValidationError as exc:
        text = " ".join(exc.messages)
    else:
        text = (
            _("Saved %(time)s.") % {"time": date_format(timezone.localtime(), "H:i")}
            if not outcome.errors
            else _("Saved, except answers that need checking.")
        )
    return render(request, "selfmonitor/answer.html#autosave-status", {"autosave_text": text})


@require_POST
@login_required
def remind_later(request: HttpRequest, assignment_id: int) -> HttpResponse:
    assignment = sm_access.assignment_for(request.user, assignment_id, write=True)
    try:
        services.assignment_remind_later(assignment=assignment, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("We will remind you tomorrow."))
    if assignment.plan_id:
        return redirect("selfmonitor_list", pk=assignment.plan_id)
    return redirect("home")


@require_GET
@login_required
def response_detail(request: HttpRequest, response_id: int) -> HttpResponse:
    response = sm_access.response_for(request.user, response_id)
    definition = response.instrument.definition
    answered = selectors.answers_in_words(response)
    alerts = list(Alert.objects.filter(response=response).order_by("-severity"))
    plan = response.assignment.plan
    ctx = {
        "response": response,
        "title": pick(definition["title"]),
        "scales": selectors.scale_rows(response),
        "answered": answered,
        "alerts": alerts,
        "is_self": response.reach.is_self,
        "plan": plan,
        "urgent_unit": _urgent_unit(response.patient),
        "entered_on_behalf": response.entered_on_behalf,
    }
    return render(request, "selfmonitor/response.html", ctx)


@require_GET
@login_required
def questionnaire_list(request: HttpRequest, pk: int) -> HttpResponse:
    plan = access.plan_for(request.user, pk, scope=Scope.QUESTIONNAIRES)
    patient = plan.patient
    is_self = plan.reach.is_self
    # Once the plan's reader is known: the answers, the unit to call and (for one who may
    # answer) the open questionnaires, read in one round trip (careplan.prepared.together).
    reads = [
        (_answered_by_self if is_self else _answered_shown).bind(patient_id=patient.pk),
        _responsible_relation.bind(patient_id=patient.pk),
    ]
    if plan.reach.write:
        reads.append(open_assignments.bind(patient_id=patient.pk))
    answered_rows, relations, *open_rows = together(*reads)
    relation = next(iter(relations), None)
    open_ = []
    if open_rows:
        open_ = Instrument.attach_parsed(open_rows[0])
        if not is_self:
            open_ = [a for a in open_ if a.instrument.kind != Instrument.Kind.PREM]
    # The answers as (id, key, submitted_at, shared parsed instrument).
    instruments: dict[tuple, Instrument] = {}
    done = []
    for pk, key, submitted_at, *light in answered_rows:
        found = instruments.get(tuple(light))
        if found is None:
            found = instruments[tuple(light)] = Instrument.parsed(_Light(*light))
        done.append((pk, key, submitted_at, found))
    # Up to 50 rows: joined here rather than by the template engine's loop (most of the
    # page's CPU); escaped, dated and linked as the template would.
    titles: dict[int, str] = {}

    def title(instrument: Instrument) -> str:
        found = titles.get(instrument.pk)
        if found is None:
            found = titles[instrument.pk] = html.escape(instrument.title)
        return found

    trends = {}
    for _pk, key, _when, instrument in done:
        if key not in trends and instrument.kind == Instrument.Kind.PROM:
            trends[key] = instrument.title
    due, started = time_tag(), html.escape(" · " + _("started – go on where you left"))
    answer_url, answer_by = route("selfmonitor_answer"), html.escape(_("answer by"))
    open_rows = mark_safe(  # noqa: S308 - every value is escaped
        "".join(
            f'<li><a href="{answer_url(a.pk)}"><span>{title(a.instrument)}'
            f'<span class="link-list__meta">{answer_by} {due(a.due_at)}'
            f"{started if a.started else ''}</span></span></a></li>"
            for a in open_
        )
    )
    answered, response_url = time_tag(year=True), route("selfmonitor_response")
    done_rows = mark_safe(  # noqa: S308 - every value is escaped
        "".join(
            f'<li><a href="{response_url(pk)}"><span>{title(instrument)}'
            f'<span class="link-list__meta">{answered(when)}</span></span></a></li>'
            for pk, _key, when, instrument in done
        )
    )
    ctx = _plan_ctx(plan) | {
        "open": open_,
        "open_rows": open_rows,
        "done": done,
        "done_rows": done_rows,
        "trends": sorted(trends.items(), key=lambda kv: kv[1]),
        "is_self": is_self,
        "urgent_unit": relation.unit if relation else None,  # as _urgent_unit(patient)
    }
    return render(request, "selfmonitor/list.html", ctx)


# (instrument version, scale, language) -> value -> the value's table cells and the row's
# end, localized and escaped as the template would write them. A scale has a few values
# (0 to 10): each one's band and cells are worked out once per process, not per page.
_CELLS: dict[tuple, dict] = {}


def _value_cells(instrument: Instrument, scale: dict, lang: str, values: set) -> dict:
    """The table cells (``<td>value</td><td>band</td></tr>``) of each of ``values``."""
    key = (instrument.pk, instrument.checksum, instrument.loaded_at, scale["key"], lang)
    known = _CELLS.get(key)
    if known is None:
        if len(_CELLS) > 256:
            _CELLS.clear()
        known = _CELLS[key] = {}
    cells = {}
    for value in values:
        found = known.get(value)
        if found is None:
            band = pick((scoring.band(scale, value) or {}).get("label"), lang)
            found = f"<td>{escape(localize(value))}</td><td>{escape(band)}</td></tr>"
            if len(known) > 256:  # a scale of averages: many values
                known.clear()
            known[value] = found
        cells[value] = found
    return cells


def _trend_section(key: str, title: str, svg: str, thresholds: list, rows: str) -> str:
    """One scale's section of the trend page: its chart, its thresholds and its table
    (``rows``: the table's rows, escaped), every text escaped. Written here rather than by
    the template's loop: the page's dozen variables and tags per chart cost more than the
    chart's 200 rows joined."""
    key, title = escape(key), escape(title)
    # The texts outside the f-strings below, where makemessages finds them.
    dashed_line, show = escape(_("Dashed line:")), escape(_("Show as a table"))
    date, score, level = escape(_("Date")), escape(_("Score")), escape(_("Level"))
    dashed = (
        f'<p class="muted">{dashed_line} '
        f"{'; '.join(escape(label) for _value, label in thresholds)}</p>"
        if thresholds
        else ""
    )
    return (
        f'\n<section aria-labelledby="h-{key}">\n'
        f'  <h2 id="h-{key}">{title}</h2>\n'
        f"  {svg}\n"
        f"  {dashed}\n"
        "  <details>\n"
        f"    <summary>{show}</summary>\n"
        '    <table class="q-table">\n'
        f'      <caption class="visually-hidden">{title}</caption>\n'
        f'      <thead><tr><th scope="col">{date}</th><th scope="col">{score}</th>'
        f'<th scope="col">{level}</th></tr></thead>\n'
        f"      <tbody>{rows}</tbody>\n"
        "    </table>\n"
        "  </details>\n"
        "</section>\n"
    )


@require_GET
@login_required
def trend(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    plan = access.plan_for(request.user, pk, scope=Scope.QUESTIONNAIRES)
    # The current version (its light row: Instrument.parsed) and the answers: one query.
    light, rows = _trend_points(plan.patient_id, key)
    instrument = None if light is None else Instrument.parsed(light)
    if instrument is None or instrument.kind == Instrument.Kind.PREM:
        raise Http404
    # Scale titles and bands in the reader's language (its language version, when there
    # is one). The series is the key's: every language version scores alike.
    instrument = instrument.in_language(get_language())
    # Local time, the day's label and the start of its table row once per answer: each
    # date is written twice (chart and table). The label is ``day_label()``'s ("j M Y"),
    # written here from the month names (escaped: only a month name can hold a character
    # to escape) to spare a call per answer; the ISO time holds digits, -, :, T, + and .
    # only. No dict keyed by the local times: hashing an aware time asks its zone again.
    months = month_names(escaped=True)
    tz = timezone.get_current_timezone()
    local = []  # (local time, its label escaped, its row's date cell, scores)
    for when, scores in rows:
        when = when.astimezone(tz) if when is not None else timezone.localtime(when)
        day = f"{when.day} {months[when.month - 1]} {when.year}"
        cell = f'<tr><td><time datetime="{when.isoformat()}">{day}</time></td>'
        local.append((when, day, cell, scores))
    lang = get_language()
    charts = []
    for scale in instrument.definition.get("scales", []):
        k = scale["key"]
        series = [
            (when, value, day, cell)
            for when, day, cell, scores in local
            if (value := scores.get(k)) is not None
        ]
        if not series:  # nothing to draw: the page leaves the scale out
            continue
        title = pick(scale["title"], lang)
        lo, hi = scale.get("min", 0), scale.get("max", 10)
        thresholds = [(t["value"], pick(t["label"], lang)) for t in scale.get("thresholds", [])]
        desc = _("%(n)s answers from %(lo)s to %(hi)s.") % {"n": len(series), "lo": lo, "hi": hi}
        desc += " " + _("Latest: %(value)s.") % {"value": series[-1][1]}
        svg = labelled_svg(
            [(when, value, day) for when, value, day, _cell in series],
            lo=lo,
            hi=hi,
            thresholds=thresholds,
            title=title,
            desc=desc,
            chart_id=f"chart-{k}",
        )
        cells = _value_cells(instrument, scale, lang, {point[1] for point in series})
        newest_first = series[::-1]
        # Up to 200 rows, escaped and localized as the template would write them.
        rows_html = "".join(cell + cells[value] for _when, value, _day, cell in newest_first)
        charts.append(
            {
                "key": k,
                "title": title,
                "thresholds": thresholds,
                "table": [point[1] for point in newest_first],  # the values, newest first
                "html": _trend_section(k, title, svg, thresholds, rows_html),
            }
        )
    ctx = _plan_ctx(plan) | {
        "instrument": instrument,
        "sections": mark_safe(  # noqa: S308 - _trend_section escapes every text
            "".join(chart["html"] for chart in charts)
        ),
        "charts": charts,
        "is_self": plan.reach.is_self,
        "count": len(rows),
    }
    return render(request, "selfmonitor/trend.html", ctx)
