"""Writes for digests: subscriptions, planning deliveries, sending each at most once.

The lifecycle of a :class:`~rumours.models.DigestDelivery`:

1. :func:`deliveries_plan` (beat, every 15 minutes) creates one *planned* row per
   subscriber whose local send time has passed and whose latest period has none;
   the unique constraint makes a second planner (or a second tick) a no-op.
2. :func:`delivery_send` claims a row with a conditional UPDATE (planned → sending)
   and only the winner sends. A retried or duplicated task finds nothing to claim.
3. The mail goes out; the row becomes *sent* with its Message-ID. An SMTP error that
   means the message was not accepted puts it back to *planned* with a backoff
   (``DIGEST_MAX_ATTEMPTS``, then *failed*).
4. A worker killed between claim and record leaves the row *sending*; after
   :data:`STALE_AFTER` :func:`deliveries_sweep` marks it *unknown* if its Message-ID was
   recorded. It is never sent again, because the mail may have gone: at most once, not at
   least once. The rest of the killed batch (no Message-ID yet: never handed to the mail
   server) is planned again.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection, make_msgid
from django.db.models import F, Max, Prefetch, QuerySet
from django.utils import timezone

from rumours.digests.content import Digest, DigestRequest, Follows, digests_build
from rumours.digests.rendering import alert_message, digest_message
from rumours.digests.schedule import latest_period
from rumours.models import (
    Company,
    DeliveryKind,
    DigestDelivery,
    DigestFrequency,
    DigestState,
    StatusChange,
    Subscription,
)

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)
HISTORY_LOAD = timedelta(hours=1)
_BACKOFF = [timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2)]


def subscription_unsubscribe(*, subscription: Subscription) -> bool:
    """Stop every email to this subscriber. Idempotent; True if it was subscribed."""
    now = timezone.now()
    stopped = Subscription.objects.filter(pk=subscription.pk, is_active=True).update(
        is_active=False, unsubscribed_at=now, updated_at=now
    )
    # Whatever was planned and not yet claimed is not sent either.
    DigestDelivery.objects.filter(subscription=subscription, state=DigestState.PLANNED).update(
        state=DigestState.SKIPPED, last_error="Unsubscribed before sending."
    )
    return bool(stopped)


def subscriptions_live() -> QuerySet[Subscription]:
    return Subscription.objects.filter(is_active=True).prefetch_related(
        Prefetch("companies", queryset=Company.objects.only("pk"))
    )


# --- Planning -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedDigest:
    subscription: Subscription
    kind: str
    start: datetime
    end: datetime


def digests_due(
    *, now: datetime, subscriptions: Iterable[Subscription] | None = None, ad_hoc: bool = False
) -> list[PlannedDigest]:
    """The digest each subscriber is owed at ``now``: the latest period ending by then,
    starting where their last digest ended (never overlapping it), if not yet planned.

    ``ad_hoc`` makes ``now`` the end of the period (an operator's ``send_digests --now``).
    """
    subscriptions = list(subscriptions if subscriptions is not None else subscriptions_live())
    last_end = dict(
        DigestDelivery.objects.filter(subscription__in=subscriptions, status_change__isnull=True)
        .values("subscription_id")
        .annotate(last=Max("period_end"))
        .values_list("subscription_id", "last")
    )
    due = []
    for subscription in subscriptions:
        kind = DeliveryKind.WEEKLY if subscription.frequency == DigestFrequency.WEEKLY else DeliveryKind.DAILY
        period = latest_period(
            now=now,
            frequency=subscription.frequency,
            time_zone=subscription.time_zone,
            hour=subscription.send_hour,
            weekday=subscription.send_weekday,
        )
        end = now if ad_hoc else period.end
        start = max(period.start, last_end.get(subscription.pk) or period.start)
        if end <= start or subscription.created_at >= end:
            continue  # already covered, or subscribed after the period ended: the next one is theirs
        due.append(PlannedDigest(subscription, kind, start, end))
    return due


def deliveries_plan(
    *,
    now: datetime | None = None,
    digests: Sequence[PlannedDigest] | None = None,
    subscriptions: QuerySet[Subscription] | None = None,
) -> list[int]:
    """Create the planned rows (idempotent) and return the ids of the rows ready to send
    (all of them, or those of ``subscriptions``)."""
    now = now or timezone.now()
    digests = digests_due(now=now, subscriptions=subscriptions) if digests is None else digests
    DigestDelivery.objects.bulk_create(
        [
            DigestDelivery(
                subscription=d.subscription, kind=d.kind, period_start=d.start, period_end=d.end, next_attempt_at=now
            )
            for d in digests
        ],
        ignore_conflicts=True,
    )
    return deliveries_ready(now=now, subscriptions=subscriptions)


def deliveries_ready(*, now: datetime | None = None, subscriptions: QuerySet[Subscription] | None = None) -> list[int]:
    now = now or timezone.now()
    ready = DigestDelivery.objects.filter(state=DigestState.PLANNED, next_attempt_at__lte=now)
    if subscriptions is not None:
        ready = ready.filter(subscription__in=subscriptions)
    return list(ready.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:10_000])


def deliveries_sweep(*, now: datetime | None = None) -> int:
    """Settle rows a dead worker left in *sending*; returns how many became *unknown*.

    A row with its Message-ID recorded may have gone out: *unknown*, never resent. A row without
    one never reached the mail server (the id is recorded before a mail leaves): the rest of a
    killed worker's batch, planned again (until ``DIGEST_MAX_ATTEMPTS``).
    """
    now = now or timezone.now()
    stale = DigestDelivery.objects.filter(state=DigestState.SENDING, claimed_at__lt=now - STALE_AFTER)
    stale.filter(message_id="", attempts__lt=settings.DIGEST_MAX_ATTEMPTS).update(
        state=DigestState.PLANNED,
        claimed_at=None,
        next_attempt_at=now,
        last_error="The worker stopped before this delivery was sent; planned again.",
    )
    return stale.update(
        state=DigestState.UNKNOWN,
        last_error="The worker stopped between claiming and recording this delivery; not resent.",
    )


def alerts_plan(*, status_change_id: int) -> list[int]:
    """Plan an instant alert of one status change for each subscriber who wants alerts and follows it."""
    change = StatusChange.objects.select_related("rumour").filter(pk=status_change_id).first()
    if change is None or change.retracted_at is not None:
        return []
    if change.changed_at - change.recorded_at > HISTORY_LOAD:
        return []  # history typed in after the fact (recorded_at set in the past): not news to alert on
    parties = [
        (p.company_id, p.company.country, p.company.sector) for p in change.rumour.parties.select_related("company")
    ]
    wanted = [
        s
        for s in subscriptions_live().filter(instant_alerts=True)
        if change.rumour.credibility >= s.min_credibility and Follows.of(s).match(parties)
    ]
    now = timezone.now()
    DigestDelivery.objects.bulk_create(
        [
            DigestDelivery(
                subscription=subscriber,
                kind=DeliveryKind.ALERT,
                status_change=change,
                period_start=change.changed_at,
                period_end=change.changed_at,
                next_attempt_at=now,
            )
            for subscriber in wanted
        ],
        ignore_conflicts=True,
    )
    return list(
        DigestDelivery.objects.filter(status_change=change, state=DigestState.PLANNED).values_list("pk", flat=True)
    )


# --- Sending ------------------------------------------------------------------------------------


def deliveries_send(*, delivery_ids: Sequence[int], now: datetime | None = None) -> dict[str, int]:
    """Send a batch over one connection; returns how many ended in each state."""
    claimed = _claim(delivery_ids, now=now or timezone.now())
    outcome: dict[str, int] = {}
    if not claimed:
        return outcome
    try:
        return _send_claimed(claimed, outcome)
    except Exception:
        # Nothing of this batch left yet (no mail is sent before everything is built, and each
        # sent one is recorded at once): hand back what is still only claimed, for the retry.
        DigestDelivery.objects.filter(pk__in=claimed, state=DigestState.SENDING, message_id="").update(
            state=DigestState.PLANNED, claimed_at=None
        )
        raise


def _send_claimed(claimed: list[int], outcome: dict[str, int]) -> dict[str, int]:
    deliveries = list(
        DigestDelivery.objects.filter(pk__in=claimed)
        .select_related("subscription", "status_change__rumour", "status_change__evidence_source")
        .select_related("status_change__evidence_quote")
        .prefetch_related("subscription__companies")
        .order_by("pk")
    )
    digests = {
        d.pk: digest
        for d, digest in zip(
            [d for d in deliveries if d.kind != DeliveryKind.ALERT],
            digests_build(
                [
                    DigestRequest(d.subscription, d.kind, d.period_start, d.period_end)
                    for d in deliveries
                    if d.kind != DeliveryKind.ALERT
                ]
            ),
            strict=True,
        )
    }
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as exc:
        for delivery in deliveries:
            state = _failed(delivery, exc)
            outcome[state] = outcome.get(state, 0) + 1
        return outcome
    try:
        for delivery in deliveries:
            state = _send_one(delivery, digests.get(delivery.pk), connection)
            outcome[state] = outcome.get(state, 0) + 1
    finally:
        connection.close()
    return outcome


def _claim(delivery_ids: Sequence[int], *, now: datetime) -> list[int]:
    claimed = []
    for pk in delivery_ids:
        # One row at a time: the conditional UPDATE is the lock. A duplicate task's UPDATE matches nothing.
        if DigestDelivery.objects.filter(pk=pk, state=DigestState.PLANNED, next_attempt_at__lte=now).update(
            state=DigestState.SENDING, claimed_at=now, attempts=F("attempts") + 1
        ):
            claimed.append(pk)
    return claimed


def _send_one(delivery: DigestDelivery, digest: Digest | None, connection: Any) -> str:
    subscription = delivery.subscription
    if not subscription.is_active:
        return _record(delivery, DigestState.SKIPPED, error="Unsubscribed before sending.")
    if digest is not None and digest.is_empty and subscription.skip_empty:
        return _record(delivery, DigestState.SKIPPED, error="Nothing new, and the subscriber skips empty digests.")
    message_id = make_msgid(domain="digests.rumours.local")
    if digest is not None:
        message = digest_message(digest, message_id=message_id)
    else:
        assert delivery.status_change is not None
        message = alert_message(subscription, delivery.status_change, message_id=message_id)
    # Rendered: the id is recorded just before the mail leaves, so even an *unknown* row names its message.
    DigestDelivery.objects.filter(pk=delivery.pk).update(message_id=message_id)
    message.connection = connection
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        return _failed(delivery, exc)
    return _record(delivery, DigestState.SENT, subject=str(message.subject), sent=True)


def _failed(delivery: DigestDelivery, exc: Exception) -> str:
    """Not accepted by the mail server: try again later (with backoff), or give up."""
    permanent = isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600
    attempts = DigestDelivery.objects.filter(pk=delivery.pk).values_list("attempts", flat=True).first() or 0
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if permanent or attempts >= settings.DIGEST_MAX_ATTEMPTS:
        logger.warning("digest delivery %s failed for good: %s", delivery.pk, error)
        return _record(delivery, DigestState.FAILED, error=error)
    wait = _BACKOFF[min(attempts - 1, len(_BACKOFF) - 1)]
    DigestDelivery.objects.filter(pk=delivery.pk, state=DigestState.SENDING).update(
        state=DigestState.PLANNED, next_attempt_at=timezone.now() + wait, last_error=error, claimed_at=None
    )
    logger.info("digest delivery %s not accepted (%s); retrying in %s", delivery.pk, error, wait)
    return DigestState.PLANNED


def _record(delivery: DigestDelivery, state: str, *, error: str = "", subject: str = "", sent: bool = False) -> str:
    DigestDelivery.objects.filter(pk=delivery.pk, state=DigestState.SENDING).update(
        state=state, last_error=error, subject=subject[:300], sent_at=timezone.now() if sent else None
    )
    return state


def digest_preview(*, subscription: Subscription, now: datetime | None = None) -> Digest:
    """The subscriber's next digest as it stands now: from where their last one ended until now."""
    now = now or timezone.now()
    planned = digests_due(now=now, subscriptions=[subscription], ad_hoc=True)
    if planned:
        start, end, kind = planned[0].start, planned[0].end, planned[0].kind
    else:
        start, end = now - timedelta(days=1), now
        kind = DeliveryKind.WEEKLY if subscription.frequency == DigestFrequency.WEEKLY else DeliveryKind.DAILY
    return digests_build([DigestRequest(subscription, kind, start, end)])[0]
