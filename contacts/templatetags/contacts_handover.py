"""The handover on the plan's start page: in progress, then the new unit and nurse."""

from __future__ import annotations

from django import template

from careplan.prepared import Bound, prepared
from contacts.models import Handover, HandoverState

register = template.Library()


# The states the start page may show, newest first decides.
SHOWN_STATES = [
    HandoverState.DRAFT,
    HandoverState.SENT,
    HandoverState.ACCEPTED,
    HandoverState.COMPLETED,
]


# What the handover card and the to-do card read of a handover, its unit and nurse.
CARD_FIELDS = (
    "id",
    "patient_id",
    "state",
    "needs_and_wishes",
    "to_unit_id",
    "contact_nurse_id",
    "created_at",
    "accepted_at",
    "to_unit__name",
    "contact_nurse__first_name",
    "contact_nurse__last_name",
    "contact_nurse__email",
)


def _shown(patient_id: int):
    return (
        Handover.objects.filter(patient_id=patient_id, state__in=SHOWN_STATES)
        .select_related("to_unit", "contact_nurse")
        .only(*CARD_FIELDS)
        .order_by("-created_at", "-id")
    )


# Compiled once per process (careplan.prepared): on every plan start page.
_shown_handovers = prepared(lambda patient_id: _shown(patient_id))
_latest_handover = prepared(lambda patient_id: _shown(patient_id)[:1])


def handovers_read(patient_id: int, *, latest: bool = False) -> Bound:
    """``plan_handovers`` (or, ``latest``, the one ``handover_status`` shows to others
    than the patient) as a read to run with others (``careplan.prepared.together``); its
    rows can be given to ``handover_status`` as ``handovers``."""
    return (_latest_handover if latest else _shown_handovers).bind(patient_id=patient_id)


def plan_handovers(patient_id: int) -> list[Handover]:
    """The patient's handovers in ``SHOWN_STATES``, newest first (one query; a patient has
    a few). The patient's start page reads them once for this card and for the to-do
    card's draft waiting for their needs and wishes (``careplan.todo``)."""
    return _shown_handovers(patient_id=patient_id)


@register.inclusion_tag("contacts/_handover_status.html")
def handover_status(plan, shared, nurse=None, handovers=None):
    """One query: the patient's latest handover that is open or accepted (none when the
    view passes ``handovers``, from ``plan_handovers``). Shown to those who see the
    contact nurse part (the patient, staff, relatives given that part); a draft only to
    the patient (who can add needs and wishes to it)."""
    if not getattr(shared, "contact_nurse", False):
        return {"handover": None}
    if handovers is not None:
        handover = handovers[0] if handovers else None
    else:
        handover = next(iter(_latest_handover(patient_id=plan.patient_id)), None)
    if handover is None:
        return {"handover": None}
    if handover.state == HandoverState.DRAFT and not shared.is_self:
        return {"handover": None}
    # An accepted one only while the receiver is still the unit of the named nurse.
    if handover.state in (HandoverState.ACCEPTED, HandoverState.COMPLETED) and (
        nurse is None or nurse.unit_id != handover.to_unit_id
    ):
        return {"handover": None}
    return {"handover": handover, "is_self": shared.is_self}
