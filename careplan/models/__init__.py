"""Core domain: people, care units, the care relation, the contact nurse, the care plan
and the access log, one module per concern (``users``, ``patients``, ``plans``,
``calendar``, ``relatives``, ``messaging``, ``outbox``, ``accesslog``, ``fhirclients``). Every model is
imported here, so Django finds them in the app's ``models`` module.

Business rules that touch one object are methods here; writes that span several models
are in ``careplan/services.py``.
"""

from .accesslog import (
    AccessLog,
    AccessLogQuerySet,
)
from .calendar import (
    CALENDAR_YEARS,
    DB_END_DATE,
    DB_FIRST_DATE,
    CalendarEvent,
    EventChangeRequest,
    EventChangeRequestQuerySet,
    VisitQuestion,
    calendar_date_error,
    calendar_window,
)
from .fhirclients import (
    FhirClient,
)
from .messaging import (
    MESSAGE_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Message,
    MessageThread,
    MessageThreadQuerySet,
    Notification,
)
from .outbox import (
    Outbox,
)
from .patients import (
    CareRelation,
    ContactNurseAssignment,
    Patient,
    PatientQuerySet,
)
from .plans import (
    CarePlan,
    CarePlanQuerySet,
    DiagnosisArea,
    PlanChange,
    PlanDocument,
    PlanSection,
    PlanTemplate,
    PlanTemplateSection,
    UnitLink,
    _localized,
    _localized_language,
)
from .relatives import RelativeGrant, RelativeGrantQuerySet, Scope
from .users import (
    CareUnit,
    Language,
    Role,
    StaffEmail,
    StaffMembership,
    User,
    UserManager,
)

__all__ = [
    "RelativeGrant",
    "RelativeGrantQuerySet",
    "Scope",
    "Role",
    "Language",
    "StaffEmail",
    "UserManager",
    "User",
    "CareUnit",
    "StaffMembership",
    "PatientQuerySet",
    "Patient",
    "CareRelation",
    "ContactNurseAssignment",
    "_localized",
    "_localized_language",
    "DiagnosisArea",
    "PlanTemplate",
    "PlanTemplateSection",
    "UnitLink",
    "CarePlanQuerySet",
    "CarePlan",
    "PlanDocument",
    "PlanSection",
    "PlanChange",
    "CALENDAR_YEARS",
    "DB_FIRST_DATE",
    "DB_END_DATE",
    "calendar_window",
    "calendar_date_error",
    "CalendarEvent",
    "EventChangeRequestQuerySet",
    "EventChangeRequest",
    "VisitQuestion",
    "Outbox",
    "AccessLogQuerySet",
    "AccessLog",
    "MESSAGE_MAX_LENGTH",
    "SUBJECT_MAX_LENGTH",
    "MessageThreadQuerySet",
    "MessageThread",
    "Message",
    "Notification",
    "FhirClient",
]
