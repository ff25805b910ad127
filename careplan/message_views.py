"""Patient and relative web: messages with the care team, and notifications.

Every thread is reached through ``careplan.access`` (``threads_for``/``thread_for``), which
writes the access-log row for anyone but the patient; writes go through
``careplan.messaging``. Relatives with the ``messages`` part read; every write path gives
them 403. Staff answer in the admin (``MessageThreadAdmin``).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from . import access, messaging
from .forms import submission_field
from .models import (
    MESSAGE_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    AccessLog,
    CareRelation,
    CareUnit,
    Message,
    MessageThread,
    Notification,
    Patient,
    Role,
    Scope,
)
from .prepared import prepared
from .templatetags.careplan_tags import shares_messages

Action = AccessLog.Action
NOTIFICATIONS_PAGE_SIZE = 50


# --- Forms ----------------------------------------------------------------------------------


class ReplyForm(forms.Form):
    submission = submission_field()
    body = forms.CharField(
        label=gettext_lazy("Your message"),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MESSAGE_MAX_LENGTH}),
        # Length is checked by the service (one message, the same for web and API);
        # the browser's maxlength only helps.
        strip=False,
        required=False,
        help_text=lazy(
            lambda: _("At most %(max)s characters.") % {"max": MESSAGE_MAX_LENGTH}, str
        )(),
    )


class NewThreadForm(forms.Form):
    subject = forms.CharField(
        label=gettext_lazy("Subject"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": SUBJECT_MAX_LENGTH}),
        help_text=gettext_lazy("A few words, for example: Question about my medicine."),
    )
    body = ReplyForm.base_fields["body"]
    submission = submission_field()


def _send(form: forms.Form, **kwargs) -> Message | None:
    """Call the service; its refusals go onto the form, which keeps what was typed."""
    try:
        return messaging.message_send(**kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
    return None


# --- What to expect -------------------------------------------------------------------------


def _responsible_unit(patient: Patient) -> CareUnit | None:
    relation = patient.responsible_relation()
    return relation.unit if relation else None


def _expectation_context(unit: CareUnit | None) -> dict:
    return {"answer_within_days": settings.CAREPLAN_ANSWER_WITHIN_DAYS, "urgent_unit": unit}


def _sent_notice(unit: CareUnit | None) -> str:
    """The confirmation after every message: when to expect an answer, what if urgent."""
    days = settings.CAREPLAN_ANSWER_WITHIN_DAYS
    text = _(
        "Your message was sent to your care team. You can expect an answer within %(days)s days."
    ) % {"days": days}
    if unit is not None and unit.phone:
        urgent = _(
            "If it is urgent, do not wait: call %(unit)s on %(phone)s, call 1177 for "
            "medical advice, or 112 in an emergency."
        ) % {"unit": unit.name, "phone": unit.phone}
    else:
        urgent = _(
            "If it is urgent, do not wait: call your care unit, call 1177 for medical "
            "advice, or 112 in an emergency."
        )
    return f"{text} {urgent}"


# --- Threads --------------------------------------------------------------------------------


# The patient's own responsible relation with patient and unit, compiled once per process.
_own_relation = prepared(
    lambda user_id: CareRelation.objects.filter(
        patient__user_id=user_id, ended_at__isnull=True
    ).select_related("unit", "patient")[:1]
)


def _latest_threads(threads):
    return threads.select_related("patient").order_by("-last_message_at", "-id")[:200]


# ``access.threads_for`` for the two roles that list threads here, compiled once per
# process: the patient's own threads, and a relative's of the patients who share messages.
_own_threads = prepared(
    lambda user_id: _latest_threads(MessageThread.objects.filter(patient__user_id=user_id))
)
_threads_of = prepared(
    lambda patient_ids: _latest_threads(MessageThread.objects.filter(patient_id__in=patient_ids))
)


@require_GET
@login_required
def message_list(request: HttpRequest) -> HttpResponse:
    """The patient's threads with the care team; a relative's: those of the patients who
    share messages with them (one access-log row per patient shown)."""
    user = request.user
    if user.role == Role.STAFF:
        return redirect("admin:careplan_messagethread_changelist")
    if user.role == Role.PATIENT:
        threads = _own_threads(user_id=user.pk)
    elif user.role == Role.RELATIVE:
        threads = _threads_of(
            patient_ids=tuple(access.shared_patient_ids(user, scope=Scope.MESSAGES))
        )
    else:
        threads = list(_latest_threads(access.threads_for(user)))
    unit = None
    patient = None
    if user.role == Role.PATIENT:
        # The patient with their responsible unit in one query (``responsible_relation``'s
        # row); only a patient with no responsible unit needs a second.
        relation = next(iter(_own_relation(user_id=user.pk)), None)
        if relation is not None:
            patient, unit = relation.patient, relation.unit
        else:
            patient = Patient.objects.filter(user=user).first()
    else:
        first: dict[int, MessageThread] = {}
        for thread in threads:
            first.setdefault(thread.patient_id, thread)
        access.log_list(
            user=user,
            rows=[(pid, None, thread) for pid, thread in first.items()],
            channel=AccessLog.Channel.WEB,
        )
    return render(
        request,
        "careplan/messages.html",
        {
            "threads": threads,
            "is_patient": patient is not None,
            "is_relative": user.role == Role.RELATIVE,
            "shared_any": user.role != Role.RELATIVE or bool(threads) or shares_messages(user),
            **_expectation_context(unit),
        },
    )


def _patient_writer(request: HttpRequest) -> Patient:
    """Only a patient starts a thread (to their responsible unit): relatives and staff
    get 403 here."""
    if request.user.role != Role.PATIENT:
        raise PermissionDenied
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        raise Http404
    return patient


@require_http_methods(["GET", "POST"])
@login_required
def message_new(request: HttpRequest) -> HttpResponse:
    patient = _patient_writer(request)
    unit = _responsible_unit(patient)
    form = NewThreadForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        message = _send(
            form,
            by=request.user,
            patient=patient,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            submission_key=form.cleaned_data.get("submission"),
        )
        if message is not None:
            messages.success(request, _sent_notice(unit))
            return redirect("message_thread", pk=message.thread_id)
    return render(
        request, "careplan/message_new.html", {"form": form, **_expectation_context(unit)}
    )


def _thread_context(thread: MessageThread, *, form: ReplyForm | None, notice: str = "") -> dict:
    return {
        "thread": thread,
        "patient": thread.patient,
        "thread_messages": list(thread.messages.select_related("author")),
        "can_write": thread.reach.write and thread.reach.is_self,
        "is_relative": thread.reach.basis == AccessLog.Basis.RELATIVE_GRANT,
        "form": form,
        "notice": notice,
        **_expectation_context(_responsible_unit(thread.patient)),
    }


@require_http_methods(["GET", "POST"])
@login_required
def message_thread(request: HttpRequest, pk: int) -> HttpResponse:
    """One thread: every message, oldest first, and the patient's reply form."""
    if request.method == "POST":
        thread = access.thread_for(request.user, pk, write=True, action=Action.CREATE)
        form = ReplyForm(request.POST)
        message = None
        if form.is_valid():
            message = _send(
                form,
                by=request.user,
                thread=thread,
                body=form.cleaned_data["body"],
                submission_key=form.cleaned_data.get("submission"),
            )
        if message is not None:
            notice = _sent_notice(_responsible_unit(thread.patient))
            if request.htmx:
                ctx = _thread_context(thread, form=ReplyForm(), notice=notice)
                return render(request, "careplan/message_thread.html#conversation", ctx)
            messages.success(request, notice)
            return redirect("message_thread", pk=thread.pk)
        ctx = _thread_context(thread, form=form)
        if request.htmx:
            response = render(request, "careplan/message_thread.html#conversation", ctx)
            return reswap(retarget(response, "#conversation"), "outerHTML")
        return render(request, "careplan/message_thread.html", ctx)
    thread = access.thread_for(request.user, pk)
    messaging.thread_mark_read(thread=thread, by=request.user)
    can_reply = thread.reach.is_self
    return render(
        request,
        "careplan/message_thread.html",
        _thread_context(thread, form=ReplyForm() if can_reply else None),
    )


# --- Notifications --------------------------------------------------------------------------


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    rows = Notification.objects.filter(recipient=request.user).order_by("-created_at", "-id")
    page = Paginator(rows, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "careplan/notifications.html", {"page": page})


@require_GET
@login_required
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification: it is read now, and its link opens."""
    notification = Notification.objects.filter(pk=pk, recipient=request.user).first()
    if notification is None:
        raise Http404
    messaging.notifications_mark_read(user=request.user, ids=[notification.pk])
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("notification_list")
    return redirect(target)


@require_POST
@login_required
def notifications_read(request: HttpRequest) -> HttpResponse:
    messaging.notifications_mark_read(user=request.user)
    messages.success(request, _("All notifications are marked as read."))
    return redirect("notification_list")
