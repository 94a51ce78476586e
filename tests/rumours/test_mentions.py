"""Detection's ORM side (rumours.mentions): scanning entries into mentions, story clusters and
the story keys credibility counts by, accepting and dismissing, the scan_entries command and
task, and the hand-off from tracker. Against the real database; the articles are written here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from rumours.handoff import entries_ingested
from rumours.mentions import (
    entries_to_scan,
    mention_accept,
    mentions_dismiss,
    mentions_scan,
    watchlist_current,
)
from rumours.models import (
    Company,
    DealType,
    Mention,
    MentionState,
    PartyRole,
    Person,
    Quote,
    Rumour,
    Source,
    Stance,
    Status,
    StoryBand,
    StoryCluster,
)
from rumours.services import (
    AliasSpec,
    CompanySpec,
    RumourError,
    company_upsert,
    person_upsert,
    rumour_attach_source,
    rumour_change_status,
)
from rumours.tasks import scan_entries
from tests import feedbuilder
from tests.articles import DEAL_BODY, DEAL_TITLE, HUNGATE_SAYS
from tests.rumours.conftest import UserFactory, make_entry
from tracker.models import Entry, Feed, OutletTier
from tracker.services import feed_create, feed_ingest_document

pytestmark = pytest.mark.django_db


# --- The articles ------------------------------------------------------------------------------

# The wire story (tests.articles) as another outlet ran it: its own headline and one sentence of its own.
COPY_TITLE = "Southeast Asia's two super apps move closer to a merger"
COPY_BODY = DEAL_BODY + "<p>Shares of GoTo rose 4 per cent in Jakarta after the announcement.</p>"
# The same deal, reported independently: different words, so a different story.
OWN_REPORT_TITLE = "GoTo investors push for better terms in Grab merger"
OWN_REPORT_BODY = (
    "<p>Several of GoTo's largest shareholders want the Indonesian firm to secure more seats on the board of "
    "the company that would emerge from its merger with Grab Holdings, three fund managers told this paper.</p>"
    "<p>One of them said the exchange ratio under discussion undervalued Gojek's payments arm.</p>"
)
NON_DEAL_TITLE = "Grab launches grocery delivery in Hanoi"
NON_DEAL_BODY = (
    "<p>Grab said on Monday it would start delivering groceries in Hanoi, adding a service its customers had "
    "asked for.</p><p>The ride-hailing company will hire 500 riders.</p>"
)
NOBODY_TITLE = "Hà Nội mưa lớn, nhiều tuyến phố ngập sâu"
NOBODY_BODY = (
    "<p>Mưa lớn kéo dài từ chiều qua khiến nhiều tuyến phố ở trung tâm Hà Nội ngập sâu, giao thông ùn tắc "
    "nghiêm trọng.</p><p>Cơ quan khí tượng dự báo mưa còn kéo dài đến cuối tuần.</p>"
)
# The same event in Korean: Grab and GoTo confirm the merger talks (in talks, like the English).
KO_TALKS_TITLE = "그랩·고투(GoTo), 합병 협상 공식 확인"
KO_TALKS_BODY = (
    "<p>동남아시아 차량호출 기업 그랩과 인도네시아의 고투가 합병 협상을 진행하고 있다고 양사가 공동 성명을 통해 "
    "확인했다.</p>"
    '<p>알렉스 헝가테 그랩 사장은 "고투와의 협상이 순조롭게 진행되고 있다"고 말했다.</p>'
    "<p>통합 법인의 기업가치는 약 300억 달러로 예상된다.</p>"
)
# Grab and GoTo deny the merger reports: same parties, another stage.
KO_DENIAL_TITLE = '그랩·고투(GoTo) 합병설에 양사 "사실무근" 일축'
KO_DENIAL_BODY = (
    "<p>그랩과 고투는 합병 협상 보도에 대해 사실무근이라며 부인했다.</p>"
    '<p>그랩 측은 "합병을 논의한 바 없다"고 밝혔다.</p>'
)

# Two reports on Lazada's Vietnam unit that share a core but not much else, and a round-up of both.
LAZADA_CORE = (
    "<p>Lazada is weighing a sale of its Vietnamese marketplace to Tiki, according to people familiar with the "
    "matter, in a deal that could value the business at around US$400 million.</p>"
    "<p>Tiki has hired advisers to study the Lazada books and a term sheet could be ready by the end of the "
    "quarter.</p>"
)
LAZADA_MARKET = (
    "<p>Vietnamese shoppers have been moving to social commerce, and both platforms lost share to TikTok Shop "
    "over the past eighteen months, squeezing margins across the sector.</p>"
    "<p>Analysts in Ho Chi Minh City said a combined marketplace would rank second in the country by orders.</p>"
)
LAZADA_OWNER = (
    "<p>Alibaba, which controls Lazada, has been cutting costs in smaller markets and closed two warehouses "
    "near Hanoi in the spring, according to local filings.</p>"
    "<p>A banker in Singapore said JD.com and a Thai retailer had also looked at the business but walked away.</p>"
)
TIKI_BUYS_TITLE = "Tiki to acquire Lazada's Vietnam business"
TIKI_BUYS_BODY = (
    "<p>Tiki has agreed to acquire the Vietnamese business of Lazada, the two companies said in a joint "
    "statement on Friday.</p><p>Terms were not disclosed.</p>"
)


# --- Fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def watchlist(db) -> dict[str, Company]:
    """GoTo, Grab (an ordinary word too), Tiki and Lazada, through the same service the import uses."""
    specs = [
        CompanySpec(
            "GoTo", "ID", "super_app", tickers=["IDX:GOTO"], aliases=(AliasSpec("고투", "ko", ambiguous=True),)
        ),
        CompanySpec(
            "Grab",
            "SG",
            "super_app",
            tickers=["NASDAQ:GRAB"],
            aliases=(AliasSpec("Grab", ambiguous=True), AliasSpec("Grab Holdings"), AliasSpec("그랩", "ko")),
        ),
        CompanySpec("Tiki", "VN", "e_commerce"),
        CompanySpec("Lazada", "SG", "e_commerce"),
    ]
    return {spec.name: company_upsert(spec=spec)[0] for spec in specs}


@pytest.fixture
def hungate(watchlist) -> Person:
    return person_upsert(
        name="Alex Hungate", company=watchlist["Grab"], role="President", aliases=[AliasSpec("알렉스 헝가테", "ko")]
    )[0]


@pytest.fixture
def feeds(db) -> dict[str, Feed]:
    """A wire, a national daily, a Korean paper and an aggregator that declares no language."""
    return {
        "wire": feed_create(url="https://wire.example/rss", title="SEA Wire", language="en", tier=OutletTier.WIRE)[0],
        "daily": feed_create(url="https://daily.example/tech.xml", title="Jakarta Daily", language="en")[0],
        "korean": feed_create(url="https://kr.example/rss", title="Seoul Economic Daily", language="ko")[0],
        "aggregator": feed_create(url="https://agg.example/feed", title="Aggregator", tier=OutletTier.TRADE)[0],
    }


@pytest.fixture
def start() -> datetime:
    """When the first article of a test came out."""
    return timezone.now() - timedelta(days=20)


def publish(feed: Feed, title: str, body: str, *, at: datetime) -> Entry:
    """An entry as tracker stores it (make_entry), published at ``at``."""
    entry = make_entry(title, body, feed=feed)
    Entry.objects.filter(pk=entry.pk).update(published_at=at)
    entry.published_at = at
    return entry


def mention_of(entry: Entry) -> Mention:
    return Mention.objects.get(entry=entry)


def scanned(entry: Entry) -> Mention:
    mentions_scan(entry_ids=[entry.pk])
    return mention_of(entry)


# --- Scanning ----------------------------------------------------------------------------------


def test_it_reads_a_deal_article_into_a_deal_candidate(watchlist, hungate, feeds, start):
    # given
    entry = publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start)

    # when
    summary = mentions_scan(entry_ids=[entry.pk])

    # then
    assert (summary.scanned, summary.flagged, summary.deal_candidates, summary.removed) == (1, 1, 1, 0)
    mention = mention_of(entry)
    assert mention.state == MentionState.NEW
    assert mention.is_deal_candidate
    assert mention.deal_score >= 0.9
    assert (mention.stage_hint, mention.deal_type) == (Status.IN_TALKS, DealType.MERGER)
    assert set(mention.parties.all()) == {watchlist["GoTo"], watchlist["Grab"]}
    assert set(mention.companies.all()) == {watchlist["GoTo"], watchlist["Grab"]}
    assert mention.signals  # the terms it read, for the analyst
    assert mention.scanned_at is not None
    assert mention.cluster is not None
    assert mention.suggested_quotes == [
        {
            "speaker": "Alex Hungate",
            "person": hungate.pk,
            "role": "President",
            "company": "Grab",
            "company_id": watchlist["Grab"].pk,
            "text": HUNGATE_SAYS,
            "stance": Stance.CONFIRMS,
        }
    ]


def test_it_flags_a_non_deal_article_naming_grab_but_not_as_a_candidate(watchlist, feeds, start):
    entry = publish(feeds["daily"], NON_DEAL_TITLE, NON_DEAL_BODY, at=start)

    summary = mentions_scan(entry_ids=[entry.pk])

    assert (summary.flagged, summary.deal_candidates) == (1, 0)
    mention = mention_of(entry)
    assert list(mention.companies.all()) == [watchlist["Grab"]]
    assert not mention.is_deal_candidate
    assert mention.deal_score < 0.5
    assert (mention.stage_hint, mention.deal_type) == ("", "")
    assert list(mention.parties.all()) == []


def test_it_stores_the_language_of_an_article_naming_nobody_and_no_mention(watchlist, feeds, start):
    # given: the aggregator declares no language
    entry = publish(feeds["aggregator"], NOBODY_TITLE, NOBODY_BODY, at=start)
    assert entry.language == ""

    # when
    summary = mentions_scan(entry_ids=[entry.pk])

    # then
    assert (summary.scanned, summary.flagged) == (1, 0)
    assert not Mention.objects.exists()
    entry.refresh_from_db()
    assert entry.language == "vi"


def test_it_rescans_idempotently(watchlist, hungate, feeds, start):
    # given
    entry = publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start)
    first = scanned(entry)
    bands = sorted(StoryBand.objects.filter(mention=first).values_list("key", flat=True))

    # when
    summary = mentions_scan(entry_ids=[entry.pk])

    # then
    again = mention_of(entry)
    assert summary.flagged == 1
    assert (again.pk, again.cluster_id) == (first.pk, first.cluster_id)
    assert Mention.objects.count() == StoryCluster.objects.count() == 1
    assert len(bands) > 0
    assert sorted(StoryBand.objects.filter(mention=again).values_list("key", flat=True)) == bands
    assert StoryBand.objects.count() == len(bands)
    assert again.suggested_quotes == first.suggested_quotes


def test_it_rewrites_a_waiting_mention_when_its_entry_changed(watchlist, feeds, start):
    # given: flagged as deal news, then the outlet rewrote the piece
    entry = publish(feeds["daily"], DEAL_TITLE, DEAL_BODY, at=start)
    assert scanned(entry).is_deal_candidate
    Entry.objects.filter(pk=entry.pk).update(title=NON_DEAL_TITLE, summary=NON_DEAL_BODY)

    # when
    mention = scanned(entry)

    # then
    assert not mention.is_deal_candidate
    assert list(mention.companies.all()) == [watchlist["Grab"]]
    assert list(mention.parties.all()) == []
    assert mention.suggested_quotes == []


def test_it_drops_a_waiting_mention_whose_entry_no_longer_names_anyone(watchlist, feeds, start):
    entry = publish(feeds["daily"], NON_DEAL_TITLE, NON_DEAL_BODY, at=start)
    scanned(entry)
    Entry.objects.filter(pk=entry.pk).update(title=NOBODY_TITLE, summary=NOBODY_BODY)

    summary = mentions_scan(entry_ids=[entry.pk])

    assert (summary.flagged, summary.removed) == (0, 1)
    assert not Mention.objects.exists()


@pytest.mark.parametrize("decision", [MentionState.ACCEPTED, MentionState.DISMISSED])
def test_it_keeps_a_decided_mention_as_it_was_when_rescanned(watchlist, hungate, feeds, start, analyst, decision):
    # given: decided on, then the entry was rewritten so that it reads as something else
    entry = publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start)
    mention = scanned(entry)
    rumour = None
    if decision == MentionState.ACCEPTED:
        rumour = mention_accept(mention=mention, by=analyst)
    else:
        assert mentions_dismiss(mention_ids=[mention.pk], by=analyst) == 1
    Entry.objects.filter(pk=entry.pk).update(title=NON_DEAL_TITLE, summary=NON_DEAL_BODY)

    # when
    summary = mentions_scan(entry_ids=[entry.pk])

    # then: still flagged, the decision and what was decided on unchanged
    assert (summary.flagged, summary.removed) == (1, 0)
    again = mention_of(entry)
    assert (again.pk, again.state, again.rumour, again.state_changed_by) == (mention.pk, decision, rumour, analyst)
    assert again.is_deal_candidate
    assert (again.stage_hint, again.deal_type) == (Status.IN_TALKS, DealType.MERGER)
    assert set(again.parties.all()) == {watchlist["GoTo"], watchlist["Grab"]}
    assert again.suggested_quotes == mention.suggested_quotes


def test_a_decided_mention_stays_when_its_entry_no_longer_names_anyone(watchlist, feeds, start, analyst):
    entry = publish(feeds["daily"], NON_DEAL_TITLE, NON_DEAL_BODY, at=start)
    mentions_dismiss(mention_ids=[scanned(entry).pk], by=analyst)
    Entry.objects.filter(pk=entry.pk).update(title=NOBODY_TITLE, summary=NOBODY_BODY)

    summary = mentions_scan(entry_ids=[entry.pk])

    assert summary.removed == 0
    assert mention_of(entry).state == MentionState.DISMISSED


def test_it_suggests_the_open_thread_with_the_same_parties_not_a_completed_one(
    watchlist, feeds, start, make_rumour, analyst
):
    # given: the completed GoTo–Grab thread and a Grab–Tiki thread are more recently active than the open one
    open_thread = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    rumour_change_status(rumour=open_thread, status=Status.RUMOURED, effective_at=start, recorded_by=analyst)
    completed = make_rumour(title="GoTo–Grab 2019 deal", companies=[watchlist["GoTo"], watchlist["Grab"]])
    rumour_change_status(rumour=completed, status=Status.COMPLETED, effective_at=start, recorded_by=analyst)
    make_rumour(title="Grab–Tiki stake", companies=[watchlist["Grab"], watchlist["Tiki"]])
    entry = publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start)

    # when
    mention = scanned(entry)

    # then
    assert mention.suggested_rumour == open_thread


def test_it_suggests_nothing_when_only_a_completed_thread_has_the_parties(
    watchlist, feeds, start, make_rumour, analyst
):
    completed = make_rumour(title="GoTo–Grab 2019 deal", companies=[watchlist["GoTo"], watchlist["Grab"]])
    rumour_change_status(rumour=completed, status=Status.COMPLETED, effective_at=start, recorded_by=analyst)
    entry = publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start)

    assert scanned(entry).suggested_rumour is None


# --- The watchlist detection reads -------------------------------------------------------------


def test_it_rebuilds_the_watchlist_only_when_it_changed(watchlist, feeds, start):
    # given
    built = watchlist_current()
    assert watchlist_current() is built
    entry = publish(feeds["daily"], "Shopee courts VNG over payments tie-up", "<p>Shopee and VNG met.</p>", at=start)
    assert mentions_scan(entry_ids=[entry.pk]).flagged == 0

    # when: a company joins the watchlist
    company_upsert(spec=CompanySpec("Shopee", "SG", "e_commerce"))

    # then
    assert watchlist_current() is not built
    assert list(scanned(entry).companies.values_list("name", flat=True)) == ["Shopee"]


def test_it_picks_up_a_new_alias(watchlist, feeds, start):
    entry = publish(
        feeds["korean"],
        "라자다, 베트남 사업 재정비",
        "<p>라자다는 하노이 물류센터 두 곳을 닫았다고 밝혔다.</p>",
        at=start,
    )
    assert mentions_scan(entry_ids=[entry.pk]).flagged == 0

    company_upsert(spec=CompanySpec("Lazada", "SG", "e_commerce", aliases=(AliasSpec("라자다", "ko"),)))

    assert list(scanned(entry).companies.all()) == [watchlist["Lazada"]]


def test_it_suggests_a_quote_with_the_speakers_current_role(watchlist, hungate, feeds, start):
    # given: scanned once, so the watchlist is built and cached
    entry = publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start)
    assert scanned(entry).suggested_quotes[0]["role"] == "President"

    # when
    person_upsert(name="Alex Hungate", company=watchlist["Grab"], role="Chief Operating Officer")
    mention = scanned(entry)

    # then
    assert mention.suggested_quotes[0]["role"] == "Chief Operating Officer"


# --- Story clusters ----------------------------------------------------------------------------


def test_a_syndicated_copy_joins_the_first_ones_cluster(watchlist, feeds, start):
    # given
    original = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))

    # when: another outlet runs it five hours later, with its own headline and a sentence added
    copy = scanned(publish(feeds["daily"], COPY_TITLE, COPY_BODY, at=start + timedelta(hours=5)))

    # then
    assert original.cluster_id is not None
    assert copy.cluster_id == original.cluster_id
    assert StoryCluster.objects.count() == 1


def test_a_copy_scanned_in_the_same_batch_joins_too(watchlist, feeds, start):
    copy = publish(feeds["daily"], COPY_TITLE, COPY_BODY, at=start + timedelta(hours=5))
    original = publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start)

    mentions_scan(entry_ids=[copy.pk, original.pk])

    assert mention_of(copy).cluster_id == mention_of(original).cluster_id


def test_an_unrelated_article_gets_its_own_cluster(watchlist, feeds, start):
    deal = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))

    other = scanned(publish(feeds["daily"], NON_DEAL_TITLE, NON_DEAL_BODY, at=start + timedelta(hours=1)))

    assert other.cluster_id is not None
    assert other.cluster_id != deal.cluster_id
    assert StoryCluster.objects.count() == 2


@pytest.mark.parametrize(("apart", "together"), [(timedelta(days=6), True), (timedelta(days=8), False)])
def test_copies_cluster_only_within_a_week(watchlist, feeds, start, apart, together):
    original = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))

    copy = scanned(publish(feeds["daily"], COPY_TITLE, COPY_BODY, at=start + apart))

    assert (copy.cluster_id == original.cluster_id) is together


def test_an_article_like_two_clusters_merges_them(watchlist, feeds, start):
    # given: two reports sharing a core but too different to be one story
    first = scanned(
        publish(feeds["wire"], "Lazada weighs sale of Vietnam unit to Tiki", LAZADA_CORE + LAZADA_MARKET, at=start)
    )
    second = scanned(
        publish(
            feeds["daily"], "Tiki eyes Lazada's Vietnam marketplace", LAZADA_CORE + LAZADA_OWNER,
            at=start + timedelta(hours=2),
        )
    )  # fmt: skip
    assert first.cluster_id != second.cluster_id

    # when: a round-up carries both
    roundup = scanned(
        publish(
            feeds["aggregator"], "Lazada, Tiki in talks over Vietnam marketplace",
            LAZADA_CORE + LAZADA_MARKET + LAZADA_OWNER, at=start + timedelta(hours=4),
        )
    )  # fmt: skip

    # then: one story, in one of the two clusters; the other cluster is gone
    assert roundup.cluster_id in {first.cluster_id, second.cluster_id}
    assert {m.cluster_id for m in Mention.objects.all()} == {roundup.cluster_id}
    assert list(StoryCluster.objects.values_list("pk", flat=True)) == [roundup.cluster_id]


@pytest.mark.parametrize(("apart", "together"), [(timedelta(hours=30), True), (timedelta(days=5), False)])
def test_a_korean_report_of_the_same_deal_at_the_same_stage_joins_within_three_days(
    watchlist, hungate, feeds, start, apart, together
):
    # given
    english = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))

    # when
    korean = scanned(publish(feeds["korean"], KO_TALKS_TITLE, KO_TALKS_BODY, at=start + apart))

    # then
    assert korean.entry.language == "ko"
    assert korean.is_deal_candidate
    assert set(korean.parties.all()) == set(english.parties.all())
    assert korean.stage_hint == english.stage_hint == Status.IN_TALKS
    assert (korean.cluster_id == english.cluster_id) is together


def test_a_korean_report_at_another_stage_does_not_join(watchlist, feeds, start):
    english = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))

    korean = scanned(publish(feeds["korean"], KO_DENIAL_TITLE, KO_DENIAL_BODY, at=start + timedelta(hours=30)))

    assert korean.is_deal_candidate
    assert set(korean.parties.all()) == set(english.parties.all())
    assert korean.stage_hint == Status.DENIED
    assert korean.cluster_id != english.cluster_id


def test_the_korean_speaker_is_the_known_person_by_his_korean_alias(watchlist, hungate, feeds, start):
    korean = scanned(publish(feeds["korean"], KO_TALKS_TITLE, KO_TALKS_BODY, at=start))

    [quote] = korean.suggested_quotes
    assert (quote["person"], quote["speaker"], quote["company"]) == (hungate.pk, "Alex Hungate", "Grab")
    assert quote["text"] == "고투와의 협상이 순조롭게 진행되고 있다"


# --- Story keys: credibility counts a cluster once ---------------------------------------------


def stories_part(rumour: Rumour) -> dict[str, object]:
    rumour.refresh_from_db()
    [part] = [part for part in rumour.credibility_breakdown if "independent stor" in part["label"]]
    return part


def test_sources_in_one_cluster_share_a_story_key_and_count_once(watchlist, feeds, start, make_rumour, analyst):
    # given: the wire story and its syndicated copy, clustered
    original = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))
    copy = scanned(publish(feeds["daily"], COPY_TITLE, COPY_BODY, at=start + timedelta(hours=5)))
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])

    # when
    for mention in (original, copy):
        rumour_attach_source(rumour=rumour, entry=mention.entry, added_by=analyst)

    # then: tier 1 (30 points) and its copy count as one story
    keys = set(Source.objects.filter(rumour=rumour).values_list("story_key", flat=True))
    assert keys == {f"cluster:{original.cluster_id}"}
    assert stories_part(rumour) == {"label": "1 independent story (1 syndicated copy counted once)", "points": 30}


def test_sources_in_different_clusters_count_as_two_stories(watchlist, feeds, start, make_rumour, analyst):
    # given: the wire story and an independent report on the same deal
    original = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))
    own = scanned(publish(feeds["daily"], OWN_REPORT_TITLE, OWN_REPORT_BODY, at=start + timedelta(hours=5)))
    assert own.cluster_id != original.cluster_id
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])

    # when
    for mention in (original, own):
        rumour_attach_source(rumour=rumour, entry=mention.entry, added_by=analyst)

    # then: 30 for the wire, half of 18 for the daily
    keys = set(Source.objects.filter(rumour=rumour).values_list("story_key", flat=True))
    assert keys == {f"cluster:{original.cluster_id}", f"cluster:{own.cluster_id}"}
    assert stories_part(rumour) == {"label": "2 independent stories", "points": 39}


def test_a_copy_clustered_after_it_was_attached_is_counted_once_from_then_on(
    watchlist, feeds, start, make_rumour, analyst
):
    # given: both attached before the copy was scanned, so they count as two stories
    original = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))
    copy_entry = publish(feeds["daily"], COPY_TITLE, COPY_BODY, at=start + timedelta(hours=5))
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    rumour_attach_source(rumour=rumour, entry=original.entry, added_by=analyst)
    rumour_attach_source(rumour=rumour, entry=copy_entry, added_by=analyst)
    assert stories_part(rumour)["label"] == "2 independent stories"

    # when
    copy = scanned(copy_entry)

    # then: the copy is already accepted onto the thread, and now counts with its original
    assert (copy.state, copy.rumour) == (MentionState.ACCEPTED, rumour)
    assert copy.cluster_id == original.cluster_id
    keys = set(Source.objects.filter(rumour=rumour).values_list("story_key", flat=True))
    assert keys == {f"cluster:{original.cluster_id}"}
    assert stories_part(rumour) == {"label": "1 independent story (1 syndicated copy counted once)", "points": 30}


# --- Accepting -----------------------------------------------------------------------------------


def test_accepting_onto_a_rumour_adds_the_source_and_the_chosen_quotes(
    watchlist, hungate, feeds, start, make_rumour, analyst
):
    # given
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    mention = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))

    # when
    accepted_onto = mention_accept(mention=mention, by=analyst, rumour=rumour, quote_indexes=[0])

    # then: the article is a source
    assert accepted_onto == rumour
    source = Source.objects.get(rumour=rumour)
    assert (source.entry, source.url, source.outlet, source.outlet_tier) == (
        mention.entry, mention.entry.link, "SEA Wire", OutletTier.WIRE,
    )  # fmt: skip
    # the quote, verbatim, with who said it and what it says about the deal
    quote = Quote.objects.get(rumour=rumour)
    assert (quote.text, quote.stance, quote.source, quote.language) == (HUNGATE_SAYS, Stance.CONFIRMS, source, "en")
    assert (quote.speaker, quote.speaker_name, quote.speaker_role, quote.speaker_company) == (
        hungate, "Alex Hungate", "President", watchlist["Grab"],
    )  # fmt: skip
    assert (quote.said_at, quote.added_by) == (mention.entry.published_at, analyst)
    # the mention left the inbox
    mention.refresh_from_db()
    assert (mention.state, mention.rumour, mention.state_changed_by) == (MentionState.ACCEPTED, rumour, analyst)
    assert mention.state_changed_at is not None
    # and the services re-scored the thread: a party's executive confirmed on record
    rumour.refresh_from_db()
    labels = [part["label"] for part in rumour.credibility_breakdown]
    assert "1 party executive(s) confirmed on record (Alex Hungate)" in labels


def test_accepting_without_choosing_quotes_adds_only_the_source(watchlist, hungate, feeds, start, make_rumour, analyst):
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    mention = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))

    mention_accept(mention=mention, by=analyst, rumour=rumour)

    assert Source.objects.filter(rumour=rumour).count() == 1
    assert not Quote.objects.exists()


def test_accepting_without_a_rumour_opens_one_from_the_proposal(watchlist, hungate, feeds, start, analyst):
    # given
    mention = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))

    # when
    rumour = mention_accept(mention=mention, by=analyst, quote_indexes=[0])

    # then
    rumour.refresh_from_db()
    assert rumour.title == "Grab–GoTo merger"  # the parties in the order the headline names them
    assert rumour.deal_type == DealType.MERGER
    assert {(p.company, p.role) for p in rumour.parties.all()} == {
        (watchlist["GoTo"], PartyRole.MERGER_PARTY),
        (watchlist["Grab"], PartyRole.MERGER_PARTY),
    }
    assert rumour.created_by == analyst
    # its status is the stage detection read, evidenced by the article
    source = Source.objects.get(rumour=rumour)
    assert source.entry == mention.entry
    [change] = rumour.status_changes.all()
    assert (rumour.status, change.status, change.evidence_source, change.recorded_by) == (
        Status.IN_TALKS, Status.IN_TALKS, source, analyst,
    )  # fmt: skip
    assert change.effective_at == mention.entry.published_at
    assert [q.text for q in rumour.quotes.all()] == [HUNGATE_SAYS]
    mention.refresh_from_db()
    assert (mention.state, mention.rumour) == (MentionState.ACCEPTED, rumour)


def test_accepting_without_a_rumour_takes_the_title_given(watchlist, feeds, start, analyst):
    mention = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))

    rumour = mention_accept(mention=mention, by=analyst, title="  Grab–GoTo tie-up  ")

    assert rumour.title == "Grab–GoTo tie-up"


def test_accepting_an_acquisition_makes_the_company_named_as_buyer_the_acquirer(watchlist, feeds, start, analyst):
    # given: "Tiki to acquire Lazada's Vietnam business"
    mention = scanned(publish(feeds["wire"], TIKI_BUYS_TITLE, TIKI_BUYS_BODY, at=start))
    assert (mention.deal_type, mention.stage_hint) == (DealType.ACQUISITION, Status.AGREED)

    # when
    rumour = mention_accept(mention=mention, by=analyst)

    # then
    roles = {p.company.name: p.role for p in rumour.parties.all()}
    assert roles == {"Tiki": PartyRole.ACQUIRER, "Lazada": PartyRole.TARGET}
    assert rumour.title == "Tiki–Lazada acquisition"


@pytest.mark.parametrize(
    ("decide", "message"),
    [("accept", "This article was already accepted."), ("dismiss", "This article was already dismissed.")],
)
def test_it_refuses_to_accept_a_mention_already_decided(watchlist, feeds, start, analyst, decide, message):
    # given
    mention = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))
    if decide == "accept":
        mention_accept(mention=mention, by=analyst)
    else:
        mentions_dismiss(mention_ids=[mention.pk], by=analyst)
    rumours_before = Rumour.objects.count()

    # when
    with pytest.raises(RumourError) as refused:
        mention_accept(mention=mention, by=UserFactory.create(username="second"))

    # then
    assert str(refused.value) == message
    assert Rumour.objects.count() == rumours_before
    assert mention_of(mention.entry).state_changed_by == analyst


@pytest.mark.parametrize(("indexes", "number"), [([0, 1], 2), ([-1], 0)])
def test_it_refuses_a_quote_that_was_not_suggested_and_stores_nothing(
    watchlist, hungate, feeds, start, make_rumour, analyst, indexes, number
):
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    mention = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))
    assert len(mention.suggested_quotes) == 1

    with pytest.raises(RumourError, match=f"There is no suggested quote number {number}."):
        mention_accept(mention=mention, by=analyst, rumour=rumour, quote_indexes=indexes)

    assert not Source.objects.exists()
    assert not Quote.objects.exists()
    assert mention_of(mention.entry).state == MentionState.NEW


def test_dismissing_leaves_decided_mentions_alone(watchlist, feeds, start, analyst):
    deal = scanned(publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start))
    other = scanned(publish(feeds["daily"], NON_DEAL_TITLE, NON_DEAL_BODY, at=start))
    rumour = mention_accept(mention=deal, by=analyst)

    count = mentions_dismiss(mention_ids=[deal.pk, other.pk], by=UserFactory.create(username="editor"))

    assert count == 1
    assert (mention_of(deal.entry).state, mention_of(deal.entry).rumour) == (MentionState.ACCEPTED, rumour)
    assert mention_of(other.entry).state == MentionState.DISMISSED


# --- The scan_entries command ------------------------------------------------------------------


@pytest.fixture
def three_entries(watchlist, feeds, start) -> dict[str, Entry]:
    return {
        "deal": publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start),
        "non_deal": publish(feeds["daily"], NON_DEAL_TITLE, NON_DEAL_BODY, at=start + timedelta(hours=1)),
        "nobody": publish(feeds["aggregator"], NOBODY_TITLE, NOBODY_BODY, at=start + timedelta(hours=2)),
    }


def run_scan(*args: str) -> str:
    out = StringIO()
    call_command("scan_entries", *args, stdout=out)
    return out.getvalue().strip()


def test_scan_entries_all(three_entries):
    output = run_scan("--all")

    assert output == "Scanned 3 entries: 2 in the inbox (1 deal candidates), 0 removed."
    assert {m.entry for m in Mention.objects.all()} == {three_entries["deal"], three_entries["non_deal"]}


def test_scan_entries_by_id(three_entries):
    output = run_scan("--entry", str(three_entries["deal"].pk), str(three_entries["nobody"].pk))

    assert output == "Scanned 2 entries: 1 in the inbox (1 deal candidates), 0 removed."
    assert [m.entry for m in Mention.objects.all()] == [three_entries["deal"]]


def test_scan_entries_changed_in_the_last_days(three_entries):
    # given: the deal article last changed a fortnight ago
    Entry.objects.filter(pk=three_entries["deal"].pk).update(updated_at=timezone.now() - timedelta(days=14))

    # when
    output = run_scan("--days", "7")

    # then
    assert output == "Scanned 2 entries: 1 in the inbox (0 deal candidates), 0 removed."
    assert [m.entry for m in Mention.objects.all()] == [three_entries["non_deal"]]
    assert entries_to_scan(since=timezone.now() - timedelta(days=7)) == [
        three_entries["non_deal"].pk,
        three_entries["nobody"].pk,
    ]


def test_scan_entries_reports_what_it_removed(three_entries):
    run_scan("--all")
    Entry.objects.filter(pk=three_entries["non_deal"].pk).update(title=NOBODY_TITLE + " (2)", summary=NOBODY_BODY)

    output = run_scan("--entry", str(three_entries["non_deal"].pk))

    assert output == "Scanned 1 entries: 0 in the inbox (0 deal candidates), 1 removed."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--entry", "987654321"], "No entry with id 987654321."),
        (["--days", "0"], "--days must be at least 1."),
        ([], "one of the arguments --all --days --entry is required"),
    ],
)
def test_scan_entries_refuses_bad_options(three_entries, args, message):
    with pytest.raises(CommandError, match=message):
        run_scan(*args)

    assert not Mention.objects.exists()


# --- Hand-off and task ---------------------------------------------------------------------------


class EnqueuedScans:
    """Stands in for the scan_entries task: records what would be enqueued."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def delay(self, entry_ids: list[int]) -> None:
        self.batches.append(list(entry_ids))


def test_the_hand_off_enqueues_scans_in_batches(monkeypatch):
    enqueued = EnqueuedScans()
    monkeypatch.setattr("rumours.tasks.scan_entries", enqueued)

    entries_ingested(feed_id=1, new_entry_ids=list(range(1, 131)), changed_entry_ids=[500, 501])

    assert enqueued.batches == [list(range(1, 101)), [*range(101, 131), 500, 501]]


def test_the_hand_off_enqueues_nothing_for_nothing(monkeypatch):
    enqueued = EnqueuedScans()
    monkeypatch.setattr("rumours.tasks.scan_entries", enqueued)

    entries_ingested(feed_id=1, new_entry_ids=[], changed_entry_ids=[])

    assert enqueued.batches == []


def test_mentions_appear_once_tracker_ingests_a_feed(
    watchlist, hungate, feeds, start, django_capture_on_commit_callbacks, celery_eager
):
    # given: the real setting points at rumours.handoff.entries_ingested
    body = feedbuilder.rss(
        [
            feedbuilder.Item(
                title=DEAL_TITLE, link="https://wire.example/grab-goto", guid="urn:wire:1", description=DEAL_BODY,
                published=start,
            ),
            feedbuilder.Item(
                title=NOBODY_TITLE, link="https://wire.example/rain", guid="urn:wire:2", description=NOBODY_BODY,
                published=start,
            ),
        ]
    )  # fmt: skip

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = feed_ingest_document(feed=feeds["wire"], body=body)

    # then
    assert report.entries_new == 2
    assert len(callbacks) == 1
    mention = Mention.objects.get()
    assert mention.entry.link == "https://wire.example/grab-goto"
    assert mention.is_deal_candidate
    assert set(mention.parties.all()) == {watchlist["GoTo"], watchlist["Grab"]}
    assert [q["text"] for q in mention.suggested_quotes] == [HUNGATE_SAYS]
    assert mention.cluster_id is not None


def test_the_scan_task_returns_how_many_entries_it_flagged(three_entries):
    ids = [entry.pk for entry in three_entries.values()]

    result = scan_entries.apply(args=(ids,), kwargs={"sent_by": "a newer worker"})

    assert result.get() == 2
    assert Mention.objects.count() == 2
    # safe to run twice
    assert scan_entries.apply(args=(ids,)).get() == 2
    assert Mention.objects.count() == 2


# --- Review fixes --------------------------------------------------------------------------------


def test_it_does_not_cluster_articles_that_share_only_their_outlets_footer(watchlist, feeds, start):
    # given: two different stories from one outlet, each a line long, with the same long footer
    footer = (
        " DealStreet Asia is an independent newsletter on deals in Southeast Asian technology. Subscribe for "
        "daily coverage of mergers, acquisitions and funding rounds across Indonesia, Singapore and Vietnam."
    )
    first = scanned(
        publish(feeds["daily"], "GoTo in talks to buy Tiki", "GoTo is in talks to buy Tiki." + footer, at=start)
    )
    second = scanned(
        publish(feeds["daily"], "Lazada mulls sale of unit", "Lazada weighs selling a unit." + footer, at=start)
    )

    # then
    assert first.cluster_id != second.cluster_id


def test_it_fills_in_what_detection_found_for_an_entry_a_rumour_already_cites(watchlist, feeds, start, make_rumour):
    # given: an analyst attached the article before the scan task ran
    entry = publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start)
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    rumour_attach_source(rumour=rumour, entry=entry, added_by=None)

    # when
    mention = scanned(entry)

    # then: accepted onto the thread, and still showing what the article says
    assert (mention.state, mention.rumour) == (MentionState.ACCEPTED, rumour)
    assert mention.is_deal_candidate
    assert {c.name for c in mention.companies.all()} == {"GoTo", "Grab"}
