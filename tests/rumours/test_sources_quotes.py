"""Opening rumours, attaching sources and adding quotes (rumours.services)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from rumours.models import Party, PartyRole, Quote, Rumour, Source, Stance
from rumours.services import (
    PartySpec,
    RumourError,
    person_upsert,
    quote_add,
    rumour_attach_source,
    rumour_create,
)
from tests.rumours.conftest import CompanyFactory, PersonFactory
from tracker.models import Entry, OutletTier
from tracker.services import feed_create

pytestmark = pytest.mark.django_db


def recently(days: int = 1) -> datetime:
    # Recent dates keep the age penalty out of the credibility numbers.
    return timezone.now().replace(microsecond=0) - timedelta(days=days)


def korean_entry(published_at: datetime) -> Entry:
    feed, _ = feed_create(
        url="https://biz.chosun.example/rss.xml", title="Chosun Biz", language="ko", tier=OutletTier.WIRE
    )
    return Entry.objects.create(
        feed=feed,
        identity_key="a" * 64,
        link="https://biz.chosun.example/2025/05/goto-grab",
        title="고투·그랩 합병 논의 재개",
        language="ko",
        published_at=published_at,
        content_hash="b" * 64,
    )


# --- rumour_create ----------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", "   "])
def test_it_refuses_a_rumour_without_a_title(analyst, goto, title):
    with pytest.raises(RumourError, match="title"):
        rumour_create(title=title, parties=[PartySpec(goto, PartyRole.TARGET)], created_by=analyst)

    assert not Rumour.objects.exists()


def test_it_refuses_a_rumour_without_parties(analyst):
    with pytest.raises(RumourError, match="at least one party"):
        rumour_create(title="Mystery deal", parties=[], created_by=analyst)

    assert not Rumour.objects.exists()


def test_it_refuses_a_company_twice_among_the_parties(analyst, goto):
    parties = [PartySpec(goto, PartyRole.ACQUIRER), PartySpec(goto, PartyRole.TARGET)]

    with pytest.raises(RumourError, match="only once"):
        rumour_create(title="GoTo buys GoTo", parties=parties, created_by=analyst)

    assert not Rumour.objects.exists()


def test_it_opens_a_rumour_with_its_parties(analyst, goto, grab):
    # when
    rumour = rumour_create(
        title="  GoTo–Grab merger ",
        parties=[PartySpec(goto, PartyRole.TARGET), PartySpec(grab, PartyRole.ACQUIRER)],
        created_by=analyst,
        value_amount=Decimal("28000000000"),
        value_currency="usd",
    )

    # then
    rumour.refresh_from_db()
    assert (rumour.title, rumour.value_currency, rumour.value_amount) == ("GoTo–Grab merger", "USD", 28000000000)
    assert rumour.created_by == analyst
    assert set(Party.objects.filter(rumour=rumour).values_list("company__name", "role")) == {
        ("GoTo", PartyRole.TARGET),
        ("Grab", PartyRole.ACQUIRER),
    }
    assert (rumour.status, rumour.credibility, rumour.sources.count()) == ("", 0, 0)


def test_it_gives_each_rumour_its_own_slug(make_rumour):
    first, second = make_rumour(title="GoTo–Grab merger"), make_rumour(title="GoTo–Grab merger")

    assert first.slug != second.slug


def test_it_makes_the_entry_a_rumour_came_from_its_first_source(analyst, goto, grab):
    # given
    published = recently(2)
    entry = korean_entry(published)

    # when
    rumour = rumour_create(
        title="GoTo–Grab merger",
        parties=[PartySpec(goto, PartyRole.MERGER_PARTY), PartySpec(grab, PartyRole.MERGER_PARTY)],
        created_by=analyst,
        entry=entry,
    )

    # then
    (source,) = Source.objects.filter(rumour=rumour)
    assert source.entry == entry
    assert (source.url, source.title) == (entry.link, entry.title)
    assert (source.outlet, source.outlet_tier) == ("Chosun Biz", OutletTier.WIRE)
    assert (source.published_at, source.language, source.added_by) == (published, "ko", analyst)
    rumour.refresh_from_db()
    assert (rumour.credibility, rumour.last_evidence_at) == (30, published)


# --- rumour_attach_source ---------------------------------------------------------------------


def test_it_attaches_a_url_only_once(make_rumour, analyst):
    # given
    rumour = make_rumour()
    first = rumour_attach_source(
        rumour=rumour, added_by=analyst, url="https://a.example/1", title="First", published_at=recently(3)
    )

    # when the same URL comes again with other details
    again = rumour_attach_source(
        rumour=rumour, added_by=analyst, url="https://a.example/1", title="Second", published_at=recently(1)
    )

    # then
    assert again.pk == first.pk
    assert list(Source.objects.filter(rumour=rumour).values_list("title", flat=True)) == ["First"]


def test_it_attaches_the_same_url_to_two_rumours(make_rumour, analyst):
    one, two = make_rumour(title="One"), make_rumour(title="Two")

    for rumour in (one, two):
        rumour_attach_source(rumour=rumour, added_by=analyst, url="https://a.example/1", published_at=recently())

    assert Source.objects.filter(url="https://a.example/1").count() == 2


def test_it_needs_the_publication_date_of_a_typed_in_url(make_rumour, analyst):
    rumour = make_rumour()

    with pytest.raises(RumourError, match="publication date"):
        rumour_attach_source(rumour=rumour, added_by=analyst, url="https://a.example/1")

    assert not Source.objects.exists()


def test_it_needs_a_url(make_rumour, analyst):
    rumour = make_rumour()

    with pytest.raises(RumourError, match="URL"):
        rumour_attach_source(rumour=rumour, added_by=analyst, published_at=recently())

    assert not Source.objects.exists()


def test_it_refreshes_credibility_and_last_evidence_when_a_source_is_attached(make_rumour, analyst):
    # given
    rumour = make_rumour()
    older, newer = recently(5), recently(2)
    rumour_attach_source(rumour=rumour, added_by=analyst, url="https://a.example/1", outlet_tier=2, published_at=newer)

    # when an older story from a wire arrives
    rumour_attach_source(
        rumour=rumour, added_by=analyst, url="https://b.example/2", title="Other", outlet_tier=1, published_at=older
    )

    # then: 30 + 18 // 2; last evidence stays the newest
    rumour.refresh_from_db()
    assert (rumour.credibility, rumour.last_evidence_at) == (39, newer)


# --- quote_add --------------------------------------------------------------------------------


def test_it_keeps_the_speakers_role_and_company_at_the_time(make_rumour, analyst, grab):
    # given
    rumour = make_rumour()
    hungate, _ = person_upsert(name="Alex Hungate", company=grab, role="President and COO")
    quote = quote_add(
        rumour=rumour, text="The bar is very high.", said_at=recently(), added_by=analyst, speaker=hungate
    )

    # when he changes role and company
    person_upsert(name="Alex Hungate", company=grab, role="Adviser")
    hungate.company = CompanyFactory.create(name="Elsewhere")
    hungate.save(update_fields=["company"])

    # then the quote keeps what he was when he said it
    quote.refresh_from_db()
    assert (quote.speaker_name, quote.speaker_role, quote.speaker_company) == (
        "Alex Hungate",
        "President and COO",
        grab,
    )


def test_it_keeps_a_role_given_with_the_quote(make_rumour, analyst, grab):
    rumour = make_rumour()
    person = PersonFactory.create(name="Anthony Tan", company=grab, role="CEO")

    quote = quote_add(
        rumour=rumour, text="…", said_at=recently(), added_by=analyst, speaker=person, speaker_role="Co-founder"
    )

    assert Quote.objects.get(pk=quote.pk).speaker_role == "Co-founder"


def test_it_takes_an_unknown_speaker_by_name(make_rumour, analyst):
    rumour = make_rumour()

    quote = quote_add(
        rumour=rumour, text="No comment.", said_at=recently(), added_by=analyst, speaker_name=" A spokesperson "
    )

    assert (quote.speaker, quote.speaker_name, quote.speaker_company) == (None, "A spokesperson", None)


@pytest.mark.parametrize("text", ["", "  \n"])
def test_it_refuses_a_quote_without_text(make_rumour, analyst, text):
    rumour = make_rumour()

    with pytest.raises(RumourError, match="exact text"):
        quote_add(rumour=rumour, text=text, said_at=recently(), added_by=analyst, speaker_name="Someone")

    assert not Quote.objects.exists()


@pytest.mark.parametrize("name", ["", "   "])
def test_it_refuses_a_quote_without_a_speaker(make_rumour, analyst, name):
    rumour = make_rumour()

    with pytest.raises(RumourError, match="speaker"):
        quote_add(rumour=rumour, text="We are talking.", said_at=recently(), added_by=analyst, speaker_name=name)

    assert not Quote.objects.exists()


def test_it_refuses_a_source_from_another_rumour(make_rumour, analyst):
    # given
    rumour, other = make_rumour(title="A"), make_rumour(title="B")
    elsewhere = rumour_attach_source(rumour=other, added_by=analyst, url="https://a.example/1", published_at=recently())

    # when
    with pytest.raises(RumourError, match="another rumour"):
        quote_add(rumour=rumour, text="Hm.", said_at=recently(), added_by=analyst, speaker_name="X", source=elsewhere)

    # then
    assert not Quote.objects.exists()


def test_it_takes_the_language_from_the_source_unless_given(make_rumour, analyst):
    # given
    rumour = make_rumour()
    source = rumour_attach_source(
        rumour=rumour, added_by=analyst, url="https://a.example/ko", language="ko", published_at=recently()
    )

    # when
    from_source = quote_add(
        rumour=rumour, text="기준이 매우 높다", said_at=recently(), added_by=analyst, speaker_name="X", source=source
    )
    given = quote_add(
        rumour=rumour,
        text="The bar is very high",
        said_at=recently(),
        added_by=analyst,
        speaker_name="X",
        source=source,
        language="en",
    )

    # then
    assert (from_source.language, given.language) == ("ko", "en")


def test_it_refreshes_credibility_and_last_evidence_when_a_quote_is_added(make_rumour, analyst, goto, grab):
    # given a rumour with one national story from five days ago
    rumour = make_rumour(companies=[goto, grab])
    rumour_attach_source(rumour=rumour, added_by=analyst, url="https://a.example/1", published_at=recently(5))
    walujo = PersonFactory.create(name="Patrick Walujo", company=goto, role="CEO")
    said = recently(1)

    # when
    quote_add(
        rumour=rumour, text="We are not in talks.", said_at=said, added_by=analyst, speaker=walujo, stance=Stance.DENIES
    )

    # then: 18 - 15, and the quote is the newest evidence
    rumour.refresh_from_db()
    assert (rumour.credibility, rumour.last_evidence_at) == (3, said)
    assert rumour.credibility_breakdown[-1] == {
        "label": "1 party executive(s) denied on record (Patrick Walujo)",
        "points": -15,
    }


# Production bug: quote_add stores any stance string. A typo such as "confirm" is kept
# and then silently ignored by credibility (only confirms/denies/no_comment score), while
# rumour_change_status already refuses an unknown status. Proposed fix: in quote_add,
# ``if stance not in Stance.values: raise RumourError(f"Unknown stance {stance!r}.")``.
def test_it_refuses_an_unknown_stance(make_rumour, analyst):
    rumour = make_rumour()

    with pytest.raises(RumourError, match="stance"):
        quote_add(
            rumour=rumour,
            text="We are in talks.",
            said_at=recently(),
            added_by=analyst,
            speaker_name="X",
            stance="confirm",
        )
