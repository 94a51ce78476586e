"""rumours.detection.pipeline: one article through every step, and the evidence an ambiguous alias needs."""

from __future__ import annotations

import pytest

from rumours.detection import fingerprint
from rumours.detection.pipeline import MAX_TEXT, Watchlist
from tests.detection.conftest import BE_GROUP, GOTO, GRAB, LAZADA, LY, SEA, SENDO, TIKI, read


def companies_in(body: str, title: str = "") -> list[int]:
    return read(title, body).companies


# --- ambiguous aliases: Latin script --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "I stopped to grab a coffee before the meeting.",
        "Commuters can grab a ride-hailing car through the app in minutes.",
        "Rising sea levels threaten the north coast of Jakarta.",
        "Sea levels along the coast of Jakarta are rising faster than expected.",
        "The line at the tiki bar was long.",
        "Be careful what you wish for.",
    ],
)
def test_it_does_not_take_ordinary_words_for_companies(body: str) -> None:
    assert companies_in(body) == []


def test_it_does_not_take_a_word_in_a_title_case_headline_for_a_company() -> None:
    assert (
        companies_in(
            "Retailers across Jakarta reported strong footfall.", title="Shoppers Grab Bargains As Sales Begin"
        )
        == []
    )


@pytest.mark.parametrize(
    ("body", "company"),
    [
        ("Grab said on Tuesday that it would expand its delivery fleet.", GRAB),
        ("Drivers for Grab said on Tuesday that fares were too low.", GRAB),
        ("Analysts expect a rebound. Sea's shares rose 5% in New York on Tuesday.", SEA),
        ("Sea shares rose 5% in New York.", SEA),
        ("LINE said on Monday that it would merge its payments unit.", LY),
        ("Messaging app LINE is the most popular in Thailand.", LY),
        ("Tiki said on Monday it had hired advisers.", TIKI),
    ],
)
def test_it_takes_an_ambiguous_alias_with_evidence_for_the_company(body: str, company: int) -> None:
    assert companies_in(body) == [company]


def test_it_takes_a_capitalised_alias_mid_sentence_for_the_company() -> None:
    assert companies_in("Users in Hanoi compare prices on Tiki before they buy.") == [TIKI]


def test_it_never_takes_a_lower_case_alias_for_the_company() -> None:
    # given: "grab" right next to company-context words, and Lazada named in the same article
    body = "Lazada said shoppers rushed to grab discounted phones on the e-commerce platform."

    # when / then: "sea" in lower case is not Sea Limited even with Lazada co-mentioned
    assert companies_in(body) == [LAZADA]
    assert companies_in("Lazada warned that rising sea levels could disrupt its warehouses in Manila.") == [LAZADA]


def test_it_takes_an_all_caps_headline_word_for_the_company_with_context() -> None:
    assert companies_in("", title="GRAB, GOTO SHARES JUMP ON MERGER REPORT") == [GRAB, GOTO]


def test_it_takes_an_ambiguous_alias_co_mentioned_with_a_certain_one() -> None:
    assert companies_in("Tiki and Lazada compete for shoppers in Vietnam.") == [TIKI, LAZADA]


# --- ambiguous aliases: "Be" ----------------------------------------------------------------


def test_it_takes_be_with_a_context_word() -> None:
    assert companies_in("Vietnamese ride-hailing app Be has 10 million users.") == [BE_GROUP]
    assert companies_in("Ứng dụng gọi xe Be vừa công bố kế hoạch mở rộng ra Hà Nội.") == [BE_GROUP]


def test_it_does_not_take_be_on_a_co_mention_alone() -> None:
    # given: Grab, written as the company writes it and not sentence-initially, is confirmed; Be is not
    assert companies_in("In Hanoi, Be and Grab compete fiercely for drivers.") == [GRAB]


def test_it_takes_the_full_name_be_group_without_context() -> None:
    assert companies_in("Analysts in Hanoi think Be Group will grow.") == [BE_GROUP]


# --- ambiguous aliases: other scripts -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "고투 끝에 얻은 결과다.",
        "그는 오랜 고투 끝에 자리를 잡았다.",
    ],
)
def test_it_does_not_take_a_hard_struggle_for_goto(body: str) -> None:
    assert companies_in(body) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("치열한 고투 끝에 한국 대표팀이 결승에 진출했다.", id="national-team"),
        pytest.param("노사는 고투 끝에 임금 협상을 타결했다.", id="wage-talks"),
    ],
)
def test_it_does_not_take_a_hard_struggle_near_a_context_word_for_goto(body: str) -> None:
    assert companies_in(body) == []


def test_it_takes_goto_in_hangul_next_to_a_certain_company() -> None:
    assert companies_in("고투와 그랩이 합병을 논의하고 있다.") == [GOTO, GRAB]


def test_it_takes_goto_in_hangul_with_a_context_word() -> None:
    assert companies_in("고투 측은 입장을 밝히지 않았다.") == [GOTO]


def test_it_takes_grab_in_katakana_with_a_context_word_only() -> None:
    assert companies_in("東南アジアの配車大手グラブは、決算を発表した。") == [GRAB]
    assert companies_in("冬の海辺でグラブをはめた。") == []


# --- glossed local names --------------------------------------------------------------------


def test_it_counts_a_korean_name_glossed_with_a_known_alias(sendo_watchlist: Watchlist) -> None:
    # given: only the Latin name is on the watchlist; the article glosses the Hangul name once
    title = "롯데, 센도 인수 추진"
    body = "베트남 전자상거래 업체 센도(Sendo)는 현지 시장 점유율 3위 업체다. 센도는 입장을 내지 않았다."

    # when
    detection = read(title, body, watchlist=sendo_watchlist)

    # then: the headline's 센도 is Sendo, so Sendo is the party
    assert detection.companies == [SENDO]
    assert detection.is_deal_candidate
    assert detection.parties == [SENDO]


def test_it_does_not_know_a_local_name_that_no_article_glosses(sendo_watchlist: Watchlist) -> None:
    detection = read(
        "롯데, 센도 인수 추진", "베트남 전자상거래 업체 센도는 현지 시장 점유율 3위 업체다.", watchlist=sendo_watchlist
    )

    assert detection.companies == []
    assert not detection.is_deal_candidate


@pytest.mark.parametrize(
    ("title", "body"),
    [
        pytest.param("乐天拟收购森多", "森多（Sendo）是越南电商平台，成立于2012年。", id="zh"),
        pytest.param("ロッテ、センドを買収へ", "センド（Sendo）はベトナムの電子商取引大手。", id="ja"),
    ],
)
def test_it_counts_a_glossed_name_at_the_start_of_a_sentence(sendo_watchlist: Watchlist, title: str, body: str) -> None:
    detection = read(title, body, watchlist=sendo_watchlist)

    assert detection.parties == [SENDO]


@pytest.mark.parametrize(
    ("title", "body"),
    [
        pytest.param("乐天拟收购森多", "越南电商平台森多（Sendo）成立于2012年。", id="zh"),
        pytest.param(
            "ロッテ、センドを買収へ", "ベトナムの電子商取引大手センド（Sendo）は2012年に設立された。", id="ja"
        ),
    ],
)
def test_it_counts_a_glossed_name_in_the_middle_of_a_sentence(
    sendo_watchlist: Watchlist, title: str, body: str
) -> None:
    detection = read(title, body, watchlist=sendo_watchlist)

    assert detection.parties == [SENDO]


# --- the detection as a whole ---------------------------------------------------------------


def test_it_reads_an_html_article_into_a_detection() -> None:
    # given
    title = "Grab and GoTo revive merger talks, sources say"
    body = (
        "<p>Grab Holdings and GoTo have restarted talks about a merger, according to people familiar "
        "with the matter.</p><p>&ldquo;The bar for such a deal is very high,&rdquo; said Alex Hungate.</p>"
    )

    # when
    detection = read(title, body, language="en-GB")

    # then
    assert detection.language == "en-GB"
    assert detection.companies == [GRAB, GOTO]
    assert detection.parties == [GRAB, GOTO]
    assert (detection.is_deal_candidate, detection.stage_hint, detection.deal_type) == (True, "rumoured", "merger")
    assert 0.5 <= detection.deal_score <= 1.0
    assert [quote.speaker for quote in detection.quotes] == ["Alex Hungate"]
    assert detection.signature == fingerprint.signature(
        "Grab and GoTo revive merger talks, sources say\nGrab Holdings and GoTo have restarted talks about a "
        "merger, according to people familiar with the matter.\n“The bar for such a deal is very high,” said "
        "Alex Hungate."
    )


def test_it_lists_companies_in_order_of_first_appearance() -> None:
    assert companies_in("Tokopedia, Lazada and Shopee cut fees; Gojek and Grab Holdings did not.") == [
        GOTO,
        LAZADA,
        SEA,
        GRAB,
    ]


def test_it_lets_the_script_overrule_the_feed_language() -> None:
    detection = read("그랩, 고투 인수 추진", "그랩이 고투 인수를 추진하고 있는 것으로 알려졌다.", language="en")

    assert detection.language == "ko"
    assert detection.companies == [GRAB, GOTO]


def test_it_reads_a_korean_article_with_the_korean_lexicon_despite_an_english_feed() -> None:
    detection = read("그랩·고투 합병 무산", "그랩과 고투의 합병 협상이 결렬됐다.", language="en")

    assert detection.stage_hint == "abandoned"


def test_it_keeps_the_declared_language_for_an_article_without_letters() -> None:
    detection = read("2025", "10% — 7.000.000", language="id")

    assert detection.language == "id"
    assert detection.signature != b""


def test_it_detects_nothing_in_an_empty_article() -> None:
    detection = read("", "")

    assert (detection.language, detection.companies, detection.parties) == ("", [], [])
    assert (detection.is_deal_candidate, detection.deal_score, detection.signals) == (False, 0.0, [])
    assert (detection.quotes, detection.signature) == ([], b"")


def test_it_clusters_a_rewritten_article_with_the_original() -> None:
    body = (
        "Grab Holdings and GoTo have restarted talks about a merger that would create the region's largest "
        "ride-hailing company, according to people familiar with the matter. Both declined to comment."
    )

    original = read("Grab and GoTo revive merger talks", body)
    rewrite = read("Grab, GoTo said to restart merger discussions", body + " GoTo shares rose 6%.")

    assert fingerprint.similarity(original.signature, rewrite.signature) >= fingerprint.SAME_STORY
    assert set(fingerprint.band_keys(original.signature)) & set(fingerprint.band_keys(rewrite.signature))


def test_it_reads_only_the_first_part_of_an_oversized_entry():
    # given: a deal sentence, then megabytes of filler, then another company
    filler = "Filler text about nothing in particular. " * 120_000
    body = f"<p>Grab Holdings agreed to acquire Tiki in a definitive agreement.</p><p>{filler}</p><p>Lazada</p>"

    # when
    detection = read("Grab to buy Tiki", body, language="en")

    # then: the start is read as usual, the tail past MAX_TEXT is not
    assert detection.is_deal_candidate
    assert LAZADA not in detection.companies
    assert len(body) > 100 * MAX_TEXT


@pytest.mark.parametrize(
    "text",
    ["Tensions in the South China Sea rose again on Monday.", "Vietnam topped the medal table at the Sea Games."],
)
def test_it_does_not_take_sea_inside_another_proper_name_for_sea_limited(text):
    assert SEA not in companies_in(text, title="Regional news")
