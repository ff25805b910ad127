"""Logging filter that keeps personnummer out of every log line."""

import logging
import re

_PNR = re.compile(r"(?<!\d)(\d{2})?\d{6}[-+]?\d{4}(?!\d)")


class RedactPersonnummerFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _PNR.sub("[personnummer]", message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True
