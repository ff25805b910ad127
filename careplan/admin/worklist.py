"""The care team's start page and what tells them that something waits: the worklist on
the admin index (``careplan.selectors.worklist``), the header's counter and the staff
member's notification page with their own e-mail choice; and the page a logged-in
patient or relative gets at ``/admin/`` (not a redirect loop)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from .. import access, messaging, selectors
from ..models import (
    Notification,
    StaffEmail,
    User,
)


def admin_login(request: HttpRequest) -> HttpResponse:
    """``/admin/login/``: staff go to allauth's login (with TOTP); a logged-in patient or
    relative is told the admin is the care team's and gets a link home."""
    user = request.user
    if user.is_authenticated and not access.is_care_staff(user):
        return render(request, "admin/careplan/not_for_you.html", status=403)
    target = reverse("account_login")
    query = request.META.get("QUERY_STRING", "")  # passed on as it came (RedirectView)
    return HttpResponseRedirect(f"{target}?{query}" if query else target)


class StaffEmailForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["staff_email"]
        widgets = {"staff_email": forms.RadioSelect}
        help_texts = {
            "staff_email": _(
                "The e-mail only says that something waits, never who or what. The counter "
                "at the top of the page always shows what is new."
            )
        }


@require_http_methods(["GET", "POST"])
def notifications_view(request: HttpRequest) -> HttpResponse:
    """My notifications (newest first) and my e-mail choice. Opening a notification's
    link marks it read there; "mark all read" here."""
    from django.contrib import admin

    user = request.user
    form = StaffEmailForm(request.POST if "staff_email" in request.POST else None, instance=user)
    if request.method == "POST":
        if "mark_all_read" in request.POST:
            messaging.notifications_mark_read(user=user)
            messages.success(request, gettext("All notifications are marked read."))
            return HttpResponseRedirect(reverse("admin_notifications"))
        if form.is_valid():
            form.save()
            messages.success(request, gettext("Your e-mail choice is saved."))
            return HttpResponseRedirect(reverse("admin_notifications"))
    context = {
        **admin.site.each_context(request),
        "title": gettext("My notifications"),
        "notifications": selectors.notifications_of(user),
        "form": form,
    }
    return TemplateResponse(request, "admin/careplan/notifications.html", context)


def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification's link (marks it read first)."""
    found = Notification.objects.filter(recipient=request.user, pk=pk).first()
    if found is None:
        return HttpResponseRedirect(reverse("admin_notifications"))
    messaging.notifications_mark_read(user=request.user, ids=[pk])
    url = found.url or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        url = reverse("admin:index")
    return HttpResponseRedirect(url)


__all__ = ["StaffEmail", "admin_login", "notifications_view", "open_notification"]
