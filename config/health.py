"""Health endpoints for load balancers and monitoring.

* ``/health/live/``: the process answers (no dependencies): for a liveness probe.
* ``/health/``: the dependencies. ``database`` and ``broker`` failing make it 503 (take
  this instance out of rotation); a stale ``beat`` heartbeat (no dispatcher tick for
  ``HEALTH_BEAT_STALE_SECONDS``) or a queue deeper than ``HEALTH_QUEUE_WARN`` makes it
  "degraded" with 200: the web still serves, an operator should look.

No secrets and no personal data are in the answer; it needs no login.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

QUEUES = ("default", "polling", "detection", "email")


@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, Any]] = {
        "database": _timed(_database),
        "broker": _timed(_broker),
        "beat": _beat(),
    }
    failing = not checks["database"]["ok"] or not checks["broker"]["ok"]
    depths = checks["broker"].get("queues", {})
    deep = any((depth or 0) > settings.HEALTH_QUEUE_WARN for depth in depths.values())
    status = "failing" if failing else "degraded" if deep or not checks["beat"]["ok"] else "ok"
    return JsonResponse({"status": status, "checks": checks}, status=503 if failing else 200)


def _timed(check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result: dict[str, Any] = {"ok": True, **check()}
    except Exception as exc:  # any failure is the answer here, not a crash
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _broker() -> dict[str, Any]:
    return {"queues": queue_depths()}


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each of our queues (raises if the broker cannot be reached)."""
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        channel = conn.default_channel
        depths: dict[str, int | None] = {}
        for name in QUEUES:
            try:
                depths[name] = channel.queue_declare(queue=name, passive=True).message_count  # type: ignore[attr-defined]
            except Exception:  # a queue nothing was ever sent to does not exist yet
                depths[name] = 0
    return depths


def _beat() -> dict[str, Any]:
    from tracker.models import Heartbeat

    beat = Heartbeat.objects.filter(name="beat").first()
    if beat is None:
        return {"ok": False, "last_tick": None, "error": "no dispatcher tick recorded yet"}
    age = (timezone.now() - beat.at).total_seconds()
    stale = timedelta(seconds=age) > timedelta(seconds=settings.HEALTH_BEAT_STALE_SECONDS)
    return {"ok": not stale, "last_tick": beat.at.isoformat(), "age_seconds": round(age)}
