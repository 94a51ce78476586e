"""rumours.detection.text: plain text from HTML, folded text mapped back to the original, sentences."""

from __future__ import annotations

import pytest

from rumours.detection.text import FoldedText, fold, on_word_boundaries, plain_text, sentences


def sentence_texts(text: str) -> list[str]:
    return [sentence.text for sentence in sentences(text)]


# --- plain_text -----------------------------------------------------------------------------


def test_it_keeps_paragraphs_on_their_own_lines() -> None:
    html = "<p>Grab and GoTo revive merger talks</p><p>Shares of GoTo rose 6% in Jakarta.</p>"

    assert plain_text(html) == "Grab and GoTo revive merger talks\nShares of GoTo rose 6% in Jakarta."


def test_it_puts_list_items_and_line_breaks_on_their_own_lines() -> None:
    html = "<div>Bidders:<br>Grab</div><ul><li>Lazada</li><li>Shopee</li></ul>"

    assert plain_text(html).splitlines() == ["Bidders:", "Grab", "Lazada", "Shopee"]


def test_it_keeps_inline_tags_inside_the_sentence() -> None:
    html = "<p>GoTo said <b>talks</b> with <a href='https://grab.example'>Grab</a> had ended.</p>"

    assert plain_text(html) == "GoTo said talks with Grab had ended."


def test_it_decodes_named_and_numeric_entities() -> None:
    html = "<p>Grab &amp; GoTo&#8217;s deal is worth &lt;$7bn,&nbsp;sources say.</p>"

    assert plain_text(html) == "Grab & GoTo’s deal is worth <$7bn, sources say."


def test_it_collapses_runs_of_spaces_and_drops_blank_lines() -> None:
    # given: plain text (no tags) with tabs, no-break and ideographic spaces and empty lines
    text = "  Grab\t and \u00a0GoTo  \n\n\n그랩과\u3000고투  "

    # when
    result = plain_text(text)

    # then
    assert result == "Grab and GoTo\n그랩과 고투"


def test_it_leaves_a_bare_ampersand_alone() -> None:
    assert plain_text("AT&T and M&A desks") == "AT&T and M&A desks"


# --- fold and FoldedText --------------------------------------------------------------------


def test_it_folds_case_and_full_width_letters() -> None:
    assert fold("ＧｏＴｏ") == fold("GOTO") == "goto"


def test_it_folds_half_width_katakana_to_full_width() -> None:
    assert fold("ｸﾞﾗﾌﾞ") == "グラブ"


@pytest.mark.parametrize(
    "written",
    [
        "アレックス・ハンゲート",  # katakana middle dot
        "アレックス･ハンゲート",  # half-width katakana middle dot
        "アレックス·ハンゲート",  # Latin middle dot
        "アレックス•ハンゲート",  # bullet
        "アレックス‧ハンゲート",  # hyphenation point
        "アレックス⋅ハンゲート",  # dot operator
    ],
)
def test_it_folds_every_middle_dot_variant_the_same(written: str) -> None:
    assert fold(written) == fold("アレックス・ハンゲート")


def test_it_folds_the_chinese_name_dot_like_the_japanese_one() -> None:
    assert fold("亚历克斯·亨盖特").split("·") == ["亚历克斯", "亨盖特"]
    assert fold("亚历克斯‧亨盖特") == fold("亚历克斯・亨盖特")


def test_it_maps_a_folded_span_back_to_the_original_after_a_sharp_s() -> None:
    # given: ß folds to "ss", so every folded index after it is one ahead of the original
    text = FoldedText("Die Straße von Grab Holdings")
    start = text.folded.index("grab holdings")

    # when
    original_start, original_end = text.original_span(start, start + len("grab holdings"))

    # then
    assert text.folded.index("grab") == text.original.index("Grab") + 1
    assert text.original[original_start:original_end] == "Grab Holdings"


def test_it_maps_the_folded_ss_back_to_the_sharp_s() -> None:
    text = FoldedText("Straße")
    start = text.folded.index("ss")

    assert text.original_span(start, start + 2) == (4, 5)
    assert text.original[4:5] == "ß"


def test_it_maps_full_width_letters_back_to_their_normalised_form() -> None:
    # given: the original is kept in NFKC, so full-width GoTo reads as GoTo there
    text = FoldedText("インドネシアのＧｏＴｏは１０日、")
    start = text.folded.index("goto")

    # when
    original_start, original_end = text.original_span(start, start + 4)

    # then
    assert text.original[original_start:original_end] == "GoTo"
    assert text.original[original_end:] == "は10日、"


def test_it_keeps_original_case_for_the_evidence_rules() -> None:
    text = FoldedText("I will grab a coffee. Grab said no.")
    first = text.folded.index("grab")
    second = text.folded.index("grab", first + 1)

    spans = [text.original_span(first, first + 4), text.original_span(second, second + 4)]

    assert [text.original[start:end] for start, end in spans] == ["grab", "Grab"]


def test_it_maps_a_span_past_the_end_to_the_end() -> None:
    text = FoldedText("GoTo")

    assert text.original_span(10, 12) == (4, 4)


# --- word boundaries ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folded", "start", "end", "expected"),
    [
        ("grab's shares", 0, 4, True),
        ("grabbed", 0, 4, False),
        ("regrab", 2, 6, False),
        ("goto는", 0, 4, True),
        ("グラブとgoto", 4, 8, True),
        ("goto2", 0, 4, False),
        ("tiki-lazada", 0, 4, True),
    ],
)
def test_it_needs_latin_word_boundaries_only_against_latin_letters_and_digits(
    folded: str, start: int, end: int, expected: bool
) -> None:
    assert on_word_boundaries(folded, start, end) is expected


def test_it_checks_only_the_start_of_a_prefix_term() -> None:
    assert on_word_boundaries("acquisition", 0, 5, prefix=True)
    assert not on_word_boundaries("reacquire", 2, 7, prefix=True)


# --- sentences ------------------------------------------------------------------------------


def test_it_splits_sentences_on_full_stops_exclamation_and_question_marks() -> None:
    text = "Grab is in talks with GoTo. The deal is huge! Will regulators agree? Analysts doubt it."

    assert sentence_texts(text) == [
        "Grab is in talks with GoTo.",
        "The deal is huge!",
        "Will regulators agree?",
        "Analysts doubt it.",
    ]


def test_it_does_not_split_after_titles_and_company_suffixes() -> None:
    text = "Mr. Hungate said Grab Holdings Inc. was in talks. PT GoTo Gojek Tokopedia Tbk. declined to comment."

    assert sentence_texts(text) == [
        "Mr. Hungate said Grab Holdings Inc. was in talks.",
        "PT GoTo Gojek Tokopedia Tbk. declined to comment.",
    ]


def test_it_does_not_split_inside_u_s_or_an_initial() -> None:
    text = "The U.S. regulator cleared the deal. Patrick W. Walujo welcomed it."

    assert sentence_texts(text) == ["The U.S. regulator cleared the deal.", "Patrick W. Walujo welcomed it."]


def test_it_needs_a_space_after_a_latin_full_stop() -> None:
    assert sentence_texts("Grab rose 5.5% on Monday.GoTo fell.") == ["Grab rose 5.5% on Monday.GoTo fell."]


def test_it_splits_on_cjk_stops_without_a_space() -> None:
    text = "格步表示将继续谈判。知情人士透露，交易或将于年内完成！真的吗？是的。"

    assert sentence_texts(text) == ["格步表示将继续谈判。", "知情人士透露，交易或将于年内完成！", "真的吗？", "是的。"]


def test_it_splits_japanese_sentences() -> None:
    text = "グラブは協議を再開した。関係者によると、合意は近い。"

    assert sentence_texts(text) == ["グラブは協議を再開した。", "関係者によると、合意は近い。"]


def test_it_keeps_a_closing_quote_with_its_sentence() -> None:
    text = "He said “the deal is done.” Then he left."

    assert sentence_texts(text) == ["He said “the deal is done.”", "Then he left."]


def test_it_splits_on_line_breaks() -> None:
    text = "แกร็บเจรจาควบรวมกิจการ GoTo\nแหล่งข่าวระบุว่าการเจรจายังไม่ได้ข้อสรุป"

    assert sentence_texts(text) == ["แกร็บเจรจาควบรวมกิจการ GoTo", "แหล่งข่าวระบุว่าการเจรจายังไม่ได้ข้อสรุป"]


def test_it_gives_offsets_into_the_text() -> None:
    text = "  Mr. Hungate said the deal was close.   Grab declined to comment.  "

    result = sentences(text)

    assert [(text[s.start : s.end], s.text) for s in result] == [
        ("Mr. Hungate said the deal was close.", "Mr. Hungate said the deal was close."),
        ("Grab declined to comment.", "Grab declined to comment."),
    ]


def test_it_finds_no_sentences_in_blank_text() -> None:
    assert sentences("  \n ") == []


def test_it_ends_a_sentence_on_a_plain_no() -> None:
    text = "Asked whether it was in talks with Grab, GoTo said no. Its shares fell 3% on Monday."

    assert sentence_texts(text) == [
        "Asked whether it was in talks with Grab, GoTo said no.",
        "Its shares fell 3% on Monday.",
    ]
