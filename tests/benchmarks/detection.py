"""Detection benchmark (not a test: it reports figures, it does not pass or fail).

Scans the labelled corpus's articles (eight languages) against watchlists of 100,
1,000 and 10,000 companies, in one run:

* **matching**: the Aho–Corasick name index (one pass over the text) against a naive
  scan that runs one compiled regular expression per alias, each with the same
  word-boundary rule;
* **full detection**: :func:`rumours.detection.pipeline.detect` (language, matching,
  lexicon, deal reading, quotes, MinHash signature) per article.

The watchlists are the bundled companies plus synthetic ones, each with four aliases
in Latin, Hangul, katakana and Han script, so the alias count grows with the list
(about 4 per company). Pure code: no database.

Usage::

    make bench-detection
    .venv/bin/python -m tests.benchmarks.detection --sizes 100 1000 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rumours.detection.names import Alias, NameIndex
from rumours.detection.pipeline import Document, Watchlist, detect
from rumours.detection.quotes import People
from rumours.detection.text import LATIN_WORD_CHARS, FoldedText, fold
from rumours.evaluation import DEFAULT_CORPUS, load_corpus

ROOT = Path(__file__).resolve().parents[2]
_HANGUL = "가나다라마바사아자차카타파하고노도로모보소오조코토포호구누두루무부수우주쿠투푸후"
_KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモラリルレロ"
_HAN = "安华明金丰盛达通信银泰恒新创嘉瑞宝利鑫源海星辰云"


def bundled_aliases() -> list[Alias]:
    companies = json.loads((ROOT / "rumours" / "data" / "watchlist.json").read_text(encoding="utf-8"))
    aliases = []
    for number, company in enumerate(companies, start=1):
        aliases.append(Alias(number, company["name"]))
        aliases += [Alias(number, a["alias"], bool(a.get("ambiguous"))) for a in company.get("aliases", [])]
    return aliases


def synthetic_aliases(first_id: int, count: int, seed: int = 7) -> list[Alias]:
    rng = random.Random(seed)
    aliases = []
    for number in range(first_id, first_id + count):
        latin = "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
        aliases += [
            Alias(number, f"{latin.capitalize()} {rng.choice(['Labs', 'Pay', 'Group', 'Tech', 'Capital'])}"),
            Alias(number, "".join(rng.choice(_HANGUL) for _ in range(3))),
            Alias(number, "".join(rng.choice(_KATAKANA) for _ in range(4))),
            Alias(number, "".join(rng.choice(_HAN) for _ in range(3)) + "集团"),
        ]
    return aliases


def watchlist_of(size: int) -> tuple[Watchlist, list[Alias]]:
    aliases = bundled_aliases()
    bundled = len({alias.owner_id for alias in aliases})
    if size > bundled:
        aliases += synthetic_aliases(bundled + 1, size - bundled)
    else:
        aliases = [alias for alias in aliases if alias.owner_id <= size]
    names = {alias.owner_id: alias.text for alias in aliases}
    people = People(index=NameIndex([]), names={}, roles={}, companies={})
    return Watchlist(companies=NameIndex(aliases), company_names=names, people=people), aliases


def naive_scanner(aliases: list[Alias]) -> Callable[[str], set[int]]:
    """One regular expression per alias, run one after the other: the cost grows with the list."""
    compiled = []
    for alias in aliases:
        key = fold(alias.text)
        if len(key) < 2:
            continue
        pattern = re.escape(key)
        if re.match(r"[0-9a-z]", key[0]) and re.match(r"[0-9a-z]", key[-1]):
            pattern = rf"(?<![{LATIN_WORD_CHARS}]){pattern}(?![{LATIN_WORD_CHARS}])"
        compiled.append((alias.owner_id, re.compile(pattern)))

    def scan(text: str) -> set[int]:
        folded = fold(text)
        return {owner for owner, regex in compiled if regex.search(folded)}

    return scan


def rate(function: Callable[[Any], object], inputs: list[Any], *, budget: float) -> float:
    """Inputs per second, over as many passes as fit in ``budget`` seconds (at least one)."""
    for warm_up in inputs[:20]:  # lazy loading (lexicons, the language model) is not the steady state
        function(warm_up)
    done, started = 0, time.perf_counter()
    while True:
        for item in inputs:
            function(item)
        done += len(inputs)
        elapsed = time.perf_counter() - started
        if elapsed >= budget:
            return done / elapsed


def _match(index: NameIndex, text: str) -> object:
    return index.hits(FoldedText(text))


def _detect(watchlist: Watchlist, document: Document) -> object:
    return detect(document, watchlist)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--budget", type=float, default=3.0, help="Seconds of work per figure.")
    args = parser.parse_args()

    items = load_corpus(DEFAULT_CORPUS)
    texts = [f"{item.title}\n{item.summary}" for item in items]
    documents = [Document(item.title, item.summary, item.feed_language, item.published_at) for item in items]
    print(f"{len(texts)} articles, {sum(map(len, texts)) / len(texts):.0f} characters on average\n")
    columns = [("companies", 9), ("aliases", 8), ("build s", 8), ("index e/s", 10), ("naive e/s", 10), ("ratio", 7)]
    print(" ".join(f"{name:>{width}}" for name, width in [*columns, ("detect e/s", 11)]))
    results = []
    for size in args.sizes:
        started = time.perf_counter()
        watchlist, aliases = watchlist_of(size)
        build = time.perf_counter() - started
        index_rate = rate(functools.partial(_match, watchlist.companies), texts, budget=args.budget)
        naive = naive_scanner(aliases)
        naive_rate = rate(naive, texts, budget=args.budget)
        detect_rate = rate(functools.partial(_detect, watchlist), documents, budget=args.budget)
        results.append((size, index_rate, naive_rate, detect_rate))
        print(
            f"{size:>9,} {len(aliases):>8,} {build:>8.2f} {index_rate:>10,.0f} {naive_rate:>10,.0f} "
            f"{index_rate / naive_rate:>6.1f}x {detect_rate:>11,.0f}"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(
            f"\nFrom {first[0]:,} to {last[0]:,} companies: the index keeps {last[1] / first[1]:.0%} of its speed, "
            f"the naive scan {last[2] / first[2]:.0%}, full detection {last[3] / first[3]:.0%}."
        )


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    import django

    django.setup()
    main()
