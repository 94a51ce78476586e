"""Claiming feeds for polling (tracker.services): leases, duplicates, pause/resume, giving up."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.feedbuilder import items, rss
from tracker.models import Feed, PollLog
from tracker.services import (
    feed_create,
    feed_pause,
    feed_poll,
    feed_resume,
    feeds_claim,
    feeds_claim_due,
)

pytestmark = pytest.mark.django_db


def make_feed(name: str, *, due_in: timedelta = timedelta(0), **fields) -> Feed:
    feed, _ = feed_create(url=f"https://{name}.example/feed", title=name)
    Feed.objects.filter(pk=feed.pk).update(next_poll_at=timezone.now() + due_in, **fields)
    feed.refresh_from_db()
    return feed


def claimed_ids(claims) -> list[int]:
    return [claim.feed_id for claim in claims]


# --- Which feeds are claimed ----------------------------------------------------------


def test_it_claims_only_due_active_feeds():
    due = make_feed("due", due_in=-timedelta(minutes=5))
    make_feed("paused", due_in=-timedelta(hours=1), is_paused=True)
    make_feed("disabled", due_in=-timedelta(hours=1), disabled_at=timezone.now())
    make_feed("future", due_in=timedelta(minutes=5))

    claims = feeds_claim_due()

    assert claimed_ids(claims) == [due.pk]


def test_it_claims_the_most_overdue_feeds_first_up_to_the_limit():
    newest = make_feed("newest", due_in=-timedelta(minutes=1))
    oldest = make_feed("oldest", due_in=-timedelta(hours=3))
    middle = make_feed("middle", due_in=-timedelta(hours=2))

    first = feeds_claim_due(limit=2)
    second = feeds_claim_due(limit=2)

    assert sorted(claimed_ids(first)) == sorted([oldest.pk, middle.pk])
    assert claimed_ids(second) == [newest.pk]


def test_it_returns_claims_in_due_order():
    # titles sort against the due order
    a_newest = make_feed("a-newest", due_in=-timedelta(minutes=1))
    b_middle = make_feed("b-middle", due_in=-timedelta(hours=2))
    c_oldest = make_feed("c-oldest", due_in=-timedelta(hours=3))

    claims = feeds_claim_due()

    assert claimed_ids(claims) == [c_oldest.pk, b_middle.pk, a_newest.pk]


def test_it_gives_each_claim_of_one_dispatch_the_same_token():
    make_feed("one", due_in=-timedelta(minutes=2))
    make_feed("two", due_in=-timedelta(minutes=1))

    claims = feeds_claim_due()

    assert len(claims) == 2
    assert len({claim.token for claim in claims}) == 1
    assert set(Feed.objects.values_list("lease_token", flat=True)) == {claims[0].token}


def test_it_does_not_hand_a_claimed_feed_to_a_second_dispatcher():
    feed = make_feed("contested", due_in=-timedelta(minutes=1))

    first = feeds_claim_due()
    second = feeds_claim_due()
    poll_now = feeds_claim(feed_ids=[feed.pk])

    assert claimed_ids(first) == [feed.pk]
    assert second == []
    assert poll_now == []


def test_it_advances_next_poll_at_when_claiming(settings):
    feed = make_feed("advanced", due_in=-timedelta(minutes=1))
    before = timezone.now()

    feeds_claim_due()

    feed.refresh_from_db()
    assert feed.lease_until == feed.next_poll_at
    assert before + timedelta(seconds=settings.TRACKER_LEASE_SECONDS) <= feed.next_poll_at
    assert feed.next_poll_at <= timezone.now() + timedelta(seconds=settings.TRACKER_LEASE_SECONDS)
    assert not feed.is_due()


def test_it_claims_a_feed_again_after_its_lease_expires(settings):
    feed = make_feed("expired", due_in=-timedelta(minutes=1))
    (stale,) = feeds_claim_due()

    # when the lease runs out without the poll ever happening
    later = timezone.now() + timedelta(seconds=settings.TRACKER_LEASE_SECONDS + 1)
    (fresh,) = feeds_claim_due(now=later)

    # then a new claim replaces the old one, and the old one is worthless
    assert fresh.feed_id == feed.pk
    assert fresh.token != stale.token
    assert feed_poll(feed_id=feed.pk, claim_token=stale.token).skipped is True


def test_it_claims_for_poll_now_once_the_lease_is_in_the_past():
    feed = make_feed("poll-now", due_in=-timedelta(minutes=1))
    feeds_claim_due()
    Feed.objects.filter(pk=feed.pk).update(lease_until=timezone.now() - timedelta(seconds=1))

    claims = feeds_claim(feed_ids=[feed.pk])

    assert claimed_ids(claims) == [feed.pk]


# --- Polling with a claim -------------------------------------------------------------


def test_it_skips_a_poll_with_a_foreign_token(feed_server):
    feed, _ = feed_create(url=feed_server.add("/feed.xml", body=rss(items(2))))
    (claim,) = feeds_claim(feed_ids=[feed.pk])

    report = feed_poll(feed_id=feed.pk, claim_token=uuid.uuid4())

    assert (report.skipped, report.outcome, report.entries_new) == (True, "skipped", 0)
    assert feed_server.requests_to("/feed.xml") == []
    assert not PollLog.objects.exists()
    feed.refresh_from_db()
    assert feed.lease_token == claim.token


def test_it_polls_only_once_with_one_claim(feed_server):
    feed, _ = feed_create(url=feed_server.add("/feed.xml", body=rss(items(2))))
    (claim,) = feeds_claim(feed_ids=[feed.pk])

    first = feed_poll(feed_id=feed.pk, claim_token=claim.token)
    second = feed_poll(feed_id=feed.pk, claim_token=claim.token)

    assert (first.skipped, first.outcome, first.entries_new) == (False, "fetched", 2)
    assert (second.skipped, second.outcome) == (True, "skipped")
    assert len(feed_server.requests_to("/feed.xml")) == 1
    assert PollLog.objects.filter(feed=feed).count() == 1
    feed.refresh_from_db()
    assert (feed.lease_token, feed.lease_until) == (None, None)


def test_it_reschedules_after_a_poll(feed_server, settings):
    feed, _ = feed_create(url=feed_server.add("/feed.xml", body=rss(items(2))))
    (claim,) = feeds_claim(feed_ids=[feed.pk])

    feed_poll(feed_id=feed.pk, claim_token=claim.token)

    feed.refresh_from_db()
    assert settings.TRACKER_MIN_INTERVAL * 0.9 <= feed.poll_interval <= settings.TRACKER_MAX_INTERVAL * 1.1
    assert feed.next_poll_at > timezone.now()
    assert feeds_claim_due() == []


# --- Pause and resume -----------------------------------------------------------------


def test_it_pauses_feeds_so_they_are_not_claimed():
    feed = make_feed("paused", due_in=-timedelta(minutes=1))
    other = make_feed("running", due_in=-timedelta(minutes=1))

    paused = feed_pause(feed_ids=[feed.pk])
    paused_again = feed_pause(feed_ids=[feed.pk])

    assert (paused, paused_again) == (1, 0)
    assert claimed_ids(feeds_claim_due()) == [other.pk]
    feed.refresh_from_db()
    assert (feed.is_paused, feed.health) == (True, "paused")


def test_it_resumes_a_disabled_feed_with_a_clean_record():
    feed = make_feed(
        "broken",
        due_in=timedelta(days=3),
        is_paused=True,
        disabled_at=timezone.now() - timedelta(days=1),
        disabled_reason="Failing since 2026-01-01 00:00 UTC",
        error_count=57,
        first_error_at=timezone.now() - timedelta(days=31),
    )

    resumed = feed_resume(feed_ids=[feed.pk])

    feed.refresh_from_db()
    assert resumed == 1
    assert (feed.is_paused, feed.disabled_at, feed.disabled_reason) == (False, None, "")
    assert (feed.error_count, feed.first_error_at) == (0, None)
    assert feed.next_poll_at <= timezone.now()
    assert feed.is_active
    assert claimed_ids(feeds_claim_due()) == [feed.pk]


# --- Giving up on a feed --------------------------------------------------------------


def test_it_disables_a_feed_failing_for_more_than_thirty_days(feed_server):
    url = feed_server.add("/feed.xml", status=500, body=b"boom", content_type="text/plain")
    feed, _ = feed_create(url=url)
    first_error_at = timezone.now() - timedelta(days=31)
    Feed.objects.filter(pk=feed.pk).update(error_count=40, first_error_at=first_error_at)
    (claim,) = feeds_claim(feed_ids=[feed.pk])

    report = feed_poll(feed_id=feed.pk, claim_token=claim.token)

    feed.refresh_from_db()
    assert (report.outcome, report.error) == ("error", "HTTP 500 Internal Server Error.")
    assert feed.disabled_at is not None
    assert feed.disabled_reason == (
        f"Failing since {first_error_at:%Y-%m-%d %H:%M} UTC (41 polls in a row). "
        "Last error: HTTP 500 Internal Server Error."
    )
    assert feed.health == "disabled"
    assert feed.lease_token is None


def test_it_keeps_polling_a_feed_failing_for_less_than_thirty_days(feed_server):
    url = feed_server.add("/feed.xml", status=500, body=b"boom", content_type="text/plain")
    feed, _ = feed_create(url=url)
    Feed.objects.filter(pk=feed.pk).update(error_count=3, first_error_at=timezone.now() - timedelta(days=29))
    (claim,) = feeds_claim(feed_ids=[feed.pk])

    feed_poll(feed_id=feed.pk, claim_token=claim.token)

    feed.refresh_from_db()
    assert (feed.disabled_at, feed.disabled_reason) == (None, "")
    assert (feed.error_count, feed.health, feed.last_status_code) == (4, "failing", 500)
    assert feed.next_poll_at > timezone.now()


def test_it_disables_a_feed_at_once_on_410_gone(feed_server):
    feed, _ = feed_create(url=feed_server.add("/feed.xml", status=410, body=b"gone", content_type="text/plain"))
    (claim,) = feeds_claim(feed_ids=[feed.pk])

    feed_poll(feed_id=feed.pk, claim_token=claim.token)

    feed.refresh_from_db()
    assert feed.disabled_at is not None
    assert feed.disabled_reason == "410 Gone: the publisher says this feed is gone for good."
    assert feeds_claim_due(now=timezone.now() + timedelta(days=365)) == []


# --- Races found in review ------------------------------------------------------------


def test_it_does_not_claim_a_feed_that_was_polled_since_the_due_list_was_read():
    # given: a dispatcher read this feed as due a moment ago...
    feed = make_feed("raced", due_in=-timedelta(minutes=1))
    read_at = timezone.now()
    # ...and meanwhile another poll finished and rescheduled it 20 minutes out
    Feed.objects.filter(pk=feed.pk).update(next_poll_at=read_at + timedelta(minutes=20))

    # when: the first dispatcher's claim goes through with its stale list
    claims = feeds_claim_due(now=read_at)

    # then
    assert claims == []
    feed.refresh_from_db()
    assert feed.lease_token is None
    assert feed.next_poll_at > read_at + timedelta(minutes=19)


@pytest.mark.django_db(transaction=True)
def test_it_discards_the_results_of_a_poll_whose_lease_was_taken_over(feed_server, settings):
    # given: a poll is under way (its claim swapped for a run token by feed_poll)...
    url = feed_server.add("/slow.xml", body=rss(items(3)))
    feed, _ = feed_create(url=url)
    (claim,) = feeds_claim(feed_ids=[feed.pk])

    # ...and the server answers only after the lease has been taken over
    def take_over_then_answer() -> bytes:
        Feed.objects.filter(pk=feed.pk).update(lease_token=uuid.uuid4())
        return rss(items(3))

    feed_server.routes["/slow.xml"].body = take_over_then_answer

    # when
    report = feed_poll(feed_id=feed.pk, claim_token=claim.token)

    # then: nothing written by the poll that lost its lease
    assert report.skipped
    assert feed.entries.count() == 0
    assert PollLog.objects.filter(feed=feed).count() == 0
