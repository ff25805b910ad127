"""Symptom reports, on the patient's own initiative: the shipped instrument and advice
guide (``symptoms/``), the symptoms to pick, and the report itself with its advice per
symptom and one alert to the care team graded by the triage (``selfmonitor.triage``).

Typed, keyword-only, atomic, as ``selfmonitor.services``, whose instruments, unit and
alert deadlines it uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from careplan.models import CarePlan, Patient, User
from careplan.services import outbox_enqueue

from . import definition as defn
from . import scoring, triage
from .models import Alert, Assignment, Instrument, Response, SymptomReport, TriageGuide, UnitAdvice
from .services import (
    ACKNOWLEDGE_WITHIN,
    _unit_id_of,
    checksum_of,
    instrument_load,
    read_instrument_file,
)

# The symptom report (a patient-initiated instrument) and its advice and triage rules.
SYMPTOM_DIR = Path(__file__).resolve().parent / "symptoms"
SYMPTOM_INSTRUMENT = "symptom-report"
TRIAGE_GUIDE = "symptom-triage"

LEVEL_SEVERITY = {
    "self_care": Alert.Severity.LOW,
    "call_today": Alert.Severity.MEDIUM,
    "call_now": Alert.Severity.HIGH,
}
SYMPTOM_ALERT_RULE = "symptom-report"


def symptom_files_load() -> tuple[Instrument, TriageGuide]:
    """Load the shipped symptom report instrument and the newest advice guide
    (idempotent; a guide version used by a report is never changed in place)."""
    instrument = None
    for path in sorted(SYMPTOM_DIR.glob("symptom-report.v*.json")):
        instrument, _what = instrument_load(data=read_instrument_file(path), source_file=path.name)
    for path in sorted((SYMPTOM_DIR / "languages").glob("symptom-report.v*.json")):
        instrument_load(data=read_instrument_file(path), source_file=path.name)
    guide = None
    for path in sorted(SYMPTOM_DIR.glob("triage.v*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        target = Instrument.objects.get(
            key=data.get("instrument"), version=data.get("version"), language=""
        )
        triage.validate_guide(data, instrument=target.definition, where=path.name)
        checksum = checksum_of(data)
        guide = TriageGuide.objects.filter(key=data["id"], version=data["version"]).first()
        if guide is None:
            guide = TriageGuide.objects.create(
                key=data["id"],
                version=data["version"],
                definition=data,
                checksum=checksum,
                source_file=path.name,
            )
        elif guide.checksum != checksum:
            if SymptomReport.objects.filter(guide=guide).exists():
                raise defn.DefinitionError(
                    [f"{path.name}: version {data['version']}: has reports; load a new version"]
                )
            guide.definition, guide.checksum = data, checksum
            guide.save(update_fields=["definition", "checksum"])
        triage_guide_versions_load(guide=guide)
    assert instrument is not None and guide is not None
    return instrument, guide


def triage_guide_versions_load(*, guide: TriageGuide) -> TriageGuide:
    """The guide's language versions from ``symptoms/languages/<its file>``, as drafts
    (a version whose texts did not change keeps its review), and the English texts' status.
    The definition is not touched: a guide that reports used gets versions too."""
    path = SYMPTOM_DIR / "languages" / (guide.source_file or f"triage.v{guide.version}.json")
    shipped = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    updated = triage.guide_versions(guide.definition, guide.translations, shipped)
    if updated != guide.translations:
        guide.translations = updated
        guide.save(update_fields=["translations"])
    return guide


def symptom_setup() -> tuple[Instrument, TriageGuide]:
    """The current symptom instrument and guide, loaded from the files on first use."""
    instrument = Instrument.current(SYMPTOM_INSTRUMENT)
    guide = TriageGuide.objects.filter(key=TRIAGE_GUIDE).order_by("-version").first()
    if instrument is None or guide is None:
        return symptom_files_load()
    return instrument, guide


def symptom_items(instrument: Instrument) -> list[dict]:
    """The symptoms a patient can pick (single-choice items other than "since")."""
    return [
        item
        for item in defn.items_of(instrument.definition)
        if item["type"] == "single" and item["id"] != "since"
    ]


def patient_in_treatment(plan: CarePlan | None, answers: dict) -> bool:
    """See ``selfmonitor.triage``: the plan's treatment phase, or the patient's word."""
    return answers.get("on_chemo") == "yes" or (
        plan is not None and plan.phase == CarePlan.Phase.BEHANDLING
    )


@dataclass
class SymptomOutcome:
    report: SymptomReport | None
    errors: dict[str, str] = field(default_factory=dict)
    already: bool = False


def _open_plan(patient: Patient) -> CarePlan | None:
    return (
        CarePlan.objects.filter(patient=patient)
        .exclude(status=CarePlan.Status.CLOSED)
        .order_by("-status", "-created_at")
        .first()
    )


@transaction.atomic
def symptom_report_submit(
    *, patient: Patient, by: User, token, raw: dict[str, list[str]], picked: list[str]
) -> SymptomOutcome:
    """Store a symptom report, give advice per symptom, raise one alert graded by the
    triage. ``token`` comes from the form: a second submit of the same form finds the
    first report and stores nothing (the patient row is locked, so two at once wait)."""
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    existing = SymptomReport.objects.filter(patient=patient, token=token).first()
    if existing is not None:
        return SymptomOutcome(existing, already=True)
    instrument, guide = symptom_setup()
    instrument = instrument.in_language(patient.language)  # what the patient was shown
    definition = instrument.definition
    answers, errors = defn.clean_answers(definition, raw)
    symptom_ids = {item["id"] for item in symptom_items(instrument)}
    picked = [p for p in dict.fromkeys(picked) if p in symptom_ids]
    for symptom in picked:
        if symptom not in answers and symptom not in errors:
            errors[symptom] = _("Choose how much it troubles you.")
    symptoms = {k: int(v) for k, v in answers.items() if k in symptom_ids}
    if not symptoms and not errors:
        errors["__all__"] = _("Choose at least one symptom.")
    if errors:
        return SymptomOutcome(None, errors=errors)

    plan = _open_plan(patient)
    unit_id = _unit_id_of(patient)
    in_treatment = patient_in_treatment(plan, answers)
    unit_texts = {
        a.rule_key: ({"sv": a.text_sv, "en": a.text_en}, a.source)
        for a in UnitAdvice.objects.filter(unit_id=unit_id)
    }
    advice = triage.advise(
        guide.definition, symptoms, in_treatment=in_treatment, unit_texts=unit_texts
    )
    level = triage.overall(advice)
    now = timezone.now()
    assignment = Assignment.objects.create(
        patient=patient,
        plan=plan,
        unit_id=unit_id,
        instrument=instrument,
        occurrence=f"report:{token}",
        status=Assignment.Status.COMPLETED,
        available_at=now,
        due_at=now,
        expires_at=now,
        dispatched_at=now,
        created_by=by,
    )
    response = Response.objects.create(
        assignment=assignment,
        patient=patient,
        instrument=instrument,
        instrument_key=instrument.key,
        unit_id=unit_id,
        status=Response.Status.COMPLETED,
        answers=defn.visible_answers(definition, answers),
        scores=scoring.score(definition, answers),
        started_at=now,
        submitted_at=now,
        entered_by=by,
    )
    report = SymptomReport.objects.create(
        patient=patient,
        token=token,
        response=response,
        guide=guide,
        level=level,
        in_treatment=in_treatment,
        results=[a.as_json() for a in advice],
        created_at=now,
    )
    items = defn.item_map(definition)
    severity = LEVEL_SEVERITY[level]
    levels = guide.definition["levels"]
    text = {}
    for lang in ("sv", "en"):
        parts = []
        for a in advice:
            item = items[a.symptom]
            option = next(o for o in item["options"] if o["value"] == a.severity)
            parts.append(f"{item['text'][lang]}: {option['text'][lang]}")
        text[lang] = f"{levels[level]['title'][lang]} – " + "; ".join(parts)
    alert = Alert.objects.create(
        response=response,
        patient=patient,
        rule=SYMPTOM_ALERT_RULE,
        severity=severity,
        text_sv=text["sv"][:300],
        text_en=text["en"][:300],
        created_at=now,
        acknowledge_by=now + ACKNOWLEDGE_WITHIN[severity],
    )
    outbox_enqueue(
        task="selfmonitor.tasks.email_care_team",
        kwargs={"alert_id": alert.pk, "kind": "new"},
        dedupe_key=f"selfmonitor:alert:{alert.pk}",
    )
    return SymptomOutcome(report)
