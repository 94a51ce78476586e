"""Log formatting and the secrets filter.

``DJANGO_LOG_FORMAT=json`` (the production default) writes one JSON object per line,
for a log shipper: ``time``, ``level``, ``logger``, ``message``, the process and,
where they were given, the record's extras (``feed_id``, ``task_id``, …).
``plain`` is for a terminal. Every handler runs :class:`RedactSecrets` first, so an
API key, a password in a URL or an ``Authorization`` header never reaches a log line,
whichever format is used.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"

_URL_PASSWORD = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.\-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@", re.I)
_HEADER = re.compile(r"(?P<name>\b(?:authorization|cookie|x-api-key)\b[\"']?\s*[:=]\s*[\"']?)[^\"',;\n]+", re.I)
_NAMED = re.compile(
    r"(?P<name>\b(?:password|passwd|secret|token|api_key|apikey|sessionid|csrftoken)\b[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"',;&]+",
    re.I,
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bsrt_[A-Za-z0-9_\-]{8,}"), REDACTED),  # API keys as rumours.api.auth issues them
    (_URL_PASSWORD, r"\g<scheme>\g<user>:" + REDACTED + "@"),  # user:password@ in any URL
    (_HEADER, r"\g<name>" + REDACTED),  # Authorization / Cookie headers
    (_NAMED, r"\g<name>" + REDACTED),  # password=…, token: …
]


def redact(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites the record's message (arguments merged in) and its traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonLines(JsonFormatter):
    """One JSON object per record, with stable key names."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger", "processName": "process_name"})
        super().__init__("%(levelname)s %(name)s %(message)s %(process)d %(processName)s", *args, **kwargs)

    def formatException(self, ei: Any) -> str:
        formatted = super().formatException(ei)
        return redact(formatted if isinstance(formatted, str) else "\n".join(formatted))
