"""Run every detection step over one article: :func:`detect`.

The one rule that lives here is the evidence an ambiguous alias needs. Sea, Grab,
Line, Be, Visa and 고투 are ordinary words too, so a hit on one counts only with
evidence that the company is meant:

- *case*: in Latin script the text must write the alias as the company does
  ("Grab", not "grab"; "LINE", not "line"), and that alone is evidence when it is
  not the first word of a sentence or part of a Title Case Headline;
- *context*: a company-context word, a title, a speech verb or a deal term right
  next to it ("ride-hailing firm Grab", "Grab said", "Sea's shares", "고투 측",
  "格步公司");
- *co-mention*: another watchlist company named unambiguously in the same article
  (not enough for one- or two-letter aliases such as "Be").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from rumours.detection import fingerprint
from rumours.detection.language import detect_language
from rumours.detection.lexicon import TermHit, lexicon_for
from rumours.detection.names import Alias, Hit, NameIndex
from rumours.detection.quotes import People, QuoteSuggestion, find_quotes
from rumours.detection.signals import CompanyMention, SentenceReading, read_deal
from rumours.detection.text import FoldedText, is_cjk_or_thai, plain_text, sentences

_CONTEXT_KINDS = {"company_context", "roles", "speech_verbs", "signal"}


@dataclass(frozen=True)
class Watchlist:
    """Everything detection knows about the world: companies and people, by alias."""

    companies: NameIndex
    company_names: dict[int, str]
    people: People


@dataclass(frozen=True)
class Document:
    title: str
    body: str  # HTML or plain text
    language: str = ""  # what the feed or entry declares
    published_at: datetime | None = None


@dataclass
class Detection:
    language: str
    companies: list[int]  # every watchlist company named, in order of first appearance
    parties: list[int]
    is_deal_candidate: bool
    deal_score: float
    stage_hint: str
    deal_type: str
    signals: list[dict[str, object]] = field(default_factory=list)
    quotes: list[QuoteSuggestion] = field(default_factory=list)
    signature: bytes = b""


# News articles run to a few thousand characters; a feed that stuffs megabytes into one
# entry gets its first MAX_TEXT read, so one hostile entry cannot stall a worker.
MAX_TEXT = 40_000


def detect(document: Document, watchlist: Watchlist) -> Detection:
    title = plain_text(document.title[:2_000]).replace("\n", " ")
    body = plain_text(document.body[: MAX_TEXT * 4])[:MAX_TEXT]
    text = f"{title}\n{body}" if title else body
    language = detect_language(text, document.language) or document.language
    primary = language.split("-")[0].casefold()
    folded = FoldedText(text)
    lexicon = lexicon_for(primary)
    term_hits = lexicon.find(folded)
    company_hits = _confirmed(watchlist.companies.hits(folded), folded, term_hits)
    company_hits = _with_glossed_names(company_hits, folded)

    readings = _sentence_readings(folded.original, title_length=len(title))
    for hit in company_hits:
        start, end = folded.original_span(hit.start, hit.end)
        for reading in readings:
            if reading.start <= start < reading.end:
                reading.companies.append(CompanyMention(hit.owner_id, start, end))
                break
    deal = read_deal(
        readings,
        [(hit, *folded.original_span(hit.start, hit.end)) for hit in term_hits],
        published_year=document.published_at.year if document.published_at else None,
        text=folded.original,
        language=primary,
    )
    companies = list(dict.fromkeys(hit.owner_id for hit in company_hits))
    quotes = find_quotes(
        text, language=primary, lexicon=lexicon, people=watchlist.people, companies=watchlist.companies
    )
    return Detection(
        language=language,
        companies=companies,
        parties=deal.parties,
        is_deal_candidate=deal.is_candidate,
        deal_score=deal.score,
        stage_hint=deal.stage,
        deal_type=deal.deal_type,
        signals=deal.signals,
        quotes=quotes,
        signature=fingerprint.signature(text),
    )


# "센도(Sendo)", "格步(Grab)", "ティキ（Tiki）": a local name glossed with the Latin one in brackets.
_GLOSSED = re.compile(r"([\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af·ー]{2,12})\s?[(（]\s*$")


def _with_glossed_names(hits: list[Hit], folded: FoldedText) -> list[Hit]:
    """Add the other mentions of a local-script name the article glosses with a known alias.

    The Asian press writes an unfamiliar foreign name in local script and gives the
    Latin name in brackets once ("센도(Sendo)"); the headline and later sentences then use
    the local name alone. Those count as the company too, for this article only.
    """
    glossed: list[Alias] = []
    for hit in hits:
        start, _end = folded.original_span(hit.start, hit.end)
        match = _GLOSSED.search(folded.original[max(0, start - 16) : start])
        if match:
            name = _glossed_name(match.group(1), folded.original, start)
            if name:
                glossed.append(Alias(hit.owner_id, name))
    if not glossed:
        return hits
    extra = NameIndex(glossed).hits(folded)
    taken = {(hit.start, hit.end) for hit in hits}
    merged = hits + [hit for hit in extra if (hit.start, hit.end) not in taken and not _overlaps(hit, hits)]
    return sorted(merged, key=lambda hit: hit.start)


def _glossed_name(run: str, text: str, gloss_at: int) -> str:
    """Where the glossed name starts: Korean spaces its words, but "越南电商平台森多（Sendo）"
    runs the description into the name. The longest ending of the run that the article
    also uses elsewhere is the name; a short run with no other use is taken whole."""
    elsewhere = text[: max(0, gloss_at - len(run) - 2)] + " " + text[gloss_at:]
    for length in range(min(len(run), 8), 1, -1):
        if run[-length:] in elsewhere:
            return run[-length:]
    return run if len(run) <= 4 else ""


def _overlaps(hit: Hit, hits: list[Hit]) -> bool:
    return any(other.start < hit.end and hit.start < other.end for other in hits)


def _sentence_readings(text: str, *, title_length: int) -> list[SentenceReading]:
    """Sentences with their weight: the headline counts double, the lead a little more."""
    readings: list[SentenceReading] = []
    for index, sentence in enumerate(sentences(text)):
        if sentence.start < title_length:
            weight = 2.0
        elif len(readings) <= 2:
            weight = 1.3
        elif len(readings) <= 6:
            weight = 1.0
        else:
            weight = 0.7
        readings.append(SentenceReading(index, sentence.start, sentence.end, sentence.text, weight))
    return readings


def _confirmed(hits: list[Hit], folded: FoldedText, term_hits: list[TermHit]) -> list[Hit]:
    """The hits that name a company: all unambiguous ones, and ambiguous ones with evidence."""
    certain = [hit for hit in hits if not hit.alias.ambiguous]
    certain_ids = {hit.owner_id for hit in certain}
    confirmed = list(certain)
    for hit in hits:
        if not hit.alias.ambiguous:
            continue
        if hit.owner_id in certain_ids:  # named unambiguously elsewhere: only "grab" in lower case is not it
            holds = _written_as_company(hit, folded) is not False
        else:
            holds = _ambiguous_hit_holds(hit, folded, term_hits, co_mentioned=bool(certain_ids))
        if holds:
            confirmed.append(hit)
    confirmed.sort(key=lambda hit: hit.start)
    return confirmed


def _written_as_company(hit: Hit, folded: FoldedText) -> bool | None:
    """Case evidence for a Latin-script alias: True (written as the company writes it),
    False (written otherwise, e.g. lower case), None (no case to go on: other scripts)."""
    canonical = hit.alias.text
    if not any(char.isascii() and char.isalpha() for char in canonical):
        return None
    start, end = folded.original_span(hit.start, hit.end)
    written = folded.original[start:end]
    if written == canonical:
        return True
    return written.isupper() and len(written) > 1 and _in_caps_run(folded.original, start, end)


def _in_caps_run(text: str, start: int, end: int) -> bool:
    """An all-caps word inside an all-caps headline says nothing about case."""
    around = text[max(0, start - 30) : end + 30]
    letters = [char for char in around if char.isalpha() and char.isascii()]
    return bool(letters) and sum(char.isupper() for char in letters) >= 0.8 * len(letters)


def _ambiguous_hit_holds(hit: Hit, folded: FoldedText, term_hits: list[TermHit], *, co_mentioned: bool) -> bool:
    written_as_company = _written_as_company(hit, folded)
    if written_as_company is False:
        return False
    if _context_next_to(hit, folded, term_hits):
        return True
    short = len(hit.alias.text) <= 2 and written_as_company is not None  # "Be", "JD"; not 고투
    if (
        written_as_company
        and not short
        and not _sentence_initial_or_headline(hit, folded)
        and not _inside_a_longer_name(hit, folded)
    ):
        return True
    return co_mentioned and not short


def _context_next_to(hit: Hit, folded: FoldedText, term_hits: list[TermHit]) -> bool:
    first = folded.folded[hit.start]
    # Korean spaces its words: the context word must sit right next to it ("고투 측"); a few
    # syllables further is already another phrase ("고투 끝에 한국 대표팀이"). Japanese,
    # Chinese and Thai run words together, so a few characters is still next to it.
    reach = 3 if "\uac00" <= first <= "\ud7af" else 8 if is_cjk_or_thai(first) else 28
    for term in term_hits:
        if term.category not in _CONTEXT_KINDS and term.kind not in _CONTEXT_KINDS:
            continue
        if term.kind == "company_context" and term.start == hit.start:
            continue
        gap = term.start - hit.end if term.start >= hit.end else hit.start - term.end
        if term.end - term.start == 1 and not (term.start >= hit.end and gap <= 1):
            continue  # one character (측, 社) says "company" only right after the name: "고투 측", not "노사는 고투"
        if 0 <= gap <= reach and "\n" not in folded.folded[min(term.end, hit.end) : max(term.start, hit.start)]:
            return True
    return False


def _inside_a_longer_name(hit: Hit, folded: FoldedText) -> bool:
    """ "South China Sea", "Sea Games", "Red Line": a capital that belongs to another proper name."""
    start, end = folded.original_span(hit.start, hit.end)
    text = folded.original
    before = re.search(r"([A-Za-z][\w'’-]*)\s+$", text[max(0, start - 30) : start])
    after = re.match(r"\s+([A-Za-z][\w'’-]*)", text[end : end + 30])
    return bool((before and before.group(1)[0].isupper()) or (after and after.group(1)[0].isupper()))


def _sentence_initial_or_headline(hit: Hit, folded: FoldedText) -> bool:
    start, _ = folded.original_span(hit.start, hit.end)
    text = folded.original
    line_start = text.rfind("\n", 0, start) + 1
    before = text[line_start:start].rstrip(" \"“‘'(")
    if not before or before.endswith((".", "!", "?", ":", "—", "-")):
        return True
    line_end = text.find("\n", start)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    words = [word for word in line.split() if word[:1].isalpha() and word[:1].isascii()]
    capitalised = sum(1 for word in words if word[:1].isupper())
    return len(words) >= 3 and capitalised >= 0.7 * len(words)
