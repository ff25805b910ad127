"""The care team's workspace: the Django admin, scoped to the user's care units.

One module per concern: ``base`` (the role permissions, scoping and access logging that
the other apps' admins build on), ``filters``, ``forms``, ``patients``, ``plans`` (plans,
sections, calendar, templates, unit links), ``units`` (units, staff, users,
authenticators), ``accesslog``, ``outbox``, ``messages`` (threads, change requests),
``overview`` (one patient's page) and ``worklist`` (the start page and notifications).
Importing the package registers every model admin; the names other apps build on are
re-exported here.
"""

from . import accesslog, messages, outbox, patients, plans, units, worklist  # noqa: F401  (registers)
from .base import (
    STAFF,
    SUPERUSER,
    Action,
    CappedCountPaginator,
    LoggedAutocompleteJsonView,
    PatientRecordAdmin,
    RecordInline,
    RoleAdminMixin,
    is_care_staff,
    patient_path_of,
    plan_pdf_url,
)
from .filters import ActiveFilter, ContactNurseFilter, DefaultListFilter, MyUnitFilter, WhenFilter
from .results import per_page, row_route, row_url

__all__ = [
    "STAFF",
    "SUPERUSER",
    "Action",
    "ActiveFilter",
    "CappedCountPaginator",
    "ContactNurseFilter",
    "DefaultListFilter",
    "LoggedAutocompleteJsonView",
    "MyUnitFilter",
    "PatientRecordAdmin",
    "RecordInline",
    "RoleAdminMixin",
    "WhenFilter",
    "is_care_staff",
    "patient_path_of",
    "plan_pdf_url",
    "per_page",
    "row_route",
    "row_url",
]
