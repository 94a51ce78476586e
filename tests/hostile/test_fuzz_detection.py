"""Property-based runs of detection's pure functions over arbitrary text: CJK, Thai, Hangul,
combining marks, controls, bidi overrides, quotation marks of every kind.

Nothing crashes, and what comes out keeps its promises: spans point inside the text,
quotes are verbatim substrings of it, sentences are slices of it, languages are known
ones, fingerprints are deterministic and the same text is the same story.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rumours.detection import fingerprint
from rumours.detection.language import SUPPORTED, detect_language, script_language
from rumours.detection.lexicon import lexicon_for
from rumours.detection.pipeline import Document, detect
from rumours.detection.quotes import find_quotes
from rumours.detection.text import FoldedText, plain_text, sentences
from rumours.models import DealType, Stance, Status
from tests.detection.conftest import COMPANY_NAMES, PUBLISHED, WATCHLIST

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LANGUAGES = ["", "en", "id", "ms", "vi", "th", "ko", "ja", "zh", "en-US", "xx", "<script>"]

SPICY = (
    "“”\"'「」『』«»()（）.,!?。！？：:;—–-\n\t \u00a0\u3000\u200b\u200d\u202e\u2066\u0000\u001b\u0085\u2028"
    "\u0301\u0308\u0e31\u0e48\u3099ﬁß İıΣς"
    "abcGHTXYZ0129고투그랩알렉스헝가테말했다ソフトバンク社長述べた格步总裁表示แกร็บกล่าวđơư"
)
FRAGMENTS = [
    "“", "”", '"', "「", "」", "«", "»", " said Alex Hungate", " Grab", " GoTo", " Gojek", " merger talks",
    " acquisition", " denied", "알렉스 헝가테 그랩 사장은 ", "라고 말했다.", "と述べた。", "亚历克斯·亨盖特表示，",
    "Mr. ",
    " he said.", "\n", ". ", "<p>", "</p>", "&amp;", "&lt;script&gt;", "<script>alert(1)</script>", "ﬁ", "İ",
]  # fmt: skip
article_text = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=SPICY, max_size=400),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet=SPICY, max_size=8)), max_size=30).map("".join),
)


@FUZZ
@given(html=article_text)
def test_plain_text_has_no_blank_or_padded_lines(html):
    text = plain_text(html)

    assert all(line and line == line.strip(" \t\u00a0\u3000") for line in text.split("\n")) or text == ""


@FUZZ
@given(text=article_text)
def test_folded_text_maps_every_character_back_inside_the_original(text):
    folded = FoldedText(text)

    assert len(folded.origin) == len(folded.folded)
    assert all(0 <= index < len(folded.original) for index in folded.origin)
    assert folded.origin == sorted(folded.origin)
    for start in range(0, len(folded.folded) + 1, 7):
        for end in (start, min(start + 3, len(folded.folded))):
            left, right = folded.original_span(start, end)
            assert 0 <= left <= right <= len(folded.original)


@FUZZ
@given(text=article_text)
def test_sentences_are_ordered_slices_of_the_text(text):
    found = sentences(text)

    previous_end = 0
    for sentence in found:
        assert previous_end <= sentence.start <= sentence.end <= len(text)
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.text
        assert sentence.text == sentence.text.strip()
        previous_end = sentence.end


@FUZZ
@given(text=article_text, declared=st.sampled_from(LANGUAGES))
def test_the_language_is_a_supported_one_or_the_declared_one(text, declared):
    language = detect_language(text, declared)

    assert language in {*SUPPORTED, declared}
    assert script_language(text) in {"", "ko", "ja", "zh", "th", "vi"}


@FUZZ
@given(text=article_text, language=st.sampled_from(["en", "id", "ko", "ja", "zh", "th", "vi", "ms"]))
def test_quotes_are_verbatim_slices_with_a_speaker(text, language):
    lexicon = lexicon_for(language)

    quotes = find_quotes(
        text, language=language, lexicon=lexicon, people=WATCHLIST.people, companies=WATCHLIST.companies
    )

    for quote in quotes:
        assert 0 <= quote.start < quote.end <= len(text)
        assert text[quote.start : quote.end] == quote.text
        assert quote.speaker
        assert quote.stance in Stance.values
    for hit in lexicon.find(FoldedText(text)):
        assert 0 <= hit.start < hit.end <= len(FoldedText(text).folded)


@FUZZ
@given(title=article_text, body=article_text, language=st.sampled_from(LANGUAGES))
def test_detection_keeps_its_promises_on_any_article(title, body, language):
    document = Document(title=title, body=body, language=language, published_at=PUBLISHED)

    first = detect(document, WATCHLIST)
    again = detect(document, WATCHLIST)

    assert set(first.companies) <= set(COMPANY_NAMES)
    assert set(first.parties) <= set(COMPANY_NAMES)
    assert 0.0 <= first.deal_score <= 1.0
    assert first.stage_hint in {"", *Status.values}
    assert first.deal_type in {"", *DealType.values}
    assert first.language in {*SUPPORTED, language}
    assert len(first.signature) in {0, fingerprint.NUM_PERM * 4}
    assert (again.signature, again.companies, again.deal_score) == (first.signature, first.companies, first.deal_score)
    plain = plain_text(title[:2_000]).replace("\n", " ") + "\n" + plain_text(body)
    for quote in first.quotes:
        assert quote.text in plain


@FUZZ
@given(text=article_text, other=article_text)
def test_fingerprints_are_deterministic_and_bounded(text, other):
    signature = fingerprint.signature(text)

    assert signature == fingerprint.signature(text)
    keys = fingerprint.band_keys(signature)
    assert len(keys) in {0, fingerprint.BANDS}
    assert all(-(2**63) <= key < 2**63 for key in keys)
    if signature:
        assert fingerprint.similarity(signature, signature) == 1.0
    assert 0.0 <= fingerprint.similarity(signature, fingerprint.signature(other)) <= 1.0
    assert fingerprint.similarity(signature, b"garbage") == 0.0
