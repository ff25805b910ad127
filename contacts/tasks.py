"""Celery tasks for relatives' invitations: the e-mail and the expiry job (beat)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from careplan.mail import send_mail
from careplan.outbox import outbox_task

from .handover.services import handovers_remind_overdue
from .models import Invitation
from .services import invitation_token, invitations_expire, token_hash


@outbox_task("contacts.tasks.send_invitation_email")
def send_invitation_email(*, invitation_id: int, nonce: str) -> None:
    """Outbox task of ``services.invitation_create``: rebuild the link's token from the
    nonce and e-mail it. An invitation no longer waiting is not sent. A token that no
    longer matches (``SECRET_KEY`` changed in between) fails with a clear error, so the
    row ends up parked for the admin instead of mailing a dead link."""
    invitation = Invitation.objects.select_related("patient").filter(pk=invitation_id).first()
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        return
    token = invitation_token(nonce)
    if token_hash(token) != invitation.token_hash:
        raise RuntimeError(
            f"invitation {invitation_id}: the link cannot be rebuilt (SECRET_KEY changed?)"
        )
    _mail_invitation(invitation, token)


@shared_task(acks_late=True)
def send_invitation(invitation_id: int, token: str) -> str:
    """Kept for task messages queued before invitations went through the outbox."""
    invitation = Invitation.objects.select_related("patient").filter(pk=invitation_id).first()
    if invitation is None or invitation.status != Invitation.Status.PENDING:
        return "skipped"
    _mail_invitation(invitation, token)
    return "sent"


def _mail_invitation(invitation: Invitation, token: str) -> None:
    """E-mail the invitation link. No health data: not the patient's name, not the plan,
    only that someone invited them and until when the link works."""
    url = settings.CAREPLAN_SITE_URL + reverse("invitation_open", args=[token])
    with translation.override(invitation.patient.language or settings.LANGUAGE_CODE):
        send_mail(
            subject=_("You have been invited to %(site)s") % {"site": settings.CAREPLAN_SITE_NAME},
            message=_(
                "Hello,\n\nSomeone close to you has invited you to read what they share "
                "with you in %(site)s. You will see who invited you when you open the link.\n\n"
                "Open the invitation here (it works once, until %(expires)s):\n%(url)s\n\n"
                "If you were not expecting this e-mail, you can ignore it.\n"
                "This e-mail cannot be answered."
            )
            % {
                "url": url,
                "expires": timezone.localtime(invitation.expires_at).date().isoformat(),
                "site": settings.CAREPLAN_SITE_NAME,
            },
            from_email=None,
            recipient_list=[invitation.email],
        )


@shared_task
def expire_invitations() -> int:
    """Beat: invitations older than seven days can no longer be used."""
    return invitations_expire()


@shared_task
def remind_overdue_handovers() -> int:
    """Beat: sent handovers not accepted in time remind the receiver and alert the
    sender, once per step (``services.handovers_remind_overdue``)."""
    return handovers_remind_overdue()
