"""One JSON shape for every API error, with a message a person can act on::

{"error": {"status": 429, "code": "throttled", "message": "…", "details": {…}}}
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler


class BodyTooLargeError(exceptions.APIException):
    status_code = 413
    default_code = "too_large"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):  # Django refused to read the body
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = BodyTooLargeError(f"The request body is over the {limit:,} byte limit.")
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 handling and logging take over
    detail = exc.detail if isinstance(exc, exceptions.APIException) else response.data
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if isinstance(detail, dict | list):
        message = "The request has invalid parameters; see details."
        details: Any = detail
        code = "invalid"
    else:
        message, details = str(detail), None
    if isinstance(exc, exceptions.NotAuthenticated):
        message = "Send an API key in the Authorization header: `Bearer srt_…` (see /api/docs/)."
    wait = getattr(exc, "wait", None)  # set by DRF on Throttled
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        message = f"Too many requests for this key; retry in {int(wait) + 1} s (see Retry-After)."
    response.data = {"error": {"status": response.status_code, "code": code, "message": message, "details": details}}
    return response
