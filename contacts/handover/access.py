"""Who reads a handover: a narrow rule beside ``careplan.access``.

``careplan.access`` reaches a patient through the active care relation. A handover adds
two short-lived bases, for the handover only (not the rest of the record):

- staff of the receiving unit read a *sent* handover (its summary) and answer it
  (accept or decline): basis ``handover``, acting unit = the receiver;
- staff of the sending unit keep reading an accepted handover for
  ``CAREPLAN_HANDOVER_READ_GRACE_HOURS`` after acceptance (default 0: their access ends
  at acceptance): basis ``handover_grace``, read only.

Everyone else goes through ``careplan.access.reach`` as usual. Every look is logged.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from careplan import access
from careplan.models import AccessLog, CareRelation, Role

from ..models import Handover, HandoverState

BASIS_RECEIVER = AccessLog.Basis.HANDOVER
BASIS_GRACE = AccessLog.Basis.HANDOVER_GRACE


def grace_hours() -> int:
    return int(getattr(settings, "CAREPLAN_HANDOVER_READ_GRACE_HOURS", 0) or 0)


def _grace_cutoff(now: dt.datetime | None = None) -> dt.datetime | None:
    hours = grace_hours()
    if hours <= 0:
        return None
    return (now or timezone.now()) - dt.timedelta(hours=hours)


def handover_reach(user, handover: Handover) -> access.Reach:
    """How ``user`` reaches this handover."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return access.NO_REACH
    base = access.reach(user, handover.patient)
    if base.allowed and (base.is_self or base.basis == AccessLog.Basis.CARE_RELATION):
        return base
    if user.role != Role.STAFF:
        return access.NO_REACH
    units = access.staff_unit_ids(user)
    if handover.state == HandoverState.SENT and handover.to_unit_id in units:
        return access.Reach(
            allowed=True, basis=BASIS_RECEIVER, acting_unit_id=handover.to_unit_id, write=True
        )
    cutoff = _grace_cutoff()
    if (
        cutoff is not None
        and handover.from_unit_id in units
        and handover.accepted_at is not None
        and handover.accepted_at > cutoff
    ):
        return access.Reach(
            allowed=True, basis=BASIS_GRACE, acting_unit_id=handover.from_unit_id, write=False
        )
    return access.NO_REACH


def handover_for(user, pk, *, write: bool = False, channel: str, action: str | None = None):
    """One handover, or Http404 (no basis) / PermissionDenied (read only asked to write);
    one access-log row either way (none for the patient themself)."""
    handover = (
        Handover.objects.select_related("patient", "from_unit", "to_unit").filter(pk=pk).first()
    )
    if handover is None:
        raise Http404
    r = handover_reach(user, handover)
    action = action or (AccessLog.Action.UPDATE if write else AccessLog.Action.VIEW)
    allowed = r.allowed and (r.write or not write)
    access.log_access(
        user=user,
        patient=handover.patient,
        obj=handover,
        action=action,
        allowed=allowed,
        channel=channel,
        reach_=r,
    )
    if not r.allowed:
        raise Http404
    if not allowed:
        raise PermissionDenied
    handover.reach = r
    return handover


def handovers_for(user) -> QuerySet[Handover]:
    """Handovers a staff member may list, each annotated with ``acting_unit_id`` and
    ``basis`` (for the access log): those of patients my units are responsible for, the
    sent ones addressed to my units (the inbox), and, within the grace period, those my
    units handed over."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.STAFF:
        return Handover.objects.none()
    units = list(access.staff_unit_ids(user))
    visible = Q(patient__in=access.patients_for(user).values("pk")) | Q(
        to_unit__in=units, state=HandoverState.SENT
    )
    cutoff = _grace_cutoff()
    if cutoff is not None:
        visible |= Q(from_unit__in=units, accepted_at__gt=cutoff)
    relation = CareRelation.objects.filter(
        patient_id=OuterRef("patient"), ended_at__isnull=True, unit_id__in=units
    )
    return (
        Handover.objects.filter(visible)
        .annotate(
            relation_unit_id=Subquery(relation.values("unit_id")[:1], output_field=IntegerField())
        )
        .annotate(
            acting_unit_id=Coalesce(
                F("relation_unit_id"),
                Case(
                    When(to_unit__in=units, state=HandoverState.SENT, then=F("to_unit_id")),
                    When(from_unit__in=units, then=F("from_unit_id")),
                    default=None,
                    output_field=IntegerField(),
                ),
                output_field=IntegerField(),
            )
        )
    )


def basis_of(handover: Handover) -> str:
    """The access-log basis of a row from ``handovers_for``."""
    if getattr(handover, "relation_unit_id", None) is not None:
        return AccessLog.Basis.CARE_RELATION
    if handover.state == HandoverState.SENT:
        return BASIS_RECEIVER
    return BASIS_GRACE


def log_handover_list(*, user, handovers, channel: str) -> None:
    """One ``list`` row per patient shown, with the basis each was reached by; one query."""
    if not getattr(user, "is_authenticated", False) or user.role == Role.PATIENT:
        return
    seen: dict[int, AccessLog] = {}
    name = str(user)[:300]
    for h in handovers:
        seen.setdefault(
            h.patient_id,
            AccessLog(
                user=user,
                user_name=name,
                role=user.role,
                acting_unit_id=h.acting_unit_id,
                basis=basis_of(h),
                patient_id=h.patient_id,
                object_type="Handover",
                object_id=str(h.pk),
                action=AccessLog.Action.LIST,
                outcome=AccessLog.Outcome.ALLOWED,
                channel=channel,
            ),
        )
    access.write_list_rows(seen.values())
