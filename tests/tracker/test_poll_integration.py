"""The poll path end to end against a real local HTTP server."""

from __future__ import annotations

import pytest

from tests.feedbuilder import items, rss
from tracker.models import Entry, Feed, PollLog
from tracker.services import feed_create, feed_poll, feeds_claim

pytestmark = pytest.mark.django_db


def poll(feed: Feed):
    (claim,) = feeds_claim(feed_ids=[feed.pk])
    return feed_poll(feed_id=feed.pk, claim_token=claim.token)


def test_it_stores_entries_and_hands_them_off(feed_server, handed_off, django_capture_on_commit_callbacks):
    url = feed_server.add("/feed.xml", body=rss(items(5)))
    feed, _ = feed_create(url=url)

    with django_capture_on_commit_callbacks(execute=True):
        report = poll(feed)

    assert report.outcome == "fetched"
    assert report.entries_new == 5
    assert Entry.objects.filter(feed=feed).count() == 5
    stored_ids = sorted(Entry.objects.filter(feed=feed).values_list("pk", flat=True))
    assert [(c["feed_id"], sorted(c["new"]), c["changed"]) for c in handed_off] == [(feed.pk, stored_ids, [])]
    feed.refresh_from_db()
    assert feed.title == "Test feed"
    assert feed.last_status_code == 200
    assert feed.lease_token is None
    log = PollLog.objects.get(feed=feed)
    assert (log.outcome, log.entries_new, log.status_code) == ("fetched", 5, 200)
    assert log.bytes_received > 0
