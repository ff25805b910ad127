"""The care team's inbox: message threads and patients' calendar change requests."""

from __future__ import annotations

from html import escape

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .. import access, messaging, services
from ..models import EventChangeRequest, Message, MessageThread
from .base import STAFF, Action, DefaultList, PatientRecordAdmin, RecordInline
from .filters import DefaultListFilter, MyUnitFilter
from .forms import MessageAnswerForm
from .results import per_page


class WaitingFilter(DefaultListFilter):
    """Threads waiting for the care team's answer (the default), or all."""

    title = _("answer")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [
            ("yes", _("Waiting for an answer")),
            ("unread", _("Unread")),
            ("all", _("All")),
        ]

    default = "yes"

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(awaiting_reply_since__isnull=False)
        if self.value() == "unread":
            return queryset.filter(last_patient_message_at__isnull=False).filter(
                models.Q(staff_read_at__isnull=True)
                | models.Q(staff_read_at__lt=models.F("last_patient_message_at"))
            )
        return queryset


class ThreadUnitFilter(MyUnitFilter):
    patient_path = "patient"


class MessageInline(RecordInline, admin.StackedInline):
    """The thread's messages, oldest first; never changed (answers are new messages)."""

    model = Message
    fields = ("created_at", "author_display", "body")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("conversation")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    @admin.display(description=_("from"))
    def author_display(self, obj: Message) -> str:
        label = obj.author_label()
        return label if not obj.from_patient else gettext("%(name)s (patient)") % {"name": label}


def _waiting_rows():
    """The inbox's "waiting since" of one page (the time zone looked up once)."""
    zone = timezone.get_current_timezone()

    def row(obj: MessageThread) -> str:
        since = obj.awaiting_reply_since
        if since is None:
            return "–"
        local = timezone.localtime(since, zone).strftime("%Y-%m-%d %H:%M")
        # format_html's escaping, written out (a list page has 25 of these)
        return mark_safe(f'<time datetime="{escape(since.isoformat())}">{escape(local)}</time>')  # noqa: S308

    return row


def _default_list(units: tuple[int, ...]):
    """The inbox's default view for these units: the rows, order, ``acting_unit_id`` and
    ``list_only`` fields of Django's change list (``WaitingFilter``'s default, waiting
    threads), scoped to the units by ``access.in_units_per_row``: a unit's waiting threads
    are few, its patients many (``tests/careplan/test_messages_admin.py`` pins the rows to
    Django's)."""
    return (
        access.in_units_per_row(
            MessageThread.objects.filter(awaiting_reply_since__isnull=False), units
        )
        .select_related("patient")
        .order_by(*MessageThreadAdmin.ordering)
        .only(*MessageThreadAdmin.list_only)
    )


@admin.register(MessageThread)
class MessageThreadAdmin(PatientRecordAdmin):
    """Threads of the patients my units are responsible for now (wherever a thread was
    first addressed), waiting ones first, the longest waiting first. Answer and mark
    handled on the thread's page; both go through ``careplan.messaging``."""

    change_by = STAFF
    form = MessageAnswerForm
    list_display = (
        "subject",
        "patient_name",
        "waiting_display",
        "unread_display",
        "escalated_display",
        "status",
        "last_message_at",
    )
    list_select_related = ("patient",)
    list_only = (
        "subject",
        "status",
        "last_message_at",
        "awaiting_reply_since",
        "last_patient_message_at",
        "staff_read_at",
        "escalated_at",
        "patient__first_name",
        "patient__last_name",
    )
    default_list = DefaultList(_default_list)
    list_filter = (WaitingFilter, ThreadUnitFilter, "status")
    search_fields = ("subject", "patient__first_name", "patient__last_name")
    ordering = (
        models.F("awaiting_reply_since").asc(nulls_last=True),
        "-last_message_at",
        "-id",
    )
    readonly_fields = (
        "patient_display",
        "subject",
        "unit",
        "status",
        "awaiting_reply_since",
        "escalated_at",
        "handled_at",
        "created_at",
    )
    fieldsets = [
        (
            None,
            {
                "fields": (
                    "patient_display",
                    "subject",
                    "unit",
                    "status",
                    "awaiting_reply_since",
                    "escalated_at",
                    "handled_at",
                    "created_at",
                )
            },
        ),
        (_("Answer the patient"), {"fields": ("answer", "mark_handled", "submission")}),
    ]
    inlines = [MessageInline]
    actions = ["mark_handled"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit", "handled_by")

    @admin.action(description=_("Mark handled"))
    def mark_handled(self, request: HttpRequest, queryset) -> None:
        done = 0
        for thread in queryset:
            if not self.can_write(request, thread):
                continue
            messaging.thread_mark_handled(thread=thread, by=request.user)
            self.log(request, thread, Action.UPDATE)
            done += 1
        self.message_user(
            request,
            ngettext("%(count)d thread marked handled.", "%(count)d threads marked handled.", done)
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj: MessageThread) -> str:
        return f"{obj.patient.last_name}, {obj.patient.first_name}"

    @admin.display(description=_("patient"))
    def patient_display(self, obj: MessageThread) -> str:
        patient = obj.patient
        return format_html(
            '<a href="{}">{}</a> ({}) · <a href="{}">{}</a>',
            reverse("admin:careplan_patient_change", args=[patient.pk]),
            patient,
            patient.personnummer_masked,
            reverse("admin:careplan_patient_overview", args=[patient.pk]),
            gettext("Patient overview"),
        )

    @per_page(lambda model_admin: _waiting_rows())
    @admin.display(description=_("waiting since"), ordering="awaiting_reply_since")
    def waiting_display(self, obj: MessageThread) -> str:
        return _waiting_rows()(obj)

    @admin.display(description=_("unread"), boolean=True)
    def unread_display(self, obj: MessageThread) -> bool:
        return obj.unread_for_staff

    @admin.display(description=_("escalated"), boolean=True)
    def escalated_display(self, obj: MessageThread) -> bool:
        return obj.escalated_at is not None and obj.awaiting_reply_since is not None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and request.method == "GET":
            # The unit has now seen the patient's latest message.
            messaging.thread_mark_read(thread=obj, by=request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_record(self, request, obj, form, change) -> None:
        answer = form.cleaned_data.get("answer") or ""
        if answer.strip():
            messaging.message_send(
                by=request.user,
                thread=obj,
                body=answer,
                submission_key=form.cleaned_data.get("submission"),
            )
            obj.refresh_from_db()
        if form.cleaned_data.get("mark_handled"):
            messaging.thread_mark_handled(thread=obj, by=request.user)

    def log(self, request, obj, action, *, allowed=True):
        # Answering adds a message: the row says "create" rather than "change".
        if action == Action.UPDATE and getattr(request, "_careplan_answered", False):
            action = Action.CREATE
        super().log(request, obj, action, allowed=allowed)

    def save_model(self, request, obj, form, change):
        request._careplan_answered = bool((form.cleaned_data.get("answer") or "").strip())
        super().save_model(request, obj, form, change)

    def response_change(self, request, obj):
        if request._careplan_answered:
            self.message_user(
                request,
                gettext("Your answer was sent. The patient is told that something new is waiting."),
                messages.SUCCESS,
            )
        if "_continue" not in request.POST and "_save" in request.POST:
            return HttpResponseRedirect(reverse("admin:careplan_messagethread_changelist"))
        return super().response_change(request, obj)


class ChangeRequestOpenFilter(DefaultListFilter):
    """Open requests unless asked otherwise: the worklist."""

    title = _("status")
    parameter_name = "status"
    default = "open"

    def lookups(self, request, model_admin):
        return [("open", _("Open")), ("done", _("Handled")), ("all", _("All"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(handled_at__isnull=True)
        if self.value() == "done":
            return queryset.filter(handled_at__isnull=False)
        return queryset


@admin.register(EventChangeRequest)
class EventChangeRequestAdmin(PatientRecordAdmin):
    """Patients' requests to change the care team's calendar entries: handle one by
    changing the entry (link) and writing a note on what was done."""

    change_by = STAFF
    list_display = ("created_at", "patient_display", "event", "text", "handled_at")
    list_select_related = ("patient", "event")
    list_filter = (ChangeRequestOpenFilter,)
    fields = ("patient_display", "event_link", "text", "created_at", "note", "handled_at")
    readonly_fields = ("patient_display", "event_link", "text", "created_at", "handled_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.handled_at is not None:
            return (*self.readonly_fields, "note")
        return self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "note" in form.base_fields:
            form.base_fields["note"].required = True
        return form

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_display(self, obj) -> str:
        return str(obj.patient)

    @admin.display(description=_("calendar entry"))
    def event_link(self, obj) -> str:
        url = reverse("admin:careplan_calendarevent_change", args=[obj.event_id])
        when = timezone.localtime(obj.event.starts_at).strftime("%Y-%m-%d %H:%M")
        return format_html('<a href="{}">{} {}</a>', url, when, obj.event.title)

    def save_record(self, request, obj, form, change) -> None:
        if obj.handled_at is None:
            services.event_change_request_handle(
                change_request=obj, by=request.user, note=form.cleaned_data["note"]
            )
