"""When to poll a feed next. Pure functions of what the last poll saw; no ORM.

The interval adapts to how often the feed publishes: half the median gap between
its recent entries (so a new story waits, on average, a quarter of a gap), within
``[min_interval, max_interval]``. Without dates it creeps: shorter after new
entries, longer after none. The server's own hints (RSS ``<ttl>``,
``Cache-Control: max-age``, ``Expires``, ``Retry-After``) are lower bounds we honour,
capped at ``max_hint`` so a hostile or broken server cannot park a feed for a year.
Errors back off exponentially from the floor. Every result gets ±10 % jitter so
thousands of feeds added at once spread out instead of polling in lockstep.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

JITTER = 0.10
MAX_HINT = 24 * 60 * 60


@dataclass(frozen=True)
class IntervalPolicy:
    min_interval: int = 5 * 60
    max_interval: int = 6 * 60 * 60
    max_backoff: int = 24 * 60 * 60
    max_hint: int = MAX_HINT


def median_gap(published: list[datetime]) -> float | None:
    """Median seconds between consecutive distinct publish times (latest 20)."""
    moments = sorted(set(published))[-20:]
    gaps = sorted((later - earlier).total_seconds() for earlier, later in itertools.pairwise(moments))
    return gaps[len(gaps) // 2] if gaps else None


def next_interval(
    *,
    policy: IntervalPolicy,
    current: int,
    published: list[datetime],
    found_new: bool,
    hint: int | None = None,
    rng: random.Random | None = None,
) -> int:
    """Seconds until the next poll after a successful one."""
    gap = median_gap(published)
    if gap is not None:
        target = gap / 2
    elif found_new:
        target = current * 0.75
    else:
        target = current * 1.5
    interval = min(max(target, policy.min_interval), policy.max_interval)
    if hint:
        interval = max(interval, min(hint, policy.max_hint))
    return _jitter(interval, rng)


def error_backoff(
    *, policy: IntervalPolicy, error_count: int, hint: int | None = None, rng: random.Random | None = None
) -> int:
    """Seconds until the next try after ``error_count`` consecutive failures (>= 1)."""
    exponent = max(error_count - 1, 0)
    delay = min(policy.min_interval * 2 ** min(exponent, 30), policy.max_backoff)
    if hint:
        delay = max(delay, min(hint, policy.max_hint))
    return _jitter(delay, rng)


def _jitter(seconds: float, rng: random.Random | None) -> int:
    rng = rng or random.Random()
    return max(1, round(seconds * rng.uniform(1 - JITTER, 1 + JITTER)))


def freshness_hint(headers: dict[str, str], *, now: datetime, ttl: int | None = None) -> int | None:
    """The longest "don't come back before" the response asks for, in seconds.

    ``headers`` are lower-cased response headers.
    """
    hints = [ttl or 0, retry_after_seconds(headers.get("retry-after", ""), now=now) or 0]
    cache_control = headers.get("cache-control", "").lower()
    max_age = re.search(r"(?:^|[,\s])(?:s-maxage|max-age)\s*=\s*\"?(\d+)", cache_control)
    if max_age:
        hints.append(int(max_age.group(1)))
    elif headers.get("expires"):
        expires = _http_date(headers["expires"])
        served = _http_date(headers.get("date", "")) or now
        if expires:
            hints.append(int((expires - served).total_seconds()))
    best = max(hints)
    return best if best > 0 else None


def retry_after_seconds(value: str, *, now: datetime) -> int | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP-date; None if absent or bad."""
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"[0-9]+", value):  # ASCII only: str.isdigit() also accepts '²'
        return int(value)
    moment = _http_date(value)
    if moment is None:
        return None
    return max(0, int((moment - now).total_seconds()))


def _http_date(value: str) -> datetime | None:
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else None
