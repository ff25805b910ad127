"""The templates' ``{{ csrf_token }}`` (``{% csrf_token %}``, the header's forms, htmx's
``X-CSRFToken``): Django's ``get_token`` with its random strings drawn faster.

Django draws each of a token's random strings (the 32-character mask, and the secret
when the browser has no CSRF cookie yet) as 32 ``secrets.choice`` calls, one
``os.urandom`` each: about 85 µs a string, on every page. ``random_string`` reads the
same source (``os.urandom``) once for the whole string, each character uniform over
Django's alphabet: a byte at or above the largest multiple of the alphabet's length
(248 for 62 letters and digits) is dropped, the rest taken modulo 62 (as
``secrets.choice`` drops draws above its range). The token is Django's format: a mask
and the secret enciphered with it, which ``CsrfViewMiddleware`` checks as its own.

The template backend (``careplan.template_engine``) puts ``csrf`` here in place of
Django's context processor of the same name.
"""

from __future__ import annotations

import os
from operator import add

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.middleware.csrf import get_token as django_get_token
from django.utils.functional import SimpleLazyObject

_CHARS = CSRF_ALLOWED_CHARS
_N = len(_CHARS)
# A byte below _LIMIT (248) becomes the alphabet's character at its value modulo 62 (each
# equally likely); the bytes from _LIMIT up are dropped.
_LIMIT = 256 - 256 % _N
_TABLE = bytes(ord(_CHARS[b % _N]) if b < _LIMIT else 0 for b in range(256))
_DROP = bytes(range(_LIMIT, 256))
# A character's place in the alphabet (a byte 0..61), and a sum of two places (0..122)
# as the character at that sum modulo 62: Django's ``_mask_cipher_secret``, bytewise.
_PLACE = bytes.maketrans(_CHARS.encode(), bytes(range(_N)))
_SUM = bytes(ord(_CHARS[v % _N]) for v in range(2 * _N - 1)).ljust(256, b"\0")


def random_string(length: int = CSRF_SECRET_LENGTH) -> str:
    """``get_random_string(length, CSRF_ALLOWED_CHARS)`` from one ``os.urandom`` read
    (another on the rare draw with too many bytes dropped)."""
    out = b""
    while len(out) < length:
        out += os.urandom(length + 8).translate(_TABLE, _DROP)
    return out[:length].decode("ascii")


def get_token(request) -> str:
    """``django.middleware.csrf.get_token``: the request's CSRF secret (a new one, which
    the middleware then sets as the cookie, when it has none), masked afresh."""
    meta = request.META
    if "CSRF_COOKIE" in meta:
        secret = meta["CSRF_COOKIE"]
    else:
        secret = meta["CSRF_COOKIE"] = random_string()
    meta["CSRF_COOKIE_NEEDS_UPDATE"] = True
    if not (
        isinstance(secret, str)
        and len(secret) == CSRF_SECRET_LENGTH
        and secret.isascii()
        and secret.isalnum()
    ):
        return django_get_token(request)  # not a secret of Django's (the middleware checks it)
    mask = random_string()
    places = map(add, secret.encode().translate(_PLACE), mask.encode().translate(_PLACE))
    return mask + bytes(places).translate(_SUM).decode("ascii")


def csrf(request) -> dict:
    """``django.template.context_processors.csrf`` with this module's ``get_token``."""
    return {"csrf_token": SimpleLazyObject(lambda: get_token(request))}
