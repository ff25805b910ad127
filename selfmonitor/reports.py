"""Unit reports: PREM results aggregated per unit and month (groups of at least five
answers only), completion rate of questionnaires sent and the share of patients assessed.

Aggregates only: no patient is named, so no access-log rows. On PostgreSQL at scale these
run on a read replica (DESIGN.md); each is a handful of grouped queries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth

from careplan.models import CareRelation, CareUnit
from careplan.replica import reading_replica

from .models import Assignment, Instrument, Response, pick

MIN_GROUP = 5  # a PREM group smaller than this is never shown


@dataclass
class PremGroup:
    unit: CareUnit
    month: dt.date
    answers: int
    means: dict[str, float | None] = field(default_factory=dict)

    @property
    def shown(self) -> bool:
        return self.answers >= MIN_GROUP


@reading_replica()  # aggregates over months: the replica may serve them
def prem_summary(*, unit_ids, start: dt.date, end: dt.date, key: str = "care-experience"):
    """Per unit and month: number of answers and each scale's mean. Groups under five
    answers carry no means (``shown`` is false)."""
    instrument = Instrument.current(key)
    if instrument is None:
        return None, []
    scales = [(s["key"], pick(s["title"])) for s in instrument.definition.get("scales", [])]
    units = {u.pk: u for u in CareUnit.objects.filter(pk__in=unit_ids)}
    rows = (
        Response.objects.filter(
            unit_id__in=units,
            instrument_key=key,
            status=Response.Status.COMPLETED,
            submitted_at__date__gte=start,
            submitted_at__date__lte=end,
        )
        .annotate(month=TruncMonth("submitted_at"))
        .values_list("unit_id", "month", "scores")
    )
    grouped: dict[tuple[int, dt.date], list[dict]] = defaultdict(list)
    for unit_id, month, scores in rows:
        month = month.date() if isinstance(month, dt.datetime) else month
        grouped[(unit_id, month)].append(scores)
    groups = []
    for (unit_id, month), all_scores in sorted(
        grouped.items(), key=lambda kv: (kv[0][1], kv[0][0])
    ):
        group = PremGroup(unit=units[unit_id], month=month, answers=len(all_scores))
        if group.shown:
            for scale_key, _title in scales:
                values = [s[scale_key] for s in all_scores if s.get(scale_key) is not None]
                group.means[scale_key] = (
                    round(sum(values) / len(values), 1) if len(values) >= MIN_GROUP else None
                )
        groups.append(group)
    return scales, groups


@dataclass
class UnitFigures:
    unit: CareUnit
    sent: int
    completed: int
    expired: int
    patients: int
    assessed: int

    @property
    def completion_rate(self) -> float | None:
        return round(100 * self.completed / self.sent) if self.sent else None

    @property
    def assessed_share(self) -> float | None:
        return round(100 * self.assessed / self.patients) if self.patients else None


@reading_replica()
def unit_report(*, unit_ids, start: dt.date, end: dt.date) -> list[UnitFigures]:
    """Per unit, for questionnaires sent in the period: sent, completed, expired,
    completion rate; and of the patients the unit is responsible for now, how many
    answered a PROM in the period. Three grouped queries and the units."""
    units = list(CareUnit.objects.filter(pk__in=unit_ids).order_by("name"))
    sent = {
        row["unit_id"]: row
        for row in Assignment.objects.filter(
            unit_id__in=unit_ids,
            available_at__date__gte=start,
            available_at__date__lte=end,
        )
        .exclude(status__in=[Assignment.Status.SCHEDULED, Assignment.Status.CANCELLED])
        .values("unit_id")
        .annotate(
            sent=Count("id"),
            completed=Count("id", filter=Q(status=Assignment.Status.COMPLETED)),
            expired=Count("id", filter=Q(status=Assignment.Status.EXPIRED)),
        )
    }
    patients = dict(
        CareRelation.objects.filter(unit_id__in=unit_ids, ended_at__isnull=True)
        .values("unit_id")
        .annotate(n=Count("patient_id", distinct=True))
        .values_list("unit_id", "n")
    )
    current = CareRelation.objects.filter(unit_id__in=unit_ids, ended_at__isnull=True)
    assessed = dict(
        current.filter(
            patient__responses__status=Response.Status.COMPLETED,
            patient__responses__instrument__kind=Instrument.Kind.PROM,
            patient__responses__submitted_at__date__gte=start,
            patient__responses__submitted_at__date__lte=end,
        )
        .values("unit_id")
        .annotate(n=Count("patient_id", distinct=True))
        .values_list("unit_id", "n")
    )
    return [
        UnitFigures(
            unit=u,
            sent=sent.get(u.pk, {}).get("sent", 0),
            completed=sent.get(u.pk, {}).get("completed", 0),
            expired=sent.get(u.pk, {}).get("expired", 0),
            patients=patients.get(u.pk, 0),
            assessed=assessed.get(u.pk, 0),
        )
        for u in units
    ]
