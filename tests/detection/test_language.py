"""rumours.detection.language: script rules first, then the declared language, then py3langid."""

from __future__ import annotations

import pytest

from rumours.detection.language import detect_language, script_language

KOREAN = "그랩과 고투가 합병 협상을 재개했다고 사안에 정통한 소식통이 전했다."
JAPANESE = "グラブとゴートゥーが経営統合に向けた協議を再開したことが分かった。"
CHINESE = "据知情人士透露，格步与GoTo已重启合并谈判。"
THAI = "แกร็บและ GoTo กลับมาเจรจาควบรวมกิจการอีกครั้ง แหล่งข่าวระบุ"
VIETNAMESE = "Grab và GoTo đã nối lại đàm phán sáp nhập, theo các nguồn tin thân cận."
ENGLISH = "Grab and GoTo have restarted merger talks, according to people familiar with the matter."
INDONESIAN = (
    "Grab dan GoTo kembali membahas rencana merger, menurut sumber yang mengetahui masalah ini. "
    "Kedua perusahaan belum memberikan komentar resmi."
)
MALAY = (
    "Syarikat teknologi itu berkata rundingan penggabungan dengan pesaingnya masih diteruskan, menurut "
    "sumber yang rapat dengan syarikat tersebut. Kedua-dua syarikat enggan mengulas lanjut mengenai perkara itu."
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (KOREAN, "ko"),
        (JAPANESE, "ja"),
        (CHINESE, "zh"),
        (THAI, "th"),
        (VIETNAMESE, "vi"),
        (ENGLISH, ""),
        (INDONESIAN, ""),
        (MALAY, ""),
        ("2025 · 10% · 7.000.000", ""),
    ],
)
def test_it_settles_the_script_languages_by_script_alone(text: str, expected: str) -> None:
    assert script_language(text) == expected


def test_it_reads_korean_with_latin_company_names_as_korean() -> None:
    assert script_language("GoTo Gojek Tokopedia와 Grab Holdings가 합병 협상 중") == "ko"


def test_it_reads_japanese_with_kanji_as_japanese_not_chinese() -> None:
    assert script_language("楽天グループ、東南アジア企業の買収を検討") == "ja"


def test_it_needs_more_than_one_vietnamese_letter() -> None:
    assert script_language("Grab and GoTo met in Đà Lạt on Monday to discuss a merger.") == "vi"
    assert script_language("Grab opened an office in Đalat on Monday to hire engineers.") == ""


@pytest.mark.parametrize(
    ("text", "declared"),
    [(KOREAN, "ko-KR"), (JAPANESE, "ja"), (CHINESE, "zh-Hans"), (THAI, "th"), (VIETNAMESE, "vi-VN")],
)
def test_it_keeps_the_declared_tag_when_it_fits_the_script(text: str, declared: str) -> None:
    assert detect_language(text, declared) == declared


def test_it_lets_the_script_beat_a_declared_english() -> None:
    # given: an English-language feed carrying a Korean article
    # when
    language = detect_language(KOREAN, "en")

    # then
    assert language == "ko"


def test_it_lets_the_script_beat_a_declared_language_of_another_script() -> None:
    assert detect_language(JAPANESE, "zh") == "ja"


@pytest.mark.parametrize(("text", "expected"), [(ENGLISH, "en"), (INDONESIAN, "id"), (MALAY, "ms")])
def test_it_identifies_undeclared_latin_script_languages(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_it_keeps_a_declared_english_tag_on_english_text() -> None:
    assert detect_language(ENGLISH, "en-US") == "en-US"


def test_it_detects_a_long_confident_malay_text_in_an_english_feed() -> None:
    assert detect_language(MALAY, "en") == "ms"


def test_it_keeps_the_declared_english_for_a_short_malay_text() -> None:
    # under 80 characters the identifier's guess is not trusted over the feed
    assert detect_language("Syarikat itu berkata rundingan diteruskan.", "en") == "en"


def test_it_never_overrides_a_declared_indonesian_with_malay() -> None:
    # given: a text the identifier reads as Malay, with confidence, in a feed that says Indonesian
    # when
    language = detect_language(MALAY, "id")

    # then
    assert language == "id"
    assert detect_language(MALAY) == "ms"


def test_it_keeps_a_declared_language_it_does_not_support() -> None:
    assert detect_language("Grab et GoTo relancent leurs discussions de fusion.", "fr") == "fr"


def test_it_keeps_the_declared_tag_when_the_text_has_no_letters() -> None:
    assert detect_language("2025 — 10% — 7.000.000", "id") == "id"


def test_it_gives_nothing_for_nothing() -> None:
    assert detect_language("", "") == ""
