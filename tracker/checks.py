"""System checks for the tracker's settings: bad configuration fails at start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string


@register(Tags.compatibility)
def check_tracker_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    positive = [
        "TRACKER_MAX_BODY_BYTES", "TRACKER_CONNECT_TIMEOUT", "TRACKER_READ_TIMEOUT",
        "TRACKER_TOTAL_TIMEOUT", "TRACKER_MIN_INTERVAL", "TRACKER_MAX_INTERVAL",
        "TRACKER_LEASE_SECONDS", "TRACKER_DISPATCH_BATCH", "TRACKER_DISABLE_AFTER_DAYS",
    ]  # fmt: skip
    for name in positive:
        if getattr(settings, name) <= 0:
            problems.append(Error(f"{name} must be greater than zero.", id="tracker.E001"))
    if settings.TRACKER_MIN_INTERVAL > settings.TRACKER_MAX_INTERVAL:
        problems.append(
            Error(
                "TRACKER_MIN_INTERVAL is larger than TRACKER_MAX_INTERVAL.",
                hint="The poll interval adapts between the two; the floor must not exceed the ceiling.",
                id="tracker.E002",
            )
        )
    # The poll task's hard time limit is TRACKER_TOTAL_TIMEOUT + 90 s (tracker/tasks.py).
    if settings.TRACKER_LEASE_SECONDS <= settings.TRACKER_TOTAL_TIMEOUT + 120:
        problems.append(
            Error(
                "TRACKER_LEASE_SECONDS must exceed TRACKER_TOTAL_TIMEOUT by more than two minutes.",
                hint="A lease shorter than a poll would let a second poll of the same feed start.",
                id="tracker.E003",
            )
        )
    if settings.TRACKER_MAX_REDIRECTS < 0:
        problems.append(Error("TRACKER_MAX_REDIRECTS cannot be negative.", id="tracker.E004"))
    try:
        import_string(settings.TRACKER_ENTRIES_HANDLER)
    except ImportError as exc:
        problems.append(Error(f"TRACKER_ENTRIES_HANDLER cannot be imported: {exc}", id="tracker.E005"))
    if settings.TRACKER_ALLOW_PRIVATE_ADDRESSES and not settings.DEBUG:
        problems.append(
            Warning(
                "TRACKER_ALLOW_PRIVATE_ADDRESSES is on outside DEBUG.",
                hint="Feeds can then reach loopback and internal addresses (SSRF). Use it only for tests and demos.",
                id="tracker.W001",
            )
        )
    return problems
