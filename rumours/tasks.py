"""Celery tasks for rumours. Thin: a service call and a count."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from rumours import services

logger = logging.getLogger(__name__)


@shared_task(name="rumours.expire_stale_rumours", ignore_result=True, time_limit=600)
def expire_stale_rumours(**kwargs: Any) -> int:
    """Beat, daily: expire open rumours without new evidence for RUMOURS_EXPIRE_AFTER_DAYS, then
    re-score the live ones (credibility has an age part)."""
    expired = services.rumours_expire_stale()
    if expired:
        logger.info("expired %d stale rumour(s): %s", len(expired), ", ".join(r.title for r in expired))
    rescored = services.rumours_refresh_credibility()
    logger.info("re-scored %d live rumour(s)", rescored)
    return len(expired)
