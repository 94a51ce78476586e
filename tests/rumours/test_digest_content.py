"""What goes into a digest (rumours.digests.content.digests_build): per watchlist, per
period and time zone, grouped by rumour, most important first, in a fixed number of
queries however many subscribers.

The period most tests ask about is Singapore's digest of Wednesday 13 May 2026,
07:00 SGT: from 23:00 UTC on 11 May to 23:00 UTC on 12 May.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rumours.digests.content import RUMOURS_PER_DIGEST, Digest, DigestRequest, digests_build
from rumours.digests.rendering import digest_message, subject_of
from rumours.digests.services import digests_due, subscriptions_live
from rumours.models import Company, DeliveryKind, Rumour, Status, Subscription
from rumours.services import (
    PartySpec,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
    rumour_create,
    status_change_retract,
)
from tests.rumours.digest_world import (
    HUNGATE_MEANS,
    HUNGATE_SAYS,
    GotoGrab,
    company,
    emtek_bukalapak_source,
    goto_grab_denial,
    happened_at,
    subscriber,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 5, 11, 23, tzinfo=UTC)  # Tue 12 May 2026, 07:00 in Singapore
END = START + timedelta(days=1)
DURING = START + timedelta(hours=12)  # Tue 12 May, 19:00 in Singapore
LONG_AGO = START - timedelta(days=30)
SUBSCRIBED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Desk:
    """Three threads that moved on 12 May, and one that did not."""

    goto_grab: GotoGrab
    emtek_bukalapak: Rumour  # a new tier-2 source
    ascend_vnlife: Rumour  # opened that day, nothing else yet
    sea_shopee: Rumour  # only old news

    def title(self, name: str) -> str:
        return {
            "goto_grab": self.goto_grab.rumour.title,
            "emtek_bukalapak": self.emtek_bukalapak.title,
            "ascend_vnlife": self.ascend_vnlife.title,
            "sea_shopee": self.sea_shopee.title,
        }[name]


@pytest.fixture
def desk(analyst) -> Desk:
    goto_grab = goto_grab_denial(analyst=analyst, during=DURING, before=LONG_AGO)
    emtek_bukalapak = emtek_bukalapak_source(analyst=analyst, during=DURING + timedelta(hours=1))
    ascend_vnlife = rumour_create(
        title="Ascend Money–VNLife merger",
        parties=[
            PartySpec(company("Ascend Money", "TH", "fintech"), "merger_party"),
            PartySpec(company("VNLife", "VN", "fintech"), "merger_party"),
        ],
        created_by=analyst,
    )
    happened_at(DURING, ascend_vnlife)
    sea_shopee = rumour_create(
        title="Sea spins off Shopee",
        parties=[PartySpec(company("Sea", "SG", "gaming"), "seller")],
        created_by=analyst,
    )
    old = rumour_attach_source(
        rumour=sea_shopee,
        url="https://wire.example/2026/sea-weighs-shopee-spin-off",
        title="Sea weighs a Shopee spin-off",
        outlet_tier=1,
        published_at=LONG_AGO,
        added_by=analyst,
    )
    happened_at(LONG_AGO, sea_shopee, old)
    return Desk(goto_grab, emtek_bukalapak, ascend_vnlife, sea_shopee)


def build(*subscriptions: Subscription, start: datetime = START, end: datetime = END) -> list[Digest]:
    live = {s.pk: s for s in subscriptions_live().filter(pk__in=[s.pk for s in subscriptions])}
    return digests_build([DigestRequest(live[s.pk], DeliveryKind.DAILY, start, end) for s in subscriptions])


def due_digest(subscription: Subscription, *, now: datetime) -> Digest:
    """The digest the planner would send ``subscription`` at ``now``."""
    [due] = digests_due(now=now, subscriptions=subscriptions_live().filter(pk=subscription.pk))
    return digests_build([DigestRequest(due.subscription, due.kind, due.start, due.end)])[0]


def titles(digest: Digest) -> list[str]:
    return [update.rumour.title for update in digest.updates]


def companies(*names: str) -> list[Company]:
    return [Company.objects.get(name=name) for name in names]


# --- Watchlists ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("follows", "countries", "sectors", "expected"),
    [
        pytest.param(["Grab"], [], [], {"goto_grab"}, id="a-company"),
        pytest.param(["Bukalapak"], [], [], {"emtek_bukalapak"}, id="the-target-company"),
        pytest.param(["Sea"], [], [], set(), id="a-company-with-only-old-news"),
        pytest.param([], ["TH"], [], {"ascend_vnlife"}, id="a-country"),
        pytest.param([], ["id"], [], {"goto_grab", "emtek_bukalapak"}, id="a-country-in-lower-case"),
        pytest.param([], [], ["fintech"], {"ascend_vnlife"}, id="a-sector"),
        pytest.param([], [], ["super_app", "media"], {"goto_grab", "emtek_bukalapak"}, id="two-sectors"),
        pytest.param(["Grab"], ["VN"], [], {"goto_grab", "ascend_vnlife"}, id="a-company-or-a-country"),
        pytest.param([], [], [], {"goto_grab", "emtek_bukalapak", "ascend_vnlife"}, id="empty-means-everything"),
    ],
)
def test_it_picks_the_rumours_a_watchlist_follows(desk, follows, countries, sectors, expected):
    watcher = subscriber(
        "investor@example.com", follows=companies(*follows), countries=countries, sectors=sectors, since=SUBSCRIBED
    )

    [digest] = build(watcher)

    assert set(titles(digest)) == {desk.title(name) for name in expected}


def test_it_leaves_out_rumours_below_the_minimum_credibility(desk):
    # given: three scores (set here: rumours.credibility decides them, and they fall as evidence ages)
    scores = {desk.goto_grab.rumour.pk: 70, desk.emtek_bukalapak.pk: 40, desk.ascend_vnlife.pk: 0}
    for pk, score in scores.items():
        Rumour.objects.filter(pk=pk).update(credibility=score)
    thresholds = [0, 40, 41, 70, 71, 100]
    watchers = [subscriber(f"min{n}@example.com", min_credibility=n, since=SUBSCRIBED) for n in thresholds]

    digests = build(*watchers)

    everything = [desk.title("goto_grab"), desk.title("emtek_bukalapak"), desk.title("ascend_vnlife")]
    assert [set(titles(digest)) for digest in digests] == [
        set(everything),
        set(everything[:2]),
        set(everything[:1]),
        set(everything[:1]),
        set(),
        set(),
    ]


# --- Periods and time zones ----------------------------------------------------------------------


def test_it_leaves_out_what_happened_before_or_after_the_period(desk):
    # given: the GoTo–Grab thread was in talks (with a first source) a month before
    watcher = subscriber("investor@example.com", follows=[desk.goto_grab.grab], since=SUBSCRIBED)

    [digest] = build(watcher)

    [update] = digest.updates
    assert [change.status for change in update.changes] == [Status.DENIED]
    assert [source.url for source in update.sources] == [desk.goto_grab.denial.url]
    assert [quote.text for quote in update.quotes] == [HUNGATE_SAYS]
    assert not update.is_new
    # and the day before, and the day after, it is not there at all
    assert build(watcher, start=START - timedelta(days=1), end=START)[0].is_empty
    assert build(watcher, start=END, end=END + timedelta(days=1))[0].is_empty


def test_it_counts_the_start_of_a_period_in_and_its_end_out(analyst):
    rumour = emtek_bukalapak_source(analyst=analyst, during=LONG_AGO)
    moments = {
        "just-before-the-start": START - timedelta(microseconds=1),
        "at-the-start": START,
        "just-before-the-end": END - timedelta(microseconds=1),
        "at-the-end": END,
    }
    for label, moment in moments.items():
        source = rumour_attach_source(
            rumour=rumour,
            url=f"https://wire.example/2026/emtek-bukalapak-{label}",
            title=label,
            published_at=moment,
            added_by=analyst,
        )
        happened_at(moment, source)
    watcher = subscriptions_live().get(pk=subscriber("investor@example.com", since=SUBSCRIBED).pk)

    # when: today's digest and tomorrow's are built in one batch
    today, tomorrow = digests_build(
        [
            DigestRequest(watcher, DeliveryKind.DAILY, START, END),
            DigestRequest(watcher, DeliveryKind.DAILY, END, END + timedelta(days=1)),
        ]
    )

    # then: each moment is in one period only
    assert sorted(source.title for source in today.updates[0].sources) == ["at-the-start", "just-before-the-end"]
    assert [source.title for source in tomorrow.updates[0].sources] == ["at-the-end"]


# A change recorded at 00:30 UTC on Tuesday 12 May 2026, seen by subscribers who all read at 07:00 local time.
CHANGED = datetime(2026, 5, 12, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "in_which"),
    [
        # 08:30 on 12 May in Singapore: after that morning's digest (23:00 UTC on 11 May), so in the next one.
        pytest.param("Asia/Singapore", "wednesday", id="singapore"),
        # 07:30 on 12 May in Jakarta: half an hour after that morning's digest (00:00 UTC).
        pytest.param("Asia/Jakarta", "wednesday", id="jakarta"),
        # 01:30 BST on 12 May in London: before that morning's digest (06:00 UTC).
        pytest.param("Europe/London", "tuesday", id="london"),
        # 20:30 EDT on 11 May in New York: before the digest of 12 May (11:00 UTC).
        pytest.param("America/New_York", "tuesday", id="new-york"),
    ],
)
def test_it_puts_a_change_in_the_digest_of_the_subscribers_local_day(analyst, zone, in_which):
    world = goto_grab_denial(analyst=analyst, during=CHANGED, before=LONG_AGO)
    watcher = subscriber("investor@example.com", follows=[world.grab], time_zone=zone, send_hour=7, since=SUBSCRIBED)

    # when: the planner looks at noon UTC on Tuesday, then on Wednesday
    digests = {
        "tuesday": due_digest(watcher, now=datetime(2026, 5, 12, 12, tzinfo=UTC)),
        "wednesday": due_digest(watcher, now=datetime(2026, 5, 13, 12, tzinfo=UTC)),
    }

    # then: the change is in exactly one of the two, the one of the subscriber's local day
    assert digests["tuesday"].end == digests["wednesday"].start
    assert [len(digests[day].updates) for day in ("tuesday", "wednesday")] == [
        int(in_which == "tuesday"),
        int(in_which == "wednesday"),
    ]
    [update] = digests[in_which].updates
    assert update.changes == [world.change]


@pytest.mark.parametrize(
    ("changed", "in_which"),
    [
        # 06:30 BST on 29 March, the day the clocks go forward: before that morning's 07:00 BST (06:00 UTC).
        pytest.param(datetime(2026, 3, 29, 5, 30, tzinfo=UTC), "sunday", id="before-07:00-BST"),
        # 07:30 BST: after it, although a digest at 07:00 GMT (07:00 UTC) would still have counted it in.
        pytest.param(datetime(2026, 3, 29, 6, 30, tzinfo=UTC), "monday", id="after-07:00-BST"),
    ],
)
def test_it_follows_the_clocks_going_forward_in_london(analyst, changed, in_which):
    world = goto_grab_denial(analyst=analyst, during=changed, before=LONG_AGO)
    watcher = subscriber(
        "investor@example.com", follows=[world.goto], time_zone="Europe/London", send_hour=7, since=SUBSCRIBED
    )

    digests = {
        "sunday": due_digest(watcher, now=datetime(2026, 3, 29, 12, tzinfo=UTC)),
        "monday": due_digest(watcher, now=datetime(2026, 3, 30, 12, tzinfo=UTC)),
    }

    assert digests["sunday"].end - digests["sunday"].start == timedelta(hours=23)
    assert {day: bool(digest.updates) for day, digest in digests.items()} == {
        "sunday": in_which == "sunday",
        "monday": in_which == "monday",
    }


# --- Grouping, order and what is shown -----------------------------------------------------------


def test_it_groups_each_rumours_updates_under_it(desk):
    watcher = subscriber("investor@example.com", since=SUBSCRIBED)

    [digest] = build(watcher)

    assert sorted(titles(digest)) == sorted(set(titles(digest)))  # one entry per rumour
    [goto_grab] = [update for update in digest.updates if update.rumour == desk.goto_grab.rumour]
    assert goto_grab.changes == [desk.goto_grab.change]
    assert goto_grab.quotes == [desk.goto_grab.quote]
    assert goto_grab.sources == [desk.goto_grab.denial]
    assert goto_grab.headline == "now Denied"
    [ascend_vnlife] = [update for update in digest.updates if update.rumour == desk.ascend_vnlife]
    assert (ascend_vnlife.is_new, ascend_vnlife.headline) == (True, "new rumour")


def test_it_puts_a_status_change_before_a_mere_new_source_even_on_a_weaker_rumour(analyst):
    # given: a well-sourced thread that only gained one more source in the period
    strong = emtek_bukalapak_source(analyst=analyst, during=LONG_AGO)
    for n, tier in enumerate([1, 1, 2]):
        old = rumour_attach_source(
            rumour=strong,
            url=f"https://wire.example/2026/emtek-bukalapak-{n}",
            title=f"Emtek and Bukalapak, story {n}",
            outlet_tier=tier,
            published_at=LONG_AGO,
            added_by=analyst,
        )
        happened_at(LONG_AGO, old)
    fresh = rumour_attach_source(
        rumour=strong,
        url="https://blog.example/emtek-bukalapak",
        title="Emtek, Bukalapak: what we know",
        outlet_tier=3,
        published_at=DURING,
        added_by=analyst,
    )
    happened_at(DURING, fresh)
    # and: an unsourced thread whose status moved twice in the period
    weak = rumour_create(
        title="Ascend Money–VNLife merger",
        parties=[PartySpec(company("Ascend Money", "TH", "fintech"), "merger_party")],
        created_by=analyst,
    )
    happened_at(LONG_AGO, weak)
    rumoured = rumour_change_status(
        rumour=weak, status=Status.RUMOURED, effective_at=DURING - timedelta(hours=2), recorded_by=analyst
    )
    talks = rumour_change_status(
        rumour=weak, status=Status.IN_TALKS, effective_at=DURING - timedelta(hours=1), recorded_by=analyst
    )
    happened_at(DURING, rumoured, talks)
    strong.refresh_from_db()
    weak.refresh_from_db()
    assert strong.credibility > weak.credibility
    watcher = subscriber("investor@example.com", since=SUBSCRIBED)

    [digest] = build(watcher)

    assert titles(digest) == [weak.title, strong.title]
    assert [update.headline for update in digest.updates] == ["now In talks", "1 new source"]
    assert [change.status for change in digest.updates[0].changes] == [Status.RUMOURED, Status.IN_TALKS]
    assert subject_of(digest) == "Ascend Money–VNLife merger: now In talks · 1 more update"


def test_it_keeps_the_most_important_rumours_and_counts_the_rest(analyst):
    grab = company("Grab", "SG", "super_app")
    opened = []
    for n in range(RUMOURS_PER_DIGEST + 5):
        rumour = rumour_create(title=f"Grab deal {n}", parties=[PartySpec(grab, "acquirer")], created_by=analyst)
        happened_at(DURING, rumour)
        opened.append(rumour)
    # the last three opened also moved to talks: more important than merely being new
    for rumour in opened[-3:]:
        talks = rumour_change_status(rumour=rumour, status=Status.IN_TALKS, effective_at=DURING, recorded_by=analyst)
        happened_at(DURING, talks)
    watcher = subscriber("investor@example.com", follows=[grab], since=SUBSCRIBED)

    [digest] = build(watcher)

    assert (len(digest.updates), digest.more) == (RUMOURS_PER_DIGEST, 5)
    assert {update.rumour for update in digest.updates[:3]} == set(opened[-3:])
    assert subject_of(digest).endswith(f": now In talks · {RUMOURS_PER_DIGEST + 4} more updates")


def test_it_shows_the_three_strongest_new_sources(analyst):
    rumour = emtek_bukalapak_source(analyst=analyst, during=LONG_AGO)
    for n, tier in enumerate([3, 2, 1, 3, 1]):
        source = rumour_attach_source(
            rumour=rumour,
            url=f"https://outlet{n}.example/emtek-bukalapak",
            title=f"Report {n}",
            outlet_tier=tier,
            published_at=DURING + timedelta(minutes=n),
            added_by=analyst,
        )
        happened_at(DURING, source)
    watcher = subscriber("investor@example.com", since=SUBSCRIBED)

    [digest] = build(watcher)

    # tier 1 first, newest first within a tier
    assert [source.title for source in digest.updates[0].sources] == ["Report 4", "Report 2", "Report 1"]


def test_it_leaves_out_retracted_changes(analyst):
    # given: one thread whose only news was retracted, one whose change was corrected
    misread = emtek_bukalapak_source(analyst=analyst, during=LONG_AGO)
    happened_at(LONG_AGO, misread)
    agreed = rumour_change_status(rumour=misread, status=Status.AGREED, effective_at=DURING, recorded_by=analyst)
    status_change_retract(change=agreed, retracted_by=analyst, reason="Misread the filing: no agreement.")
    world = goto_grab_denial(analyst=analyst, during=DURING, before=LONG_AGO)
    status_change_retract(change=world.change, retracted_by=analyst, reason="It was Grab that denied, not GoTo.")
    corrected = rumour_change_status(
        rumour=world.rumour, status=Status.DENIED, effective_at=DURING, recorded_by=analyst, note="Grab denied."
    )
    # recorded and retracted within the period (a retraction re-stamps changed_at)
    happened_at(DURING + timedelta(hours=1), agreed, world.change, corrected)
    watcher = subscriber("investor@example.com", since=SUBSCRIBED)

    [digest] = build(watcher)

    assert titles(digest) == [world.rumour.title]
    assert digest.updates[0].changes == [corrected]


def test_it_shows_a_quote_in_its_own_words_with_the_translation(desk, analyst):
    english = quote_add(
        rumour=desk.goto_grab.rumour,
        speaker_name="Patrick Walujo",
        text="There is no agreement of any kind",
        said_at=DURING,
        language="en",
        added_by=analyst,
    )
    happened_at(DURING + timedelta(minutes=1), english)
    watcher = subscriber("investor@example.com", follows=[desk.goto_grab.grab], since=SUBSCRIBED)

    [digest] = build(watcher)
    message = digest_message(digest)

    [quote, _] = digest.updates[0].quotes
    assert (quote.text, quote.translation) == (HUNGATE_SAYS, HUNGATE_MEANS)
    html = str(message.alternatives[0][0])
    for part in (str(message.body), html):
        assert HUNGATE_SAYS in part
        assert HUNGATE_MEANS in part
        assert "There is no agreement of any kind" in part
    # an English quote has no empty translation line
    assert "(“”)" not in str(message.body)
    assert html.count('class="translation"') == 1


# --- Cost ------------------------------------------------------------------------------------------


def subscriptions(count: int) -> Sequence[Subscription]:
    """Subscribers with every kind of watchlist, in turn."""
    grab, bukalapak = companies("Grab", "Bukalapak")
    kinds: list[dict[str, Any]] = [
        {"follows": [grab]},
        {"follows": [grab, bukalapak]},
        {"countries": ["ID"]},
        {"sectors": ["fintech"]},
        {"countries": ["TH"], "sectors": ["media"]},
        {},
    ]
    return [subscriber(f"reader{n}@example.com", since=SUBSCRIBED, **kinds[n % len(kinds)]) for n in range(count)]


def test_it_builds_many_digests_in_a_fixed_number_of_queries(desk):
    subscriptions(50)
    live = list(subscriptions_live().order_by("pk"))
    requests = [DigestRequest(s, DeliveryKind.DAILY, START, END) for s in live]

    with CaptureQueriesContext(connection) as ten:
        few = digests_build(requests[:10])
    with CaptureQueriesContext(connection) as fifty:
        many = digests_build(requests)
    with CaptureQueriesContext(connection) as rendering:
        for digest in many:
            digest_message(digest).message()

    assert len(ten.captured_queries) == len(fifty.captured_queries) <= 6
    assert rendering.captured_queries == []
    # and the batch built each subscriber their own digest
    assert [titles(digest) for digest in few] == [titles(digest) for digest in many[:10]]
    assert {len(digest.updates) for digest in many} == {1, 2, 3}
