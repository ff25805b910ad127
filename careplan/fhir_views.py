"""The read-only FHIR R4 endpoint at /fhir/.

- ``GET /fhir/metadata``: the CapabilityStatement, listing exactly what is served here;
- ``GET /fhir/{type}/{id}``: read every kind ``Patient/{id}/$everything`` holds (Patient,
  Organization, Practitioner, PractitionerRole, CareTeam, CarePlan, Goal, ServiceRequest,
  Procedure, RelatedPerson, Consent, Questionnaire, QuestionnaireResponse, Observation,
  Task), each built by its one builder;
- ``GET /fhir/Observation?patient=&code=&date=`` and
  ``GET /fhir/QuestionnaireResponse?patient=&questionnaire=&authored=``: ``searchset``
  Bundles, ``_count`` per page (``CAREPLAN_FHIR_PAGE_SIZE``), ``_page`` and ``next`` links;
- ``GET /fhir/Patient/{id}/$everything``: staff only, everything about the patient.

Responses are ``application/fhir+json`` (``application/json`` on request); every error is
an OperationOutcome. Every read goes through the same access helpers as the web, admin and
API, so every read by anyone but the patient leaves an access-log row (channel API).
Clients are people with a session or machine clients with an OAuth2 token
(``careplan.fhir_clients``); a machine client reads as its service account, bound to one
care unit, and only the resource types its scopes name.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView, exception_handler

from contacts.fhir import care_map_entry, grant_consent, handover_service_request, handover_task
from contacts.handover.access import handover_for
from contacts.models import CareMapEntry, EntryKind
from rehab.access import rehab_plan_by_id
from rehab.fhir import goal_resource, intervention_resource, rehab_plan_resources
from rehab.models import Goal, Intervention
from selfmonitor.access import response_for, responses_for
from selfmonitor.fhir import (
    SCALE_SYSTEM,
    observation_id,
    observations,
    questionnaire,
    questionnaire_response,
)
from selfmonitor.models import Instrument

from . import access
from . import fhir as core
from .fhir_clients import ClientCredentialsAuthentication
from .fhir_everything import patient_everything
from .models import AccessLog, CareUnit, ContactNurseAssignment, RelativeGrant, Role, User

API = AccessLog.Channel.API
FHIR_VERSION = "4.0.1"


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


# --- Errors -----------------------------------------------------------------------------

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    429: "throttled",
}


def operation_outcome(status: int, text: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": ISSUE_CODES.get(status, "exception"),
                "diagnostics": text,
            }
        ],
    }


def fhir_exception_handler(exc, context):
    """DRF's handling (status, headers), with an OperationOutcome as the body."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = getattr(exc, "detail", None) or "Error"
    if isinstance(exc, Http404):
        detail = "Resource not found"
    elif isinstance(exc, PermissionDenied):
        detail = "Not allowed"
    response.data = operation_outcome(response.status_code, str(detail))
    return response


class InvalidSearch(exceptions.ValidationError):
    pass


# --- Base view ------------------------------------------------------------------------------


def _authentication_classes():
    from rest_framework.authentication import SessionAuthentication

    return [ClientCredentialsAuthentication, SessionAuthentication]


class TokenScopes(IsAuthenticated):
    """A machine client's token must hold ``system/<Type>.read`` (or
    ``system/*.read``) for the resource type asked for; people with a session pass."""

    message = "The token's scopes do not cover this resource type"

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        token = request.auth
        if token is None or not hasattr(token, "scope"):
            return True
        scopes = set((token.scope or "").split())
        kind = getattr(view, "resource_type", None) or view.kwargs.get("resource_type")
        if kind is None:
            return True
        return bool({f"system/{kind}.read", "system/*.read"} & scopes)


class FhirView(APIView):
    # Described by its CapabilityStatement (/fhir/metadata), not the OpenAPI schema.
    schema = None
    renderer_classes = [FhirJSONRenderer, JSONRenderer]
    permission_classes = [TokenScopes]
    resource_type: str | None = None

    def get_authenticators(self):
        return [cls() for cls in _authentication_classes()]

    def get_exception_handler(self):
        return fhir_exception_handler

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            # A FHIR client answers 401 with a Bearer challenge.
            exc.auth_header = 'Bearer realm="fhir"'
            response = super().handle_exception(exc)
            response.status_code = 401
            response["WWW-Authenticate"] = 'Bearer realm="fhir"'
            response.data = operation_outcome(401, str(exc.detail))
            return response
        return super().handle_exception(exc)

    def base_url(self) -> str:
        return self.request.build_absolute_uri("/fhir").rstrip("/")


# --- Reads ----------------------------------------------------------------------------------


def _number(pattern: str, value: str) -> int:
    m = re.fullmatch(pattern, value)
    if not m:
        raise Http404
    return int(m.group(1))


def read_patient(user, rid: str) -> dict:
    patient = access.patient_for(user, _number(r"(\d+)", rid), channel=API)
    if user.role == Role.RELATIVE:  # the Patient resource carries the personnummer
        raise Http404
    return core.patient_resource(patient)


def read_care_team(user, rid: str) -> dict:
    patient = access.patient_for(user, _number(r"careteam-(\d+)", rid), channel=API)
    relation = patient.responsible_relation()
    if relation is None:
        raise Http404
    return core.care_team(
        patient, unit=relation.unit, nurse_assignment=patient.contact_nurse_assignment()
    )


def read_care_plan(user, rid: str) -> dict:
    if rid.startswith("rehab-plan-"):
        rehab = rehab_plan_by_id(user, _number(r"rehab-plan-(\d+)", rid), channel=API)
        return rehab_plan_resources(rehab)[0]
    plan = access.plan_for(user, _number(r"careplan-(\d+)", rid), channel=API)
    relation = plan.patient.responsible_relation()
    data = core.care_plan(plan, unit=relation.unit if relation else None)
    if relation is None:
        data.pop("careTeam", None)
    return data


def read_organization(user, rid: str) -> dict:
    if rid.startswith("caremap-"):  # a care contact on the patient's care map
        entry = _care_map_entry(user, rid)
        if entry.kind != EntryKind.CARE_CONTACT:
            raise Http404
        return care_map_entry(entry)
    unit = CareUnit.objects.filter(pk=_number(r"unit-(\d+)", rid)).first()
    if unit is None or user.role not in (Role.STAFF,):
        raise Http404
    return core.organization(unit)


def read_questionnaire(user, rid: str) -> dict:

    m = re.fullmatch(r"([a-z0-9-]+)-v(\d+)", rid)
    instrument = (
        m and Instrument.objects.filter(key=m.group(1), version=m.group(2), language="").first()
    )
    if not instrument:
        raise Http404
    return questionnaire(instrument)


def read_questionnaire_response(user, rid: str) -> dict:

    return questionnaire_response(response_for(user, _number(r"response-(\d+)", rid), channel=API))


def read_observation(user, rid: str) -> dict:

    response = response_for(user, _number(r"response-(\d+)-.+", rid), channel=API)
    found = [o for o in observations(response) if o["id"] == rid]
    if not found:
        raise Http404
    return found[0]


def read_task(user, rid: str) -> dict:

    return handover_task(handover_for(user, _number(r"handover-(\d+)", rid), channel=API))


def _care_map_entry(user, rid: str):
    """A care-map entry, checked as the API checks it (relatives do not reach the map)."""
    pk = _number(r"caremap-(\d+)", rid)
    entry = CareMapEntry.objects.select_related("care_map__patient").filter(pk=pk).first()
    if entry is None:
        raise Http404
    access.authorize(user, entry.care_map.patient, entry, write=False, channel=API, scope=None)
    return entry


def read_related_person(user, rid: str) -> dict:

    entry = _care_map_entry(user, rid)
    if entry.kind == EntryKind.CARE_CONTACT:
        raise Http404
    return care_map_entry(entry)


def read_consent(user, rid: str) -> dict:
    pk = _number(r"relative-grant-(\d+)", rid)
    grant = RelativeGrant.objects.select_related("patient", "relative").filter(pk=pk).first()
    if grant is None:
        raise Http404
    access.authorize(user, grant.patient, grant, write=False, channel=API, scope=None)
    return grant_consent(grant)


def read_goal(user, rid: str) -> dict:

    goal = Goal.objects.filter(pk=_number(r"rehab-goal-(\d+)", rid)).first()
    if goal is None:
        raise Http404
    rehab = rehab_plan_by_id(user, goal.rehab_plan_id, channel=API)
    return goal_resource(rehab, goal)


def _intervention(user, pk: int):

    item = Intervention.objects.select_related("kva", "unit").filter(pk=pk).first()
    if item is None:
        raise Http404
    return rehab_plan_by_id(user, item.rehab_plan_id, channel=API), item


def read_procedure(user, rid: str) -> dict:
    rehab, item = _intervention(user, _number(r"rehab-procedure-(\d+)", rid))
    data = intervention_resource(rehab, item)
    if data["resourceType"] != "Procedure":  # not done (yet): a ServiceRequest
        raise Http404
    return data


def read_service_request(user, rid: str) -> dict:
    """A rehab intervention not yet done, or what a handover asks of the receiver."""
    if rid.startswith("handover-"):
        pk = _number(r"handover-(\d+)-request", rid)
        return handover_service_request(handover_for(user, pk, channel=API))

    rehab, item = _intervention(user, _number(r"rehab-request-(\d+)", rid))
    data = intervention_resource(rehab, item)
    if data["resourceType"] != "ServiceRequest":
        raise Http404
    return data


def read_practitioner(user, rid: str) -> dict:
    """A member of staff by name, for staff (no patient data: not access-logged)."""
    staff = User.objects.filter(pk=_number(r"staff-(\d+)", rid), role=Role.STAFF).first()
    if staff is None or user.role != Role.STAFF:
        raise Http404
    return core.practitioner(staff)


def read_practitioner_role(user, rid: str) -> dict:
    """A member of staff in one of their units, for staff (as Organization)."""
    m = re.fullmatch(r"staff-(\d+)-unit-(\d+)", rid)
    if m is None or user.role != Role.STAFF:
        raise Http404
    unit = CareUnit.objects.filter(pk=m.group(2), members__pk=m.group(1)).first()
    if unit is None:
        raise Http404
    staff = unit.members.get(pk=m.group(1))
    # The direct phone as the patient's CareTeam gives it: the latest contact-nurse
    # assignment of this nurse in this unit.
    phone = (
        ContactNurseAssignment.objects.filter(nurse=staff, unit=unit)
        .order_by("-started_on", "-id")
        .values_list("direct_phone", flat=True)
        .first()
    )
    return core.practitioner_role(staff, unit, phone=phone or "")


READERS = {
    "CarePlan": read_care_plan,
    "CareTeam": read_care_team,
    "Consent": read_consent,
    "Goal": read_goal,
    "Observation": read_observation,
    "Organization": read_organization,
    "Patient": read_patient,
    "Practitioner": read_practitioner,
    "PractitionerRole": read_practitioner_role,
    "Procedure": read_procedure,
    "Questionnaire": read_questionnaire,
    "QuestionnaireResponse": read_questionnaire_response,
    "RelatedPerson": read_related_person,
    "ServiceRequest": read_service_request,
    "Task": read_task,
}


class ReadView(FhirView):
    def get(self, request: Request, resource_type: str, rid: str) -> Response:
        reader = READERS.get(resource_type)
        if reader is None:
            raise exceptions.NotFound(f"Resource type {resource_type} is not served here")
        return Response(reader(request.user, rid))


# --- Search -------------------------------------------------------------------------------

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le")


def _parse_when(value: str) -> tuple[str, dt.datetime, dt.datetime]:
    """A FHIR date search value: prefix and the instant range it covers."""
    prefix = value[:2] if value[:2] in PREFIXES else "eq"
    raw = value[2:] if value[:2] in PREFIXES else value
    tz = timezone.get_current_timezone()
    when = parse_datetime(raw)
    if when is not None:
        if timezone.is_naive(when):
            when = timezone.make_aware(when, tz)
        return prefix, when, when
    day = parse_date(raw) if len(raw) == 10 else None
    if day is None:
        raise InvalidSearch(f"Not a date: {value}")
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
    return prefix, start, start + dt.timedelta(days=1)


def _date_filter(qs, field: str, values: list[str]):
    for value in values:
        prefix, start, end = _parse_when(value)
        if prefix == "eq":
            qs = qs.filter(
                **{f"{field}__gte": start, f"{field}__lt": end} if end > start else {field: start}
            )
        elif prefix == "ne":
            qs = qs.exclude(**{f"{field}__gte": start, f"{field}__lt": end})
        elif prefix in ("gt",):
            qs = qs.filter(**{f"{field}__gte" if end > start else f"{field}__gt": end})
        elif prefix == "ge":
            qs = qs.filter(**{f"{field}__gte": start})
        elif prefix == "lt":
            qs = qs.filter(**{f"{field}__lt": start})
        else:  # le
            qs = qs.filter(**{f"{field}__lt" if end > start else f"{field}__lte": end})
    return qs


def _patient_param(value: str) -> int:
    m = re.fullmatch(r"(?:Patient/)?(\d+)", value)
    if not m:
        raise InvalidSearch(f"patient must be Patient/<id>: {value}")
    return int(m.group(1))


class SearchView(FhirView):
    """A searchset over completed questionnaire responses (PREMs only for the patient)."""

    params: frozenset[str] = frozenset()
    date_param = "date"

    def parse(self, request) -> tuple[dict[str, list[str]], int, int]:
        query = {k: request.query_params.getlist(k) for k in request.query_params}
        query.pop("_format", None)
        unknown = set(query) - self.params - {"_count", "_page"}
        if unknown:
            raise InvalidSearch(
                f"Unsupported search parameter(s): {', '.join(sorted(unknown))}; "
                f"supported: {', '.join(sorted(self.params))}, _count, _page"
            )
        try:
            count = int(query.pop("_count", [settings.CAREPLAN_FHIR_PAGE_SIZE])[0])
            page = int(query.pop("_page", ["1"])[0])
        except ValueError:
            raise InvalidSearch("_count and _page are whole numbers") from None
        if count < 1 or page < 1:
            raise InvalidSearch("_count and _page start at 1")
        return query, min(count, settings.CAREPLAN_FHIR_MAX_PAGE_SIZE), page

    def responses(self, query):
        qs = responses_for(self.request.user)
        if "patient" in query:
            qs = qs.filter(patient_id__in=[_patient_param(v) for v in query["patient"]])
        qs = _date_filter(qs, "submitted_at", query.get(self.date_param, []))
        return qs.order_by("-submitted_at", "-id")

    def page(self, query, items: list, total: int, count: int, page: int) -> dict:
        base = self.base_url()
        path = self.request.path

        def link(relation: str, number: int) -> dict:
            params = [(k, v) for k, values in query.items() for v in values]
            params += [("_count", count), ("_page", number)]
            url = self.request.build_absolute_uri(path) + "?" + urlencode(params)
            return {"relation": relation, "url": url}

        links = [link("self", page)]
        if page * count < total:
            links.append(link("next", page + 1))
        if page > 1:
            links.append(link("previous", page - 1))
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "timestamp": timezone.localtime().isoformat(),
            "total": total,
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in items
            ],
        }

    def log(self, responses) -> None:
        access.log_list(
            user=self.request.user,
            rows=[(r.patient_id, getattr(r, "acting_unit_id", None), r) for r in responses],
            channel=API,
        )


class QuestionnaireResponseSearch(SearchView):
    resource_type = "QuestionnaireResponse"
    params = frozenset({"patient", "questionnaire", "authored"})
    date_param = "authored"

    def get(self, request: Request) -> Response:
        query, count, page = self.parse(request)
        qs = self.responses(query)
        if "questionnaire" in query:
            keys = [v.split("|")[0].rstrip("/").rsplit("/", 1)[-1] for v in query["questionnaire"]]
            qs = qs.filter(instrument_key__in=keys)
        total = qs.count()
        rows = list(
            access.with_acting_unit(
                qs.select_related("patient", "instrument", "entered_by"), request.user
            )[(page - 1) * count : page * count]
        )
        self.log(rows)
        return Response(
            self.page(query, [questionnaire_response(r) for r in rows], total, count, page)
        )


class ObservationSearch(SearchView):
    resource_type = "Observation"
    params = frozenset({"patient", "code", "date"})

    def get(self, request: Request) -> Response:
        query, count, page = self.parse(request)
        qs = self.responses(query)
        codes: set[str] = set()
        for value in query.get("code", []):
            for one in value.split(","):
                system, _bar, code = one.rpartition("|")
                if system and system != SCALE_SYSTEM:
                    continue  # a code from a system we do not use matches nothing
                codes.add(code)
        if query.get("code"):
            qs = qs.filter(instrument_key__in={c.split(".")[0] for c in codes})
        # One observation per scored scale: list (response, scale) pairs from the scores
        # alone (one query), then build only the page's resources.
        pairs = []
        definitions: dict[int, list[str]] = {}
        for pk, instrument_id, key, scores, definition in qs.values_list(
            "pk", "instrument_id", "instrument_key", "scores", "instrument__definition"
        ):
            order = definitions.setdefault(
                instrument_id, [s["key"] for s in definition.get("scales", [])]
            )
            for scale in order:
                if scores.get(scale) is None:
                    continue
                if codes and f"{key}.{scale}" not in codes:
                    continue
                pairs.append((pk, scale))
        total = len(pairs)
        window = pairs[(page - 1) * count : page * count]
        wanted = {pk for pk, _scale in window}
        responses = {
            r.pk: r
            for r in access.with_acting_unit(
                qs.filter(pk__in=wanted).select_related("patient", "instrument"), request.user
            )
        }
        self.log(responses.values())
        built = {}
        for response in responses.values():
            for obs in observations(response):
                built[obs["id"]] = obs
        items = [built[observation_id(responses[pk], scale)] for pk, scale in window]
        return Response(self.page(query, items, total, count, page))


# --- $everything ------------------------------------------------------------------------------


class EverythingView(FhirView):
    """Everything about one patient, for staff of the responsible unit: the Patient,
    unit, contact nurse, CareTeam and care plan, PROM answers and scores (never PREM),
    the rehab plan, the care map and relatives' consents, and handovers."""

    resource_type = "Patient"

    def get(self, request: Request, rid: str) -> Response:
        if request.user.role != Role.STAFF:
            raise Http404
        patient = access.patient_for(
            request.user, _number(r"(\d+)", rid), channel=API, action=AccessLog.Action.EXPORT
        )
        unique = {f"{r['resourceType']}/{r['id']}": r for r in patient_everything(patient)}
        base = self.base_url()
        return Response(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "timestamp": timezone.localtime().isoformat(),
                "total": len(unique),
                "link": [{"relation": "self", "url": request.build_absolute_uri()}],
                "entry": [
                    {
                        "fullUrl": f"{base}/{key}",
                        "resource": r,
                        "search": {"mode": "match"},
                    }
                    for key, r in unique.items()
                ],
            }
        )


# --- metadata -------------------------------------------------------------------------------


class MetadataView(FhirView):
    permission_classes: list = []
    authentication_classes: list = []

    def get_authenticators(self):
        return []

    def get(self, request: Request) -> Response:
        return Response(capability_statement(self.base_url()))


def capability_statement(base: str) -> dict:
    search = {
        "Observation": [
            ("patient", "reference"),
            ("code", "token"),
            ("date", "date"),
        ],
        "QuestionnaireResponse": [
            ("patient", "reference"),
            ("questionnaire", "reference"),
            ("authored", "date"),
        ],
    }
    resources = []
    for kind in sorted(READERS):
        entry: dict = {"type": kind, "interaction": [{"code": "read"}]}
        if kind in search:
            entry["interaction"].append({"code": "search-type"})
            entry["searchParam"] = [{"name": name, "type": type_} for name, type_ in search[kind]]
        if kind == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                }
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "id": "careplan",
        "status": "active",
        "date": "2026-11-30",
        "publisher": "careplan",
        "kind": "instance",
        "software": {"name": "careplan"},
        "implementation": {"description": "careplan FHIR R4 endpoint (read only)", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "application/json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": (
                        "OAuth2 client credentials (token at /o/token/, scopes "
                        "system/<Type>.read) or a staff session."
                    ),
                },
                "resource": resources,
            }
        ],
    }


class NotFoundView(FhirView):
    permission_classes: list = []

    def get_authenticators(self):
        return []

    def get(self, request: Request, rest: str = "") -> Response:
        raise exceptions.NotFound(f"No such FHIR interaction: /fhir/{rest}")

    post = put = patch = delete = get


#: For the FHIR actions of the /api/v1/ viewsets: ``Accept: application/fhir+json`` (what
#: every FHIR client sends) first, then the API's own renderers (JSON, browsable).
FHIR_RENDERERS = [FhirJSONRenderer, *api_settings.DEFAULT_RENDERER_CLASSES]
