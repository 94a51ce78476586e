"""Plain text, folded text and sentences: the forms the other detection steps read.

Two forms of one text matter. Matching (names, lexicon) runs on the *folded* form:
NFKC (which also folds full-width Latin and half-width kana) then case folding. The
evidence rules need the *original* case ("Grab said" against "grab a coffee"), so
:class:`FoldedText` keeps, for every folded character, where it came from.
Quotes are cut from the plain text itself, never from a normalised copy, so they
stay verbatim.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser


def words(text: str) -> frozenset[str]:
    """A set of words written as one string, for word lists that read better as prose."""
    return frozenset(text.split())


_BLOCK_TAGS = words(
    "p br div li ul ol h1 h2 h3 h4 h5 h6 blockquote tr table section article header footer figcaption pre"
)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """Text of (sanitised) HTML: entities decoded, blocks on their own lines, runs of spaces collapsed.

    Text without tags passes through with only its whitespace tidied.
    """
    if "<" in html or "&" in html:
        collector = _TextCollector()
        collector.feed(html)
        collector.close()
        html = "".join(collector.parts)
    lines = (re.sub(r"[ \t\u00a0\u3000]+", " ", line).strip() for line in html.splitlines())
    return "\n".join(line for line in lines if line)


# The middle dots that separate the parts of a foreign name (アレックス・ハンゲート,
# 亚历克斯·亨盖特) are written with several code points that NFKC keeps apart.
_NAME_DOTS = str.maketrans(dict.fromkeys("·・•‧∙⋅", "·"))


def fold(text: str) -> str:
    """The comparison form: NFKC, then case folding (also folds width, via NFKC) and one middle dot."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_NAME_DOTS)


@dataclass
class FoldedText:
    """A text in NFKC form (``original``) and folded (``folded``), with ``origin[i]``
    the index in ``original`` of folded character ``i``."""

    original: str
    folded: str = field(init=False)
    origin: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.original = unicodedata.normalize("NFKC", self.original)
        folded = self.original.casefold().translate(_NAME_DOTS)
        if len(folded) == len(self.original):  # the usual case: one folded character per character
            self.folded, self.origin = folded, list(range(len(folded)))
            return
        parts: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(self.original):
            folded = char.casefold().translate(_NAME_DOTS)
            parts.append(folded)
            origin.extend([index] * len(folded))
        self.folded = "".join(parts)
        self.origin = origin

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of ``original`` that folded ``[start, end)`` came from."""
        if start >= len(self.origin):
            return len(self.original), len(self.original)
        return self.origin[start], self.origin[end - 1] + 1 if end > start else self.origin[start]


# --- Scripts ------------------------------------------------------------------------------

LATIN_WORD_CHARS = "0-9A-Za-z_\u00c0-\u024f\u1e00-\u1eff"
_LATIN_WORD = re.compile(f"[{LATIN_WORD_CHARS}]")


def is_latin_word_char(char: str) -> bool:
    return bool(char) and _LATIN_WORD.match(char) is not None


def on_word_boundaries(folded: str, start: int, end: int, *, prefix: bool = False) -> bool:
    """Whether ``folded[start:end]`` stands alone as a word where Latin script needs it to:
    no Latin letter or digit glued on either side (only at the start, for a ``prefix``).
    Hangul, kana, Han and Thai next to a Latin word count as a boundary ("GoTo는")."""
    if start > 0 and is_latin_word_char(folded[start]) and is_latin_word_char(folded[start - 1]):
        return False
    if prefix:
        return True
    return not (end < len(folded) and is_latin_word_char(folded[end - 1]) and is_latin_word_char(folded[end]))


def is_cjk_or_thai(char: str) -> bool:
    """Scripts written without spaces between words: no word boundaries to check."""
    code = ord(char)
    return (
        0x0E00 <= code <= 0x0E7F  # Thai
        or 0x1100 <= code <= 0x11FF  # Hangul Jamo
        or 0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x9FFF  # CJK ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF
    )


# --- Sentences ----------------------------------------------------------------------------

# Where a sentence ends: after . ! ? (then a space) or after the CJK stops (no space needed).
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)\]]*\s+|(?<=[。！？])[」』”’）]*\s*|\n+")
# Words whose full stop is not a sentence's end.
_ABBREVIATIONS = words(
    "mr mrs ms dr prof inc ltd corp co st jr sr vs u.s u.k e.g i.e bhd tbk pte pt sdn jan feb mar apr jun jul "
    "aug sep sept oct nov dec approx est ph.d"
)


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def sentences(text: str) -> list[Sentence]:
    """Split into sentences, with offsets into ``text``. Thai, which marks sentences
    with spaces that also separate phrases, is split only on line breaks."""
    result: list[Sentence] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        # Only the word before the stop decides: looking no further keeps this linear
        # even for text made of nothing but "Mr. Mr. Mr. …".
        if "\n" not in match.group(0) and _ends_with_abbreviation(
            text[max(start, match.start() - 24) : match.start() + 1], following=text[match.end() : match.end() + 1]
        ):
            continue
        if text[start : match.end()].strip():
            result.append(_trimmed(text, start, match.end()))
        start = match.end()
    if text[start:].strip():
        result.append(_trimmed(text, start, len(text)))
    return result


def _ends_with_abbreviation(sentence: str, *, following: str) -> bool:
    match = re.search(r"([\w.]+)\.[\"”’)\]]*\s*$", sentence)
    if match is None:
        return False
    word = match.group(1)
    if word.casefold() == "no":  # "No. 1" is a number; "GoTo said no. Its shares…" ends a sentence
        return following[:1].isdigit()
    return word.casefold() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def _trimmed(text: str, start: int, end: int) -> Sentence:
    chunk = text[start:end]
    left = len(chunk) - len(chunk.lstrip())
    right = len(chunk.rstrip())
    return Sentence(start + left, start + right, chunk.strip())
