"""The patient's care map and sharing pages, and the relative's invitation pages.

The map and the sharing belong to the patient: anyone else gets a 404 when reading and a
403 when writing (relatives never write). The relative's reading of shared parts happens
in the plan pages (``careplan.views`` through ``careplan.access``), which honour the
grant's scopes and log every access with basis ``relative_grant``.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careplan import access
from careplan.models import AccessLog, Patient, Role

from . import services, svg
from .forms import CareMapEntryForm, GrantForm, InvitationForm, MissingSupportForm
from .models import CareMap, CareMapEntry, Invitation, RelativeGrant, Scope

SESSION_KEY = "invitation_token"  # careplan.adapters opens sign-up when it is set


def _own_patient(request: HttpRequest) -> Patient:
    """The logged-in patient. Others: 404 to read, 403 to write."""
    user = request.user
    patient = Patient.objects.filter(user=user).first() if user.role == Role.PATIENT else None
    if patient is None:
        if request.method == "POST":
            raise PermissionDenied
        raise Http404
    return patient


def _map_context(patient: Patient, care_map: CareMap, entries: list[CareMapEntry]) -> dict:
    snapshot = [e.as_snapshot() for e in entries]
    return {
        "patient": patient,
        "care_map": care_map,
        "entries": entries,
        "people": [e for e in entries if e.kind == "person"],
        "care_contacts": [e for e in entries if e.kind == "care_contact"],
        "map_svg": svg.render(snapshot, patient_name=patient.first_name),
    }


# --- The care map ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def care_map(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    cmap = services.care_map_of(patient)
    form = CareMapEntryForm()
    if request.method == "POST":
        form = CareMapEntryForm(request.POST, instance=CareMapEntry(care_map=cmap))
        if form.is_valid():
            try:
                entry = services.care_map_entry_save(
                    entry=form.instance, by=request.user, creating=True
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request, _("Added to your care map: %(name)s") % {"name": entry.name}
                )
                return redirect("care_map")
    entries = list(cmap.entries.all())
    ctx = _map_context(patient, cmap, entries)
    ctx.update(form=form, support_form=MissingSupportForm(instance=cmap))
    return render(request, "contacts/care_map.html", ctx, status=400 if form.errors else 200)


@require_GET
@login_required
def care_map_print(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    cmap = services.care_map_of(patient)
    ctx = _map_context(patient, cmap, list(cmap.entries.all()))
    ctx["printed_at"] = timezone.now()
    return render(request, "contacts/care_map_print.html", ctx)


def _own_object(request: HttpRequest, obj, patient: Patient | None, *, action: str):
    """``obj`` if it is the logged-in patient's. Anyone else's: a denied access-log row
    against its patient (the access module's promise), then 404, or 403 for a
    non-patient's write (as ``_own_patient``)."""
    user = request.user
    if obj is not None and patient is not None and patient.user_id == user.pk:
        return obj
    if obj is not None and patient is not None:
        access.log_access(
            user=user,
            patient=patient,
            obj=obj,
            action=action,
            allowed=False,
            channel=AccessLog.Channel.WEB,
            reach_=access.reach(user, patient),
        )
    _own_patient(request)  # a non-patient: 404 to read, 403 to write
    raise Http404


def _own_entry(request: HttpRequest, entry_id: int, *, action: str) -> CareMapEntry:
    entry = CareMapEntry.objects.select_related("care_map__patient").filter(pk=entry_id).first()
    return _own_object(request, entry, entry and entry.care_map.patient, action=action)


@require_http_methods(["GET", "POST"])
@login_required
def care_map_entry_edit(request: HttpRequest, entry_id: int) -> HttpResponse:
    action = AccessLog.Action.UPDATE if request.method == "POST" else AccessLog.Action.VIEW
    entry = _own_entry(request, entry_id, action=action)
    if request.method == "POST":
        form = CareMapEntryForm(request.POST, instance=entry)
        if form.is_valid():
            try:
                services.care_map_entry_save(entry=form.instance, by=request.user, creating=False)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Saved: %(name)s") % {"name": entry.name})
                return redirect("care_map")
    else:
        form = CareMapEntryForm(instance=entry)
    return render(
        request,
        "contacts/entry_edit.html",
        {"entry": entry, "form": form},
        status=400 if form.errors else 200,
    )


def _confirm(request: HttpRequest, *, title: str, what: str, consequence: str, yes: str, back):
    """The page that asks before an irreversible step (GET of the step's URL); the step
    itself is the POST of the same URL."""
    return render(
        request,
        "contacts/confirm.html",
        {"title": title, "what": what, "consequence": consequence, "yes": yes, "back": back},
    )


@require_http_methods(["GET", "POST"])
@login_required
def care_map_entry_delete(request: HttpRequest, entry_id: int) -> HttpResponse:
    action = AccessLog.Action.DELETE if request.method == "POST" else AccessLog.Action.VIEW
    entry = _own_entry(request, entry_id, action=action)
    name = entry.name
    if request.method != "POST":
        return _confirm(
            request,
            title=_("Remove from your care map?"),
            what=name,
            consequence=_(
                "%(name)s is taken off your care map. Earlier versions of the map keep them; "
                "an access to your plan you gave them is not changed by this."
            )
            % {"name": name},
            yes=_("Yes, remove"),
            back=reverse("care_map"),
        )
    services.care_map_entry_delete(entry=entry, by=request.user)
    messages.success(request, _("Removed from your care map: %(name)s") % {"name": name})
    return redirect("care_map")


@require_POST
@login_required
def care_map_support(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    cmap = services.care_map_of(patient)
    form = MissingSupportForm(request.POST, instance=cmap)
    if form.is_valid():
        services.care_map_support_update(
            care_map=cmap, missing_support=form.cleaned_data["missing_support"], by=request.user
        )
        messages.success(request, _("Saved. Your care team can see what support you miss."))
        return redirect("care_map")
    cmap.refresh_from_db()
    ctx = _map_context(patient, cmap, list(cmap.entries.all()))
    ctx.update(form=CareMapEntryForm(), support_form=form)
    return render(request, "contacts/care_map.html", ctx, status=400)


@require_GET
@login_required
def care_map_versions(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    cmap = services.care_map_of(patient)
    versions = list(cmap.versions.select_related("created_by").defer("snapshot"))
    return render(
        request,
        "contacts/versions.html",
        {"patient": patient, "care_map": cmap, "versions": versions},
    )


@require_GET
@login_required
def care_map_version(request: HttpRequest, number: int) -> HttpResponse:
    patient = _own_patient(request)
    version = (
        services.care_map_of(patient)
        .versions.select_related("created_by")
        .filter(number=number)
        .first()
    )
    if version is None:
        raise Http404
    entries = version.snapshot.get("entries", [])
    return render(
        request,
        "contacts/version.html",
        {
            "patient": patient,
            "version": version,
            "entries": [{**e, "description": svg.describe(e)} for e in entries],
            "missing_support": version.snapshot.get("missing_support", ""),
            "map_svg": svg.render(entries, patient_name=patient.first_name, ident="care-map-v"),
        },
    )


# --- Sharing (the patient) ---------------------------------------------------------------------


def _sharing_context(patient: Patient) -> dict:
    services.invitations_expire()
    grants = list(
        RelativeGrant.objects.filter(patient=patient)
        .select_related("relative")
        .order_by("revoked_at", "-created_at")
    )
    today = timezone.localdate()
    active = [
        g
        for g in grants
        if g.revoked_at is None and (g.valid_until is None or g.valid_until >= today)
    ]
    ended = [g for g in grants if g not in active]
    labels = dict(Scope.choices)
    for g in grants:
        g.scope_labels = [labels.get(s, s) for s in g.scopes or []]
    invitations = list(Invitation.objects.filter(patient=patient, status=Invitation.Status.PENDING))
    for inv in invitations:
        inv.scope_labels = [labels.get(s, s) for s in inv.scopes or []]
    return {"patient": patient, "active": active, "ended": ended, "invitations": invitations}


@require_GET
@login_required
def sharing(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    return render(request, "contacts/sharing.html", _sharing_context(patient))


@require_http_methods(["GET", "POST"])
@login_required
def invite(request: HttpRequest) -> HttpResponse:
    patient = _own_patient(request)
    entry = None
    entry_id = request.POST.get("entry") or request.GET.get("entry")
    if entry_id and str(entry_id).isdigit():
        entry = CareMapEntry.objects.filter(pk=entry_id, care_map__patient=patient).first()
    if request.method == "POST":
        form = InvitationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation, _token = services.invitation_create(
                    patient=patient,
                    by=request.user,
                    email=data["email"],
                    scopes=data["scopes"],
                    valid_until=data["valid_until"],
                    name=data["name"],
                    entry=entry,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The invitation was sent to %(email)s. It can be used once, within 7 days.")
                    % {"email": invitation.email},
                )
                return redirect("sharing")
    else:
        initial = {"scopes": [Scope.PLAN_SECTIONS, Scope.CONTACT_NURSE]}
        if entry is not None:
            initial.update(name=entry.name, email=entry.email)
        form = InvitationForm(initial=initial)
    return render(
        request,
        "contacts/invite.html",
        {"patient": patient, "form": form, "entry": entry},
        status=400 if form.errors else 200,
    )


def _add_errors(form, exc: ValidationError) -> None:
    """A service's refusal on the form: on its field when there is one."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _own_grant(request: HttpRequest, grant_id: int) -> RelativeGrant:
    grant = RelativeGrant.objects.select_related("patient", "relative").filter(pk=grant_id).first()
    action = AccessLog.Action.UPDATE if request.method == "POST" else AccessLog.Action.VIEW
    return _own_object(request, grant, grant and grant.patient, action=action)


@require_http_methods(["GET", "POST"])
@login_required
def grant_change(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = _own_grant(request, grant_id)
    if grant.revoked_at is not None:
        raise Http404
    if request.method == "POST":
        form = GrantForm(request.POST)
        if form.is_valid():
            try:
                services.grant_update(
                    grant=grant,
                    by=request.user,
                    scopes=form.cleaned_data["scopes"],
                    valid_until=form.cleaned_data["valid_until"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Saved. %(name)s sees the change the next time they look.")
                    % {"name": grant.relative},
                )
                return redirect("sharing")
    else:
        form = GrantForm(initial={"scopes": grant.scopes, "valid_until": grant.valid_until})
    return render(
        request,
        "contacts/grant_change.html",
        {"grant": grant, "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = _own_grant(request, grant_id)
    if request.method != "POST":
        return _confirm(
            request,
            title=_("End access?"),
            what=str(grant.relative),
            consequence=_(
                "%(name)s can no longer read your care plan from their next click. To share "
                "again you send a new invitation."
            )
            % {"name": grant.relative},
            yes=_("Yes, end access"),
            back=reverse("sharing"),
        )
    services.grant_revoke(grant=grant, by=request.user)
    messages.success(request, _("%(name)s no longer has access.") % {"name": grant.relative})
    return redirect("sharing")


@require_http_methods(["GET", "POST"])
@login_required
def invitation_cancel(request: HttpRequest, invitation_id: int) -> HttpResponse:
    write = request.method == "POST"
    invitation = Invitation.objects.select_related("patient").filter(pk=invitation_id).first()
    invitation = _own_object(
        request,
        invitation,
        invitation and invitation.patient,
        action=AccessLog.Action.UPDATE if write else AccessLog.Action.VIEW,
    )
    if not write:
        return _confirm(
            request,
            title=_("Withdraw the invitation?"),
            what=invitation.email,
            consequence=_(
                "The link in the e-mail to %(email)s stops working. To share later you send "
                "a new invitation."
            )
            % {"email": invitation.email},
            yes=_("Yes, withdraw it"),
            back=reverse("sharing"),
        )
    services.invitation_cancel(invitation=invitation, by=request.user)
    messages.success(
        request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email}
    )
    return redirect("sharing")


# --- The invitation (the relative) ---------------------------------------------------------------


@require_GET
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the e-mail: keep the token in the session (which opens sign-up and
    counts the invited address as verified) and go on to a URL without the token."""
    try:
        invitation = services.invitation_lookup(token)
    except services.InvitationError as exc:
        request.session.pop(SESSION_KEY, None)
        return render(
            request, "contacts/invitation_invalid.html", {"error": exc.messages[0]}, status=400
        )
    request.session[SESSION_KEY] = token
    get_adapter(request).stash_verified_email(request, invitation.email)
    return redirect("invitation_accept")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest) -> HttpResponse:
    token = request.session.get(SESSION_KEY, "")
    try:
        invitation = services.invitation_lookup(token)
    except services.InvitationError as exc:
        request.session.pop(SESSION_KEY, None)
        return render(
            request, "contacts/invitation_invalid.html", {"error": exc.messages[0]}, status=400
        )
    user = request.user
    ctx = {"invitation": invitation, "patient": invitation.patient, "error": None}
    ctx["scope_labels"] = [dict(Scope.choices).get(s, s) for s in invitation.scopes]
    ctx["next"] = reverse("invitation_accept")
    if user.is_authenticated and request.method == "POST":
        try:
            grant = services.invitation_accept(token=token, user=user)
        except services.InvitationError as exc:
            ctx["error"] = exc.messages[0]
            return render(request, "contacts/invitation.html", ctx, status=400)
        request.session.pop(SESSION_KEY, None)
        messages.success(
            request,
            _("You can now read what %(name)s shares with you.")
            % {"name": grant.patient.first_name},
        )
        # A patient who is also a relative keeps their own plan as the start page.
        return redirect("shared_with_me" if user.role == Role.PATIENT else "home")
    if request.method == "POST":
        return redirect(f"{reverse('account_login')}?next={ctx['next']}")
    # The invited person sees who invites them: log it like any look at patient data.
    access.log_access(
        user=user,
        patient=invitation.patient,
        obj=invitation,
        action=AccessLog.Action.VIEW,
        allowed=True,
        channel=AccessLog.Channel.WEB,
        reach_=access.Reach(allowed=True, basis=AccessLog.Basis.RELATIVE_GRANT),
    )
    return render(request, "contacts/invitation.html", ctx)
