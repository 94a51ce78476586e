"""tracker.scheduling: when to poll next. Pure functions; randomness comes from a seeded rng."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tracker.scheduling import (
    IntervalPolicy,
    error_backoff,
    freshness_hint,
    median_gap,
    next_interval,
    retry_after_seconds,
)

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
POLICY = IntervalPolicy(min_interval=300, max_interval=6 * 3600, max_backoff=24 * 3600, max_hint=24 * 3600)
HOUR = 3600


def rng(seed: int = 1) -> random.Random:
    return random.Random(seed)


def within_jitter(value: int, expected: float) -> bool:
    return round(expected * 0.9) <= value <= round(expected * 1.1)


def published_every(gap: timedelta, count: int = 6) -> list[datetime]:
    return [NOW - gap * n for n in range(count)]


# --- Interval from publishing rhythm --------------------------------------------------


def test_it_takes_the_median_gap_between_distinct_publish_times():
    moments = [NOW, NOW, NOW - timedelta(minutes=10), NOW - timedelta(minutes=70), NOW - timedelta(minutes=100)]

    # distinct gaps: 10, 30, 60 minutes
    assert median_gap(moments) == 30 * 60
    assert median_gap([NOW]) is None
    assert median_gap([]) is None


def test_it_only_looks_at_the_latest_twenty_publish_times():
    recent = [NOW - timedelta(minutes=10 * n) for n in range(20)]
    ancient = [NOW - timedelta(days=30 + n) for n in range(50)]

    assert median_gap(recent + ancient) == 10 * 60


def test_it_polls_at_half_the_median_gap():
    interval = next_interval(
        policy=POLICY, current=1800, published=published_every(timedelta(hours=2)), found_new=True, rng=rng()
    )

    assert within_jitter(interval, HOUR)


@pytest.mark.parametrize(
    ("gap", "expected"),
    [(timedelta(minutes=2), 300), (timedelta(days=3), 6 * 3600)],
)
def test_it_clamps_the_interval_to_the_policy(gap, expected):
    interval = next_interval(policy=POLICY, current=1800, published=published_every(gap), found_new=False, rng=rng())

    assert within_jitter(interval, expected)


def test_it_grows_the_interval_of_an_undated_feed_after_nothing_new():
    interval = next_interval(policy=POLICY, current=1800, published=[], found_new=False, rng=rng())

    assert within_jitter(interval, 2700)


def test_it_shrinks_the_interval_of_an_undated_feed_after_something_new():
    interval = next_interval(policy=POLICY, current=1800, published=[], found_new=True, rng=rng())

    assert within_jitter(interval, 1350)


def test_it_keeps_an_undated_feed_between_the_bounds():
    assert within_jitter(next_interval(policy=POLICY, current=301, published=[], found_new=True, rng=rng()), 300)
    assert within_jitter(
        next_interval(policy=POLICY, current=6 * 3600, published=[], found_new=False, rng=rng()), 6 * 3600
    )


# --- Server hints ---------------------------------------------------------------------


def test_it_honours_a_hint_longer_than_the_interval():
    interval = next_interval(
        policy=POLICY,
        current=1800,
        published=published_every(timedelta(hours=2)),
        found_new=False,
        hint=3 * HOUR,
        rng=rng(),
    )

    assert within_jitter(interval, 3 * HOUR)


def test_it_ignores_a_hint_shorter_than_the_interval():
    interval = next_interval(
        policy=POLICY,
        current=1800,
        published=published_every(timedelta(hours=2)),
        found_new=False,
        hint=60,
        rng=rng(),
    )

    assert within_jitter(interval, HOUR)


def test_it_caps_a_hint_at_max_hint():
    interval = next_interval(
        policy=POLICY, current=1800, published=[], found_new=False, hint=365 * 24 * HOUR, rng=rng()
    )

    assert within_jitter(interval, 24 * HOUR)


@pytest.mark.parametrize(
    ("headers", "ttl", "expected"),
    [
        ({}, None, None),
        ({}, 900, 900),
        ({"cache-control": "public, max-age=1800"}, None, 1800),
        ({"cache-control": 's-maxage="600"'}, None, 600),
        ({"cache-control": "max-age=1800"}, 3600, 3600),
        ({"cache-control": "max-age=0"}, None, None),
        ({"expires": "Tue, 10 Nov 2026 13:00:00 GMT", "date": "Tue, 10 Nov 2026 12:30:00 GMT"}, None, 1800),
        ({"expires": "Tue, 10 Nov 2026 13:00:00 GMT"}, None, 3600),  # no Date: measured from now
        ({"expires": "Tue, 10 Nov 2026 11:00:00 GMT"}, None, None),  # already expired
        ({"expires": "0"}, None, None),
        ({"cache-control": "max-age=60", "expires": "Tue, 10 Nov 2026 18:00:00 GMT"}, None, 60),  # max-age wins
        ({"retry-after": "120"}, None, 120),
        ({"retry-after": "Tue, 10 Nov 2026 12:10:00 GMT"}, None, 600),
        ({"retry-after": "7200", "cache-control": "max-age=60"}, 300, 7200),
    ],
)
def test_it_reads_freshness_hints(headers, ttl, expected):
    assert freshness_hint(headers, now=NOW, ttl=ttl) == expected


# --- Errors ---------------------------------------------------------------------------


def test_it_doubles_the_error_backoff_from_the_floor():
    delays = [error_backoff(policy=POLICY, error_count=n, rng=rng(n)) for n in range(1, 6)]

    for delay, expected in zip(delays, [300, 600, 1200, 2400, 4800], strict=True):
        assert within_jitter(delay, expected)


def test_it_caps_the_error_backoff():
    assert within_jitter(error_backoff(policy=POLICY, error_count=12, rng=rng()), 24 * HOUR)
    assert within_jitter(error_backoff(policy=POLICY, error_count=10_000, rng=rng()), 24 * HOUR)


def test_it_treats_an_error_count_below_one_as_the_first_failure():
    assert within_jitter(error_backoff(policy=POLICY, error_count=0, rng=rng()), 300)


def test_it_waits_at_least_what_retry_after_asks_when_failing():
    delay = error_backoff(policy=POLICY, error_count=1, hint=7200, rng=rng())
    capped = error_backoff(policy=POLICY, error_count=1, hint=10 * 24 * HOUR, rng=rng())

    assert within_jitter(delay, 7200)
    assert within_jitter(capped, 24 * HOUR)


# --- Jitter ---------------------------------------------------------------------------


def test_it_jitters_within_ten_percent_across_many_seeds():
    published = published_every(timedelta(hours=2))
    intervals = [
        next_interval(policy=POLICY, current=1800, published=published, found_new=False, rng=rng(seed))
        for seed in range(500)
    ]
    backoffs = [error_backoff(policy=POLICY, error_count=3, rng=rng(seed)) for seed in range(500)]

    assert all(3240 <= value <= 3960 for value in intervals)
    assert all(1080 <= value <= 1320 for value in backoffs)
    # and it really spreads: not one value, and both sides of the target
    assert min(intervals) < 3600 < max(intervals)
    assert len(set(intervals)) > 100


def test_it_gives_the_same_interval_for_the_same_seed():
    def interval(seed):
        return next_interval(policy=POLICY, current=1800, published=[], found_new=False, rng=rng(seed))

    assert interval(7) == interval(7)


# --- Retry-After ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120),
        (" 30 ", 30),
        ("0", 0),
        ("Tue, 10 Nov 2026 13:00:00 GMT", 3600),
        ("Tue, 10 Nov 2026 11:00:00 GMT", 0),  # in the past: come back now
    ],
)
def test_it_reads_retry_after(value, expected):
    assert retry_after_seconds(value, now=NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "-5",
        "1.5",
        "soon",
        "Tue, 99 Nov 2026 13:00:00 GMT",
        "Tue, 10 Nov 2026 13:00:00",  # no zone: naive, not trusted
        "Tue, 10 Nov 2026 13:00:00 -0000",
    ],
)
def test_it_returns_none_for_a_bad_retry_after(value):
    assert retry_after_seconds(value, now=NOW) is None


@pytest.mark.parametrize("value", ["²", "¹²"])
def test_it_returns_none_for_a_retry_after_of_non_decimal_digits(value):
    assert retry_after_seconds(value, now=NOW) is None
