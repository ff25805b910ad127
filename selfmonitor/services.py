"""Self-monitoring writes: load instruments, send and answer questionnaires, raise and
acknowledge alerts, the beat jobs (dispatch, reminders, expiry, escalation).

Typed, keyword-only, atomic; side effects (e-mails, never with health data) go through
``careplan.outbox.outbox_enqueue`` with a dedupe key, so a retried job sends once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from careplan import messaging
from careplan.models import CarePlan, CareRelation, Notification, Patient, Role, User
from careplan.outbox import outbox_enqueue

from . import definition as defn
from . import scoring
from .models import (
    Alert,
    Assignment,
    Instrument,
    Response,
    Schedule,
)

INSTRUMENT_DIR = Path(__file__).resolve().parent / "instruments"
# Their language versions (``<id>.v<N>.<lang>.json``), loaded after the originals.
LANGUAGE_VERSION_DIR = INSTRUMENT_DIR / "languages"

# How long the care team has to acknowledge an alert before it escalates (once).
ACKNOWLEDGE_WITHIN = {
    Alert.Severity.HIGH: dt.timedelta(hours=4),
    Alert.Severity.MEDIUM: dt.timedelta(hours=24),
    Alert.Severity.LOW: dt.timedelta(hours=72),
}
REMIND_BEFORE = dt.timedelta(days=1)  # a reminder this long before the due date
REMIND_LATER = dt.timedelta(days=1)  # "remind me later"


# --- Instruments ----------------------------------------------------------------------


def read_instrument_file(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise defn.DefinitionError([f"{path.name}: file: cannot be read ({exc})"]) from exc
    except json.JSONDecodeError as exc:
        raise defn.DefinitionError(
            [f"{path.name}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"]
        ) from exc
    return defn.validate_definition(data, where=path.name)


def checksum_of(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def instrument_load(*, data: dict, source_file: str = "") -> tuple[Instrument, str]:
    """Store one validated instrument version. Returns (instrument, what happened:
    ``created``, ``unchanged`` or ``updated``). A version with answers is never edited:
    a changed file for it is refused (load it as a new version).

    A language version (``"language": "ar"``) needs its original loaded first and is
    checked against it (``definition.validate_language_version``); its review status may
    change after answers (a review is no edit of the texts answered)."""
    lang = defn.language_of(data)
    original = None
    if lang:
        original = Instrument.objects.filter(
            key=data["id"], version=data["version"], language=""
        ).first()
        if original is None:
            raise defn.DefinitionError(
                [f"{source_file or data['id']}: load {data['id']} v{data['version']} first"]
            )
        defn.validate_language_version(
            data, original=original.definition, where=source_file or data["id"]
        )
    checksum = checksum_of(defn.content_of(data) if lang else data)
    existing = (
        Instrument.objects.select_for_update()
        .filter(key=data["id"], version=data["version"], language=lang)
        .first()
    )
    fields = {
        "kind": data["kind"],
        "title_sv": data["title"]["sv"],
        "title_en": data["title"]["en"],
        "definition": data,
        "checksum": checksum,
        "source_file": source_file,
        "source_note": data.get("source", ""),
        "licence_note": data.get("licence", ""),
    }
    if lang:
        fields |= {
            "original": original,
            "title_local": data["title"][lang],
            "text_status": data["status"],
            "reviewed_by": data.get("reviewed_by", ""),
        }
    if existing is None:
        return Instrument.objects.create(
            key=data["id"], version=data["version"], language=lang, **fields
        ), "created"
    if existing.checksum == checksum:
        review = {"text_status", "reviewed_by", "definition"}
        if lang and any(getattr(existing, f) != fields[f] for f in review):
            for name in review:
                setattr(existing, name, fields[name])
            existing.save(update_fields=sorted(review))
            return existing, "updated"
        return existing, "unchanged"
    if Response.objects.filter(instrument=existing).exists():
        raise defn.DefinitionError(
            [
                f"{source_file or data['id']}: version {data['version']}: has answers and "
                "cannot be changed; load the change as a new version"
            ]
        )
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.loaded_at = timezone.now()
    existing.save()
    return existing, "updated"


# --- Sending --------------------------------------------------------------------------


def _unit_id_of(patient: Patient) -> int | None:
    relation = patient.responsible_relation()
    return relation.unit_id if relation else None


@transaction.atomic
def assignment_send(
    *,
    patient: Patient,
    instrument: Instrument,
    by: User | None,
    due_days: int = 7,
    expire_days: int = 14,
    plan: CarePlan | None = None,
) -> Assignment:
    """A nurse sends a questionnaire once: open now, due and expiring later."""
    if by is not None and by.role == Role.STAFF:
        relation = patient.responsible_relation()
        if relation is None or not by.care_units.filter(pk=relation.unit_id).exists():
            raise PermissionDenied(_("The patient belongs to another care unit."))
    if expire_days < due_days:
        raise ValidationError(_("The questionnaire cannot expire before it is due."))
    now = timezone.now()
    if plan is None:
        plan = (
            CarePlan.objects.filter(patient=patient)
            .exclude(status=CarePlan.Status.CLOSED)
            .order_by("-created_at")
            .first()
        )
    assignment = Assignment.objects.create(
        patient=patient,
        plan=plan,
        unit_id=_unit_id_of(patient),
        instrument=instrument,
        available_at=now,
        due_at=now + dt.timedelta(days=due_days),
        expires_at=now + dt.timedelta(days=expire_days),
        created_by=by,
    )
    assignment_dispatch(assignment_id=assignment.pk)
    assignment.refresh_from_db(fields=["status", "dispatched_at", "instrument"])
    return assignment


def assignment_dispatch(*, assignment_id: int) -> bool:
    """Open a scheduled assignment and tell the patient, exactly once (a conditional
    update: a second call, or a second worker, finds nothing to open)."""
    now = timezone.now()
    with transaction.atomic():
        opened = Assignment.objects.filter(
            pk=assignment_id, status=Assignment.Status.SCHEDULED
        ).update(status=Assignment.Status.OPEN, dispatched_at=now)
        if not opened:
            return False
        assignment_match_language(assignment_id=assignment_id)
        outbox_enqueue(
            task="selfmonitor.tasks.email_patient",
            kwargs={"assignment_id": assignment_id, "kind": "new"},
            dedupe_key=f"selfmonitor:new:{assignment_id}",
        )
        _notify_patient_of(assignment_id)
    return True


def assignment_match_language(*, assignment_id: int) -> Instrument:
    """Give the patient the version of the questionnaire in their language (the original,
    Swedish/English, when there is none) while nothing is answered yet; once answers
    exist the assignment keeps the version they were given in. Returns the version."""
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_related("instrument", "patient")
            .select_for_update(of=("self",))
            .get(pk=assignment_id)
        )
        if Response.objects.filter(assignment_id=assignment_id).exists():
            return assignment.instrument
        wanted = assignment.instrument.in_language(assignment.patient.language)
        if wanted.pk != assignment.instrument_id:
            Assignment.objects.filter(pk=assignment_id).update(instrument=wanted)
        return wanted


def schedule_check(schedule: Schedule) -> None:
    """The rules a schedule keeps, for the admin's form and the API alike: raises a
    ValidationError naming each field."""
    errors: dict[str, str] = {}
    if (
        schedule.instrument_key
        and not Instrument.objects.filter(key=schedule.instrument_key).exists()
    ):
        errors["instrument_key"] = _("No such questionnaire.")
    if schedule.trigger == Schedule.Trigger.EVERY and not schedule.every_days:
        errors["every_days"] = _("Say how many days between the sendings.")
    if (schedule.expire_days or 0) < (schedule.due_days or 0):
        errors["expire_days"] = _("It cannot expire before it is due.")
    if errors:
        raise ValidationError(errors)


def schedule_save(*, schedule: Schedule, by: User, creating: bool) -> Schedule:
    """Save a schedule (one patient's or a template's) after ``schedule_check``."""
    schedule_check(schedule)
    if creating:
        schedule.created_by = by
    schedule.save()
    return schedule


def schedule_deactivate(*, schedule: Schedule, by: User) -> Schedule:
    """Stop a schedule: nothing more is sent from it (what was sent stays)."""
    if schedule.active:
        schedule.active = False
        schedule.save(update_fields=["active"])
    return schedule


def _notify_patient_of(assignment_id: int) -> None:
    """The in-app notification (and the header count) for a new questionnaire; the
    e-mail is the task above, so none here."""
    assignment = Assignment.objects.select_related("patient__user").get(pk=assignment_id)
    user = assignment.patient.user
    if user is None:
        return
    messaging.notify(
        recipients=[user],
        kind=Notification.Kind.QUESTIONNAIRE,
        dedupe_key=f"questionnaire:{assignment_id}",
        url=reverse("selfmonitor_answer", args=[assignment_id]),
        patient=assignment.patient,
        email=False,
    )


def _occurrence(schedule: Schedule, plan: CarePlan, today: dt.date, relations: dict):
    """(occurrence key, available date) of a schedule for a plan today, or None."""
    start = plan.established_on or plan.created_at.date()
    if schedule.trigger == Schedule.Trigger.PLAN_START:
        return f"start:{plan.pk}", start
    if schedule.trigger == Schedule.Trigger.PHASE_CHANGE:
        if schedule.phase and plan.phase != schedule.phase:
            return None
        return f"phase:{plan.pk}:{plan.phase}", today
    if schedule.trigger == Schedule.Trigger.HANDOVER:
        relation = relations.get(plan.patient_id)
        if relation is None or not relation[1]:  # the first responsible unit: no handover
            return None
        return f"handover:{relation[0]}", relation[2]
    n = (today - start).days // schedule.every_days
    if n < 0:
        return None
    return f"every:{plan.pk}:{n}", start + dt.timedelta(days=n * schedule.every_days)


def schedules_materialise(*, today: dt.date | None = None, chunk: int = 1000) -> int:
    """Create the assignments the active schedules call for today; each occurrence at
    most once (unique per schedule, patient and occurrence). Returns how many."""
    today = today or timezone.localdate()
    created = 0
    for schedule in Schedule.objects.filter(active=True).order_by("pk"):
        instrument = Instrument.current(schedule.instrument_key)
        if instrument is None:
            continue
        plans = CarePlan.objects.filter(status=CarePlan.Status.ACTIVE).order_by("pk")
        if schedule.template_id:
            plans = plans.filter(template_id=schedule.template_id)
        else:
            plans = plans.filter(patient_id=schedule.patient_id)
        last = 0
        while True:
            batch = list(plans.filter(pk__gt=last)[:chunk])
            if not batch:
                break
            last = batch[-1].pk
            created += _materialise_batch(schedule, instrument, batch, today)
    return created


def _materialise_batch(schedule, instrument, plans, today) -> int:
    patient_ids = [p.patient_id for p in plans]
    # patient -> (current relation id, handed over (not the first unit), since, unit id)
    relations: dict[int, tuple[int, bool, dt.date, int]] = {}
    counts: dict[int, int] = {}
    for rel in CareRelation.objects.filter(patient_id__in=patient_ids).order_by("started_at"):
        counts[rel.patient_id] = counts.get(rel.patient_id, 0) + 1
        if rel.ended_at is None:
            relations[rel.patient_id] = (
                rel.pk,
                False,
                timezone.localdate(rel.started_at),
                rel.unit_id,
            )
    relations = {pid: (r[0], counts[pid] > 1, r[2], r[3]) for pid, r in relations.items()}
    wanted = {}
    for plan in plans:
        found = _occurrence(schedule, plan, today, relations)
        if found is not None:
            wanted[(plan.patient_id, found[0])] = (plan, found[1])
    if not wanted:
        return 0
    existing = set(
        Assignment.objects.filter(
            schedule=schedule,
            patient_id__in=patient_ids,
            occurrence__in={occ for _p, occ in wanted},
        ).values_list("patient_id", "occurrence")
    )
    tz = timezone.get_current_timezone()
    rows = []
    for (patient_id, occ), (plan, on) in wanted.items():
        if (patient_id, occ) in existing:
            continue
        available = max(dt.datetime.combine(on, dt.time(8, 0), tzinfo=tz), timezone.now())
        rows.append(
            Assignment(
                patient_id=patient_id,
                plan=plan,
                unit_id=relations[patient_id][3] if patient_id in relations else None,
                instrument=instrument,
                schedule=schedule,
                occurrence=occ,
                available_at=available,
                due_at=available + dt.timedelta(days=schedule.due_days),
                expires_at=available + dt.timedelta(days=schedule.expire_days),
            )
        )
    Assignment.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def dispatch_due(*, now: dt.datetime | None = None) -> int:
    """Beat: open every scheduled assignment whose time has come, once each."""
    now = now or timezone.now()
    ids = list(
        Assignment.objects.filter(status=Assignment.Status.SCHEDULED, available_at__lte=now)
        .order_by("available_at")
        .values_list("pk", flat=True)[:5000]
    )
    return sum(assignment_dispatch(assignment_id=pk) for pk in ids)


def reminders_send(*, now: dt.datetime | None = None) -> int:
    """Beat: remind before the due date, after it, and when the patient asked for later.
    Each reminder is claimed by a conditional update, so it goes out once."""
    now = now or timezone.now()
    sent = 0
    base = Assignment.objects.filter(status=Assignment.Status.OPEN, expires_at__gt=now)
    later = Q(remind_after__isnull=True) | Q(remind_after__lte=now)
    plans = [
        (
            "before",
            base.filter(later, reminded_before_at__isnull=True, due_at__gt=now).filter(
                due_at__lte=now + REMIND_BEFORE
            ),
            "reminded_before_at",
        ),
        ("after", base.filter(later, reminded_after_at__isnull=True, due_at__lte=now), None),
    ]
    for kind, qs, _field in plans:  # noqa: B007
        for pk in qs.values_list("pk", flat=True)[:5000]:
            claim = {"reminded_before_at" if kind == "before" else "reminded_after_at": now}
            unclaimed = {
                "reminded_before_at__isnull"
                if kind == "before"
                else "reminded_after_at__isnull": True
            }
            with transaction.atomic():
                if Assignment.objects.filter(pk=pk, **unclaimed).update(**claim):
                    outbox_enqueue(
                        task="selfmonitor.tasks.email_patient",
                        kwargs={"assignment_id": pk, "kind": "reminder"},
                        dedupe_key=f"selfmonitor:{kind}:{pk}",
                    )
                    sent += 1
    # "Remind me later" that falls between the two: one reminder when the time comes.
    for pk, when in base.filter(remind_after__lte=now).values_list("pk", "remind_after")[:5000]:
        with transaction.atomic():
            if Assignment.objects.filter(pk=pk, remind_after=when).update(remind_after=None):
                outbox_enqueue(
                    task="selfmonitor.tasks.email_patient",
                    kwargs={"assignment_id": pk, "kind": "reminder"},
                    dedupe_key=f"selfmonitor:later:{pk}:{when.isoformat()}",
                )
                sent += 1
    return sent


def assignment_remind_later(*, assignment: Assignment, by: User) -> Assignment:
    if not assignment.is_answerable:
        raise ValidationError(_("This questionnaire can no longer be answered."))
    assignment.remind_after = timezone.now() + REMIND_LATER
    assignment.save(update_fields=["remind_after"])
    return assignment


def assignments_expire(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return Assignment.objects.filter(
        status__in=[Assignment.Status.OPEN, Assignment.Status.SCHEDULED], expires_at__lte=now
    ).update(status=Assignment.Status.EXPIRED)


# --- Answering ------------------------------------------------------------------------


@dataclass
class Outcome:
    response: Response | None
    errors: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    completed: bool = False
    already: bool = False  # a second submit of a completed response

    @property
    def ok(self) -> bool:
        return not self.errors and not self.missing


def _refuse_unanswerable(assignment: Assignment) -> None:
    if assignment.status == Assignment.Status.CANCELLED:
        raise ValidationError(_("This questionnaire was withdrawn by the care team."))
    if assignment.is_expired:
        raise ValidationError(
            _("This questionnaire expired on %(date)s and can no longer be answered.")
            % {"date": timezone.localtime(assignment.expires_at).strftime("%Y-%m-%d")}
        )
    if assignment.status == Assignment.Status.SCHEDULED:
        raise ValidationError(_("This questionnaire is not open yet."))


def _locked(assignment: Assignment) -> Assignment:
    return (
        Assignment.objects.select_related("instrument", "patient")
        .select_for_update(of=("self",))
        .get(pk=assignment.pk)
    )


def _draft(assignment: Assignment, by: User) -> Response:
    response, _created = Response.objects.get_or_create(
        assignment=assignment,
        defaults={
            "patient": assignment.patient,
            "instrument": assignment.instrument,
            "instrument_key": assignment.instrument.key,
            "unit_id": assignment.unit_id,
            "entered_by": by,
        },
    )
    return response


def _merge(definition: dict, old: dict, new: dict, page_items: list[str] | None) -> dict:
    merged = dict(old)
    if page_items is not None:
        for item_id in page_items:  # cleared on this page: cleared in the draft
            merged.pop(item_id, None)
    merged.update(new)
    return merged


@transaction.atomic
def response_save_draft(
    *,
    assignment: Assignment,
    by: User,
    raw: dict[str, list[str]],
    page_items: list[str] | None = None,
) -> Outcome:
    """Keep what the patient has answered so far (the valid answers; errors are
    returned for the rest). Resumable on any device: the draft lives on the server."""
    assignment = _locked(assignment)
    existing = Response.objects.filter(assignment=assignment).first()
    if existing is not None and existing.status == Response.Status.COMPLETED:
        return Outcome(existing, completed=True, already=True)
    _refuse_unanswerable(assignment)
    definition = assignment.instrument.definition
    answers, errors = defn.clean_answers(definition, raw, item_ids=page_items)
    response = existing or _draft(assignment, by)
    response.answers = defn.visible_answers(
        definition, _merge(definition, response.answers, answers, page_items)
    )
    response.entered_by = by
    response.save(update_fields=["answers", "entered_by", "updated_at"])
    return Outcome(response, errors=errors)


@transaction.atomic
def response_submit(
    *,
    assignment: Assignment,
    by: User,
    raw: dict[str, list[str]] | None = None,
    page_items: list[str] | None = None,
) -> Outcome:
    """Complete the questionnaire: validate, score, raise alerts. A second submit finds
    the completed response and stores nothing; a blank form is never completed."""
    assignment = _locked(assignment)
    existing = Response.objects.filter(assignment=assignment).first()
    if existing is not None and existing.status == Response.Status.COMPLETED:
        return Outcome(existing, completed=True, already=True)
    _refuse_unanswerable(assignment)
    definition = assignment.instrument.definition
    answers, errors = defn.clean_answers(definition, raw or {}, item_ids=page_items)
    response = existing or _draft(assignment, by)
    merged = defn.visible_answers(
        definition, _merge(definition, response.answers, answers, page_items)
    )
    response.answers = merged
    response.entered_by = by
    missing = defn.missing_required(definition, merged)
    if not merged and not errors:
        errors["__all__"] = _("Answer at least one question before you send.")
    if errors or missing:
        response.save(update_fields=["answers", "entered_by", "updated_at"])
        return Outcome(response, errors=errors, missing=missing)

    now = timezone.now()
    response.scores = scoring.score(definition, merged)
    response.status = Response.Status.COMPLETED
    response.submitted_at = now
    response.save()
    Assignment.objects.filter(pk=assignment.pk).update(status=Assignment.Status.COMPLETED)
    _raise_alerts(response, definition)
    return Outcome(response, completed=True)


def _raise_alerts(response: Response, definition: dict) -> list[Alert]:
    hits = scoring.alerts(definition, response.answers, response.scores)
    now = timezone.now()
    created = []
    for hit in hits:
        alert, made = Alert.objects.get_or_create(
            response=response,
            rule=hit.key,
            defaults={
                "patient_id": response.patient_id,
                "severity": hit.severity,
                "text_sv": hit.text["sv"][:300],
                "text_en": hit.text["en"][:300],
                "created_at": now,
                "acknowledge_by": now + ACKNOWLEDGE_WITHIN[hit.severity],
            },
        )
        if made:
            created.append(alert)
            outbox_enqueue(
                task="selfmonitor.tasks.email_care_team",
                kwargs={"alert_id": alert.pk, "kind": "new"},
                dedupe_key=f"selfmonitor:alert:{alert.pk}",
            )
    relation = response.patient.responsible_relation() if created else None
    if relation is not None:
        # The header's counter of the unit's staff; the e-mail is email_care_team's above.
        for alert in created:
            messaging.notify(
                recipients=messaging.unit_staff(relation.unit_id),
                kind=Notification.Kind.ALERT,
                url=alert_admin_url(alert),
                patient=response.patient,
                dedupe_key=f"alert:{alert.pk}",
                email=False,
            )
    return created


def alert_admin_url(alert: Alert) -> str:
    return reverse("admin:selfmonitor_alert_acknowledge", args=[alert.pk])


# --- Alerts ---------------------------------------------------------------------------


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User, note: str) -> Alert:
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Write a note on what was done.")})
    relation = alert.patient.responsible_relation()
    if (
        by.role != Role.STAFF
        or relation is None
        or not by.care_units.filter(pk=relation.unit_id).exists()
    ):
        raise PermissionDenied(_("The patient belongs to another care unit."))
    updated = Alert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=by, note=note
    )
    if not updated:
        raise ValidationError(_("This alert was already acknowledged."))
    alert.refresh_from_db()
    messaging.notifications_resolve(url=alert_admin_url(alert))
    return alert


def alerts_escalate(*, now: dt.datetime | None = None) -> int:
    """Beat: an alert not acknowledged in time escalates once (to the unit)."""
    now = now or timezone.now()
    ids = list(
        Alert.objects.open()
        .filter(escalated_at__isnull=True, acknowledge_by__lte=now)
        .values_list("pk", flat=True)[:5000]
    )
    done = 0
    for pk in ids:
        with transaction.atomic():
            if Alert.objects.filter(pk=pk, escalated_at__isnull=True).update(escalated_at=now):
                outbox_enqueue(
                    task="selfmonitor.tasks.email_care_team",
                    kwargs={"alert_id": pk, "kind": "escalated"},
                    dedupe_key=f"selfmonitor:escalated:{pk}",
                )
                done += 1
    return done


# --- For the rehab app ----------------------------------------------------------------

REHAB_SCREENING = "rehab-needs"
REHAB_AREAS = ("physical", "psychological", "social", "existential")
REHAB_NEED_FROM = 4


def latest_screening(patient: Patient) -> dict | None:
    """The patient's latest rehabilitation-needs screening, for the rehab app::

        {"response_id", "submitted_at", "instrument_version",
         "areas": {"physical": {"score": 0–10 or None, "need": bool,
                                 "wants_support": bool}, …}}

    ``need`` is a score of 4 or more or a wish for support. ``None`` if never answered.
    """
    response = (
        Response.objects.filter(
            patient=patient,
            instrument_key=REHAB_SCREENING,
            status=Response.Status.COMPLETED,
        )
        .select_related("instrument")
        .order_by("-submitted_at")
        .first()
    )
    if response is None:
        return None
    areas = {}
    for area in REHAB_AREAS:
        value = response.scores.get(area)
        wants = response.scores.get(f"{area}_support") == 1
        areas[area] = {
            "score": value,
            "need": wants or (value is not None and value >= REHAB_NEED_FROM),
            "wants_support": wants,
        }
    return {
        "response_id": response.pk,
        "submitted_at": response.submitted_at,
        "instrument_version": response.instrument.version,
        "areas": areas,
    }
