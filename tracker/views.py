"""Serves the bundled demo feeds (only when ``TRACKER_SERVE_DEMO_FEEDS`` is on)."""

from __future__ import annotations

import hashlib

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import condition, require_safe

from tracker.demo import demo_feed_named


def _demo_bytes(name: str) -> bytes:
    demo = demo_feed_named(name)
    if demo is None or not demo.path.is_file():
        raise Http404("No such demo feed.")
    return demo.path.read_bytes()


def _etag(request: HttpRequest, name: str) -> str:
    return hashlib.sha256(_demo_bytes(name)).hexdigest()[:32]


@require_safe
@condition(etag_func=_etag)
def demo_feed(request: HttpRequest, name: str) -> HttpResponse:
    # The XML declaration inside each file names its encoding (EUC-KR, Shift_JIS, …).
    return HttpResponse(_demo_bytes(name), content_type="application/xml")
