"""Request-body parsing: DRF's, with deep nesting refused as a client error.

Python's JSON parser recurses once per nesting level, so a body of ten thousand ``[``
raises ``RecursionError``: a server error unless it is turned into a 400 here. Bodies
over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` never get this far: Django refuses to read them
(``RequestDataTooBig``) and :mod:`rumours.api.errors` answers 413.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested more deeply than any request needs.") from None
