"""When a digest is due and which period it covers (rumours.digests.schedule). Pure: no database.

Moments are written in UTC with the local time beside them; 2026's daylight-saving
changes are Europe/London 29 March and 25 October, America/New_York 8 March and
1 November. Asia/Singapore (UTC+8) and Asia/Jakarta (UTC+7) have none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from rumours.digests.schedule import Period, UnknownTimeZoneError, latest_period, local_label

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def utc(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def daily(now: datetime, zone: str, hour: int) -> Period:
    return latest_period(now=now, frequency="daily", time_zone=zone, hour=hour)


def weekly(now: datetime, zone: str, hour: int, weekday: int) -> Period:
    return latest_period(now=now, frequency="weekly", time_zone=zone, hour=hour, weekday=weekday)


# --- Daily ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "now", "start", "end"),
    [
        # Tue 12 May 08:00 SGT: the digest sent at 07:00 SGT today covers the 24 hours before it.
        pytest.param("Asia/Singapore", utc(5, 12, 0), utc(5, 10, 23), utc(5, 11, 23), id="singapore"),
        # Tue 12 May 07:00 WIB exactly: the send instant counts as come.
        pytest.param("Asia/Jakarta", utc(5, 12, 0), utc(5, 11, 0), utc(5, 12, 0), id="jakarta-at-the-send-instant"),
        pytest.param("Asia/Jakarta", utc(5, 11, 23, 59, 59), utc(5, 10, 0), utc(5, 11, 0), id="jakarta-1s-before"),
        pytest.param("Europe/London", utc(5, 12, 12), utc(5, 11, 6), utc(5, 12, 6), id="london-summer"),
        pytest.param("Europe/London", utc(1, 12, 12), utc(1, 11, 7), utc(1, 12, 7), id="london-winter"),
        pytest.param("America/New_York", utc(5, 12, 12), utc(5, 11, 11), utc(5, 12, 11), id="new-york-summer"),
        pytest.param("America/New_York", utc(1, 12, 13), utc(1, 11, 12), utc(1, 12, 12), id="new-york-winter"),
    ],
)
def test_it_covers_the_day_up_to_the_local_send_hour(zone, now, start, end):
    assert daily(now, zone, 7) == Period(start, end)


@pytest.mark.parametrize("zone", ["Asia/Singapore", "Asia/Jakarta"])
def test_it_makes_every_day_24_hours_where_there_is_no_daylight_saving(zone):
    lengths = {daily(utc(1, 1) + n * DAY, zone, 7) for n in range(365)}

    assert len(lengths) == 365  # a new period every day of the year
    assert {period.end - period.start for period in lengths} == {DAY}
    assert {period.end.astimezone(ZoneInfo(zone)).hour for period in lengths} == {7}


@pytest.mark.parametrize(
    ("zone", "now", "start", "end", "hours"),
    [
        # 07:00 GMT on Sat 28 March to 07:00 BST on Sun 29 March: the clocks went forward at 01:00.
        pytest.param("Europe/London", utc(3, 29, 12), utc(3, 28, 7), utc(3, 29, 6), 23, id="london-spring-forward"),
        # 07:00 BST on Sat 24 October to 07:00 GMT on Sun 25 October: the clocks went back at 02:00.
        pytest.param("Europe/London", utc(10, 25, 12), utc(10, 24, 6), utc(10, 25, 7), 25, id="london-fall-back"),
        pytest.param("America/New_York", utc(3, 8, 15), utc(3, 7, 12), utc(3, 8, 11), 23, id="new-york-spring-forward"),
        pytest.param("America/New_York", utc(11, 1, 15), utc(10, 31, 11), utc(11, 1, 12), 25, id="new-york-fall-back"),
    ],
)
def test_it_makes_the_daylight_saving_days_23_or_25_hours(zone, now, start, end, hours):
    period = daily(now, zone, 7)

    assert period == Period(start, end)
    assert period.end - period.start == hours * HOUR
    assert period.start.astimezone(ZoneInfo(zone)).hour == period.end.astimezone(ZoneInfo(zone)).hour == 7


@pytest.mark.parametrize(
    ("zone", "hour", "before_gap_ends", "gap_ends"),
    [
        # 01:00 does not exist in London on 29 March (01:00 GMT is 02:00 BST).
        pytest.param("Europe/London", 1, utc(3, 29, 0, 59, 59), utc(3, 29, 1), id="london-01:00"),
        # 02:00 does not exist in New York on 8 March (07:00 UTC is 03:00 EDT).
        pytest.param("America/New_York", 2, utc(3, 8, 6, 59, 59), utc(3, 8, 7), id="new-york-02:00"),
    ],
)
def test_it_sends_a_send_hour_in_the_spring_forward_gap_just_after_the_gap(zone, hour, before_gap_ends, gap_ends):
    # when the gap has not ended yet, the digest due is yesterday's
    assert daily(before_gap_ends, zone, hour).end == gap_ends - DAY

    # then at the first real instant after the gap, today's is due
    period = daily(gap_ends, zone, hour)
    assert period.end == gap_ends
    assert period.end.astimezone(ZoneInfo(zone)).hour == hour + 1
    # and the day after runs from there: no hour is lost or covered twice
    assert daily(gap_ends + DAY, zone, hour).start == gap_ends


def test_it_sends_a_send_hour_that_happens_twice_once_at_the_first():
    # 01:00–02:00 happens twice in New York on 1 November: 05:00–06:00 UTC (EDT), then 06:00–07:00 UTC (EST).
    first, second = utc(11, 1, 5, 30), utc(11, 1, 6, 30)

    assert daily(first, "America/New_York", 1).end == utc(11, 1, 5)
    assert daily(second, "America/New_York", 1) == daily(first, "America/New_York", 1)


@pytest.mark.parametrize("zone", ["Asia/Singapore", "Asia/Jakarta", "Europe/London", "America/New_York"])
@pytest.mark.parametrize("hour", [0, 1, 2, 7, 23])
@pytest.mark.parametrize("frequency", ["daily", "weekly"])
def test_it_leaves_no_gap_or_overlap_between_periods_all_year(zone, hour, frequency):
    # given: a planner ticking every hour (send instants fall on the hour) through 2026, DST changes and all
    longest = 25 * HOUR if frequency == "daily" else WEEK + HOUR
    now, periods = utc(1, 1), list[Period]()
    while now.year == 2026:
        period = latest_period(now=now, frequency=frequency, time_zone=zone, hour=hour, weekday=6)
        # then: each period has ended by the time it is due, and it is the latest one that has
        assert period.start < period.end <= now < period.end + longest
        if not periods or periods[-1] != period:
            periods.append(period)
        now += HOUR

    # and: each period starts where the one before ended
    assert all(later.start == earlier.end for earlier, later in pairwise(periods))
    assert {period.end - period.start for period in periods} <= {longest - 2 * HOUR, longest - HOUR, longest}


# --- Weekly ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "now", "end"),
    [
        # Monday 11 May 2026, 07:00 SGT is 23:00 UTC on Sunday 10 May.
        pytest.param(0, utc(5, 10, 22, 59, 59), utc(5, 3, 23), id="monday-just-before-the-send"),
        pytest.param(0, utc(5, 10, 23), utc(5, 10, 23), id="monday-at-the-send"),
        pytest.param(0, utc(5, 10, 23, 0, 1), utc(5, 10, 23), id="monday-just-after-the-send"),
        pytest.param(0, utc(5, 16, 12), utc(5, 10, 23), id="monday-later-in-the-week"),
        # Sunday 10 May 2026, 07:00 SGT is 23:00 UTC on Saturday 9 May.
        pytest.param(6, utc(5, 9, 22, 59, 59), utc(5, 2, 23), id="sunday-just-before-the-send"),
        pytest.param(6, utc(5, 9, 23, 0, 1), utc(5, 9, 23), id="sunday-just-after-the-send"),
        # Monday morning after it: the week ended on Sunday, yesterday.
        pytest.param(6, utc(5, 11, 0), utc(5, 9, 23), id="sunday-seen-on-monday"),
    ],
)
def test_it_ends_the_week_at_the_send_hour_of_the_chosen_weekday(weekday, now, end):
    period = weekly(now, "Asia/Singapore", 7, weekday)

    assert period == Period(end - WEEK, end)
    local_end = period.end.astimezone(ZoneInfo("Asia/Singapore"))
    assert (local_end.weekday(), local_end.hour) == (weekday, 7)


@pytest.mark.parametrize(
    ("zone", "now", "start", "end", "hours"),
    [
        # Monday 23 March 07:00 GMT to Monday 30 March 07:00 BST.
        pytest.param("Europe/London", utc(3, 30, 12), utc(3, 23, 7), utc(3, 30, 6), 167, id="london-spring-forward"),
        # Monday 26 October 07:00 EDT to Monday 2 November 07:00 EST.
        pytest.param("America/New_York", utc(11, 2, 15), utc(10, 26, 11), utc(11, 2, 12), 169, id="new-york-fall-back"),
        pytest.param("Asia/Jakarta", utc(3, 30, 12), utc(3, 23, 0), utc(3, 30, 0), 168, id="jakarta-same-week"),
    ],
)
def test_it_makes_a_week_with_a_daylight_saving_change_an_hour_shorter_or_longer(zone, now, start, end, hours):
    period = weekly(now, zone, 7, 0)

    assert period == Period(start, end)
    assert period.end - period.start == hours * HOUR


# --- Time zones ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "Singapore Time", "../../etc/passwd", "Asia/Singapore "])
def test_it_refuses_an_unknown_time_zone_with_a_clear_message(name):
    with pytest.raises(UnknownTimeZoneError) as raised:
        daily(utc(5, 12), name, 7)

    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == f"{name!r} is not a time zone; use an IANA name such as Asia/Jakarta."


@pytest.mark.parametrize(
    ("zone", "moment", "label"),
    [
        ("Asia/Jakarta", utc(5, 12, 0), "Tue 12 May 2026, 07:00 WIB"),
        ("Europe/London", utc(5, 12, 6), "Tue 12 May 2026, 07:00 BST"),
        ("Europe/London", utc(1, 13, 7), "Tue 13 Jan 2026, 07:00 GMT"),
        ("America/New_York", utc(5, 12, 0), "Mon 11 May 2026, 20:00 EDT"),
    ],
)
def test_it_labels_a_moment_in_the_subscribers_zone(zone, moment, label):
    assert local_label(moment, zone) == label
