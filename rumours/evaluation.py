"""Measure detection against a labelled corpus, through the real scanning service.

The corpus format is described in ``tests/detection/corpus/README.md``. Each item
becomes an entry of a feed named after its outlet, all entries are scanned with
:func:`rumours.mentions.mentions_scan` (so language detection, matching against the
watchlist in the database, clustering against stored bands, everything), and the
mentions are compared with the labels. :func:`evaluate` runs inside a transaction
it rolls back: nothing it creates is kept.

Figures, overall and per language:

- deal detection: precision, recall, F1 of ``is_deal_candidate`` against ``deal``;
- stage: share of correctly detected deals whose stage hint is the labelled stage;
- parties: share of correctly detected deals whose party set is exactly the label's;
- quotes: precision and recall of (speaker, text) pairs; text must be identical
  (spaces normalised), the speaker equal after folding case, spaces and honorifics;
- clusters: purity (each predicted cluster's share of its largest labelled story)
  and inverse purity (each labelled story's share in its largest predicted cluster),
  over the items that reached the inbox.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction

from rumours.detection.text import fold

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "detection" / "corpus"
_HONORIFICS = re.compile(
    r"^(?:mr|mrs|ms|dr|pak|bapak|bu|ibu|ông|bà|datuk|dato'?|encik|puan|นางสาว|นาย|นาง|ดร\.|คุณ)\.?\s*|(?:씨|氏|さん|先生|女士)$"
)


class CorpusError(ValueError):
    pass


@dataclass(frozen=True)
class Item:
    id: str
    language: str
    feed_language: str
    outlet: str
    url: str
    published_at: datetime
    title: str
    summary: str
    deal: bool
    stage: str | None
    parties: frozenset[str]
    quotes: frozenset[tuple[str, str]]  # (speaker, text), normalised
    story: str


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    stage_right: int = 0
    parties_right: int = 0
    quotes_predicted: int = 0
    quotes_gold: int = 0
    quotes_matched: int = 0
    quote_texts_matched: int = 0
    items: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def stage_accuracy(self) -> float:
        return self.stage_right / self.tp if self.tp else 1.0

    @property
    def parties_accuracy(self) -> float:
        return self.parties_right / self.tp if self.tp else 1.0

    @property
    def quote_precision(self) -> float:
        return self.quotes_matched / self.quotes_predicted if self.quotes_predicted else 1.0

    @property
    def quote_recall(self) -> float:
        return self.quotes_matched / self.quotes_gold if self.quotes_gold else 1.0

    @property
    def quote_text_recall(self) -> float:
        return self.quote_texts_matched / self.quotes_gold if self.quotes_gold else 1.0


@dataclass
class Report:
    overall: Counts
    by_language: dict[str, Counts]
    cluster_purity: float
    cluster_inverse_purity: float
    mistakes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        def figures(counts: Counts) -> dict[str, float | int]:
            return {
                "items": counts.items,
                "deal_precision": round(counts.precision, 3),
                "deal_recall": round(counts.recall, 3),
                "deal_f1": round(counts.f1, 3),
                "stage_accuracy": round(counts.stage_accuracy, 3),
                "parties_accuracy": round(counts.parties_accuracy, 3),
                "quote_precision": round(counts.quote_precision, 3),
                "quote_recall": round(counts.quote_recall, 3),
                "quote_text_recall": round(counts.quote_text_recall, 3),
            }

        return {
            "overall": figures(self.overall),
            "by_language": {language: figures(counts) for language, counts in sorted(self.by_language.items())},
            "cluster_purity": round(self.cluster_purity, 3),
            "cluster_inverse_purity": round(self.cluster_inverse_purity, 3),
        }


def normalise_speaker(name: str) -> str:
    name = fold(name).strip()
    name = _HONORIFICS.sub("", name).strip()
    return re.sub(r"[\s・·.\-]+", "", name)


def normalise_quote(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def load_corpus(path: Path = DEFAULT_CORPUS) -> list[Item]:
    """Items from one ``.jsonl`` file or every ``*.jsonl`` in a folder; a bad line is a :class:`CorpusError`."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise CorpusError(f"No .jsonl files in {path}.")
    items: list[Item] = []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(_item(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise CorpusError(f"{file.name}:{number}: {exc!r}") from None
    ids = Counter(item.id for item in items)
    duplicated = [item_id for item_id, count in ids.items() if count > 1]
    if duplicated:
        raise CorpusError(f"Duplicate item ids: {', '.join(sorted(duplicated)[:5])}.")
    return items


def _item(raw: dict[str, Any]) -> Item:
    labels = raw["labels"]
    return Item(
        id=str(raw["id"]),
        language=str(raw["language"]),
        feed_language=str(raw.get("feed_language") or ""),
        outlet=str(raw["outlet"]),
        url=str(raw["url"]),
        published_at=datetime.fromisoformat(str(raw["published_at"]).replace("Z", "+00:00")),
        title=str(raw["title"]),
        summary=str(raw["summary"]),
        deal=bool(labels["deal"]),
        stage=labels.get("stage"),
        parties=frozenset(labels.get("parties") or []),
        quotes=frozenset(
            (normalise_speaker(quote["speaker"]), normalise_quote(quote["text"]))
            for quote in labels.get("quotes") or []
        ),
        story=str(labels.get("story") or raw["id"]),
    )


def evaluate(items: Iterable[Item]) -> Report:
    """Scan the items as entries and score the mentions; everything created is rolled back."""
    items = list(items)
    with transaction.atomic():
        report = _evaluate(items)
        transaction.set_rollback(True)
    return report


def _evaluate(items: list[Item]) -> Report:
    from rumours.mentions import mentions_scan
    from rumours.models import Mention
    from tracker.models import Entry, Feed

    feeds: dict[tuple[str, str], Feed] = {}
    entry_items: dict[int, Item] = {}
    for item in items:
        key = (item.outlet, item.feed_language)
        if key not in feeds:
            slug = hashlib.sha256(repr(key).encode()).hexdigest()[:12]
            feeds[key] = Feed.objects.create(
                url=f"https://evaluation.invalid/{slug}", title=item.outlet, language=item.feed_language
            )
        entry = Entry.objects.create(
            feed=feeds[key],
            identity_key=hashlib.sha256(item.id.encode()).hexdigest(),
            guid=item.id,
            link=item.url,
            title=item.title,
            summary=item.summary,
            language=item.feed_language,
            published_at=item.published_at,
            content_hash=hashlib.sha256(item.summary.encode()).hexdigest(),
        )
        entry_items[entry.pk] = item
    mentions_scan(entry_ids=list(entry_items))
    mentions = {
        mention.entry_id: mention
        for mention in Mention.objects.filter(entry_id__in=list(entry_items)).prefetch_related("parties")
    }

    overall: Counts = Counts()
    by_language: defaultdict[str, Counts] = defaultdict(Counts)
    mistakes: list[str] = []
    clusters: list[tuple[int, str]] = []
    for entry_id, item in entry_items.items():
        mention = mentions.get(entry_id)
        predicted = bool(mention and mention.is_deal_candidate)
        for counts in (overall, by_language[item.language]):
            _count(counts, item, mention, predicted)
        if predicted != item.deal:
            mistakes.append(f"{item.id}: deal {'missed' if item.deal else 'false alarm'}: {item.title[:80]}")
        elif predicted and mention is not None:
            names = frozenset(company.name for company in mention.parties.all())
            if names != item.parties:
                mistakes.append(f"{item.id}: parties {sorted(names)} != {sorted(item.parties)}")
            if mention.stage_hint != item.stage:
                mistakes.append(f"{item.id}: stage {mention.stage_hint} != {item.stage}")
        predicted_quotes = _quotes_of(mention)
        for quote in item.quotes - predicted_quotes:
            mistakes.append(f"{item.id}: quote missed {quote[0]}: {quote[1][:60]}")
        for quote in predicted_quotes - item.quotes:
            mistakes.append(f"{item.id}: quote extra {quote[0]}: {quote[1][:60]}")
        if mention is not None and mention.cluster_id:
            clusters.append((mention.cluster_id, item.story))
    purity, inverse = _purity(clusters)
    return Report(overall, dict(by_language), purity, inverse, mistakes)


def _quotes_of(mention: Any) -> frozenset[tuple[str, str]]:
    if mention is None:
        return frozenset()
    return frozenset(
        (normalise_speaker(quote.get("speaker", "")), normalise_quote(quote.get("text", "")))
        for quote in mention.suggested_quotes or []
    )


def _count(counts: Counts, item: Item, mention: Any, predicted: bool) -> None:
    counts.items += 1
    if predicted and item.deal:
        counts.tp += 1
        counts.stage_right += mention.stage_hint == item.stage
        counts.parties_right += frozenset(company.name for company in mention.parties.all()) == item.parties
    elif predicted:
        counts.fp += 1
    elif item.deal:
        counts.fn += 1
    else:
        counts.tn += 1
    predicted_quotes = _quotes_of(mention)
    counts.quotes_predicted += len(predicted_quotes)
    counts.quotes_gold += len(item.quotes)
    counts.quotes_matched += len(predicted_quotes & item.quotes)
    predicted_texts = {text for _speaker, text in predicted_quotes}
    counts.quote_texts_matched += sum(1 for _speaker, text in item.quotes if text in predicted_texts)


def _purity(pairs: list[tuple[int, str]]) -> tuple[float, float]:
    if not pairs:
        return 1.0, 1.0
    by_cluster: dict[int, Counter[str]] = defaultdict(Counter)
    by_story: dict[str, Counter[int]] = defaultdict(Counter)
    for cluster, story in pairs:
        by_cluster[cluster][story] += 1
        by_story[story][cluster] += 1
    total = len(pairs)
    purity = sum(max(counter.values()) for counter in by_cluster.values()) / total
    inverse = sum(max(counter.values()) for counter in by_story.values()) / total
    return purity, inverse
