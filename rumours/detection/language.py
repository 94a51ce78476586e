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
from collections import Counter

SUPPORTED = ("en", "id", "ms", "vi", "th", "ko", "ja", "zh")
_LATIN_FAMILY = {"en", "id", "ms", "vi"}
_VIETNAMESE_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


def _script_counts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for char in text:
        code = ord(char)
        if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            counts["hangul"] += 1
        elif 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F:
            counts["kana"] += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            counts["han"] += 1
        elif 0x0E00 <= code <= 0x0E7F:
            counts["thai"] += 1
        elif char.isalpha():
            counts["latin"] += 1
    return counts


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
