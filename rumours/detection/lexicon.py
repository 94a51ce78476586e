"""The curated deal vocabulary, per language, and a one-pass matcher over it.

Each ``lexicon/<language>.json`` lists terms by category: the eleven deal signals
(``signals.merger`` … ``signals.termination``) and the cues the rules around them
need (rumour and confirmation markers, historical and non-deal markers, negations,
speech verbs, roles, company-context words). Terms are lower case.

In English, Indonesian, Malay and Vietnamese a term matches on word boundaries and a
trailing ``*`` makes it a prefix ("acqui*"). In Thai, Korean, Japanese and Chinese,
written without spaces between words, a term matches anywhere.

Articles in any language are matched against their own lexicon plus the English
one: "CEO", "IPO" and "M&A" turn up in all of them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from rumours.detection.text import FoldedText, fold, on_word_boundaries

LEXICON_DIR = Path(__file__).with_name("lexicon")
SIGNAL_KINDS = (
    "merger",
    "acquisition",
    "takeover",
    "stake",
    "talks",
    "bid",
    "agreement",
    "completion",
    "denial",
    "no_comment",
    "termination",
)
CUE_CATEGORIES = (
    "rumour_markers",
    "confirmation_markers",
    "historical_markers",
    "non_deal_markers",
    "negations",
    "speech_verbs",
    "roles",
    "company_context",
)
_SPACED = {"en", "id", "ms", "vi"}


@dataclass(frozen=True)
class Term:
    category: str  # "signal" or one of CUE_CATEGORIES
    kind: str  # the signal kind, or the category again for cues
    text: str
    prefix: bool
    spaced: bool


@dataclass(frozen=True)
class TermHit:
    category: str
    kind: str
    start: int  # in FoldedText.folded
    end: int
    text: str


class LexiconError(ValueError):
    pass


class Lexicon:
    """The terms of one or more languages, in one automaton."""

    def __init__(self, terms: list[Term]) -> None:
        self._automaton = ahocorasick.Automaton()
        by_key: dict[str, list[Term]] = {}
        for term in terms:
            by_key.setdefault(term.text, []).append(term)
        for key, entries in by_key.items():
            self._automaton.add_word(key, (key, tuple(entries)))
        self._empty = not by_key
        if by_key:
            self._automaton.make_automaton()

    def find(self, text: FoldedText) -> list[TermHit]:
        """Every term in the text; overlapping hits of one category keep the longest."""
        if self._empty:
            return []
        folded = text.folded
        found: list[TermHit] = []
        for end_index, (key, entries) in self._automaton.iter(folded):
            start, end = end_index - len(key) + 1, end_index + 1
            for term in entries:
                if term.spaced and not on_word_boundaries(folded, start, end, prefix=term.prefix):
                    continue
                found.append(TermHit(term.category, term.kind, start, end, term.text))
        found.sort(key=lambda hit: (hit.start, -(hit.end - hit.start)))
        kept: list[TermHit] = []
        covered: dict[str, int] = {}
        for hit in found:
            if hit.start < covered.get(hit.kind, -1):
                continue
            covered[hit.kind] = hit.end
            kept.append(hit)
        return kept


def _terms_of(language: str) -> list[Term]:
    path = LEXICON_DIR / f"{language}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc
    spaced = language in _SPACED
    terms: list[Term] = []

    def add(category: str, kind: str, raw_terms: object) -> None:
        if not isinstance(raw_terms, list) or not all(isinstance(term, str) for term in raw_terms):
            raise LexiconError(f"{path}: {kind} must be a list of strings.")
        for raw in raw_terms:
            text = fold(raw).strip()
            prefix = spaced and text.endswith("*")
            text = text.rstrip("*").strip()
            if text:
                terms.append(Term(category, kind, text, prefix, spaced))

    signals = data.get("signals", {})
    for kind in SIGNAL_KINDS:
        add("signal", kind, signals.get(kind, []))
    for category in CUE_CATEGORIES:
        add(category, category, data.get(category, []))
    return terms


# Negation comes before the verb in the spaced languages, Thai and Chinese ("not in talks",
# "belum ada kesepakatan", "没有达成"), after it in Korean and Japanese ("합의하지 않았다",
# "合意していない").
_NEGATION_FOLLOWS = {"ko", "ja"}


def negation_governs(term: tuple[int, int], negation: tuple[int, int], *, language: str) -> bool:
    """Whether the negation at ``negation`` (start, end) negates the term at ``term``: a few
    characters before it, or in Korean and Japanese a few after. "in talks, but no agreement
    has been reached" negates the agreement, not the talks."""
    (start, end), (n_start, n_end) = term, negation
    if language in _NEGATION_FOLLOWS:
        return 0 <= n_start - end <= 12
    return 0 <= start - n_end <= 25


@functools.cache
def lexicon_for(language: str) -> Lexicon:
    """The lexicon an article in ``language`` is read with: its own terms plus English."""
    primary = language.split("-")[0].casefold()
    terms = _terms_of(primary)
    if primary != "en":
        terms += _terms_of("en")
    return Lexicon(terms)
