"""E-mail sent by outbox tasks: each message carries a Message-ID derived from the outbox
row's key, so a message sent again (a worker killed after the mail server accepted it,
before the row was marked done) is the same message to the receiving side, which can
drop the copy (RFC 5322 Message-ID; many mail stores and clients do).

Use ``send_mail`` here instead of ``django.core.mail.send_mail`` in every task that the
outbox runs (``careplan.outbox.run_outbox`` sets the key).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections.abc import Iterator
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage

_outbox_key: contextvars.ContextVar[tuple[str, list[int]] | None] = contextvars.ContextVar(
    "careplan_outbox_key", default=None
)


@contextlib.contextmanager
def outbox_key(key: str) -> Iterator[None]:
    """While an outbox row runs: messages get Message-IDs from ``key`` (and a counter,
    for a task that sends more than one)."""
    token = _outbox_key.set((key, [0]))
    try:
        yield
    finally:
        _outbox_key.reset(token)


def message_id_for(key: str, n: int = 0) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "careplan.invalid"
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<outbox.{digest}.{n}@{domain}>"


def send_mail(
    *, subject: str, message: str, recipient_list: list[str], from_email: str | None = None
) -> int:
    """``django.core.mail.send_mail`` with the outbox's Message-ID (outside the outbox, a
    random one as usual). The connection gives up after ``EMAIL_TIMEOUT``."""
    email = EmailMessage(
        subject=subject,
        body=message,
        from_email=from_email,
        to=recipient_list,
        headers=outbox_headers(),
    )
    return email.send()


def outbox_headers() -> dict[str, str]:
    """The Message-ID header for the next message of the outbox row running now (none
    outside the outbox: Django makes a random one)."""
    current = _outbox_key.get()
    if current is None:
        return {}
    key, counter = current
    counter[0] += 1
    return {"Message-ID": message_id_for(key, counter[0] - 1)}
