"""REST API (DRF) for the care plan, its sections, the calendar, the contact nurse,
messages and notifications, patients (staff) and the patient's own access log.

Every object goes through ``careplan/access.py``, as on the web: no relation gives 404, a
read-only relation asked to write gives 403, and everyone but the patient leaves an
access-log row (channel ``api``), denied attempts too. Lists write one row per patient
shown through ``access.log_list``. Writes call ``careplan/services.py``.

One module per concern (``base``: what the other apps' APIs build on; ``plans``,
``messages``, ``patients``); every name is re-exported here.
"""

from .base import (
    API,
    FORBIDDEN,
    IDEMPOTENCY_KEY,
    NOT_FOUND,
    Action,
    ApiViewSetMixin,
    PatientRefSerializer,
    _accept_language,
    _api_validation_error,
    _idempotency_key,
    _log_page,
)
from .messages import (
    MessageCreateSerializer,
    MessageSerializer,
    NotificationSerializer,
    NotificationViewSet,
    ThreadCreateSerializer,
    ThreadDetailSerializer,
    ThreadSerializer,
    ThreadViewSet,
    _send_message,
)
from .patients import AccessLogSerializer, AccessLogViewSet, PatientSerializer, PatientViewSet
from .plans import (
    ID_PARAM,
    PLAN_PARAM,
    SECTION_FIELDS,
    CalendarDateTimeField,
    ContactNurseParams,
    ContactNurseSerializer,
    ContactNurseViewSet,
    EventListParams,
    EventSerializer,
    EventViewSet,
    PlanDetailSerializer,
    PlanSerializer,
    PlanViewSet,
    SectionSerializer,
    SectionUpdateSerializer,
    SectionViewSet,
)

__all__ = [
    "API",
    "Action",
    "NOT_FOUND",
    "FORBIDDEN",
    "_accept_language",
    "_api_validation_error",
    "IDEMPOTENCY_KEY",
    "_idempotency_key",
    "_log_page",
    "ApiViewSetMixin",
    "PatientRefSerializer",
    "SectionSerializer",
    "SectionUpdateSerializer",
    "SECTION_FIELDS",
    "PlanSerializer",
    "PlanDetailSerializer",
    "CalendarDateTimeField",
    "EventSerializer",
    "EventListParams",
    "ContactNurseSerializer",
    "ContactNurseParams",
    "PlanViewSet",
    "SectionViewSet",
    "ID_PARAM",
    "PLAN_PARAM",
    "EventViewSet",
    "ContactNurseViewSet",
    "MessageSerializer",
    "ThreadSerializer",
    "ThreadDetailSerializer",
    "ThreadCreateSerializer",
    "MessageCreateSerializer",
    "NotificationSerializer",
    "_send_message",
    "ThreadViewSet",
    "NotificationViewSet",
    "PatientSerializer",
    "PatientViewSet",
    "AccessLogSerializer",
    "AccessLogViewSet",
]
