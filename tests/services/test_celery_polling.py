"""Polling through a real Celery worker on Redis and PostgreSQL."""

from __future__ import annotations

import pytest
from django.db.models import Count

from tests.feedbuilder import items, rss
from tests.services.conftest import wait_for
from tracker.models import Entry, Feed, PollLog
from tracker.services import feed_create, feeds_claim
from tracker.tasks import dispatch_due_feeds, poll_feed

pytestmark = pytest.mark.service

FEEDS = 6
ENTRIES = 12


def serve_feeds(feed_server) -> list[Feed]:
    feeds = []
    for n in range(FEEDS):
        url = feed_server.add(f"/svc/{n}.xml", body=rss(items(ENTRIES, prefix=f"feed{n}")), etag=f'"v{n}"')
        feeds.append(feed_create(url=url)[0])
    return feeds


def polls_done(expected: int) -> bool:
    return PollLog.objects.count() >= expected


def test_it_polls_due_feeds_through_the_dispatcher(celery_worker_process, feed_server):
    # given
    feeds = serve_feeds(feed_server)

    # when: beat's tick, enqueued on Redis, runs in the worker
    dispatch_due_feeds.delay()
    wait_for(lambda: polls_done(FEEDS), timeout=60, message=f"{FEEDS} polls\n{celery_worker_process.output()}")

    # then
    assert Entry.objects.count() == FEEDS * ENTRIES
    for feed in Feed.objects.filter(pk__in=[f.pk for f in feeds]):
        assert feed.last_success_at is not None, feed.last_error
        assert feed.etag == f'"v{feeds.index(feed)}"'
        assert feed.lease_token is None
        assert feed.last_polled_at is not None
        assert feed.next_poll_at > feed.last_polled_at


def test_it_stores_nothing_twice_when_poll_tasks_are_duplicated(celery_worker_process, feed_server):
    # given: every feed claimed once, and its poll task sent three times
    feeds = serve_feeds(feed_server)
    claims = feeds_claim(feed_ids=[f.pk for f in feeds])
    assert len(claims) == FEEDS

    # when
    for claim in claims:
        for _ in range(3):
            poll_feed.delay(claim.feed_id, str(claim.token))
    wait_for(lambda: polls_done(FEEDS), timeout=60, message="the polls")
    # give the duplicates time to arrive and be skipped
    wait_for(lambda: celery_worker_process.output().count("succeeded") >= FEEDS * 3, timeout=60, message="all tasks")

    # then: each feed fetched once, every entry stored once
    assert Entry.objects.count() == FEEDS * ENTRIES
    assert not Entry.objects.values("feed", "identity_key").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert PollLog.objects.count() == FEEDS
    for n in range(FEEDS):
        assert len(feed_server.requests_to(f"/svc/{n}.xml")) == 1


def test_it_polls_each_feed_once_when_two_dispatchers_tick_together(celery_worker_process, feed_server):
    # given
    serve_feeds(feed_server)

    # when: two beats (by mistake) tick at the same moment
    dispatch_due_feeds.delay()
    dispatch_due_feeds.delay()
    wait_for(lambda: polls_done(FEEDS), timeout=60, message="the polls")
    wait_for(lambda: celery_worker_process.output().count("dispatch_due_feeds") >= 4, timeout=30, message="both ticks")

    # then
    assert PollLog.objects.count() == FEEDS
    assert Entry.objects.count() == FEEDS * ENTRIES
    for n in range(FEEDS):
        assert len(feed_server.requests_to(f"/svc/{n}.xml")) == 1
