"""Access helpers: one per resource, used by views, admin, API and PDF alike.

Each helper decides who may read or write an object, writes the access-log row for
anyone but the patient (allowed or denied), and returns the object or raises:
no relation gives ``Http404``, a read-only relation asked to write gives
``PermissionDenied``.

Who reaches a patient:
- the patient themself (not logged);
- staff of the unit with the active care relation (basis ``care_relation``);
- a relative with an active grant from the patient, read only, for the granted scopes
  (basis ``relative_grant``).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router
from django.db.models import F, IntegerField, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Now, TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .content import REVIEW_PERMISSION
from .models import (
    AccessLog,
    CalendarEvent,
    CarePlan,
    CareRelation,
    CareUnit,
    MessageThread,
    Patient,
    PlanSection,
    RelativeGrant,
    Role,
    Scope,
    StaffMembership,
    User,
)
from .prepared import prepared, together

Channel = AccessLog.Channel
Action = AccessLog.Action


@dataclass(frozen=True)
class Reach:
    """How a user reaches one patient."""

    allowed: bool
    basis: str
    acting_unit_id: int | None = None
    write: bool = False
    scopes: frozenset[str] = frozenset()
    is_self: bool = False

    def covers(self, scope: str | None) -> bool:
        if not self.allowed:
            return False
        if self.is_self or self.basis == AccessLog.Basis.CARE_RELATION:
            return True
        if scope == ANY_SCOPE:
            return bool(self.scopes)
        return scope is not None and scope in self.scopes


NO_REACH = Reach(allowed=False, basis=AccessLog.Basis.NONE)

# Pass as ``scope`` when any shared part will do (the plan's start page shows a relative
# only the parts they were given; the view asks ``plan.reach.covers(...)`` per part).
ANY_SCOPE = "*"


def staff_unit_ids(user) -> frozenset[int]:
    """The care units a staff member works in (cached on the user object)."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.STAFF:
        return frozenset()
    cached = getattr(user, "_careplan_unit_ids", None)
    if cached is None:
        cached = frozenset(_unit_ids_of(user_id=user.pk))
        user._careplan_unit_ids = cached
    return cached


# Asked on every staff request: compiled once (careplan.prepared).
_unit_ids_of = prepared(
    lambda user_id: StaffMembership.objects.filter(user_id=user_id).values_list(
        "unit_id", flat=True
    )
)


def is_care_staff(user) -> bool:
    """Works in the admin: an active user with admin access and the care team role."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.role == Role.STAFF
    )


def can_review_translations(user) -> bool:
    """Care staff holding the review permission (the "Translation reviewers" group) may
    mark a language version of content reviewed (``services.translation_review``)."""
    return bool(user and is_care_staff(user) and user.has_perm(REVIEW_PERMISSION))


def is_staff_of(user, unit_id: int | None) -> bool:
    """A care team member of the unit ``unit_id`` (one query)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.role == Role.STAFF
        and user.care_units.filter(pk=unit_id).exists()
    )


def responsible_unit_for_write(by: User, patient: Patient) -> CareUnit:
    """The unit ``by`` acts for when writing the patient's data: it must be the one
    responsible for the patient. No responsible unit is a ``ValidationError``, another
    unit (or not staff) a ``PermissionDenied``."""
    relation = patient.responsible_relation()
    if relation is None:
        raise ValidationError(_("The patient has no responsible care unit."))
    if by.role != Role.STAFF or not by.care_units.filter(pk=relation.unit_id).exists():
        raise PermissionDenied(_("The patient belongs to another care unit."))
    return relation.unit


def require_patient_self(by, patient: Patient) -> None:
    """What belongs to the patient alone (their care map's sharing, relatives' access):
    only the patient themself writes it."""
    if not getattr(by, "is_authenticated", False) or by.role != Role.PATIENT:
        raise PermissionDenied(_("Only the patient can change this."))
    if patient.user_id != by.pk:
        raise PermissionDenied(_("Only the patient can change this."))


def require_care_map_writer(by, patient: Patient) -> None:
    """The care map is the patient's; the responsible unit's staff may draw it together
    with them (in the admin). Sharing stays the patient's alone
    (``require_patient_self``)."""
    if getattr(by, "is_authenticated", False) and by.role == Role.STAFF:
        if reach(by, patient).basis == AccessLog.Basis.CARE_RELATION:
            return
        raise PermissionDenied(_("The patient belongs to another care unit."))
    require_patient_self(by, patient)


def reach(user, patient: Patient, *, grants: list[RelativeGrant] | None = None) -> Reach:
    """What ``user`` may do with ``patient``'s record. ``grants``: a relative's active
    grants when the caller read them already (``plan_for``, with the plan)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_REACH
    if user.role == Role.PATIENT:
        if patient.user_id == user.id:
            return Reach(
                allowed=True,
                basis=AccessLog.Basis.NONE,
                write=True,
                is_self=True,
                scopes=frozenset(Scope.values),
            )
        # One person, two roles: a patient may also read what another patient shared with
        # them as a relative (same account; see README, "Log in with e-ID").
        return _relative_reach(user, patient, grants)
    if user.role == Role.STAFF:
        units = staff_unit_ids(user)
        unit_id = (
            CareRelation.objects.filter(patient=patient, ended_at__isnull=True, unit_id__in=units)
            .values_list("unit_id", flat=True)
            .first()
        )
        if unit_id is None:
            return NO_REACH
        return Reach(
            allowed=True,
            basis=AccessLog.Basis.CARE_RELATION,
            acting_unit_id=unit_id,
            write=True,
            scopes=frozenset(Scope.values),
        )
    if user.role == Role.RELATIVE:
        return _relative_reach(user, patient, grants)
    return NO_REACH


# A relative's active grants (``RelativeGrant.objects.active()``: not revoked, valid until
# today or later, "today" by the database's clock in the site's time zone, so the SQL
# holds no date of its own), compiled once per process (careplan.prepared).
_active_grants = prepared(
    lambda relative_id: (
        RelativeGrant.objects.filter(relative_id=relative_id, revoked_at__isnull=True)
        .filter(
            Q(valid_until__isnull=True)
            | Q(valid_until__gte=TruncDate(Now(), tzinfo=timezone.get_default_timezone()))
        )
        .only("id", "patient_id", "scopes", "last_seen_at")
        .order_by("id")
    )
)


def _relative_reach(user, patient: Patient, grants: list[RelativeGrant] | None = None) -> Reach:
    # All of the user's active grants in one query (a relative has a few): the one from
    # this patient decides, and the header's "Messages" check (``shares_messages``) is
    # answered from the same rows instead of a query of its own.
    if grants is None:
        grants = _active_grants(relative_id=user.pk)
    _remember_shares_messages(user, (g.scopes for g in grants))
    grant = next((g for g in grants if g.patient_id == patient.pk), None)
    if grant is None:
        return NO_REACH
    grant.touch()
    return Reach(
        allowed=True,
        basis=AccessLog.Basis.RELATIVE_GRANT,
        write=False,
        scopes=frozenset(grant.scopes),
    )


def log_access(
    *,
    user,
    patient: Patient | None,
    obj: object | None,
    action: str,
    allowed: bool,
    channel: str,
    reach_: Reach | None = None,
    object_type: str | None = None,
) -> None:
    """Write one access-log row, at once, unless the user is the patient themself."""
    reach_ = reach_ or NO_REACH
    if reach_.is_self:
        return None
    authenticated = getattr(user, "is_authenticated", False)
    if authenticated and patient is not None and patient.user_id == user.id:
        return None
    # One row through the list rows' plain INSERT (no model instance, no transaction):
    # who, then when, on what basis and what. Written at once, never deferred to an
    # enclosing one_log_insert: a refusal is logged just before an exception.
    who = (
        user.pk if authenticated else None,
        (str(user) if authenticated else "anonymous")[:300],
        # A patient reading what another shares with them acts as a relative.
        str(
            Role.RELATIVE
            if authenticated and reach_.basis == AccessLog.Basis.RELATIVE_GRANT
            else (user.role if authenticated else "anonymous")
        ),
        str(action),
        str(AccessLog.Outcome.ALLOWED if allowed else AccessLog.Outcome.DENIED),
        str(channel),
    )
    db = connections[router.db_for_write(AccessLog)]
    _insert_rows(
        who,
        [
            (
                _AT.get_db_prep_save(timezone.now(), db),
                str(reach_.basis),
                reach_.acting_unit_id,
                patient.pk if patient is not None else None,
                object_type or (type(obj).__name__ if obj is not None else "Patient"),
                str(getattr(obj, "pk", "") or ""),
            )
        ],
    )
    return None


def log_list(
    *,
    user,
    rows: Iterable[tuple[int, int | None, Model]],
    channel: str,
    as_relative: bool = False,
) -> None:
    """One row per patient shown in a staff list, written in one query.

    ``rows`` holds (patient_id, acting_unit_id, obj). A patient's own lists are not
    logged, unless ``as_relative``: the rows are other patients who share with them.
    """
    if not getattr(user, "is_authenticated", False):
        return
    if user.role == Role.PATIENT and not as_relative:
        return
    staff = user.role == Role.STAFF
    db = connections[router.db_for_write(AccessLog)]
    # Plain values, no model instance per row (through bulk_create a 25-row admin page's
    # log cost ~3 ms): who, and for each patient shown when, on what basis, what.
    who = (
        user.pk,
        str(user)[:300],
        *map(
            str,  # the choices' values, not the enum members
            (
                user.role if staff else Role.RELATIVE,
                AccessLog.Action.LIST,
                AccessLog.Outcome.ALLOWED,
                channel,
            ),
        ),
    )
    at = _AT.get_db_prep_save(timezone.now(), db)
    basis = str(AccessLog.Basis.CARE_RELATION if staff else AccessLog.Basis.RELATIVE_GRANT)
    _write_rows(
        who,
        [
            (at, basis, unit_id, patient_id, type(obj).__name__, str(obj.pk))
            for patient_id, unit_id, obj in rows
        ],
    )


_batch = threading.local()


@contextlib.contextmanager
def one_log_insert() -> Iterator[None]:
    """Inside this block, list rows (``log_list``, ``write_list_rows``) are gathered and
    written in one insert at its end: a page built of several lists (the worklist's
    sources) pays for one insert, not one per list. Nothing is written when the block
    raises (nothing was shown). Nested blocks join the outer one."""
    if getattr(_batch, "rows", None) is not None:
        yield
        return
    _batch.rows = {}
    try:
        yield
        rows, _batch.rows = _batch.rows, None
        for who, shown in rows.items():
            _insert_rows(who, shown)
    finally:
        _batch.rows = None


def write_list_rows(entries: Iterable[AccessLog]) -> None:
    """Write ``list`` rows now, or at the end of the enclosing ``one_log_insert``."""
    db = connections[router.db_for_write(AccessLog)]
    by_who: dict[tuple, list[tuple]] = {}
    for e in entries:
        who = (e.user_id, e.user_name, *(str(v) for v in (e.role, e.action, e.outcome, e.channel)))
        by_who.setdefault(who, []).append(
            (
                _AT.get_db_prep_save(e.at, db),
                str(e.basis),
                e.acting_unit_id,
                e.patient_id,
                e.object_type,
                e.object_id,
            )
        )
    for who, shown in by_who.items():
        _write_rows(who, shown)


def _write_rows(who: tuple, shown: list[tuple]) -> None:
    pending = getattr(_batch, "rows", None)
    if pending is not None:
        pending.setdefault(who, []).extend(shown)
    else:
        _insert_rows(who, shown)


def _insert_rows(who: tuple, shown: list[tuple]) -> None:
    """One INSERT for one user's rows: ``who`` (``_WHO`` columns) once, then each row's
    ``_SHOWN`` columns. No model instance per row, no transaction around one statement,
    and few parameters: the driver quotes each one, and parses a statement of more than
    50 again on every call. PostgreSQL takes the rows as one array per column; elsewhere
    they are a VALUES list, batched by the backend's limit on parameters."""
    if not shown:
        return
    db = connections[router.db_for_write(AccessLog)]
    insert = _list_insert(db.alias, db.vendor)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(insert, [*who, *(list(column) for column in zip(*shown, strict=True))])
            return
        batch = db.ops.bulk_batch_size([*_WHO, *_SHOWN], shown) or len(shown)  # with room
        row = "(" + ", ".join(["%s"] * len(_SHOWN)) + ")"
        for start in range(0, len(shown), batch):
            chunk = shown[start : start + batch]
            cursor.execute(
                insert.format(rows=", ".join([row] * len(chunk))),
                [*who, *(v for r in chunk for v in r)],
            )


_AT = AccessLog._meta.get_field("at")
# A list's rows: the same user on each, then when, on what basis and what was shown.
_WHO = ("user", "user_name", "role", "action", "outcome", "channel")
_SHOWN = ("at", "basis", "acting_unit", "patient", "object_type", "object_id")


@functools.cache
def _list_insert(alias: str, vendor: str) -> str:
    """``INSERT INTO careplan_accesslog (…) SELECT <who>, <shown> FROM …``: the shown
    columns from ``unnest`` of one array each (PostgreSQL) or ``(VALUES {rows})`` (the
    ids cast: a VALUES column of NULLs only would be text)."""
    fields = {field.name: field for field in AccessLog._meta.concrete_fields}
    db = connections[alias]
    quote = db.ops.quote_name
    table = quote(AccessLog._meta.db_table)
    names = ", ".join(quote(str(fields[name].column)) for name in (*_WHO, *_SHOWN))
    who = ", ".join(["%s"] * len(_WHO))
    if vendor == "postgresql":
        types = {"at": "timestamptz", "acting_unit": "bigint", "patient": "bigint"}
        # text, not varchar(n): a cast would cut a value the column refuses
        arrays = ", ".join(f"%s::{types.get(name, 'text')}[]" for name in _SHOWN)
        source = f"unnest({arrays})"
    else:
        source = "(VALUES {rows})"
    shown = ", ".join(
        f"CAST(v.column{i} AS BIGINT)" if name in ("acting_unit", "patient") else f"v.column{i}"
        for i, name in enumerate(_SHOWN, start=1)
    )
    columns = ", ".join(f"column{i}" for i in range(1, len(_SHOWN) + 1))
    alias_ = f"v({columns})" if vendor == "postgresql" else "v"
    return f"INSERT INTO {table} ({names}) SELECT {who}, {shown} FROM {source} AS {alias_}"  # noqa: S608 - our own names


def authorize(
    user,
    patient: Patient,
    obj,
    *,
    write: bool,
    channel: str,
    scope: str | None,
    action: str | None = None,
    grants: list[RelativeGrant] | None = None,
) -> Reach:
    """The one access check: decide, write the access-log row, return the reach or raise
    (no relation: Http404; read-only relation asked to write: PermissionDenied). Every
    app's helpers (rehab, selfmonitor, contacts) call this. ``grants``: see ``reach``."""
    r = reach(user, patient, grants=grants)
    action = action or (Action.UPDATE if write else Action.VIEW)
    if not r.covers(scope):
        log_access(
            user=user,
            patient=patient,
            obj=obj,
            action=action,
            allowed=False,
            channel=channel,
            reach_=r,
        )
        raise Http404
    if write and not r.write:
        log_access(
            user=user,
            patient=patient,
            obj=obj,
            action=action,
            allowed=False,
            channel=channel,
            reach_=r,
        )
        raise PermissionDenied
    log_access(
        user=user, patient=patient, obj=obj, action=action, allowed=True, channel=channel, reach_=r
    )
    return r


# --- Patients ---------------------------------------------------------------------------


def patients_for(user, *, scope: str | None = None) -> QuerySet[Patient]:
    """Patients a user may list: staff see those their units are responsible for.

    Relatives see the patients who share with them; with ``scope`` only those whose grant
    covers that part, or any part for ``ANY_SCOPE`` (the grants' scopes are read in one
    query here, so the filter works on every database).
    """
    if getattr(user, "is_authenticated", False) and user.role == Role.STAFF:
        return Patient.objects.for_units(staff_unit_ids(user))
    if getattr(user, "is_authenticated", False) and user.role == Role.PATIENT:
        return Patient.objects.filter(user=user)
    if getattr(user, "is_authenticated", False) and user.role == Role.RELATIVE:
        return shared_with(user, scope=scope)
    return Patient.objects.none()


def shared_with(user, *, scope: str | None = None) -> QuerySet[Patient]:
    """The patients who share with this user as a relative (a relative, or a patient who
    is also someone's relative)."""
    if getattr(user, "is_authenticated", False) and user.role in (Role.RELATIVE, Role.PATIENT):
        grants = RelativeGrant.objects.active().filter(relative=user)
        if scope is None:
            return Patient.objects.filter(id__in=grants.values("patient_id"))
        return Patient.objects.filter(id__in=shared_patient_ids(user, scope=scope))
    return Patient.objects.none()


def shared_patient_ids(user, *, scope: str) -> list[int]:
    """The ids of ``shared_with(user, scope=scope)`` (one query; none for staff)."""
    if not (
        getattr(user, "is_authenticated", False) and user.role in (Role.RELATIVE, Role.PATIENT)
    ):
        return []
    return [
        patient_id
        for patient_id, scopes in _granted_scopes(user).items()
        if (scope in scopes) or (scope == ANY_SCOPE and scopes)
    ]


def relative_scopes(user) -> dict[int, frozenset[str]] | None:
    """For a relative: the parts each sharing patient gives them (patient id -> scopes),
    one query, for lists that show some parts only by scope. ``None`` for the patient and
    staff, whose lists hold only patients they reach fully."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.RELATIVE:
        return None
    return _granted_scopes(user)


def _granted_scopes(user) -> dict[int, frozenset[str]]:
    """Patient id -> the parts shared with ``user`` by their active grants (one query);
    a patient who is also someone's relative has grants too."""
    shared: dict[int, frozenset[str]] = {}
    for grant in _active_grants(relative_id=user.pk):
        shared[grant.patient_id] = shared.get(grant.patient_id, frozenset()) | frozenset(
            grant.scopes or []
        )
    _remember_shares_messages(user, shared.values())
    return shared


def _remember_shares_messages(user, scopes: Iterable[Iterable[str] | None]) -> None:
    """Whether any active grant shares messages with ``user``, from grants just read, for
    the header's "Messages" link (``careplan_tags.shares_messages`` reads it from the user
    object, as it caches its own answer there)."""
    user._careplan_shares_messages = any(Scope.MESSAGES in (s or ()) for s in scopes)


def with_acting_unit(qs: QuerySet, user, *, patient_path: str = "patient") -> QuerySet:
    """Annotate ``acting_unit_id`` on each row: the staff member's unit responsible for the
    row's patient (``None`` for others), as ``log_list`` wants it; no extra query."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.STAFF:
        return qs.annotate(acting_unit_id=Value(None, output_field=IntegerField()))
    relation = CareRelation.objects.filter(
        patient_id=OuterRef(patient_path), ended_at__isnull=True, unit_id__in=staff_unit_ids(user)
    )
    return qs.annotate(acting_unit_id=Subquery(relation.values("unit_id")[:1]))


def in_staff_units(qs: QuerySet, user, *, patient_path: str = "patient") -> QuerySet:
    """``qs`` limited to rows whose patient is in ``patients_for(user)`` for a staff member
    (a unit of theirs responsible now), with ``acting_unit_id`` as ``with_acting_unit``
    gives it, both from one join on the patient's active care relation.

    A patient has at most one active relation (``carerelation_one_active_per_patient``),
    so the join adds no rows. Unlike ``patient__in=patients_for(user)`` (a semi-join the
    planner answers by hashing the unit's 20 000 patients), a page or a capped count reads
    only the rows it shows: at 100 000 patients the admin lists' count went from ~35 ms to
    ~1 ms."""
    return in_units(qs, staff_unit_ids(user), patient_path=patient_path)


def in_units(qs: QuerySet, units, *, patient_path: str = "patient") -> QuerySet:
    """``in_staff_units`` for the given unit ids (a value, so that a prepared query can take
    them: ``careplan.admin.base.DefaultList``)."""
    prefix = f"{patient_path}__" if patient_path else ""
    return qs.filter(
        **{
            f"{prefix}care_relations__unit_id__in": units,
            f"{prefix}care_relations__ended_at__isnull": True,
        }
    ).annotate(acting_unit_id=F(f"{prefix}care_relations__unit_id"))


def in_units_per_row(qs: QuerySet, units, *, patient_path: str = "patient") -> QuerySet:
    """``in_units`` for a list whose filter leaves few rows of many patients (the inbox's
    waiting threads): the same rows and ``acting_unit_id``, the patient's active relation
    looked up for each row (one index probe by patient) instead of joined. With the join
    the planner hashes a unit's 20 000 relations against the rows (and joins the patient):
    at 100 000 patients the inbox's capped count of 2 000 waiting threads took ~3 ms that
    way, ~1 ms this way. Not for a list of many rows per unit (every thread: the lookup
    runs for each row the filter leaves, ~120 ms for a page of 100 000 threads)."""
    relation = CareRelation.objects.filter(
        patient_id=OuterRef(patient_path), ended_at__isnull=True, unit_id__in=units
    )
    # At most one active relation (no order: the model's would sort each lookup's one row).
    unit = Subquery(relation.order_by().values("unit_id")[:1])
    return qs.annotate(acting_unit_id=unit).filter(acting_unit_id__isnull=False)


def patient_for(
    user,
    pk,
    *,
    write: bool = False,
    channel: str = Channel.WEB,
    scope: str | None = None,
    action: str | None = None,
) -> Patient:
    """A patient record. Relatives reach it only through a named ``scope``."""
    patient = Patient.objects.filter(pk=pk).first()
    if patient is None:
        raise Http404
    authorize(user, patient, patient, write=write, channel=channel, scope=scope, action=action)
    return patient


# --- Care plans -------------------------------------------------------------------------


def plans_for(user, *, scope: str | None = None) -> QuerySet[CarePlan]:
    """Plans a user may list; for relatives pass the ``scope`` the page needs, as to
    ``plan_for`` (``ANY_SCOPE`` for a plan's start page)."""
    return CarePlan.objects.filter(patient__in=patients_for(user, scope=scope))


_plan_with_patient = prepared(lambda pk: CarePlan.objects.select_related("patient").filter(pk=pk))


def plan_for(
    user,
    pk,
    *,
    write: bool = False,
    channel: str = Channel.WEB,
    scope: str | None = Scope.PLAN_SECTIONS,
    action: str | None = None,
) -> CarePlan:
    # The plan with its patient by primary key, the SQL compiled once per process
    # (careplan.prepared: every plan page starts here); the plan's template is not read
    # by any caller (no join). An id that is not an int goes through the ORM as before.
    plan: CarePlan | None
    grants = None
    if isinstance(pk, int) and not isinstance(pk, bool):
        if getattr(user, "is_authenticated", False) and user.role == Role.RELATIVE:
            # A relative's grants decide: read with the plan, in one round trip.
            rows, grants = together(
                _plan_with_patient.bind(pk=pk), _active_grants.bind(relative_id=user.pk)
            )
            plan = next(iter(rows), None)
        else:
            plan = next(iter(_plan_with_patient(pk=pk)), None)
    else:
        plan = CarePlan.objects.select_related("patient").filter(pk=pk).first()
    if plan is None:
        raise Http404
    # The caller may show parts by scope: ``plan.reach.covers(Scope.CALENDAR)``.
    plan.reach = authorize(  # type: ignore[attr-defined]  # the reader's reach, not a field
        user,
        plan.patient,
        plan,
        write=write,
        channel=channel,
        scope=scope,
        action=action,
        grants=grants,
    )
    return plan


_section_with_plan = prepared(
    lambda pk: PlanSection.objects.select_related("plan__patient").filter(pk=pk)
)


def section_for(
    user, pk, *, write: bool = False, channel: str = Channel.WEB, action: str | None = None
) -> PlanSection:
    # Compiled once per process for an int id, as ``plan_for``'s plan.
    section: PlanSection | None
    if isinstance(pk, int) and not isinstance(pk, bool):
        section = next(iter(_section_with_plan(pk=pk)), None)
    else:
        section = PlanSection.objects.select_related("plan__patient").filter(pk=pk).first()
    if section is None:
        raise Http404
    section.reach = authorize(  # type: ignore[attr-defined]  # the reader's reach, not a field
        user,
        section.plan.patient,
        section,
        write=write,
        channel=channel,
        scope=Scope.PLAN_SECTIONS,
        action=action,
    )
    return section


def events_for(user) -> QuerySet[CalendarEvent]:
    """Calendar entries a user may list; relatives need the calendar scope (as ``event_for``)."""
    return CalendarEvent.objects.filter(plan__patient__in=patients_for(user, scope=Scope.CALENDAR))


def event_for(
    user, pk, *, write: bool = False, channel: str = Channel.WEB, action: str | None = None
) -> CalendarEvent:
    event = (
        CalendarEvent.objects.select_related("plan__patient", "created_by", "updated_by")
        .filter(pk=pk)
        .first()
    )
    if event is None:
        raise Http404
    event.reach = authorize(  # type: ignore[attr-defined]  # the reader's reach, not a field
        user,
        event.plan.patient,
        event,
        write=write,
        channel=channel,
        scope=Scope.CALENDAR,
        action=action,
    )
    if write and not event.editable_by(user):
        raise PermissionDenied(_("Your care team made this entry. Ask them to change it instead."))
    return event


def current_plan_for_patient_user(user) -> CarePlan | None:
    """The logged-in patient's own open plan (established first)."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.PATIENT:
        return None
    return (
        CarePlan.objects.select_related("patient", "template")
        .filter(patient__user=user)
        .exclude(status=CarePlan.Status.CLOSED)
        .order_by("-status", "-created_at")
        .first()
    )


# --- Messages -----------------------------------------------------------------------------


def threads_for(user) -> QuerySet[MessageThread]:
    """Message threads a user may list: the patient's own; staff those of patients their
    units are responsible for now (whichever unit a thread was first addressed to);
    relatives those of patients who share ``messages`` with them."""
    return MessageThread.objects.filter(patient__in=patients_for(user, scope=Scope.MESSAGES))


def thread_for(
    user, pk, *, write: bool = False, channel: str = Channel.WEB, action: str | None = None
) -> MessageThread:
    """One thread. Relatives with the ``messages`` part read it; writing (answering,
    marking handled) needs the patient or staff of the responsible unit."""
    thread = MessageThread.objects.select_related("patient", "unit").filter(pk=pk).first()
    if thread is None:
        raise Http404
    thread.reach = authorize(  # type: ignore[attr-defined]  # the reader's reach, not a field
        user,
        thread.patient,
        thread,
        write=write,
        channel=channel,
        scope=Scope.MESSAGES,
        action=action,
    )
    return thread
