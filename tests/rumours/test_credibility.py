"""Credibility: the pure score (rumours.credibility) and its refresh through the DB."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from rumours.credibility import Part, QuoteFact, SourceFact, score
from rumours.models import Stance, Status
from rumours.services import quote_add, rumour_attach_source, rumour_refresh
from tests.rumours.conftest import PersonFactory, at

NOW = at(2025, 6, 1)
FRESH = NOW - timedelta(days=10)


def points(**kwargs) -> int:
    kwargs.setdefault("sources", [])
    kwargs.setdefault("quotes", [])
    kwargs.setdefault("status", Status.RUMOURED)
    kwargs.setdefault("last_evidence_at", FRESH)
    kwargs.setdefault("now", NOW)
    return score(**kwargs)[0]


def breakdown(**kwargs) -> list[Part]:
    kwargs.setdefault("sources", [])
    kwargs.setdefault("quotes", [])
    kwargs.setdefault("status", Status.RUMOURED)
    kwargs.setdefault("last_evidence_at", FRESH)
    kwargs.setdefault("now", NOW)
    return score(**kwargs)[1]


def confirms(by_party: bool = True, speaker: str = "Alex Hungate") -> QuoteFact:
    return QuoteFact(stance=Stance.CONFIRMS, by_party=by_party, speaker=speaker)


def denies(by_party: bool = True, speaker: str = "Patrick Walujo") -> QuoteFact:
    return QuoteFact(stance=Stance.DENIES, by_party=by_party, speaker=speaker)


# --- Stories ----------------------------------------------------------------------------------


def test_it_counts_syndicated_copies_of_a_story_once():
    # given the same wire story in three outlets
    copies = [SourceFact("wire-1", 1), SourceFact("wire-1", 2), SourceFact("wire-1", 3)]

    # when
    total, parts = score(sources=copies, quotes=[], status=Status.RUMOURED, last_evidence_at=FRESH, now=NOW)

    # then: one story at its best tier, and the breakdown says why
    assert total == 30
    assert [p.label for p in parts] == ["1 independent story (2 syndicated copies counted once)"]


def test_it_counts_independent_stories_first_in_full_then_at_half():
    # given
    stories = [SourceFact("a", 2), SourceFact("b", 1), SourceFact("c", 3)]

    # when
    total, parts = score(sources=stories, quotes=[], status=Status.RUMOURED, last_evidence_at=FRESH, now=NOW)

    # then: 30 + 18 // 2 + 8 // 2
    assert total == 43
    assert parts == [Part("3 independent stories", 43)]


@pytest.mark.parametrize(("tier", "weight"), [(1, 30), (2, 18), (3, 8), (9, 8)])
def test_it_weighs_a_story_by_its_outlet_tier(tier, weight):
    assert points(sources=[SourceFact("only", tier)]) == weight


def test_it_caps_what_stories_alone_can_add():
    # 30 + 4 * 15 would be 90
    assert points(sources=[SourceFact(f"story-{n}", 1) for n in range(5)]) == 60


def test_it_gives_nothing_without_evidence():
    assert score(sources=[], quotes=[], status=Status.RUMOURED, last_evidence_at=None, now=NOW) == (0, [])


# --- Quotes -----------------------------------------------------------------------------------


def test_it_raises_the_score_for_a_party_confirmation():
    base = [SourceFact("a", 2)]

    assert points(sources=base, quotes=[confirms()]) == 18 + 20


def test_it_lowers_the_score_for_a_party_denial():
    base = [SourceFact("a", 1), SourceFact("b", 1)]

    assert points(sources=base, quotes=[denies()]) == 45 - 15


def test_it_ignores_quotes_from_people_outside_the_parties():
    base = [SourceFact("a", 1), SourceFact("b", 1)]

    assert points(sources=base, quotes=[confirms(by_party=False), denies(by_party=False)]) == 45


def test_it_counts_at_most_two_quotes_per_stance():
    # given three confirmations from the parties
    quotes = [confirms(speaker=name) for name in ("A", "B", "C")]

    # when
    parts = breakdown(sources=[SourceFact("a", 3)], quotes=quotes)

    # then
    assert parts[1] == Part("2 party executive(s) confirmed on record (A, B)", 40)


def test_it_gives_a_little_for_no_comment():
    quotes = [QuoteFact(stance=Stance.NO_COMMENT, by_party=True, speaker="A")]

    assert points(sources=[SourceFact("a", 3)], quotes=quotes) == 8 + 2


def test_it_ignores_neutral_quotes():
    quotes = [QuoteFact(stance=Stance.NEUTRAL, by_party=True, speaker="A")]

    assert points(sources=[SourceFact("a", 3)], quotes=quotes) == 8


# --- Status -----------------------------------------------------------------------------------


def test_it_adds_a_bonus_for_confirmed_talks():
    base = [SourceFact("a", 2)]

    assert points(sources=base, status=Status.IN_TALKS) - points(sources=base, status=Status.RUMOURED) == 15


@pytest.mark.parametrize(("status", "expected"), [(Status.AGREED, 95), (Status.COMPLETED, 100)])
def test_it_treats_agreed_and_completed_deals_as_facts(status, expected):
    # given thin evidence and a party denial: the facts override them
    total, parts = score(
        sources=[SourceFact("a", 3)], quotes=[denies()], status=status, last_evidence_at=at(2015), now=NOW
    )

    assert total == expected
    assert [p.points for p in parts] == [expected]


@pytest.mark.parametrize(("status", "cap"), [(Status.ABANDONED, 10), (Status.EXPIRED, 15)])
def test_it_caps_abandoned_and_expired_rumours(status, cap):
    # given evidence that would be worth 60 + 40
    sources = [SourceFact(f"s{n}", 1) for n in range(4)]
    quotes = [confirms(speaker="A"), confirms(speaker="B")]

    # when
    total, parts = score(sources=sources, quotes=quotes, status=status, last_evidence_at=FRESH, now=NOW)

    # then
    assert total == cap
    assert parts[-1].points == cap - 100
    assert sum(p.points for p in parts) == cap


def test_it_does_not_raise_an_abandoned_rumour_to_its_cap():
    assert points(sources=[SourceFact("a", 3)], status=Status.ABANDONED) == 8


# --- Age --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("idle_days", "penalty"),
    [(0, 0), (90, 0), (119, 0), (120, 3), (150, 6), (245, 15), (390, 30), (2000, 30)],
)
def test_it_loses_points_after_ninety_days_without_evidence(idle_days, penalty):
    # given a score of 45 + 40
    sources = [SourceFact("a", 1), SourceFact("b", 1)]
    quotes = [confirms(speaker="A"), confirms(speaker="B")]

    # when
    total = points(sources=sources, quotes=quotes, last_evidence_at=NOW - timedelta(days=idle_days))

    # then
    assert total == 85 - penalty


def test_it_says_how_long_the_rumour_has_been_idle():
    parts = breakdown(sources=[SourceFact("a", 1)], last_evidence_at=NOW - timedelta(days=200))

    assert parts[-1] == Part("No new evidence for 200 days", -9)


# --- Properties -------------------------------------------------------------------------------


def random_input(rng: random.Random) -> dict:
    keys = [f"story-{n}" for n in range(rng.randint(1, 6))]
    return {
        "sources": [SourceFact(rng.choice(keys), rng.choice([1, 2, 3, 4])) for _ in range(rng.randint(0, 10))],
        "quotes": [
            QuoteFact(stance=rng.choice(list(Stance.values)), by_party=rng.random() < 0.7, speaker=f"P{n}")
            for n in range(rng.randint(0, 8))
        ],
        "status": rng.choice(list(Status.values)),
        "last_evidence_at": rng.choice([None, NOW - timedelta(days=rng.randint(0, 3000))]),
        "now": NOW,
    }


def test_it_always_scores_within_0_and_100():
    rng = random.Random(20250601)
    for _ in range(2000):
        facts = random_input(rng)

        total, _parts = score(**facts)

        assert 0 <= total <= 100, facts


def test_it_scores_the_sum_of_its_breakdown():
    rng = random.Random(20250601)
    for _ in range(2000):
        facts = random_input(rng)

        total, parts = score(**facts)

        assert total == sum(p.points for p in parts), facts


@pytest.mark.parametrize(
    ("sources", "quotes", "status", "expected"),
    [
        pytest.param(
            [SourceFact("a", 3)], [denies(speaker="A"), denies(speaker="B")], Status.RUMOURED, 0, id="below-0"
        ),
        pytest.param(
            [SourceFact(f"s{n}", 1) for n in range(4)],
            [confirms(speaker="A"), confirms(speaker="B")],
            Status.IN_TALKS,
            100,
            id="above-100",
        ),
    ],
)
def test_it_accounts_for_the_clamp_in_the_breakdown(sources, quotes, status, expected):
    # raw sums: 8 - 30 = -22 and 60 + 40 + 15 = 115
    total, parts = score(sources=sources, quotes=quotes, status=status, last_evidence_at=FRESH, now=NOW)

    assert total == expected
    assert total == sum(p.points for p in parts)


# --- Through the database ---------------------------------------------------------------------


@pytest.mark.django_db
def test_it_counts_one_story_carried_by_two_outlets_once(make_rumour, analyst):
    # given the same headline (modulo case and punctuation) from a wire and a national outlet
    rumour = make_rumour()
    published = timezone.now() - timedelta(days=2)
    rumour_attach_source(
        rumour=rumour,
        added_by=analyst,
        url="https://wire.example/goto-grab",
        title="GoTo, Grab revive merger talks",
        outlet="Wire",
        outlet_tier=1,
        published_at=published,
    )

    # when
    rumour_attach_source(
        rumour=rumour,
        added_by=analyst,
        url="https://daily.example/goto-grab",
        title="GoTo Grab Revive Merger Talks!",
        outlet="Daily",
        outlet_tier=2,
        published_at=published,
    )

    # then
    rumour.refresh_from_db()
    assert rumour.credibility == 30
    assert rumour.credibility_breakdown == [
        {"label": "1 independent story (1 syndicated copy counted once)", "points": 30}
    ]


@pytest.mark.django_db
def test_it_counts_two_different_headlines_as_two_stories(make_rumour, analyst):
    rumour = make_rumour()
    published = timezone.now() - timedelta(days=2)
    for n, title in enumerate(["GoTo, Grab revive merger talks", "Grab board weighs GoTo offer"]):
        rumour_attach_source(
            rumour=rumour,
            added_by=analyst,
            url=f"https://news.example/{n}",
            title=title,
            outlet_tier=1,
            published_at=published,
        )

    rumour.refresh_from_db()
    assert rumour.credibility == 45


@pytest.mark.django_db
def test_it_credits_only_quotes_from_party_executives(make_rumour, analyst, goto, grab):
    # given
    rumour = make_rumour(companies=[goto, grab])
    outsider = PersonFactory.create(name="Analyst at a bank")
    insider = PersonFactory.create(name="Alex Hungate", company=grab, role="President and COO")
    said = timezone.now() - timedelta(days=1)
    rumour_attach_source(rumour=rumour, added_by=analyst, url="https://a.example/1", outlet_tier=2, published_at=said)

    # when
    quote_add(rumour=rumour, text="Likely.", said_at=said, added_by=analyst, speaker=outsider, stance=Stance.CONFIRMS)
    rumour.refresh_from_db()
    after_outsider = rumour.credibility
    quote_add(rumour=rumour, text="We are talking.", said_at=said, added_by=analyst, speaker=insider, stance="confirms")
    rumour.refresh_from_db()

    # then
    assert (after_outsider, rumour.credibility) == (18, 38)


@pytest.mark.django_db
def test_it_applies_the_age_penalty_as_of_the_refresh(make_rumour, analyst):
    # given evidence from 2024-01-01
    rumour = make_rumour()
    rumour_attach_source(
        rumour=rumour, added_by=analyst, url="https://a.example/1", outlet_tier=1, published_at=at(2024)
    )

    # when refreshed as of 200 days later
    rumour_refresh(rumour=rumour, now=at(2024) + timedelta(days=200))

    # then
    rumour.refresh_from_db()
    assert rumour.credibility == 30 - 9
    assert rumour.credibility_updated_at == at(2024) + timedelta(days=200)
