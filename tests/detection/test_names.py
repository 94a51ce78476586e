"""rumours.detection.names: every alias found in one pass, on word boundaries where the script has them."""

from __future__ import annotations

import pytest

from rumours.detection.names import Alias, NameIndex
from rumours.detection.text import FoldedText
from tests.detection.conftest import COMPANY_ALIASES, GOTO, GRAB, LAZADA, SEA, TIKI

INDEX = NameIndex(COMPANY_ALIASES)


def found(text: str, index: NameIndex = INDEX) -> list[tuple[int, str]]:
    """(owner id, text as written) for every hit."""
    folded = FoldedText(text)
    result = []
    for hit in index.hits(folded):
        start, end = folded.original_span(hit.start, hit.end)
        result.append((hit.owner_id, folded.original[start:end]))
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Grab's shares rose 4% in New York.", [(GRAB, "Grab")]),
        ("Lazada’s chief executive resigned.", [(LAZADA, "Lazada")]),
        ("GoTo는 그랩과 협상 중이다.", [(GOTO, "GoTo"), (GRAB, "그랩")]),
        ("グラブとGoToが協議", [(GRAB, "グラブ"), (GOTO, "GoTo")]),
        ("The Tiki-Lazada tie-up", [(TIKI, "Tiki"), (LAZADA, "Lazada")]),
        ("(GoTo) said", [(GOTO, "GoTo")]),
    ],
)
def test_it_finds_latin_aliases_on_word_boundaries(text: str, expected: list[tuple[int, str]]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    ["He grabbed the microphone.", "The regrab failed.", "GoTo2 and xGoTo are not companies.", "Seafood prices"],
)
def test_it_does_not_find_latin_aliases_inside_longer_words(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("그랩은 고투와 합병을 논의했다.", [(GRAB, "그랩"), (GOTO, "고투")]),
        ("グラブは協議を再開した。", [(GRAB, "グラブ")]),
        ("格步表示将继续谈判。", [(GRAB, "格步")]),
        ("แกร็บประกาศเข้าซื้อกิจการ", [(GRAB, "แกร็บ")]),
    ],
)
def test_it_finds_unspaced_script_aliases_anywhere(text: str, expected: list[tuple[int, str]]) -> None:
    assert found(text) == expected


def test_it_matches_whatever_the_case_or_width() -> None:
    assert found("ＧＯＴＯ and grab holdings") == [(GOTO, "GOTO"), (GRAB, "grab holdings")]


def test_it_prefers_the_longest_alias_at_a_position() -> None:
    # given: "Grab" and "Grab Holdings" both end inside the text
    # when
    hits = INDEX.hits(FoldedText("Grab Holdings said on Monday."))

    # then: one hit, the full name, which is not ambiguous
    assert [(hit.alias.text, hit.alias.ambiguous) for hit in hits] == [("Grab Holdings", False)]


def test_it_prefers_the_leftmost_of_overlapping_aliases() -> None:
    index = NameIndex([Alias(1, "GoTo"), Alias(2, "GoTo Financial"), Alias(3, "Financial Times")])

    hits = index.hits(FoldedText("GoTo Financial Times"))

    assert [(hit.owner_id, hit.start, hit.end) for hit in hits] == [(2, 0, 14)]


def test_it_keeps_separate_mentions_of_one_company() -> None:
    assert found("Sea Limited owns Shopee; Sea said") == [(SEA, "Sea Limited"), (SEA, "Shopee"), (SEA, "Sea")]


def test_it_gives_folded_offsets() -> None:
    text = FoldedText("Die Straße: Grab")

    [hit] = INDEX.hits(text)

    assert text.folded[hit.start : hit.end] == "grab"
    assert (hit.start, hit.end) == (13, 17)


def test_it_leaves_out_one_character_aliases() -> None:
    # given: one syllable or letter means nothing on its own in unspaced scripts
    index = NameIndex([Alias(1, "씨"), Alias(2, "X"), Alias(3, "LY Corporation")])

    # when
    hits = index.hits(FoldedText("김 씨는 X에서 LY Corporation 주식을 샀다."))

    # then
    assert len(index) == 1
    assert [hit.owner_id for hit in hits] == [3]


def test_it_honours_a_larger_minimum_length() -> None:
    index = NameIndex([Alias(1, "Be"), Alias(2, "Tiki")], min_length=3)

    assert [hit.owner_id for hit in index.hits(FoldedText("Be and Tiki"))] == [2]


def test_it_finds_nothing_with_an_empty_index() -> None:
    index = NameIndex([])

    assert len(index) == 0
    assert index.hits(FoldedText("Grab and GoTo")) == []


def test_it_counts_an_alias_once_per_owner_but_keeps_every_owner() -> None:
    # given: one owner spelling an alias twice, and a second owner with the same alias
    index = NameIndex([Alias(1, "Grab"), Alias(1, "GRAB"), Alias(2, "grab")])

    # when
    hits = index.hits(FoldedText("Grab"))

    # then
    assert len(index) == 1
    assert sorted(hit.owner_id for hit in hits) == [1, 2]


def test_it_matches_names_across_middle_dot_variants() -> None:
    index = NameIndex([Alias(7, "アレックス・ハンゲート"), Alias(7, "亚历克斯·亨盖特")])

    assert [hit.owner_id for hit in index.hits(FoldedText("アレックス･ハンゲート社長"))] == [7]
    assert [hit.owner_id for hit in index.hits(FoldedText("总裁亚历克斯‧亨盖特表示"))] == [7]
