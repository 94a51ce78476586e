"""``/metrics``: Prometheus text format, for an operator's scraper.

Two kinds of figures:

* **Per web process**, from django-prometheus's middleware: requests, latencies and
  responses by view and status (``django_http_*``). Under gunicorn with several workers
  ``deploy/gunicorn.conf.py`` sets ``PROMETHEUS_MULTIPROC_DIR`` so a scrape sums
  them all.
* **The system's state**, read at scrape time from PostgreSQL and the broker, so they are
  the same whichever process or machine answers: feeds by state and how many are
  overdue, polls in the last ``METRICS_WINDOW_SECONDS`` by outcome with their duration,
  new entries, the inbox backlog, digest and webhook backlogs, Celery queue depths and the
  beat's last tick. Every query is an indexed aggregate or a planner estimate: a scrape
  never counts a big table.

Access: a bearer token (``METRICS_TOKEN``) is required when set; without one the
endpoint answers only with ``DEBUG`` on (the embedded set-up) and is a 404 otherwise.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import prometheus_client
from django.conf import settings
from django.db import connection
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from config import health


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            return HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
    elif not settings.DEBUG:
        raise Http404("Metrics are off: set METRICS_TOKEN.")
    body = prometheus_client.generate_latest(_process_registry()) + prometheus_client.generate_latest(_SYSTEM)
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)


def _process_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return prometheus_client.REGISTRY


class SystemCollector(Collector):
    """Gauges computed per scrape from the database and the broker."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._feeds()
        yield from self._polls()
        yield from self._backlogs()
        yield from self._queues()

    def _feeds(self) -> Iterator[GaugeMetricFamily]:
        from tracker.models import Feed, Heartbeat

        now = timezone.now()
        active = Q(is_paused=False, disabled_at__isnull=True)
        counts = Feed.objects.aggregate(
            active=Count("pk", filter=active),
            paused=Count("pk", filter=Q(is_paused=True)),
            disabled=Count("pk", filter=Q(disabled_at__isnull=False, is_paused=False)),
            due=Count("pk", filter=active & Q(next_poll_at__lte=now)),
            overdue=Count("pk", filter=active & Q(next_poll_at__lte=now - timedelta(minutes=10))),
        )
        feeds = GaugeMetricFamily("tracker_feeds", "Feeds by state.", labels=["state"])
        for state in ("active", "paused", "disabled"):
            feeds.add_metric([state], counts[state])
        yield feeds
        yield GaugeMetricFamily("tracker_feeds_due", "Active feeds due for a poll now.", value=counts["due"])
        yield GaugeMetricFamily(
            "tracker_feeds_overdue",
            "Active feeds due for more than 10 minutes: polling is falling behind.",
            value=counts["overdue"],
        )
        beat = Heartbeat.objects.filter(name="beat").values_list("at", flat=True).first()
        yield GaugeMetricFamily(
            "tracker_beat_last_tick_timestamp_seconds",
            "When the dispatcher last ticked (Unix time; 0 if never).",
            value=beat.timestamp() if beat else 0,
        )
        yield GaugeMetricFamily(
            "tracker_entries_estimate", "Stored entries (the planner's estimate on PostgreSQL).", value=_entries()
        )

    def _polls(self) -> Iterator[GaugeMetricFamily]:
        from tracker.models import PollLog

        window = settings.METRICS_WINDOW_SECONDS
        rows = (
            PollLog.objects.filter(started_at__gte=timezone.now() - timedelta(seconds=window))
            .values("outcome")
            .annotate(polls=Count("pk"), new=Sum("entries_new"), duration=Avg("duration_ms"))
        )
        polls = GaugeMetricFamily(
            "tracker_polls_recent", f"Polls started in the last {window} s, by outcome.", labels=["outcome"]
        )
        duration = GaugeMetricFamily(
            "tracker_poll_duration_seconds_recent", f"Mean poll duration over the last {window} s.", labels=["outcome"]
        )
        new_entries = 0
        for row in rows:
            polls.add_metric([row["outcome"]], row["polls"])
            duration.add_metric([row["outcome"]], (row["duration"] or 0) / 1000)
            new_entries += row["new"] or 0
        yield polls
        yield duration
        yield GaugeMetricFamily(
            "tracker_entries_new_recent", f"New entries stored in the last {window} s.", value=new_entries
        )

    def _backlogs(self) -> Iterator[GaugeMetricFamily]:
        from rumours.models import DeliveryState, DigestDelivery, DigestState, Mention, MentionState, WebhookDelivery

        yield GaugeMetricFamily(
            "rumours_inbox_deal_news",
            "Deal-news mentions waiting in the analysts' inbox.",
            value=Mention.objects.filter(state=MentionState.NEW, is_deal_candidate=True).count(),
        )
        yield _by_state(
            "rumours_digest_deliveries",
            "Digest and alert emails not yet settled, by state.",
            DigestDelivery.objects.all(),
            [DigestState.PLANNED, DigestState.SENDING, DigestState.FAILED, DigestState.UNKNOWN],
        )
        yield _by_state(
            "rumours_webhook_deliveries",
            "Webhook deliveries not yet settled, by state.",
            WebhookDelivery.objects.all(),
            [DeliveryState.PENDING, DeliveryState.FAILED],
        )

    def _queues(self) -> Iterator[GaugeMetricFamily]:
        queues = GaugeMetricFamily("celery_queue_length", "Messages waiting in each Celery queue.", labels=["queue"])
        up = 1
        try:
            depths = health.queue_depths()
        except Exception:  # the broker is down: say so, and still answer the rest
            depths, up = {}, 0
        for name, depth in depths.items():
            queues.add_metric([name], depth or 0)
        yield queues
        yield GaugeMetricFamily("celery_broker_up", "1 if the broker answered this scrape.", value=up)


def _by_state(name: str, documentation: str, rows: QuerySet[Any], states: list[str]) -> GaugeMetricFamily:
    """A gauge of ``rows`` per state, with 0 for a state that has none (so it is always there)."""
    found = dict(rows.filter(state__in=states).values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    gauge = GaugeMetricFamily(name, documentation, labels=["state"])
    for state in states:
        gauge.add_metric([state], found.get(state, 0))
    return gauge


def _entries() -> float:
    from tracker.models import Entry

    table = Entry._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            row = cursor.fetchone()
        if row and row[0] >= 0:  # -1 until the table is first analysed
            return float(row[0])
    return float(Entry.objects.count())


_SYSTEM = CollectorRegistry()  # no auto-describe: registering must not query the database
_SYSTEM.register(SystemCollector())
