"""Celery tasks for rumours. Thin: a service call and a count."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import DatabaseError

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


@shared_task(
    name="rumours.deliver_webhook",
    ignore_result=True,
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
)
def deliver_webhook(delivery_id: int, **kwargs: Any) -> str:
    """Send one webhook delivery; the delivery row itself schedules its retries."""
    from rumours.webhooks import webhook_deliver

    delivery = webhook_deliver(delivery_id=delivery_id)
    return delivery.state if delivery else "skipped"


@shared_task(name="rumours.retry_webhooks", ignore_result=True, time_limit=120)
def retry_webhooks(**kwargs: Any) -> int:
    """Beat, every minute: enqueue the deliveries whose next attempt is due."""
    from rumours.webhooks import webhooks_due

    due = webhooks_due()
    for delivery_id in due:
        deliver_webhook.delay(delivery_id)
    return len(due)


# Idempotent work on a list of ids: acknowledged after it is done, retried with backoff
# when the database hiccups (a retry redoes nothing already done).
_IDEMPOTENT_BATCH: dict[str, Any] = {
    "ignore_result": True,
    "acks_late": True,
    "autoretry_for": (DatabaseError,),
    "retry_backoff": True,
    "retry_jitter": True,
    "max_retries": 3,
}


@shared_task(name="rumours.scan_entries", soft_time_limit=300, time_limit=360, **_IDEMPOTENT_BATCH)
def scan_entries(entry_ids: list[int], **kwargs: Any) -> int:
    """Run detection over new or changed entries (idempotent, so a retry or a duplicate is harmless)."""
    from rumours.mentions import mentions_scan

    summary = mentions_scan(entry_ids=entry_ids)
    logger.info(
        "scanned %d entries: %d in the inbox, %d deal candidates", summary.scanned, summary.flagged,
        summary.deal_candidates,
    )  # fmt: skip
    return summary.flagged


@shared_task(name="rumours.plan_digests", ignore_result=True, time_limit=300)
def plan_digests(**kwargs: Any) -> int:
    """Beat, every 15 minutes: mark dead workers' deliveries unknown, plan what is due, enqueue batches."""
    from django.conf import settings

    from rumours.digests.services import deliveries_plan, deliveries_sweep

    stale = deliveries_sweep()
    if stale:
        logger.warning("%d digest deliveries were left mid-send by a stopped worker; marked unknown", stale)
    ready = deliveries_plan()
    batch = settings.DIGEST_SEND_BATCH
    for start in range(0, len(ready), batch):
        send_digests.delay(ready[start : start + batch])
    return len(ready)


@shared_task(name="rumours.send_digests", soft_time_limit=600, time_limit=660, **_IDEMPOTENT_BATCH)
def send_digests(delivery_ids: list[int], **kwargs: Any) -> dict[str, int]:
    """Send planned deliveries; each is claimed first, so a duplicate or retried task sends nothing twice."""
    from rumours.digests.services import deliveries_send

    return deliveries_send(delivery_ids=delivery_ids)
