"""rumours.detection.lexicon: the deal vocabulary per language and its one-pass matcher."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from rumours.detection import lexicon as lexicon_module
from rumours.detection.lexicon import LEXICON_DIR, Lexicon, LexiconError, Term, lexicon_for
from rumours.detection.text import FoldedText


def kinds(language: str, text: str) -> list[tuple[str, str]]:
    """(kind, matched text as folded) for every hit."""
    folded = FoldedText(text)
    return [(hit.kind, folded.folded[hit.start : hit.end]) for hit in lexicon_for(language).find(folded)]


def signal_kinds(language: str, text: str) -> set[str]:
    folded = FoldedText(text)
    return {hit.kind for hit in lexicon_for(language).find(folded) if hit.category == "signal"}


# --- prefixes and word boundaries -----------------------------------------------------------


@pytest.mark.parametrize("word", ["acquisition", "acquires", "acquired", "acquiring", "Acquisitions"])
def test_it_matches_a_prefix_term_at_the_start_of_a_word(word: str) -> None:
    assert ("acquisition", "acqui") in kinds("en", f"Grab announced the {word} on Monday.")


def test_it_does_not_match_a_prefix_term_inside_a_word() -> None:
    assert signal_kinds("en", "Grab will reacquire the licence.") == set()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("The stakeholders met in Jakarta.", "stake"),
        ("The government may forbid it.", "bid"),
        ("The talkshow host laughed.", "talks"),
        ("Grab's unmerged units", "merger"),
    ],
)
def test_it_needs_word_boundaries_in_english(text: str, kind: str) -> None:
    assert kind not in signal_kinds("en", text)


def test_it_matches_whole_english_words() -> None:
    assert signal_kinds("en", "Grab took a stake; bidders were in talks about a merger.") == {
        "stake",
        "bid",
        "talks",
        "merger",
    }


def test_it_needs_word_boundaries_in_indonesian() -> None:
    # "batal" (called off) must not be found inside "batalyon" (battalion)
    assert "termination" not in signal_kinds("id", "Batalyon itu berjaga di Jakarta.")
    assert "termination" in signal_kinds("id", "Rencana merger itu batal.")


def test_it_uses_prefix_terms_in_indonesian() -> None:
    assert ("acquisition", "akuisisi") in kinds("id", "GoTo menyelesaikan akuisisinya atas Tokopedia.")


def test_it_needs_word_boundaries_with_vietnamese_letters() -> None:
    # "cổ phần" (shares, stake) glued to a Vietnamese letter is another word
    assert "stake" in signal_kinds("vi", "Grab mua cổ phần của Be.")
    assert "stake" not in signal_kinds("vi", "Grab mua cổ phầnđ của Be.")


def test_it_keeps_the_longest_overlapping_term_of_one_kind() -> None:
    # given: "said in a statement" and "in a statement" are both confirmation markers, "said" a speech verb
    # when
    found = kinds("en", "Grab said in a statement that it had reached an agreement.")

    # then: the shorter confirmation marker goes; the speech verb, another kind, stays
    assert found == [
        ("confirmation_markers", "said in a statement"),
        ("speech_verbs", "said"),
        ("agreement", "reached an agreement"),
    ]


# --- scripts without spaces -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "kind", "term"),
    [
        ("ko", "그랩이 고투를 인수한다", "acquisition", "인수한다"),
        ("ko", "양사는합병을추진", "merger", "합병"),
        ("ja", "グラブがゴートゥーを買収へ", "acquisition", "買収"),
        ("zh", "格步收购GoTo", "acquisition", "收购"),
        ("th", "แกร็บเข้าซื้อกิจการ", "acquisition", "เข้าซื้อกิจการ"),
    ],
)
def test_it_matches_substrings_in_unspaced_scripts(language: str, text: str, kind: str, term: str) -> None:
    assert (kind, term) in kinds(language, text)


# --- languages merged with English ----------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ko", "그랩과 고투는 MOU를 체결했다."),
        ("ja", "グラブとゴートゥーはMOUを締結した。"),
        ("zh", "格步与GoTo签署MOU。"),
    ],
)
def test_it_adds_the_english_terms_to_every_language(language: str, text: str) -> None:
    # given: "mou" is an English agreement term that the local lexicon does not list
    local = json.loads((LEXICON_DIR / f"{language}.json").read_text(encoding="utf-8"))
    assert "mou" not in local["signals"]["agreement"]

    # when / then
    assert ("agreement", "mou") in kinds(language, text)


def test_it_keeps_english_word_boundaries_inside_a_korean_text() -> None:
    assert ("agreement", "mou") not in kinds("ko", "그랩은 MOUNTAIN 캠페인을 시작했다.")


def test_it_reads_the_primary_subtag_of_a_language_tag() -> None:
    assert ("merger", "합병") in kinds("ko-KR", "그랩과 고투의 합병")


def test_it_falls_back_to_english_for_a_language_without_a_lexicon() -> None:
    assert signal_kinds("fr", "Grab et GoTo en merger talks") == {"merger", "talks"}


def test_it_finds_nothing_with_no_terms() -> None:
    assert Lexicon([]).find(FoldedText("merger talks")) == []


def test_it_reports_the_category_of_cues_and_signals() -> None:
    folded = FoldedText("Grab declined to comment, people familiar with the matter said.")

    found = {(hit.category, hit.kind) for hit in lexicon_for("en").find(folded)}

    assert ("signal", "no_comment") in found
    assert ("rumour_markers", "rumour_markers") in found
    assert ("speech_verbs", "speech_verbs") in found


def test_it_finds_a_hand_built_term() -> None:
    lexicon = Lexicon([Term("signal", "merger", "fusion", prefix=True, spaced=True)])

    hits = lexicon.find(FoldedText("Die Fusionspläne von Grab"))

    assert [(hit.kind, hit.start, hit.end) for hit in hits] == [("merger", 4, 10)]


# --- broken files ---------------------------------------------------------------------------


@pytest.fixture
def lexicon_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty lexicon directory in place of the real one, with the cache cleared around it."""
    monkeypatch.setattr(lexicon_module, "LEXICON_DIR", tmp_path)
    lexicon_for.cache_clear()
    yield tmp_path
    lexicon_for.cache_clear()


def test_it_raises_a_lexicon_error_on_a_file_that_is_not_json(lexicon_dir: Path) -> None:
    (lexicon_dir / "en.json").write_text('{"signals": {"merger": ["merger",]}', encoding="utf-8")

    with pytest.raises(LexiconError, match=r"en\.json"):
        lexicon_for("en")


def test_it_raises_a_lexicon_error_on_terms_that_are_not_a_list_of_strings(lexicon_dir: Path) -> None:
    (lexicon_dir / "en.json").write_text(json.dumps({"signals": {"merger": "merger"}}), encoding="utf-8")

    with pytest.raises(LexiconError, match="merger must be a list of strings"):
        lexicon_for("en")


def test_it_raises_a_lexicon_error_on_a_broken_english_file_read_for_another_language(lexicon_dir: Path) -> None:
    (lexicon_dir / "ko.json").write_text(json.dumps({"signals": {"merger": ["합병"]}}), encoding="utf-8")
    (lexicon_dir / "en.json").write_text(json.dumps({"roles": ["ceo", 7]}), encoding="utf-8")

    with pytest.raises(LexiconError, match="roles"):
        lexicon_for("ko")


def test_it_reads_a_lexicon_file_from_the_directory(lexicon_dir: Path) -> None:
    # given: a tiny lexicon with a prefix term and an upper-case term, which are folded
    (lexicon_dir / "id.json").write_text(
        json.dumps({"signals": {"acquisition": ["Akuisisi*"]}, "negations": ["tidak"]}), encoding="utf-8"
    )

    # when
    found = kinds("id", "GoTo tidak melanjutkan akuisisinya.")

    # then
    assert found == [("negations", "tidak"), ("acquisition", "akuisisi")]


def test_it_reads_a_missing_file_as_no_terms(lexicon_dir: Path) -> None:
    assert kinds("en", "merger talks") == []
