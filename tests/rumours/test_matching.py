"""Which watchlist companies a text names (rumours.matching.Matcher). Pure: no database."""

from __future__ import annotations

import pytest

from rumours.matching import AliasRow, Matcher

GRAB, GOTO, SEA, LINE, LINE_MAN, KAKAO, KAKAO_MOBILITY = range(1, 8)

# A slice of the bundled watchlist, with its ambiguity flags: ordinary words (Grab, Sea,
# LINE, 카카오, グラブ, 고투) need a co-mention to count.
ROWS = [
    AliasRow(GRAB, "Grab", ambiguous=True),
    AliasRow(GRAB, "Grab Holdings", ambiguous=False),
    AliasRow(GRAB, "그랩", ambiguous=False),
    AliasRow(GRAB, "グラブ", ambiguous=True),
    AliasRow(GRAB, "แกร็บ", ambiguous=False),
    AliasRow(GOTO, "GoTo", ambiguous=False),
    AliasRow(GOTO, "고투", ambiguous=True),
    AliasRow(GOTO, "ゴジェック", ambiguous=False),
    AliasRow(SEA, "Sea", ambiguous=True),
    AliasRow(SEA, "Sea Limited", ambiguous=False),
    AliasRow(LINE, "LINE", ambiguous=True),
    AliasRow(LINE_MAN, "LINE MAN Wongnai", ambiguous=False),
    AliasRow(KAKAO, "카카오", ambiguous=True),
    AliasRow(KAKAO_MOBILITY, "카카오모빌리티", ambiguous=False),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(ROWS)


# --- Latin aliases: whole words only ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Shares rose after Grab Holdings said it would bid.", {GRAB}, id="inside-a-sentence"),
        pytest.param("(Grab Holdings) confirmed talks", {GRAB}, id="next-to-punctuation"),
        pytest.param("Grab Holdings", {GRAB}, id="the-whole-text"),
        pytest.param("GoTo, Sea Limited in talks", {GOTO, SEA}, id="two-companies"),
    ],
)
def test_it_matches_latin_aliases_as_whole_words(matcher, text, expected):
    assert matcher.companies_in(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("GoTo and a Seagull", id="sea-inside-seagull"),
        pytest.param("GoTo hires from Overseas", id="sea-at-the-end-of-a-word"),
        pytest.param("GoTo's Grabholdingsx unit", id="longer-word"),
    ],
)
def test_it_does_not_match_a_latin_alias_inside_another_word(matcher, text):
    # GoTo is named unambiguously, so an ambiguous Sea or Grab would count if it matched.
    assert matcher.companies_in(text) == {GOTO}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("그랩, GoTo는 합병 협상", {GRAB, GOTO}, id="korean-particle"),
        pytest.param("グラブとGoTo傘下の企業", {GRAB, GOTO}, id="japanese"),
        pytest.param("แกร็บและGoToประกาศ", {GRAB, GOTO}, id="thai"),
    ],
)
def test_it_matches_a_latin_alias_glued_to_unspaced_script(matcher, text, expected):
    assert matcher.companies_in(text) == expected


# --- CJK and Thai aliases: anywhere, those scripts do not space words ------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("그랩과 고투, 합병 협상 재개", {GRAB, GOTO}, id="korean-with-particle"),
        pytest.param("グラブはゴジェックと合併交渉", {GRAB, GOTO}, id="japanese-with-particle"),
        pytest.param("แกร็บประกาศซื้อกิจการ", {GRAB}, id="thai-unspaced"),
    ],
)
def test_it_matches_cjk_and_thai_aliases_inside_unspaced_text(matcher, text, expected):
    assert matcher.companies_in(text) == expected


# --- Normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("ＧｏＴｏ shares jump", id="full-width-latin"),
        pytest.param("GOTO shares jump", id="upper-case"),
        pytest.param("goto shares jump", id="lower-case"),
    ],
)
def test_it_matches_regardless_of_case_and_width(matcher, text):
    assert matcher.companies_in(text) == {GOTO}


def test_it_matches_half_width_katakana_against_a_full_width_alias(matcher):
    assert matcher.companies_in("ｸﾞﾗﾌﾞとゴジェック") == {GRAB, GOTO}


def test_it_normalises_the_aliases_too():
    matcher = Matcher([AliasRow(GOTO, "ＧＯＴＯ", ambiguous=False)])

    assert matcher.companies_in("GoTo results") == {GOTO}


# --- Ambiguous aliases -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Let's grab a coffee", id="grab"),
        pytest.param("Rising sea levels", id="sea"),
        pytest.param("Stand in line", id="line"),
        pytest.param("고투 끝에 성공", id="korean-go-tu-a-hard-struggle"),
        pytest.param("Grab, Sea and LINE", id="only-ambiguous-names"),
    ],
)
def test_it_matches_nothing_when_only_ambiguous_aliases_are_named(matcher, text):
    assert matcher.companies_in(text) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Grab in talks with GoTo", {GRAB, GOTO}, id="grab-with-goto"),
        pytest.param("고투, 그랩과 합병", {GRAB, GOTO}, id="korean-co-mention"),
        pytest.param("Sea weighs a bid for Grab Holdings", {GRAB, SEA}, id="sea-with-grab-holdings"),
    ],
)
def test_it_counts_an_ambiguous_alias_when_another_company_is_named_unambiguously(matcher, text, expected):
    assert matcher.companies_in(text) == expected


# --- Overlapping aliases ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("LINE MAN Wongnai raises funds", {LINE_MAN}, id="latin"),
        pytest.param("카카오모빌리티 매각 추진", {KAKAO_MOBILITY}, id="korean"),
    ],
)
def test_it_prefers_the_longest_alias_over_a_shorter_overlapping_one(matcher, text, expected):
    # A shorter alias tried first would claim "LINE"/"카카오" and leave the rest unmatched.
    assert matcher.companies_in(text) == expected


def test_it_matches_nothing_without_aliases():
    assert Matcher([]).companies_in("Grab Holdings and GoTo") == set()
