"""Celery tasks for polling. Thin: ids in, a service call, nothing returned that matters."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from tracker import retention, services

logger = logging.getLogger(__name__)


@shared_task(name="tracker.dispatch_due_feeds", ignore_result=True, soft_time_limit=50, time_limit=60)
def dispatch_due_feeds(**kwargs: Any) -> int:
    """Beat's tick: claim due feeds and enqueue one poll task per feed.

    A claim that is never enqueued (the broker went away mid-loop) expires with its
    lease and the feed is claimed again, so nothing is lost.
    """
    services.heartbeat_record(name="beat")  # health checks read it: beat and a default-queue worker are alive
    claims = services.feeds_claim_due()
    for claim in claims:
        poll_feed.delay(claim.feed_id, str(claim.token))
    if claims:
        logger.info("dispatched %d feed(s)", len(claims))
    return len(claims)


@shared_task(
    name="tracker.poll_feed",
    ignore_result=True,
    acks_late=True,
    # A lost database connection or lock timeout: feed_poll has handed the claim back,
    # so the retry (same arguments) can take it. Feed errors are not retried here:
    # they are recorded and rescheduled by the feed's own backoff.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=15,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=int(settings.TRACKER_TOTAL_TIMEOUT) + 60,
    time_limit=int(settings.TRACKER_TOTAL_TIMEOUT) + 90,
)
def poll_feed(feed_id: int, claim_token: str, **kwargs: Any) -> str:
    """Poll one claimed feed. Safe to run twice: the second run finds the claim taken."""
    report = services.feed_poll(feed_id=feed_id, claim_token=uuid.UUID(claim_token))
    return report.outcome


@shared_task(name="tracker.prune_poll_logs", ignore_result=True, time_limit=600)
def prune_poll_logs(**kwargs: Any) -> int:
    return services.poll_logs_prune()


@shared_task(name="tracker.prune_entries", ignore_result=True, soft_time_limit=3300, time_limit=3600)
def prune_entries(**kwargs: Any) -> int:
    """Nightly entry retention (tracker.retention). Each batch commits on its own, so a
    run cut short by the time limit keeps what it deleted and the next run goes on."""
    return retention.entries_prune().deleted
