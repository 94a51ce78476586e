"""Find names (of companies, or of people) in a text in one pass, whatever their number.

All aliases go into one Aho–Corasick automaton (pyahocorasick) keyed by their
folded form, so scanning costs the length of the text plus the hits, not the
number of aliases. The few raw hits are then filtered:

- Latin-script aliases must stand on word boundaries (Latin letters and digits
  only: "GoTo는" and "グラブとGoTo" still find GoTo, "Grab's" finds Grab, "Grabbed"
  does not). Aliases in scripts written without spaces (Hangul, kana, Han, Thai)
  match anywhere: "그랩은", "グラブは" and "格步表示" all name Grab.
- Overlapping hits keep the longest, leftmost first ("GoTo Financial" over "GoTo").

Whether an ambiguous alias (Sea, Grab, 고투) really names the company is decided
later with context (:mod:`rumours.detection.pipeline`); here a hit only says which
alias matched where.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from rumours.detection.text import FoldedText, fold, on_word_boundaries


@dataclass(frozen=True)
class Alias:
    owner_id: int
    text: str
    ambiguous: bool = False


@dataclass(frozen=True)
class Hit:
    owner_id: int
    alias: Alias
    start: int  # in FoldedText.folded
    end: int


class NameIndex:
    """Aliases of many owners (company or person ids), searchable in one pass.

    Aliases shorter than ``min_length`` folded characters are left out: one letter
    (씨, 시) is part of too many words in unspaced scripts to mean anything alone.
    """

    def __init__(self, aliases: Iterable[Alias], *, min_length: int = 2) -> None:
        by_key: dict[str, list[Alias]] = {}
        for alias in aliases:
            key = fold(alias.text).strip()
            if len(key) >= min_length:
                by_key.setdefault(key, [])
                if all(existing.owner_id != alias.owner_id for existing in by_key[key]):
                    by_key[key].append(alias)
        self._automaton = ahocorasick.Automaton()
        for key, owners in by_key.items():
            self._automaton.add_word(key, (key, tuple(owners)))
        self._size = len(by_key)
        if by_key:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return self._size

    def hits(self, text: FoldedText) -> list[Hit]:
        """Every name in ``text``, longest-leftmost, on boundaries where the script has them."""
        if not self._size:
            return []
        folded = text.folded
        raw: list[tuple[int, int, tuple[Alias, ...]]] = []
        for end_index, (key, owners) in self._automaton.iter(folded):
            start, end = end_index - len(key) + 1, end_index + 1
            if on_word_boundaries(folded, start, end):
                raw.append((start, end, owners))
        raw.sort(key=lambda hit: (hit[0], -(hit[1] - hit[0])))
        result: list[Hit] = []
        covered_until = -1
        for start, end, owners in raw:
            if start < covered_until:
                continue
            covered_until = end
            result.extend(Hit(alias.owner_id, alias, start, end) for alias in owners)
        return result
