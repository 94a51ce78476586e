"""When a subscriber's digest is due, and which period it covers. Pure: no ORM.

A daily digest covers the 24 local hours (23 or 25 across a daylight-saving change)
up to the subscriber's local send hour; a weekly one the week up to that hour on the
chosen weekday. Times are computed in the subscriber's zone with ``zoneinfo`` and
stored in UTC. A local hour that does not exist (the spring-forward gap) resolves to
the instant just after the gap; an hour that happens twice (fall back) to the first.

If planning stopped for a while, only the latest period is sent: a subscriber gets
one digest, not a backlog of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class UnknownTimeZoneError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive: the send instant


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZoneError(f"{name!r} is not a time zone; use an IANA name such as Asia/Jakarta.") from exc


def send_instant(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """``hour``:00 local time on ``day``, in UTC."""
    local = datetime.combine(day, time(hour), tzinfo=tz)
    # Round-trip through UTC: a wall time in the spring-forward gap becomes the real instant after it.
    return local.astimezone(UTC)


def latest_period(*, now: datetime, frequency: str, time_zone: str, hour: int, weekday: int = 0) -> Period:
    """The most recent complete period whose send instant is at or before ``now``."""
    tz = zone(time_zone)
    today = now.astimezone(tz).date()
    if frequency == "weekly":
        day = today - timedelta(days=(today.weekday() - weekday) % 7)
        if send_instant(day, hour, tz) > now:
            day -= timedelta(days=7)
        return Period(send_instant(day - timedelta(days=7), hour, tz), send_instant(day, hour, tz))
    day = today if send_instant(today, hour, tz) <= now else today - timedelta(days=1)
    return Period(send_instant(day - timedelta(days=1), hour, tz), send_instant(day, hour, tz))


def local_label(moment: datetime, time_zone: str) -> str:
    """ "Tue 12 May 2026, 07:00 SGT": how a subscriber reads a moment."""
    local = moment.astimezone(zone(time_zone))
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}"
