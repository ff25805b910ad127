"""Report a symptom any time: pick symptoms, say how much each troubles you, get advice
at once (self-care, call the unit today, call now / 1177 / 112). The report is a
completed questionnaire answer (trends, FHIR) and one alert on the care team's worklist.

Three steps that work without JavaScript: a GET form to pick (``?s=fever&s=pain``), a
POST form per symptom with a one-time token (a double submit stores one report), and the
advice page the POST redirects to.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from careplan import access
from careplan.models import Patient, Role, Scope

from . import access as sm_access
from . import symptom_services, triage
from .definition import item_map
from .models import UnitAdvice, pick

CONTEXT_ITEMS = ("on_chemo", "since", "details")
ASK_TREATMENT_FOR = {"fever", "infection"}


def _own_patient(request: HttpRequest) -> Patient:
    user = request.user
    if user.role != Role.PATIENT:
        raise Http404
    patient = Patient.objects.filter(user=user).first()
    if patient is None:
        raise Http404
    access.authorize(user, patient, patient, write=True, channel="web", scope=Scope.QUESTIONNAIRES)
    return patient


def _unit_of(patient: Patient):
    relation = patient.responsible_relation()
    return relation.unit if relation else None


def _symptom_rows(instrument, picked: list[str], values: dict, errors: dict) -> list[dict]:
    rows = []
    for item in symptom_services.symptom_items(instrument):
        if picked and item["id"] not in picked:
            continue
        chosen = values.get(item["id"], [])
        rows.append(
            {
                "id": item["id"],
                "text": pick(item["text"]),
                "checked": item["id"] in picked,
                "error": errors.get(item["id"], ""),
                "options": [
                    {
                        "value": str(o["value"]),
                        "label": pick(o["text"]),
                        "checked": str(o["value"]) in chosen,
                    }
                    for o in item["options"]
                ],
            }
        )
    return rows


def _context_rows(instrument, picked: list[str], values: dict, errors: dict) -> list[dict]:
    items = item_map(instrument.definition)
    rows = []
    for item_id in CONTEXT_ITEMS:
        item = items[item_id]
        if item_id == "on_chemo" and not ASK_TREATMENT_FOR & set(picked):
            continue
        chosen = values.get(item_id, [])
        if item["type"] == "yesno":
            options = [("yes", _("Yes")), ("no", _("No"))]
        elif item["type"] == "single":
            options = [(str(o["value"]), pick(o["text"])) for o in item["options"]]
        else:
            options = []
        rows.append(
            {
                "id": item_id,
                "type": item["type"],
                "text": pick(item["text"]),
                "error": errors.get(item_id, ""),
                "value": chosen[0] if chosen else "",
                "max_length": item.get("max_length", 2000),
                "options": [
                    {"value": v, "label": label, "checked": v in chosen} for v, label in options
                ],
            }
        )
    return rows


def _token(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@login_required
def symptom_new(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    instrument, _guide = symptom_services.symptom_setup()
    instrument = instrument.in_language(patient.language)
    symptom_ids = [item["id"] for item in symptom_services.symptom_items(instrument)]
    source = request.POST if request.method == "POST" else request.GET
    picked = [s for s in dict.fromkeys(source.getlist("s")) if s in symptom_ids]
    ctx = {"urgent_unit": _unit_of(patient), "plan": symptom_services._open_plan(patient)}

    if request.method == "GET":
        # The one-time token is made with the pick form and travels in the URL, so the
        # back button and a second send of the same form find the same report.
        token = _token(request.GET.get("t")) or uuid.uuid4()
        if not picked:
            error = _("Choose at least one symptom.") if "step" in request.GET else ""
            return render(
                request,
                "selfmonitor/symptom_pick.html",
                ctx
                | {"rows": _symptom_rows(instrument, [], {}, {}), "error": error, "token": token},
                status=400 if error else 200,
            )
        return render(
            request,
            "selfmonitor/symptom_severity.html",
            ctx
            | {
                "picked": picked,
                "token": token,
                "rows": _symptom_rows(instrument, picked, {}, {}),
                "context_rows": _context_rows(instrument, picked, {}, {}),
            },
        )

    token = _token(request.POST.get("token"))
    raw = {k[2:]: request.POST.getlist(k) for k in request.POST if k.startswith("a-")}
    raw = {k: v for k, v in raw.items() if k in picked or k in CONTEXT_ITEMS}
    errors: dict[str, str] = {}
    if token is None:
        errors["__all__"] = _("The form had expired, so nothing was saved. Check and send again.")
    else:
        outcome = symptom_services.symptom_report_submit(
            patient=patient, by=request.user, token=token, raw=raw, picked=picked
        )
        if outcome.report is not None:
            return redirect("symptom_report", report_id=outcome.report.pk)
        errors = outcome.errors
    items = item_map(instrument.definition)
    summary = [
        {
            "id": key,
            "label": pick(items[key]["text"]) if key in items else "",
            "message": message,
        }
        for key, message in errors.items()
    ]
    return render(
        request,
        "selfmonitor/symptom_severity.html",
        ctx
        | {
            "picked": picked,
            "token": token or uuid.uuid4(),
            "rows": _symptom_rows(instrument, picked, raw, errors),
            "context_rows": _context_rows(instrument, picked, raw, errors),
            "summary": summary,
        },
        status=400,
    )


@require_GET
@login_required
def symptom_report(request: HttpRequest, report_id: int) -> HttpResponse:
    report = sm_access.symptom_report_for(request.user, report_id)
    guide = report.guide.definition
    items = item_map(report.response.instrument.definition)
    rows = []
    for result in report.results:
        item = items.get(result["symptom"], {})
        option = next(
            (o for o in item.get("options", []) if o["value"] == result["severity"]), None
        )
        rows.append(
            {
                "symptom": pick(item.get("text")),
                "severity": pick(option["text"]) if option else "",
                "level": result["level"],
                "level_title": report.guide.shown(
                    f"levels.{result['level']}", guide["levels"][result["level"]]["title"]
                ),
                "advice": report.guide.shown(f"advice.{result['rule']}", result["text"]),
                "advice_original": pick(result["text"], "sv"),
                "source": result["source"],
            }
        )
    unit = _unit_of(report.patient)
    open_now = unit.phone_open_at() if unit else None
    answers = report.response.answers
    since = ""
    if answers.get("since") is not None:
        since_item = items.get("since", {})
        since = next(
            (
                pick(o["text"])
                for o in since_item.get("options", [])
                if o["value"] == answers["since"]
            ),
            "",
        )
    ctx = {
        "report": report,
        "is_self": report.reach.is_self,
        "level": report.level,
        "level_title": report.guide.shown(
            f"levels.{report.level}", guide["levels"][report.level]["title"]
        ),
        "rank": triage.RANK[report.level],
        "rows": rows,
        "review_note": report.guide.shown("review_note", guide.get("review_note")),
        "unit": unit,
        "urgent_unit": unit,
        "open_now": open_now,
        "since": since,
        "details": answers.get("details", ""),
        "reported_at": timezone.localtime(report.created_at),
        "plan": report.response.assignment.plan,
    }
    return render(request, "selfmonitor/symptom_report.html", ctx)


@require_GET
@login_required
def symptom_advice(request: HttpRequest, symptom: str) -> HttpResponse:
    """Self-care advice for one symptom, by how much it troubles (no report is made):
    linked from a questionnaire result with a high score. General text, no patient data;
    the unit's own wording where the unit adapted it."""
    instrument, guide = symptom_services.symptom_setup()
    instrument = instrument.in_language(get_language())
    items = {item["id"]: item for item in symptom_services.symptom_items(instrument)}
    item = items.get(symptom)
    if item is None:
        raise Http404
    unit = None
    if request.user.role == Role.PATIENT:
        patient = Patient.objects.filter(user=request.user).first()
        unit = _unit_of(patient) if patient else None
    unit_texts = {}
    if unit is not None:
        unit_texts = {
            a.rule_key: ({"sv": a.text_sv, "en": a.text_en}, a.source)
            for a in UnitAdvice.objects.filter(unit=unit)
        }
    levels = guide.definition["levels"]
    rows = []
    for option in item["options"]:
        advice = triage.advise(
            guide.definition, {symptom: option["value"]}, in_treatment=True, unit_texts=unit_texts
        )[0]
        rows.append(
            {
                "severity": pick(option["text"]),
                "level": advice.level,
                "level_title": guide.shown(f"levels.{advice.level}", levels[advice.level]["title"]),
                "advice": guide.shown(f"advice.{advice.rule}", advice.text),
                "advice_original": pick(advice.text, "sv"),
                "source": advice.source,
            }
        )
    return render(
        request,
        "selfmonitor/symptom_advice.html",
        {
            "symptom": pick(item["text"]),
            "symptom_id": symptom,
            "rows": rows,
            "review_note": guide.shown("review_note", guide.definition.get("review_note")),
            "urgent_unit": unit,
            "is_patient": request.user.role == Role.PATIENT,
        },
    )
