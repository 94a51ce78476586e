"""Find which watchlist companies a text names. No ORM here.

A first, simple matcher so the inbox has something true to show: names and
aliases are compared on NFKC case-folded text, Latin-script ones on word
boundaries, CJK and Thai ones anywhere (those scripts do not space words). An
alias flagged ambiguous (Sea, Grab, Line) counts only when some company is also
named unambiguously (a co-mention). The detection issue replaces this with a
multilingual, context-aware matcher.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rumours.models import normalise_alias


@dataclass(frozen=True)
class AliasRow:
    company_id: int
    alias: str
    ambiguous: bool


# Latin letters and digits only: "GoTo는" and "グラブとGoTo傘下" must still find GoTo,
# and Unicode \w would count Hangul, kana, kanji and Thai as part of the word.
_LATIN_WORD = r"0-9A-Za-z_\u00C0-\u024F\u1E00-\u1EFF"


def _pattern(alias: str) -> str:
    escaped = re.escape(alias)
    if re.search(r"[A-Za-z0-9]", alias[:1]) and re.search(r"[A-Za-z0-9]", alias[-1:]):
        return rf"(?<![{_LATIN_WORD}]){escaped}(?![{_LATIN_WORD}])"
    return escaped


class Matcher:
    def __init__(self, aliases: Iterable[AliasRow]) -> None:
        self._by_alias: dict[str, list[AliasRow]] = {}
        for row in aliases:
            key = normalise_alias(row.alias)
            # One character (씨, 시) is part of too many words in unspaced scripts to mean anything alone.
            if len(key) >= 2:
                self._by_alias.setdefault(key, []).append(row)
        keys = sorted(self._by_alias, key=len, reverse=True)
        self._regex = re.compile("|".join(_pattern(key) for key in keys)) if keys else None

    def companies_in(self, text: str) -> set[int]:
        if self._regex is None:
            return set()
        certain: set[int] = set()
        ambiguous: set[int] = set()
        for match in self._regex.finditer(normalise_alias(text)):
            for row in self._by_alias.get(match.group(0), []):
                (ambiguous if row.ambiguous else certain).add(row.company_id)
        # An ordinary-word alias needs evidence: here, that another watchlist company is
        # named too ("고투, 그랩과 합병" names Grab; 고투 is then GoTo, not "a hard struggle").
        return certain | ambiguous if certain else set()
