"""The API's JSON parser: DRF's, with the limits a public endpoint needs.

``json.loads`` of a body nested 100 000 levels deep raises ``RecursionError`` (a 500
in DRF's parser), and a ``\\u0000`` in a string parses fine but cannot be stored by
PostgreSQL (another 500). Both are a 400 with a clear message here.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

#: Deeper than any request of this API needs (questionnaire answers are two levels).
MAX_DEPTH = 32


def _check(data) -> None:
    """Walk the parsed body without recursion: depth and NUL characters."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise ParseError(
                    _(
                        "The request contains an invisible control character (NUL, "
                        "\\u0000) that cannot be stored. Remove it and send again."
                    )
                )
            continue
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ParseError(
                    _("The JSON is nested deeper than %(max)s levels.") % {"max": MAX_DEPTH}
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                stack.append((key, depth))
                stack.append((item, depth + 1))


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                _("The JSON is nested deeper than %(max)s levels.") % {"max": MAX_DEPTH}
            ) from None
        _check(data)
        return data
