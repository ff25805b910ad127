"""The care team's side of self-monitoring, in the admin: the alert worklist (most severe
first, oldest first; acknowledging needs a note), answers, questionnaires sent (and
sending one), schedules, the loaded instruments, and the unit reports.

Patient data goes through careplan's ``PatientRecordAdmin``: scoped to the user's care
units, one access-log row per patient listed, per object viewed or written. Single PREM
answers are never shown to staff: only the aggregates in the reports.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from careplan import access, rendering
from careplan.admin import (
    STAFF,
    SUPERUSER,
    DefaultListFilter,
    PatientRecordAdmin,
    RoleAdminMixin,
    per_page,
    row_route,
)
from careplan.admin.forms import PatientChoiceField, call_service
from careplan.admin.translations import LacksReviewFilter, TranslationReviewMixin
from careplan.models import AccessLog

from . import reports, selectors, services, symptom_services
from .models import (
    Alert,
    Assignment,
    Instrument,
    Response,
    Schedule,
    TemplateSchedule,
    TriageGuide,
    UnitAdvice,
    pick,
)

Action = AccessLog.Action


def _patient(obj) -> str:
    patient = obj.patient
    return f"{patient.last_name}, {patient.first_name} ({patient.personnummer_masked})"


class OpenFilter(DefaultListFilter):
    """Open alerts unless asked otherwise: the worklist."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("done", _("Acknowledged")), ("all", _("All"))]

    default = "open"

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(acknowledged_at__isnull=True)
        if self.value() == "done":
            return queryset.filter(acknowledged_at__isnull=False)
        return queryset


def _patient_rows():
    """The alert list's patient link of one page (the route looked up once)."""
    url = row_route("admin:careplan_patient_overview")
    # format_html's escaping, written out (a list page has 25 of these)
    return lambda obj: mark_safe(  # noqa: S308
        f'<a href="{escape(url(obj.patient_id))}">{escape(_patient(obj))}</a>'
    )


def _acknowledge_rows():
    """The alert list's acknowledge button of one page (route and texts looked up once)."""
    url = row_route("admin:selfmonitor_alert_acknowledge")
    done = gettext("Acknowledged")
    text = escape(gettext("Acknowledge"))

    def row(obj: Alert) -> str:
        if obj.acknowledged_at:
            return done
        return mark_safe(f'<a class="button" href="{escape(url(obj.pk))}">{text}</a>')  # noqa: S308

    return row


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done, e.g. 'Called the patient, booked a visit tomorrow.'"),
        error_messages={"required": _("Write a note on what was done.")},
    )


@admin.register(Alert)
class AlertAdmin(PatientRecordAdmin):
    """The worklist of alerts raised by answers."""

    list_display = (
        "severity_display",
        "text_display",
        "patient_display",
        "created_at",
        "acknowledge_by",
        "escalated_display",
        "acknowledge_link",
    )
    list_only = (
        "severity",
        "text_sv",
        "text_en",
        "created_at",
        "acknowledge_by",
        "acknowledged_at",
        "escalated_at",
        "patient__first_name",
        "patient__last_name",
        "patient__personnummer",
    )
    list_filter = (OpenFilter, "severity")
    ordering = ("-severity", "created_at", "id")
    search_fields = ("patient__first_name", "patient__last_name")
    readonly_fields = (
        "patient_display",
        "severity",
        "text_display",
        "scores_display",
        "answers_display",
        "response_link",
        "created_at",
        "acknowledge_by",
        "escalated_at",
        "acknowledged_at",
        "acknowledged_by",
        "note",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("acknowledged_by")

    @admin.display(description=_("severity"), ordering="-severity")
    def severity_display(self, obj: Alert) -> str:
        # get_severity_display() with the labels translated once per process and language
        severity = str(obj.severity)
        return rendering.choice_labels(Alert.Severity).get(severity, severity)

    @admin.display(description=_("alert"))
    def text_display(self, obj: Alert) -> str:
        return obj.text

    @per_page(lambda model_admin: _patient_rows())
    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_display(self, obj: Alert) -> str:
        # The patient overview: score, answers, phone and the rest of the patient.
        return _patient_rows()(obj)

    @admin.display(description=_("escalated"), boolean=True)
    def escalated_display(self, obj: Alert) -> bool:
        return obj.escalated_at is not None

    @admin.display(description=_("scores"))
    def scores_display(self, obj: Alert) -> str:
        return selectors.scores_in_words(obj.response)

    @admin.display(description=_("answers"))
    def answers_display(self, obj: Alert) -> str:
        from django.utils.html import format_html_join

        rows = [
            (a["text"], linebreaksbr(a["value"])) for a in selectors.answers_in_words(obj.response)
        ]
        return format_html_join("", "<p><strong>{}</strong><br>{}</p>", rows)

    @admin.display(description=_("answers"))
    def response_link(self, obj: Alert) -> str:
        url = reverse("selfmonitor_response", args=[obj.response_id])
        return format_html('<a href="{}">{}</a>', url, gettext("Read the answers"))

    @per_page(lambda model_admin: _acknowledge_rows())
    @admin.display(description="")
    def acknowledge_link(self, obj: Alert) -> str:
        return _acknowledge_rows()(obj)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/acknowledge/",
                self.admin_site.admin_view(self.acknowledge_view),
                name="selfmonitor_alert_acknowledge",
            ),
            *super().get_urls(),
        ]

    def acknowledge_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        # Only alerts of my units: anything else is a 404 and, if it exists, a denied row.
        pk = int(object_id) if str(object_id).isdigit() else None
        alert = self.get_queryset(request).filter(pk=pk).first() if pk else None
        if alert is None:
            self._log_denied(request, object_id, None)
            raise Http404(gettext("No such record in your care units."))
        if not self.can_write(request, alert):
            self.log(request, alert, Action.UPDATE, allowed=False)
            raise PermissionDenied
        form = AcknowledgeForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            done = call_service(
                form,
                services.alert_acknowledge,
                alert=alert,
                by=request.user,
                note=form.cleaned_data["note"],
            )
            if done is not None:
                self.log(request, alert, Action.UPDATE)
                self.message_user(request, gettext("The alert was acknowledged."), messages.SUCCESS)
                back = request.POST.get("next", "")
                # Back to the patient overview it was acknowledged from (a local path only).
                if not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
                    back = reverse("admin:selfmonitor_alert_changelist")
                return HttpResponseRedirect(back)
        if request.method != "POST":
            self.log(request, alert, Action.VIEW)
        return self.render_form_page(
            request,
            form=form,
            obj=alert,
            title=gettext("Acknowledge alert"),
            submit_label=gettext("Acknowledge"),
            intro=f"{_patient(alert)}: {alert.text}",
            # The score, the answers that raised it (in words) and the phone number.
            details_template="admin/selfmonitor/_alert_details.html",
            details={
                "alert": alert,
                "patient": alert.patient,
                "scales": selectors.scale_rows(alert.response),
                "answers": selectors.answers_in_words(alert.response),
                "overview_url": reverse("admin:careplan_patient_overview", args=[alert.patient_id]),
            },
        )


@admin.register(Response)
class ResponseAdmin(PatientRecordAdmin):
    """Completed PROM answers (a PREM is shown only in aggregate, in the reports)."""

    list_display = (
        "instrument",
        "patient_display",
        "answered_in",
        "submitted_at",
        "entered_by",
        "read_link",
    )
    list_filter = ("instrument_key", "instrument__language")
    search_fields = ("patient__first_name", "patient__last_name")
    fields = (
        "patient_display",
        "instrument",
        "answered_in",
        "submitted_at",
        "entered_by",
        "scores_display",
        "answers_display",
        "read_link",
    )
    readonly_fields = fields

    @admin.display(description=_("answered in"), ordering="instrument__language")
    def answered_in(self, obj: Response) -> str:
        return obj.instrument.language_label

    @admin.display(description=_("scores"))
    def scores_display(self, obj: Response) -> str:
        return selectors.scores_in_words(obj)

    @admin.display(description=_("answers"))
    def answers_display(self, obj: Response) -> str:
        from django.utils.html import format_html_join

        rows = [(a["text"], linebreaksbr(a["value"])) for a in selectors.answers_in_words(obj)]
        return format_html_join("", "<p><strong>{}</strong><br>{}</p>", rows)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(status=Response.Status.COMPLETED)
            .exclude(instrument__kind=Instrument.Kind.PREM)
            .select_related("instrument", "entered_by", "assignment")
        )

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_display(self, obj) -> str:
        return _patient(obj)

    @admin.display(description="")
    def read_link(self, obj: Response) -> str:
        url = reverse("selfmonitor_response", args=[obj.pk])
        if not obj.assignment.plan_id:
            return format_html('<a href="{}">{}</a>', url, gettext("Results"))
        trend = reverse("selfmonitor_trend", args=[obj.assignment.plan_id, obj.instrument_key])
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            url,
            gettext("Results"),
            trend,
            gettext("Over time"),
        )


class SendForm(forms.Form):
    patient = PatientChoiceField(queryset=None, label=_("Patient"))
    instrument = forms.ModelChoiceField(queryset=None, label=_("Questionnaire"))
    due_days = forms.IntegerField(label=_("Days to answer"), min_value=1, max_value=60, initial=7)
    expire_days = forms.IntegerField(
        label=_("Days until it expires"), min_value=1, max_value=120, initial=14
    )

    def __init__(self, *args, patients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = patients.order_by("last_name", "first_name")
        latest = {}
        # The symptom report is the patient's own initiative, never sent.
        for instrument in (
            Instrument.objects.filter(language="")
            .exclude(key=symptom_services.SYMPTOM_INSTRUMENT)
            .order_by("key", "-version")
        ):
            latest.setdefault(instrument.key, instrument.pk)
        self.fields["instrument"].queryset = Instrument.objects.filter(pk__in=latest.values())

    def clean(self):
        data = super().clean()
        if (
            data.get("due_days")
            and data.get("expire_days")
            and data["expire_days"] < data["due_days"]
        ):
            self.add_error("expire_days", _("It cannot expire before it is due."))
        return data


@admin.register(Assignment)
class AssignmentAdmin(PatientRecordAdmin):
    """Questionnaires sent: sending one once, and entering answers on the patient's
    behalf (e.g. during a phone call)."""

    add_by = STAFF
    list_display = (
        "instrument",
        "patient_display",
        "status",
        "available_at",
        "due_at",
        "answer_link",
    )
    list_filter = ("status", "instrument__key")
    search_fields = ("patient__first_name", "patient__last_name")
    fields = (
        "patient_display",
        "instrument",
        "status",
        "available_at",
        "due_at",
        "expires_at",
        "created_by",
        "answer_link",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("instrument", "created_by")

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_display(self, obj) -> str:
        return _patient(obj)

    @admin.display(description="")
    def answer_link(self, obj: Assignment) -> str:
        if not obj.is_answerable or obj.instrument.kind == Instrument.Kind.PREM:
            return ""
        url = reverse("selfmonitor_answer", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a>', url, gettext("Enter answers on the patient's behalf")
        )

    def get_urls(self):
        return [
            path(
                "reports/",
                self.admin_site.admin_view(self.reports_view),
                name="selfmonitor_reports",
            ),
            *super().get_urls(),
        ]

    def reports_view(self, request: HttpRequest) -> HttpResponse:
        """Unit reports over my units: completion, share assessed, PREM aggregates."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        error = ""
        try:
            start = dt.date.fromisoformat(request.GET.get("start") or "")
        except ValueError:
            start = today.replace(day=1) - dt.timedelta(days=90)
            error = gettext("Give dates as YYYY-MM-DD.") if request.GET.get("start") else ""
        try:
            end = dt.date.fromisoformat(request.GET.get("end") or "")
        except ValueError:
            end = today
            error = gettext("Give dates as YYYY-MM-DD.") if request.GET.get("end") else error
        if end < start:
            start, end = end, start
        unit_ids = access.staff_unit_ids(request.user)
        scales, groups = reports.prem_summary(unit_ids=unit_ids, start=start, end=end)
        for group in groups:
            group.values = [group.means.get(key) for key, _title in scales or []]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Questionnaire reports"),
            "start": start,
            "end": end,
            "error": error,
            "units": reports.unit_report(unit_ids=unit_ids, start=start, end=end),
            "prem_scales": scales or [],
            "prem_groups": groups,
            "min_group": reports.MIN_GROUP,
        }
        return TemplateResponse(request, "admin/selfmonitor/reports.html", context)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "reports_url": reverse("admin:selfmonitor_reports"),
        }
        return super().changelist_view(request, extra_context)

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        chosen = request.GET.get("patient", "")
        form = SendForm(
            request.POST if request.method == "POST" else None,
            patients=access.patients_for(request.user),
            # From the patient overview: the patient chosen (the field offers mine only).
            initial={"patient": int(chosen)} if chosen.isdigit() else None,
        )
        if form.is_bound:
            if form.is_valid():
                data = form.cleaned_data
                assignment = call_service(
                    form,
                    services.assignment_send,
                    patient=data["patient"],
                    instrument=data["instrument"],
                    by=request.user,
                    due_days=data["due_days"],
                    expire_days=data["expire_days"],
                )
                if assignment is not None:
                    self.log(request, assignment, Action.CREATE)
                    self.message_user(
                        request,
                        gettext("The questionnaire was sent to %(patient)s.")
                        % {"patient": assignment.patient.name},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(reverse("admin:selfmonitor_assignment_changelist"))
            else:
                self.log_refused_patient(request, form)
        return self.render_form_page(
            request,
            form=form,
            title=gettext("Send a questionnaire"),
            submit_label=gettext("Send"),
        )


class ScheduleForm(forms.ModelForm):
    instrument_key = forms.ChoiceField(label=_("Questionnaire"), choices=())

    class Meta:
        model = Schedule
        fields = (
            "instrument_key",
            "template",
            "patient",
            "trigger",
            "phase",
            "every_days",
            "due_days",
            "expire_days",
            "active",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        titles = {}
        for instrument in Instrument.objects.filter(language="").order_by("key", "-version"):
            titles.setdefault(instrument.key, instrument.title)
        self.fields["instrument_key"].choices = sorted(titles.items(), key=lambda kv: kv[1])

    def clean(self):
        data = super().clean()
        probe = Schedule(
            trigger=data.get("trigger") or "",
            every_days=data.get("every_days"),
            due_days=data.get("due_days") or 0,
            expire_days=data.get("expire_days") or 0,
        )
        try:
            services.schedule_check(probe)  # the instrument is checked by its choices
        except ValidationError as exc:
            for name, messages_ in exc.message_dict.items():
                for message in messages_:
                    self.add_error(name, message)
        return data


@admin.register(Schedule)
class PatientScheduleAdmin(PatientRecordAdmin):
    """One patient's schedules (patient data: scoped and logged)."""

    add_by = change_by = delete_by = STAFF
    form = ScheduleForm
    list_display = ("instrument_key", "patient", "trigger", "every_days", "active")
    exclude = ("template",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["patient"].queryset = access.patients_for(request.user)
        form.base_fields["patient"].required = True
        return form

    def save_record(self, request, obj, form, change) -> None:
        services.schedule_save(schedule=obj, by=request.user, creating=not change)


@admin.register(TemplateSchedule)
class TemplateScheduleAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Schedules for every plan of a template (no patient data): administrators edit."""

    add_by = change_by = delete_by = SUPERUSER
    form = ScheduleForm
    list_display = ("instrument_key", "template", "trigger", "phase", "every_days", "active")
    exclude = ("patient",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(patient__isnull=True)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["template"].required = True
        return form

    def save_model(self, request, obj, form, change):
        services.schedule_save(schedule=obj, by=request.user, creating=not change)


@admin.register(Instrument)
class InstrumentAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Loaded instruments, read only: they change by loading a new version
    (``manage.py load_instruments``)."""

    list_display = (
        "title_display",
        "key",
        "version",
        "language",
        "text_status",
        "kind",
        "loaded_at",
    )
    list_filter = ("language", "text_status")
    fields = (
        "key",
        "version",
        "language",
        "original",
        "text_status",
        "reviewed_by",
        "kind",
        "title_sv",
        "title_en",
        "source_note",
        "licence_note",
        "source_file",
        "loaded_at",
        "items_display",
    )
    readonly_fields = fields

    @admin.display(description=_("title"))
    def title_display(self, obj: Instrument) -> str:
        return obj.title

    @admin.display(description=_("questions"))
    def items_display(self, obj: Instrument) -> str:
        from django.utils.html import format_html_join

        items = [
            (pick(i["text"]), i["type"])
            for page in obj.definition.get("pages", [])
            for i in page["items"]
        ]
        return format_html_join("", "<p>{} <small>({})</small></p>", items)


def alert_worklist(user, *, limit: int = 10) -> dict | None:
    """The alerts part of the worklist on the admin index: open alerts of my units, most
    severe first, oldest first. Two queries (the alerts with their patients, the
    access-log rows: one per patient shown)."""
    if not access.is_care_staff(user) or not access.staff_unit_ids(user):
        return None
    alerts = list(
        access.with_acting_unit(
            Alert.objects.worklist().filter(patient__in=access.patients_for(user).values("pk")),
            user,
        ).select_related("patient")[:limit]
    )
    rows: dict[int, tuple[int, int | None, object]] = {}
    for alert in alerts:
        rows.setdefault(alert.patient_id, (alert.patient_id, alert.acting_unit_id, alert))
    access.log_list(user=user, rows=rows.values(), channel=AccessLog.Channel.ADMIN)
    return {"alerts": alerts}


class UnitAdviceForm(forms.ModelForm):
    """A unit's own wording of one advice entry; the entries come from the current guide
    (the triage level of an entry is the guide's and cannot be changed here)."""

    class Meta:
        model = UnitAdvice
        fields = ("unit", "rule_key", "text_sv", "text_en", "source")

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        _instrument, guide = symptom_services.symptom_setup()
        levels = guide.definition["levels"]
        self.fields["rule_key"] = forms.ChoiceField(
            label=_("advice entry"),
            choices=[
                (
                    r["key"],
                    f"{r['key']} – {pick(levels[r['level']]['title'])}: {pick(r['advice'])[:80]}",
                )
                for r in guide.definition["rules"]
            ],
            help_text=gettext(
                "The triage level stays the guide's. The guide's texts are drafts to be "
                "reviewed by the care team before use."
            ),
        )
        if request is not None and not request.user.is_superuser:
            self.fields["unit"].queryset = self.fields["unit"].queryset.filter(
                pk__in=access.staff_unit_ids(request.user)
            )


@admin.register(TriageGuide)
class TriageGuideAdmin(TranslationReviewMixin, RoleAdminMixin, admin.ModelAdmin):
    """The symptom advice guide, read only (loaded from ``selfmonitor/symptoms/``); a
    reviewer marks a language version of its texts reviewed."""

    list_display = ("key", "version", "loaded_at", "language_versions")
    list_filter = (LacksReviewFilter,)
    fields = ("key", "version", "source_file", "loaded_at", "language_versions")
    readonly_fields = fields


@admin.register(UnitAdvice)
class UnitAdviceAdmin(RoleAdminMixin, admin.ModelAdmin):
    """Symptom advice in the unit's own words (staff of the unit)."""

    view_by = add_by = change_by = delete_by = STAFF
    form = UnitAdviceForm
    list_display = ("rule_key", "unit", "source", "updated_at")
    list_filter = ("unit",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(unit_id__in=access.staff_unit_ids(request.user))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class WithRequest(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, request=request, **kw)

        return WithRequest

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and obj.unit_id not in access.staff_unit_ids(request.user):
            raise PermissionDenied
        obj.updated_by = request.user
        obj.save()
