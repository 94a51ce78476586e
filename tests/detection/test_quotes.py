"""rumours.detection.quotes: attributed direct quotes, verbatim, with their speakers and stance."""

from __future__ import annotations

import pytest

from rumours.detection.lexicon import lexicon_for
from rumours.detection.quotes import QuoteSuggestion, find_quotes
from tests.detection.conftest import ALEX_HUNGATE, GOTO, GRAB, PATRICK_WALUJO, TIKI, WATCHLIST, read


def quotes(text: str, language: str) -> list[QuoteSuggestion]:
    return find_quotes(
        text,
        language=language,
        lexicon=lexicon_for(language),
        people=WATCHLIST.people,
        companies=WATCHLIST.companies,
    )


def said(text: str, language: str) -> list[tuple[str, str]]:
    """(quote, speaker) for every quote found."""
    return [(quote.text, quote.speaker) for quote in quotes(text, language)]


# --- known speakers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text", "quoted"),
    [
        pytest.param(
            "en",
            "“The bar for such a deal is very high,” said Alex Hungate, Grab's president.",
            "The bar for such a deal is very high,",
            id="en-said-after",
        ),
        pytest.param(
            "en",
            'Alex Hungate said: "We are always looking at opportunities in the region."',
            "We are always looking at opportunities in the region.",
            id="en-said-colon",
        ),
        pytest.param(
            "ko",
            '알렉스 헝가테 그랩 사장은 "인수합병에 대한 기준은 매우 높다"라고 말했다.',
            "인수합병에 대한 기준은 매우 높다",
            id="ko",
        ),
        pytest.param(
            "ja",
            "アレックス・ハンゲート社長は「統合のハードルは非常に高い」と述べた。",
            "統合のハードルは非常に高い",
            id="ja",
        ),
        pytest.param(
            "zh",
            "格步总裁亚历克斯·亨盖特表示，“此类交易的门槛非常高”。",
            "此类交易的门槛非常高",
            id="zh",
        ),
    ],
)
def test_it_attributes_a_quote_to_a_known_person(language: str, text: str, quoted: str) -> None:
    [quote] = quotes(text, language)

    assert quote.text == quoted
    assert (quote.speaker, quote.person_id, quote.role, quote.company_id) == (
        "Alex Hungate",
        ALEX_HUNGATE,
        "President",
        GRAB,
    )


def test_it_knows_a_person_by_an_alias_written_with_another_middle_dot() -> None:
    [quote] = quotes("亚历克斯‧亨盖特表示，“此类交易的门槛非常高”。", "zh")

    assert quote.person_id == ALEX_HUNGATE


@pytest.mark.parametrize(
    ("language", "text"),
    [
        pytest.param("en", "“These reports are baseless,” Patrick Walujo said.", id="en"),
        pytest.param("id", '"Kami tidak dalam pembicaraan merger dengan Grab," kata Patrick Walujo.', id="id"),
        pytest.param("vi", "“Chúng tôi không đàm phán sáp nhập với Grab,” ông Patrick Walujo cho biết.", id="vi"),
        pytest.param("ko", '파트릭 왈루조 고투 CEO는 "그랩과 합병 협상을 하고 있지 않다"고 밝혔다.', id="ko"),
    ],
)
def test_it_attributes_a_denial_to_its_known_speaker(language: str, text: str) -> None:
    [quote] = quotes(text, language)

    assert (quote.person_id, quote.company_id, quote.stance) == (PATRICK_WALUJO, GOTO, "denies")


# --- speakers read from the attribution -----------------------------------------------------


def test_it_reads_an_unknown_speaker_before_their_title() -> None:
    text = (
        '"We are focused on profitability, not on a merger," said Budi Santoso, chief financial officer of Bukalapak.'
    )

    [quote] = quotes(text, "en")

    assert (quote.speaker, quote.person_id, quote.role) == ("Budi Santoso", None, "chief financial officer")


def test_it_reads_an_unknown_speaker_after_their_title() -> None:
    # given: the Indonesian order, title and company first, then the name
    text = '"Kami fokus pada pertumbuhan yang berkelanjutan," kata Presiden Direktur GoTo, Dewi Anggraini.'

    # when
    [quote] = quotes(text, "id")

    # then: the name, not the title
    assert (quote.speaker, quote.person_id, quote.role, quote.company_id) == (
        "Dewi Anggraini",
        None,
        "Presiden Direktur",
        GOTO,
    )


def test_it_reads_a_thai_name_after_its_honorific() -> None:
    text = 'นายสมชาย ใจดี ประธานเจ้าหน้าที่บริหาร กล่าวว่า "บริษัทยังไม่มีแผนควบรวมกิจการกับแกร็บในขณะนี้"'

    [quote] = quotes(text, "th")

    assert quote.text == "บริษัทยังไม่มีแผนควบรวมกิจการกับแกร็บในขณะนี้"
    assert (quote.speaker, quote.role) == ("สมชาย ใจดี", "ประธานเจ้าหน้าที่บริหาร")


def test_it_reads_a_vietnamese_name_without_its_honorific() -> None:
    text = "“Chúng tôi luôn tìm kiếm cơ hội tăng trưởng,” ông Nguyễn Văn Minh, tổng giám đốc Tiki, cho biết."

    [quote] = quotes(text, "vi")

    assert (quote.speaker, quote.role, quote.company_id) == ("Nguyễn Văn Minh", "tổng giám đốc", TIKI)


def test_it_reads_a_malay_name_without_its_honorific() -> None:
    text = '"Kami belum membuat keputusan apa pun," ujar Datuk Ahmad Rizal, pengarah urusan syarikat itu.'

    assert said(text, "ms") == [("Kami belum membuat keputusan apa pun,", "Ahmad Rizal")]


def test_it_does_not_suggest_a_quote_without_a_speaker() -> None:
    assert quotes("“We do not comment on market speculation,” a Grab spokesperson said.", "en") == []


# --- several quotes -------------------------------------------------------------------------


def test_it_gives_a_continuation_quote_to_the_previous_speaker() -> None:
    text = "“The bar for such a deal is very high,” said Alex Hungate. “We will keep our discipline on pricing.”"

    assert said(text, "en") == [
        ("The bar for such a deal is very high,", "Alex Hungate"),
        ("We will keep our discipline on pricing.", "Alex Hungate"),
    ]


def test_it_gives_a_he_said_quote_to_the_previous_speaker() -> None:
    text = "“The bar for such a deal is very high,” said Alex Hungate. “We will keep our discipline,” he added."

    assert [quote.person_id for quote in quotes(text, "en")] == [ALEX_HUNGATE, ALEX_HUNGATE]


def test_it_does_not_carry_a_speaker_into_a_new_paragraph() -> None:
    text = "“The bar for such a deal is very high,” said Alex Hungate.\n“We will keep our discipline on pricing.”"

    assert said(text, "en") == [("The bar for such a deal is very high,", "Alex Hungate")]


def test_it_does_not_carry_a_speaker_across_several_sentences() -> None:
    text = (
        "“The bar for such a deal is very high,” said Alex Hungate. Shares of Grab fell 3% in New York. "
        "Analysts at two banks cut their targets. “We will keep our discipline on pricing.”"
    )

    assert said(text, "en") == [("The bar for such a deal is very high,", "Alex Hungate")]


def test_it_does_not_give_a_he_said_quote_a_speaker_from_nowhere() -> None:
    assert quotes("“The bar for such a deal is very high,” he said.", "en") == []


# --- what is not a quote --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        pytest.param("en", 'GoTo calls itself a "super app" for Indonesia.', id="en"),
        pytest.param("en", 'Analysts said the so-called "super app" model was under pressure.', id="en-said"),
        pytest.param("id", 'Grab menyebut dirinya sebagai "super app" di Asia Tenggara.', id="id"),
        pytest.param("vi", "Grab tự gọi mình là “siêu ứng dụng” của Đông Nam Á.", id="vi"),
        pytest.param("th", 'แกร็บเรียกตัวเองว่า "ซูเปอร์แอป"', id="th"),
        pytest.param("ko", '그랩은 동남아의 "슈퍼앱"으로 불린다.', id="ko"),
        pytest.param("ja", "ゴートゥーは「スーパーアプリ」を展開している。", id="ja"),
        pytest.param("ja", "グラブは「スーパーアプリ」と呼ばれる。", id="ja-called"),
        pytest.param("zh", "格步被业界称为“超级应用”。", id="zh"),
    ],
)
def test_it_leaves_out_scare_quotes(language: str, text: str) -> None:
    assert quotes(text, language) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [
        pytest.param("en", "Alex Hungate said that the bar for such a deal was very high.", id="en"),
        pytest.param("ko", "알렉스 헝가테 그랩 사장은 인수합병의 기준이 매우 높다고 말했다.", id="ko"),
        pytest.param("ja", "アレックス・ハンゲート社長は統合のハードルは非常に高いと述べた。", id="ja"),
        pytest.param("zh", "亚历克斯·亨盖特表示，此类交易的门槛非常高。", id="zh"),
    ],
)
def test_it_leaves_out_indirect_speech(language: str, text: str) -> None:
    assert quotes(text, language) == []


def test_it_leaves_out_a_quoted_phrase_reported_from_a_wire() -> None:
    text = 'Reuters reported that GoTo was "in advanced talks" with Grab, citing people familiar with the matter.'

    assert quotes(text, "en") == []


# --- verbatim text --------------------------------------------------------------------------


def test_it_keeps_full_width_characters_and_inner_punctuation_verbatim() -> None:
    # given: full-width Latin letters and a full-width exclamation mark inside the quote
    text = "アレックス・ハンゲート社長は「ＧｏＴｏとの協議は、まだ初期段階です！」と述べた。"

    # when
    [quote] = quotes(text, "ja")

    # then
    assert quote.text == "ＧｏＴｏとの協議は、まだ初期段階です！"
    assert text[quote.start : quote.end] == quote.text


def test_it_keeps_nested_chinese_quotes_and_punctuation_verbatim() -> None:
    text = "格步总裁亚历克斯·亨盖特表示：“我们不会为了规模而牺牲盈利，‘合并’不是目的。”"

    [quote] = quotes(text, "zh")

    assert quote.text == "我们不会为了规模而牺牲盈利，‘合并’不是目的。"
    assert text[quote.start : quote.end] == quote.text


def test_it_gives_offsets_into_the_text() -> None:
    text = "Grab shares rose. “The bar for such a deal is very high,” said Alex Hungate."

    [quote] = quotes(text, "en")

    assert (quote.start, quote.end) == (19, 56)
    assert text[quote.start : quote.end] == "The bar for such a deal is very high,"


# --- stance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stance"),
    [
        ("“We are not in talks with Grab,” said Patrick Walujo.", "denies"),
        ("“These reports are baseless,” said Patrick Walujo.", "denies"),
        ("“We do not comment on market speculation,” said Alex Hungate.", "no_comment"),
        ("“We have confirmed that talks with GoTo are progressing,” said Alex Hungate.", "confirms"),
        ("“The bar for such a deal is very high,” said Alex Hungate.", "neutral"),
    ],
)
def test_it_reads_the_stance_of_the_words(text: str, stance: str) -> None:
    [quote] = quotes(text, "en")

    assert quote.stance == stance


@pytest.mark.parametrize(
    ("language", "text"),
    [
        pytest.param(
            "en",
            "“Our talks with GoTo are progressing well and there is no deadline,” said Alex Hungate.",
            id="en",
        ),
        pytest.param("ja", "アレックス・ハンゲート社長は「ゴートゥーとの協議は、まだ初期段階です」と述べた。", id="ja"),
    ],
)
def test_it_does_not_read_talks_under_way_as_a_denial(language: str, text: str) -> None:
    [quote] = quotes(text, language)

    assert quote.stance == "neutral"


# --- through the pipeline -------------------------------------------------------------------


def test_it_suggests_quotes_from_a_whole_article() -> None:
    # given: an HTML article in which the quote follows the headline
    body = (
        "<p>Grab Holdings and GoTo have restarted merger talks, people familiar with the matter said.</p>"
        "<p>&ldquo;The bar for such a deal is very high,&rdquo; said Alex Hungate, Grab&rsquo;s president.</p>"
    )

    # when
    detection = read("Grab and GoTo revive merger talks", body)

    # then
    assert [(quote.text, quote.person_id) for quote in detection.quotes] == [
        ("The bar for such a deal is very high,", ALEX_HUNGATE)
    ]


def test_it_attributes_a_quote_to_a_surname_the_article_introduced() -> None:
    # given: the full name first, then the surname alone, as English copy does
    text = (
        "Grab president Alex Hungate spoke at an investor event on Tuesday. "
        '"The bar for such a deal is very high," Hungate said.'
    )

    # then
    assert said(text, "en") == [("The bar for such a deal is very high,", "Alex Hungate")]


def test_it_attributes_a_quote_to_the_surname_of_a_speaker_it_read_earlier() -> None:
    text = (
        '"We are not in talks with anyone," said Budi Santoso, chief financial officer of Bukalapak. '
        'Asked again later, "Nothing has changed," Santoso told reporters.'
    )

    assert said(text, "en") == [
        ("We are not in talks with anyone,", "Budi Santoso"),
        ("Nothing has changed,", "Budi Santoso"),
    ]
