"""Handover reports per unit: how many were sent, accepted, declined; the time from sent
to accepted; the declined share. Counts only, no patient data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import median

from django.db.models import Q

from careplan.models import CareUnit

from ..models import Handover, HandoverState


@dataclass(frozen=True)
class UnitRow:
    unit_id: int
    unit: str
    sent: int
    received: int
    accepted: int
    declined: int
    open: int
    median_hours_to_accept: float | None

    @property
    def declined_share(self) -> float | None:
        answered = self.accepted + self.declined
        return round(100 * self.declined / answered, 1) if answered else None


def handover_report(*, unit_ids, start: dt.date, end: dt.date) -> list[UnitRow]:
    """One row per unit in ``unit_ids``: handovers sent from it and received by it with
    ``sent_at`` in [start, end]. Two queries (the handovers, the unit names)."""
    rows = list(
        Handover.objects.filter(sent_at__date__gte=start, sent_at__date__lte=end)
        .filter(Q(from_unit__in=unit_ids) | Q(to_unit__in=unit_ids))
        .select_related("from_unit", "to_unit")
        .only(
            "state",
            "sent_at",
            "accepted_at",
            "from_unit__id",
            "from_unit__name",
            "to_unit__id",
            "to_unit__name",
        )
    )
    out = []
    names = dict(CareUnit.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
    for unit_id in sorted(set(unit_ids), key=lambda u: names.get(u, "")):
        mine = [h for h in rows if h.to_unit_id == unit_id]
        hours = [
            (h.accepted_at - h.sent_at).total_seconds() / 3600
            for h in mine
            if h.accepted_at and h.sent_at
        ]
        out.append(
            UnitRow(
                unit_id=unit_id,
                unit=names.get(unit_id, ""),
                sent=sum(1 for h in rows if h.from_unit_id == unit_id),
                received=len(mine),
                accepted=sum(
                    1 for h in mine if h.state in (HandoverState.ACCEPTED, HandoverState.COMPLETED)
                ),
                declined=sum(1 for h in mine if h.state == HandoverState.DECLINED),
                open=sum(1 for h in mine if h.state == HandoverState.SENT),
                median_hours_to_accept=round(median(hours), 1) if hours else None,
            )
        )
    return out
