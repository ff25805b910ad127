from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Open sign-up only when configured, or for someone holding an invitation."""
        return settings.CAREPLAN_OPEN_SIGNUP or bool(request.session.get("invitation_token"))

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        """Who signs up with a relative's invitation gets the relative role."""
        if request.session.get("invitation_token"):
            from .models import Role

            user.role = Role.RELATIVE
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's e-mails (password reset, address confirmation, security notices) go
        through the outbox like every other e-mail: a hung or dead mail server never
        fails or holds the request. The rendered message waits in the outbox row until
        it is sent, then the row forgets it (it may hold a reset link)."""
        import uuid

        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        from .services import outbox_enqueue

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        outbox_enqueue(
            task="careplan.tasks.send_rendered_email",
            kwargs={
                "subject": message.subject,
                "body": message.body,
                "to": list(message.to),
                "from_email": message.from_email,
                "alternatives": [
                    [content, mimetype]
                    for content, mimetype in getattr(message, "alternatives", [])
                ],
            },
            dedupe_key=f"account-email:{uuid.uuid4()}",
        )

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        user = request.user
        if user.is_authenticated and user.is_staff:
            return reverse("admin:index")
        return super().get_login_redirect_url(request)
