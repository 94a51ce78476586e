"""Which of the eight languages an article is written in.

The script decides most cases outright: Hangul is Korean, kana is Japanese, Han
without kana is Chinese, Thai is Thai, and Vietnamese is the only Latin-script
language here with letters such as ơ, ư and đ. Only English, Indonesian and Malay
need a statistical identifier (py3langid, restricted to those three).

What the feed or the entry declares wins whenever it fits the script of the text:
Indonesian and Malay are close enough that an operator's word beats a model's
guess. A declaration that contradicts the script (a feed set to English carrying a
Korean article) loses to the script.
"""

from __future__ import annotations

import functools
import re

SUPPORTED = ("en", "id", "ms", "vi", "th", "ko", "ja", "zh")
_LATIN_FAMILY = {"en", "id", "ms", "vi"}
_VIETNAMESE_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


_SCRIPTS = {
    "hangul": re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    "kana": re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]"),
    "han": re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]"),
    "thai": re.compile(r"[\u0e00-\u0e7f]"),
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]"),
}


def _script_counts(text: str) -> dict[str, int]:
    return {script: len(pattern.findall(text)) for script, pattern in _SCRIPTS.items()}


def script_language(text: str) -> str:
    """The language the script alone settles ("ko", "ja", "zh", "th", "vi"), or "" for
    English/Indonesian/Malay (or no letters at all)."""
    counts = _script_counts(text)
    letters = sum(counts.values())
    if not letters:
        return ""
    # Company names and tickers are often in Latin letters inside CJK and Thai text,
    # so a modest share of the local script already decides.
    if counts["hangul"] >= 0.15 * letters:
        return "ko"
    if counts["kana"] >= 0.05 * letters and counts["kana"] + counts["han"] >= 0.15 * letters:
        return "ja"
    if counts["han"] >= 0.15 * letters:
        return "zh"
    if counts["thai"] >= 0.15 * letters:
        return "th"
    if len(_VIETNAMESE_LETTERS.findall(text)) >= max(2, 0.03 * counts["latin"]):
        return "vi"
    return ""


@functools.cache
def _identifier() -> object:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(["en", "id", "ms"])
    return identifier


def detect_language(text: str, declared: str = "") -> str:
    """The article's language: one of :data:`SUPPORTED`, the declared tag, or "" when
    the text has no letters to go on.

    ``declared`` is what the feed or entry said (BCP 47, e.g. "en-US"); only its
    primary subtag is compared.
    """
    declared_primary = declared.split("-")[0].split("_")[0].casefold()
    by_script = script_language(text)
    if by_script:
        return declared if declared_primary == by_script else by_script
    if not any(char.isalpha() for char in text):
        return declared
    if declared_primary and declared_primary not in SUPPORTED:
        return declared
    language, confidence = _identifier().classify(text)  # type: ignore[attr-defined]
    if declared_primary in {"en", "id", "ms"}:
        # A feed set to English that carries a Malay article: only a confident guess on a
        # text long enough overrides, and never between Indonesian and Malay.
        overrides = confidence >= 0.95 and len(text) >= 80 and {declared_primary, language} != {"id", "ms"}
        return str(language) if overrides and language != declared_primary else declared
    return str(language)
