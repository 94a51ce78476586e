"""Is this deal news, how strongly, at what stage, and between whom?

Read sentence by sentence. A sentence carries a deal signal when it has a *core*
term (merger, acquisition, takeover, stake, bid); the other kinds (talks,
agreement, completion, denial, no comment, termination) strengthen it and set the
stage. What weakens a sentence:

- history: a historical marker ("since the", "formed by") or a year before the
  article's, as in "since the 2021 merger that formed GoTo";
- a non-deal topic in the headline (earnings, a funding round) with no deal term
  there;
- negation: "has not reached an agreement" is not an agreement, and "not in talks"
  is a denial.

The title counts double and the lead a little more than the rest. Sentence scores
add up and are squashed into 0..1 (``1 - e^-x``).

Parties are the companies named in the deal sentences, the headline's first;
a company written as another's owner ("Alibaba-backed Lazada", "阿里巴巴旗下的
来赞达", "アリババ傘下のラザダ") is context, not a party.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

from rumours.detection.lexicon import TermHit, negation_governs

CORE_WEIGHTS = {"merger": 1.0, "acquisition": 1.0, "takeover": 1.0, "stake": 0.8, "bid": 0.7}
MODIFIER_KINDS = ("talks", "agreement", "completion", "denial", "no_comment", "termination")
CANDIDATE_THRESHOLD = 0.5

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_OWNER_MARKERS = re.compile(
    r"^\s*(?:-|‑)?\s*(?:backed|owned|controlled|led|affiliated|'s unit|’s unit|'s subsidiary|’s subsidiary"
    r"|旗下|控股的|傘下|系|계열|자회사|산하)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CompanyMention:
    company_id: int
    start: int  # in the original (NFKC) text
    end: int


@dataclass
class SentenceReading:
    index: int
    start: int
    end: int
    text: str
    weight: float
    kinds: set[str] = field(default_factory=set)
    negated: set[str] = field(default_factory=set)
    cues: set[str] = field(default_factory=set)
    companies: list[CompanyMention] = field(default_factory=list)
    historical: float = 1.0
    strength: float = 0.0


@dataclass(frozen=True)
class DealReading:
    score: float
    is_candidate: bool
    stage: str
    deal_type: str
    parties: list[int]
    signals: list[dict[str, object]]


def read_deal(
    sentences: list[SentenceReading],
    term_hits: list[tuple[TermHit, int, int]],
    *,
    published_year: int | None,
    text: str,
    language: str = "",
) -> DealReading:
    """Score the article; ``term_hits`` are lexicon hits with their span in ``text``."""
    non_deal_spans = [(start, end) for hit, start, end in term_hits if hit.kind == "non_deal_markers"]
    # A negation inside another term is part of that phrase: the 不 of 不予置评 (no comment)
    # negates nothing around it.
    phrases = [(start, end) for hit, start, end in term_hits if hit.kind != "negations"]
    negations = [
        (start, end)
        for hit, start, end in term_hits
        if hit.kind == "negations" and not any(s <= start and end <= e and e - s > end - start for s, e in phrases)
    ]
    signals: list[dict[str, object]] = []
    for hit, start, end in term_hits:
        sentence = _sentence_at(sentences, start)
        if sentence is None:
            continue
        if hit.category == "signal":
            if any(s <= start and end <= e for s, e in non_deal_spans):
                continue  # "customer acquisition", "acquisition cost"
            if _negated(start, end, negations, sentence, language):
                sentence.negated.add(hit.kind)
            else:
                sentence.kinds.add(hit.kind)
            signals.append({"kind": hit.kind, "term": text[start:end], "sentence": sentence.index})
        else:
            sentence.cues.add(hit.kind)

    for sentence in sentences:
        sentence.historical = _historical_weight(sentence, published_year)
    title = sentences[0] if sentences else None
    article_has_core = any(
        sentence.kinds & CORE_WEIGHTS.keys() and sentence.historical >= 0.5 for sentence in sentences
    )
    raw = 0.0
    for sentence in sentences:
        sentence.strength = _strength(sentence, article_has_core) * sentence.historical * sentence.weight
        raw += sentence.strength
    if title is not None and "non_deal_markers" in title.cues and not title.kinds & CORE_WEIGHTS.keys():
        raw *= 0.5
    score = round(1 - math.exp(-raw), 3)
    parties = _parties(sentences, text)
    is_candidate = score >= CANDIDATE_THRESHOLD and bool(parties)
    return DealReading(
        score=score,
        is_candidate=is_candidate,
        stage=_stage(sentences) if is_candidate else "",
        deal_type=_deal_type(sentences) if is_candidate else "",
        parties=parties if is_candidate else [],
        signals=signals,
    )


def _sentence_at(sentences: list[SentenceReading], position: int) -> SentenceReading | None:
    for sentence in sentences:
        if sentence.start <= position < sentence.end:
            return sentence
    return None


def _negated(start: int, end: int, negations: list[tuple[int, int]], sentence: SentenceReading, language: str) -> bool:
    """Whether a negation in the same sentence governs the term at ``start:end``."""
    return any(
        sentence.start <= negation[0] < sentence.end and negation_governs((start, end), negation, language=language)
        for negation in negations
    )


def _historical_weight(sentence: SentenceReading, published_year: int | None) -> float:
    past_year = published_year is not None and any(int(year) < published_year for year in _YEAR.findall(sentence.text))
    marker = "historical_markers" in sentence.cues
    if marker and past_year:
        return 0.1
    if marker:
        return 0.5
    if past_year:
        return 0.6
    return 1.0


def _strength(sentence: SentenceReading, article_has_core: bool) -> float:
    core = sentence.kinds & CORE_WEIGHTS.keys()
    modifiers = sentence.kinds & set(MODIFIER_KINDS)
    if "talks" in sentence.negated or "denial" in sentence.kinds:
        modifiers = modifiers | {"denial"}
    named = 1.0 if sentence.companies else 0.4
    if core:
        return (max(CORE_WEIGHTS[kind] for kind in core) + min(0.4, 0.2 * len(modifiers))) * named
    if modifiers and article_has_core and sentence.companies:
        return 0.3
    return 0.0


def _stage(sentences: list[SentenceReading]) -> str:
    """The most specific stage the headline gives, else the lead's, else any deal sentence's.

    "Rumoured" is the default, not a finding: a headline that only says "merger" does
    not hide the lead's "denied". Hedges anywhere in the headline or lead ("sources
    said", "reportedly") keep a stage that needs a party's word (agreed, in talks) at
    rumoured.
    """
    title, lead = sentences[:1], sentences[1:3]
    rest = [s for s in sentences[3:] if s.strength > 0]
    hedged = any("rumour_markers" in sentence.cues for sentence in [*title, *lead])
    for group in (title, lead, rest):
        stages = {stage for sentence in group if (stage := _sentence_stage(sentence))} - {"rumoured"}
        if hedged:
            stages -= {"agreed", "in_talks"}
        if stages:
            return min(stages, key=_STAGE_PRIORITY.index)
    return "rumoured"


_STAGE_PRIORITY = ["abandoned", "denied", "completed", "agreed", "in_talks", "rumoured"]


def _sentence_stage(sentence: SentenceReading) -> str:
    kinds, cues = sentence.kinds, sentence.cues
    # A sentence sets the stage only if it is about the deal: "after talks stalled for
    # months" says nothing of where these talks stand.
    if sentence.historical < 0.5 or sentence.strength <= 0 or not (kinds or sentence.negated):
        return ""
    if "termination" in kinds and sentence.historical == 1.0:
        return "abandoned"
    if "denial" in kinds or "talks" in sentence.negated:
        return "denied"
    if "completion" in kinds and kinds & CORE_WEIGHTS.keys():
        return "completed"
    if "agreement" in kinds and "talks" not in kinds:
        return "agreed"
    if "bid" in kinds and "rumour_markers" not in cues and "talks" not in kinds:
        return "agreed"
    if "talks" in kinds and "confirmation_markers" in cues and "rumour_markers" not in cues:
        return "in_talks"
    if kinds & CORE_WEIGHTS.keys() or "talks" in kinds or "no_comment" in kinds:
        return "rumoured"
    return ""


def _deal_type(sentences: list[SentenceReading]) -> str:
    order = ["takeover", "merger", "acquisition", "stake"]
    for sentence in sorted(sentences, key=lambda s: -s.strength):
        for kind in order:
            if kind in sentence.kinds:
                return kind
        if "bid" in sentence.kinds:
            return "takeover"
    return ""


def _parties(sentences: list[SentenceReading], text: str) -> list[int]:
    scores: dict[int, float] = {}
    first_seen: dict[int, int] = {}
    for sentence in sentences:
        if sentence.strength <= 0:
            continue
        owners = _owners(sentence.companies, text)
        for mention in sentence.companies:
            first_seen.setdefault(mention.company_id, mention.start)
            if mention in owners:
                continue
            scores[mention.company_id] = scores.get(mention.company_id, 0.0) + sentence.strength
    if not scores:
        return []
    best = max(scores.values())
    kept = [company for company, score in scores.items() if score >= 0.5 * best]
    kept.sort(key=lambda company: (-scores[company], first_seen[company]))
    return kept[:4]


def _owners(mentions: list[CompanyMention], text: str) -> set[CompanyMention]:
    """Mentions that qualify the next company as its owner: "Alibaba-backed Lazada", "Alibaba's Lazada"."""
    owners: set[CompanyMention] = set()
    ordered = sorted(mentions, key=lambda mention: mention.start)
    for mention, following in itertools.pairwise(ordered):
        if following.company_id == mention.company_id:
            continue
        between = text[mention.end : following.start]
        if len(between) > 25:
            continue
        if _OWNER_MARKERS.match(between) or re.fullmatch(r"\s*['’]s\s+", between):
            owners.add(mention)
    return owners
