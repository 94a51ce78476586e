"""rumours.detection.fingerprint: MinHash signatures and LSH band keys for story clusters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rumours.detection.fingerprint import BANDS, NUM_PERM, SAME_STORY, band_keys, shingles, signature, similarity

WIRE = (
    "Grab and GoTo revive merger talks\n"
    "Grab Holdings and GoTo Group have restarted talks about a merger that would create Southeast Asia's "
    "largest ride-hailing and delivery company, according to people familiar with the matter. The discussions "
    "are at an early stage and may not lead to a deal, the people said. Both companies declined to comment on "
    "market speculation."
)
# The same story re-headlined by another outlet, with one sentence added.
REWRITE = (
    "Grab, GoTo said to restart merger discussions\n"
    "Grab Holdings and GoTo Group have restarted talks about a merger that would create Southeast Asia's "
    "largest ride-hailing and delivery company, according to people familiar with the matter. The discussions "
    "are at an early stage and may not lead to a deal, the people said. Shares of GoTo rose 6% in Jakarta on "
    "Tuesday. Both companies declined to comment on market speculation."
)
UNRELATED = (
    "Bank Indonesia holds rate\n"
    "Bank Indonesia held its benchmark rate at 6% on Wednesday, citing the need to support the rupiah as "
    "inflation stayed within the central bank's target range for a third straight month, the governor told "
    "reporters in Jakarta."
)
KOREAN = (
    "그랩과 고투가 합병 협상을 재개했다고 사안에 정통한 소식통이 전했다. 양사는 논평을 거부했다. "
    "협상은 초기 단계이며 거래로 이어지지 않을 수도 있다."
)
KOREAN_REWRITE = "[단독] 그랩·고투 합병 협상 재개\n" + KOREAN + " 고투 주가는 6% 올랐다."


def test_it_gives_identical_texts_similarity_one() -> None:
    assert similarity(signature(WIRE), signature(WIRE)) == 1.0


def test_it_gives_the_same_band_keys_in_another_process() -> None:
    # given: band keys are stored, so a worker started tomorrow (another hash seed) must compute the same
    script = (
        "import sys; from rumours.detection.fingerprint import band_keys, signature; "
        "print(band_keys(signature(sys.stdin.read())))"
    )

    # when
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=WIRE,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )

    # then
    assert result.stdout.strip() == str(band_keys(signature(WIRE)))


def test_it_finds_a_light_rewrite_the_same_story() -> None:
    # given: a new headline and one added sentence
    wire, rewrite = signature(WIRE), signature(REWRITE)

    # when
    score = similarity(wire, rewrite)

    # then
    assert score >= SAME_STORY == 0.5
    assert set(band_keys(wire)) & set(band_keys(rewrite))


def test_it_finds_a_korean_rewrite_the_same_story() -> None:
    original, rewrite = signature(KOREAN), signature(KOREAN_REWRITE)

    assert similarity(original, rewrite) >= 0.5
    assert set(band_keys(original)) & set(band_keys(rewrite))


def test_it_keeps_unrelated_stories_apart() -> None:
    wire, unrelated = signature(WIRE), signature(UNRELATED)

    assert similarity(wire, unrelated) < 0.3
    assert not set(band_keys(wire)) & set(band_keys(unrelated))


def test_it_ignores_case_width_and_punctuation() -> None:
    assert signature("ＧｏＴｏ, Grab: merger talks!") == signature("goto grab merger talks")


@pytest.mark.parametrize("text", ["", "   ", "… — !!! ?"])
def test_it_gives_an_empty_signature_and_no_band_keys_for_no_text(text: str) -> None:
    sig = signature(text)

    assert sig == b""
    assert band_keys(sig) == []


def test_it_finds_nothing_similar_to_an_empty_signature() -> None:
    assert similarity(b"", b"") == 0.0
    assert similarity(b"", signature(WIRE)) == 0.0


def test_it_stores_one_32_bit_value_per_permutation() -> None:
    assert len(signature(WIRE)) == NUM_PERM * 4 == 256


def test_it_gives_sixteen_signed_64_bit_band_keys() -> None:
    keys = band_keys(signature(WIRE))

    assert len(keys) == BANDS == 16
    assert all(isinstance(key, int) and -(2**63) <= key < 2**63 for key in keys)
    assert any(key < 0 for key in keys + band_keys(signature(REWRITE)) + band_keys(signature(UNRELATED)))


def test_it_gives_different_keys_to_different_bands() -> None:
    assert len(set(band_keys(signature(WIRE)))) == BANDS


def test_it_gives_no_band_keys_for_a_signature_of_the_wrong_length() -> None:
    assert band_keys(signature(WIRE)[:-4]) == []


def test_it_cuts_five_grams_where_words_are_spaced() -> None:
    assert shingles("Grab, GoTo") == {"grab ", "rab g", "ab go", "b got", " goto"}


def test_it_cuts_three_grams_without_spaces_in_unspaced_scripts() -> None:
    assert shingles("格步 收购。") == {"格步收", "步收购"}


def test_it_keeps_a_short_text_as_one_shingle() -> None:
    assert shingles("Grab") == {"grab"}
