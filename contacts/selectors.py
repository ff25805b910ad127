"""Read-side queries of contacts for the care team: handovers on the worklist, and the
care map's flags, relatives with access and the handover state on the patient overview."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from careplan import access, rendering
from careplan.models import AccessLog, CareRelation, Patient
from careplan.prepared import prepared
from careplan.selectors import (
    HIGH,
    LOW,
    MEDIUM,
    PATIENT_FIELDS,
    WorkItem,
    register_worklist_source,
)

from .handover import access as handover_access
from .handover.services import handover_overdue_cutoff
from .models import CareMap, CareMapEntry, Handover, RelativeGrant, Scope


def _log_handovers(user, items: list[WorkItem]) -> None:
    # Each row with the basis it was reached by (care relation, receiving, read period).
    handover_access.log_handover_list(
        user=user, handovers=[i.obj for i in items], channel=AccessLog.Channel.ADMIN
    )


@register_worklist_source("handover", log=_log_handovers)
def handover_items(user, *, limit: int) -> list[WorkItem]:
    """Sent handovers waiting for my units, and my units' handovers not accepted in time
    (one query). The filter is the scope: both are among ``handovers_for``'s rows (a sent
    handover is the receiver's to see; an unaccepted one is still the sender's patient),
    so the rows carry what the access log needs without its general-purpose annotations:
    the patient's care relation with one of my units, if any, decides the basis."""
    units = access.staff_unit_ids(user)
    cutoff = handover_overdue_cutoff()
    relation = CareRelation.objects.filter(
        patient_id=OuterRef("patient_id"), ended_at__isnull=True, unit_id__in=units
    )
    rows = list(
        Handover.objects.filter(state=Handover.State.SENT)
        .filter(Q(to_unit__in=units) | Q(from_unit__in=units, sent_at__lte=cutoff))
        .annotate(relation_unit_id=Subquery(relation.values("unit_id")[:1]))
        .select_related("patient", "from_unit", "to_unit")
        .only(
            "patient_id",
            "state",
            "sent_at",
            "from_unit__name",
            "to_unit__name",
            *PATIENT_FIELDS,
        )
        .order_by("sent_at", "id")[:limit]
    )
    items = []
    for h in rows:
        incoming = h.to_unit_id in units
        h.acting_unit_id = h.relation_unit_id or (  # type: ignore[attr-defined]
            h.to_unit_id if incoming else h.from_unit_id
        )
        sent_at = cast(dt.datetime, h.sent_at)  # a sent handover has one
        overdue = sent_at <= cutoff
        items.append(
            WorkItem(
                kind="handover",
                kind_label=_("Handover waiting for acceptance")
                if incoming
                else _("Handover not accepted in time"),
                severity=HIGH if overdue else MEDIUM,
                since=sent_at,
                patient=h.patient,
                title=(
                    _("from %(unit)s") % {"unit": h.from_unit}
                    if incoming
                    else _("to %(unit)s") % {"unit": h.to_unit}
                ),
                url=rendering.url("admin:contacts_handover_change", h.pk),
                obj=h,
                acting_unit_id=h.acting_unit_id,  # type: ignore[attr-defined]
            )
        )
    return items


@register_worklist_source("relative_support", top=LOW)
def relative_support_items(user, *, limit: int) -> list[WorkItem]:
    """Relatives of my units' patients flagged as needing support themselves (children
    in particular), the longest waiting first (one query)."""
    entries = list(
        access.with_acting_unit(
            CareMapEntry.objects.needing_support().filter(
                care_map__patient__in=access.patients_for(user).values("pk")
            ),
            user,
            patient_path="care_map__patient",
        )
        .select_related("care_map__patient")
        .order_by("updated_at", "id")[:limit]
    )
    label = _("Relative who needs support")
    items = []
    for e in entries:
        flags = [e.relation] if e.relation else []
        if e.is_child:
            flags.append(_("a child"))
        if e.needs_support:
            flags.append(_("needs support"))
        items.append(
            WorkItem(
                kind="relative_support",
                kind_label=label,
                severity=LOW,
                since=e.updated_at,
                patient=e.care_map.patient,
                title=f"{e.name} ({', '.join(str(x) for x in flags)})" if flags else e.name,
                url=rendering.url("admin:contacts_caremap_change", e.care_map_id),
                obj=e,
                acting_unit_id=e.acting_unit_id,
            )
        )
    return items


@register_worklist_source("missing_support", top=LOW)
def missing_support_items(user, *, limit: int) -> list[WorkItem]:
    """My units' patients who marked that they miss support, the longest waiting first
    (one query)."""
    maps = list(
        access.with_acting_unit(
            CareMap.objects.filter(patient__in=access.patients_for(user).values("pk")).exclude(
                missing_support=""
            ),
            user,
        )
        .select_related("patient")
        .order_by("updated_at", "id")[:limit]
    )
    label = _("Misses support")
    return [
        WorkItem(
            kind="missing_support",
            kind_label=label,
            severity=LOW,
            since=m.updated_at,
            patient=m.patient,
            title=m.missing_support[:80],
            url=rendering.url("admin:contacts_caremap_change", m.pk),
            obj=m,
            acting_unit_id=m.acting_unit_id,
        )
        for m in maps
    ]


_care_map_flags = prepared(
    lambda patient_id: (
        CareMapEntry.objects.filter(care_map__patient_id=patient_id)
        .needing_support()
        .order_by("id")
    )
)


def care_map_flags(patient: Patient) -> list[CareMapEntry]:
    """Children and relatives who need support themselves (one query)."""
    return _care_map_flags(patient_id=patient.pk)


_unrevoked_grants = prepared(
    lambda patient_id: (
        RelativeGrant.objects.filter(patient_id=patient_id, revoked_at__isnull=True)
        .select_related("relative")
        .only(
            "scopes",
            "valid_until",
            "created_at",
            "relative__first_name",
            "relative__last_name",
            "relative__email",
        )
        .order_by("created_at", "id")
    )
)


def relatives_with_access(patient: Patient) -> list[RelativeGrant]:
    """Active grants with the relative, each with ``scope_labels`` in words (one query;
    the end date is read here as ``RelativeGrant.objects.active()`` reads it, in
    Stockholm's date, so the compiled query holds no date)."""
    today = timezone.localdate()
    grants = [
        g
        for g in _unrevoked_grants(patient_id=patient.pk)
        if g.valid_until is None or g.valid_until >= today
    ]
    labels = dict(Scope.choices)
    for grant in grants:
        grant.scope_labels = [  # for the template
            str(labels.get(s, s)) for s in grant.scopes or []
        ]
    return grants


_handover_state = prepared(
    lambda patient_id: (
        Handover.objects.filter(patient_id=patient_id)
        .select_related("from_unit", "to_unit")
        .only("state", "from_unit__name", "to_unit__name")
        .order_by("-created_at", "-id")[:1]
    )
)


def handover_state(patient: Patient) -> Handover | None:
    """The patient's latest handover (open or not), with both units (one query)."""
    return next(iter(_handover_state(patient_id=patient.pk)), None)
