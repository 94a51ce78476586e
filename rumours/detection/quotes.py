"""Direct quotes and who said them.

A quote is text between quotation marks (“…”, "…", 「…」, 『…』, «…») that is
*attributed*: a speech verb stands in the same sentence ("…," said Alex Hungate;
알렉스 헝가테 그랩 사장은 "…"라고 말했다; 「…」と述べた; 他表示，“…”). Quoted words
with no one saying them are titles or scare quotes ("super app") and are left out,
and so is indirect speech, which has no quotation marks to cut verbatim text from.

The speaker is, in order: a known person named in the attribution (by any of their
aliases, in any script); else a name read from the attribution's shape (a run of
capitalised words, a Thai name after นาย/นาง, a Korean name before a title and
은/는, a Japanese name before 社長/氏, a Chinese name between a title and 表示);
else, for "he said"-style attributions, the previous quote's speaker. A quote with
no speaker at all is not suggested: an analyst cannot record it.

Quote text is cut from the plain text unchanged: verbatim, as the design requires.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rumours.detection.lexicon import Lexicon, TermHit
from rumours.detection.names import Hit, NameIndex
from rumours.detection.text import FoldedText, words

_QUOTE_PAIRS = re.compile(
    r"“(?P<curly>[^“”\n]{2,1200})”"
    r"|\"(?P<straight>[^\"\n]{2,1200})\""
    r"|「(?P<corner>[^「」\n]{2,1200})」"
    r"|『(?P<white>[^『』\n]{2,1200})』"
    r"|«\s?(?P<guillemet>[^«»\n]{2,1200}?)\s?»"
)
_SENTENCE_STOP = re.compile(r"[.!?。！？](?=[\s\"”’」』)]|$)|\n")
_WINDOW = 220
# Korean quotative endings glued to the closing mark: "…"라고 말했다, "…"고 밝혔다, "…"며, "…"라며.
_KOREAN_QUOTATIVE = re.compile(r"^\s*(?:이?라고|고|이?라며|며|면서|이?라는)")
_JAPANESE_QUOTATIVE = re.compile(r"^\s*(?:と|とし|とも)")
_PRONOUNS = re.compile(
    r"\b(?:he|she|they|dia|beliau|ia|ông|bà|anh|chị)\b|그는|그녀는|彼は|彼女は|同氏は|他|她|该人士|เขา|เธอ",
    re.IGNORECASE,
)
_HONORIFICS = re.compile(
    r"^(?:mr|mrs|ms|dr|prof|pak|bapak|bu|ibu|datuk|dato'?|tan sri|encik|puan|ông|bà|anh|chị|tuan)\.?\s+",
    re.IGNORECASE,
)
_NOT_NAMES = words(
    "the a an in on at he she it its they this that these but and or as for with from by of to said says "
    "told added according monday tuesday wednesday thursday friday saturday sunday january february march "
    "april may june july august september october november december chief executive officer president "
    "chairman founder co-founder ceo coo cfo cto director head spokesperson spokesman spokeswoman analyst "
    "senior vice group company statement reuters bloomberg kata ujar menurut katanya berkata jelasnya ungkap "
    "tutur pada dalam yang dan di ke tổng giám đốc chủ tịch theo cho biết nói"
)
_THAI_NAME = re.compile(r"(?:นางสาว|นาย|นาง|ดร\.|คุณ)\s*([\u0e00-\u0e7f]+(?:\s[\u0e00-\u0e7f]+)?)")
_HANGUL_WORD = re.compile(r"^[가-힣]{2,5}$")
_KOREAN_PARTICLE_END = ("의", "은", "는", "을", "를", "에서", "와", "과", "도", "측", "로", "으로")
_JAPANESE_NAME = re.compile(r"([ァ-ヴー・]{2,}|[一-龥々]{2,5})\s*(?:氏|さん)?$")
_CHINESE_NAME = re.compile(r"^\s*([\u4e00-\u9fff·]{2,4}|[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+){0,3})")


@dataclass(frozen=True)
class QuoteSuggestion:
    text: str
    speaker: str
    person_id: int | None
    role: str
    company_id: int | None
    start: int  # in the plain text
    end: int
    stance: str = "neutral"  # confirms, denies, no_comment, neutral: what the words say about a deal


@dataclass(frozen=True)
class People:
    """Who is known: the alias index and, per person id, their display name, role and company id."""

    index: NameIndex
    names: dict[int, str]
    roles: dict[int, str]
    companies: dict[int, int | None]


def find_quotes(
    text: str, *, language: str, lexicon: Lexicon, people: People, companies: NameIndex
) -> list[QuoteSuggestion]:
    """The attributed direct quotes in ``text`` (plain text), in order of appearance."""
    suggestions: list[QuoteSuggestion] = []
    last_speaker: tuple[str, int | None, str, int | None] | None = None
    for match in _QUOTE_PAIRS.finditer(text):
        group = next(name for name, value in match.groupdict().items() if value is not None)
        quoted = match.group(group)
        if not _substantial(quoted):
            continue
        before_start = _sentence_start(text, match.start())
        after_end = _sentence_end(text, match.end())
        before, after = text[before_start : match.start()], text[match.end() : after_end]
        attribution = FoldedText(f"{before}\u2029{after}")
        cues = lexicon.find(attribution)
        verbs = [hit for hit in cues if hit.kind == "speech_verbs"]
        glued = bool(_KOREAN_QUOTATIVE.match(after) if language == "ko" else False) or bool(
            _JAPANESE_QUOTATIVE.match(after) if language == "ja" else False
        )
        if not verbs and not glued and not before.rstrip().endswith((":", "：")):
            continue
        roles = [hit for hit in cues if hit.kind == "roles"]
        boundary = (
            len(attribution.folded[: attribution.folded.index("\u2029")]) if "\u2029" in attribution.folded else 0
        )
        speaker = _known_speaker(attribution, boundary, people) or _read_speaker(
            attribution, boundary, language=language, roles=roles, verbs=verbs, companies=companies
        )
        if speaker is None and last_speaker is not None and (_PRONOUNS.search(before) or _PRONOUNS.search(after)):
            speaker = last_speaker
        if speaker is None:
            continue
        name, person_id, role, company_id = speaker
        last_speaker = speaker
        start = match.start(group)
        stance = _stance(lexicon.find(FoldedText(quoted)))
        suggestions.append(
            QuoteSuggestion(quoted, name, person_id, role, company_id, start, start + len(quoted), stance)
        )
    return suggestions


def _stance(hits: list[TermHit]) -> str:
    kinds = {hit.kind for hit in hits}
    if "no_comment" in kinds:
        return "no_comment"
    if "denial" in kinds or ("talks" in kinds and "negations" in kinds):
        return "denies"
    if kinds & {"talks", "agreement", "completion"} and "negations" not in kinds and "confirmation_markers" in kinds:
        return "confirms"
    return "neutral"


def _substantial(quoted: str) -> bool:
    """At least two words, or two characters of an unspaced script: not a lone scare-quoted word."""
    stripped = quoted.strip(" ,.;:!?…")
    if len(stripped.split()) >= 2:
        return True
    return sum(1 for char in stripped if ord(char) >= 0x0E00) >= 2


def _sentence_start(text: str, index: int) -> int:
    window_start = max(0, index - _WINDOW)
    stops = list(_SENTENCE_STOP.finditer(text, window_start, index))
    # A stop right before the opening mark ends the previous sentence; the attribution may
    # also be the sentence before, as in 'Hungate said: "…"'.
    return stops[-1].end() if stops else window_start


def _sentence_end(text: str, index: int) -> int:
    stop = _SENTENCE_STOP.search(text, index + (1 if text[index : index + 1] in ".,。" else 0), index + _WINDOW)
    return stop.end() if stop else min(len(text), index + _WINDOW)


def _nearest(hits: Iterable[Hit], boundary: int) -> Hit | None:
    """The hit closest to the quote, which sits at ``boundary`` in the attribution text."""
    return min(hits, key=lambda hit: min(abs(hit.start - boundary), abs(hit.end - boundary)), default=None)


def _known_speaker(
    attribution: FoldedText, boundary: int, people: People
) -> tuple[str, int | None, str, int | None] | None:
    hit = _nearest(people.index.hits(attribution), boundary)
    if hit is None:
        return None
    person_id = hit.owner_id
    return people.names[person_id], person_id, people.roles.get(person_id, ""), people.companies.get(person_id)


def _read_speaker(
    attribution: FoldedText,
    boundary: int,
    *,
    language: str,
    roles: list[TermHit],
    verbs: list[TermHit],
    companies: NameIndex,
) -> tuple[str, int | None, str, int | None] | None:
    company_hits = companies.hits(attribution)
    name_span = _name_span(attribution, boundary, language=language, roles=roles, verbs=verbs, companies=company_hits)
    if name_span is None:
        return None
    start, end = name_span
    name = _HONORIFICS.sub("", attribution.original[start:end].strip(" ,.:")).strip()
    if len(name) < 2:
        return None
    folded_start = attribution.origin.index(start) if start in attribution.origin else 0
    role_hit = min(roles, key=lambda hit: abs(hit.start - folded_start), default=None)
    role = ""
    if role_hit is not None and abs(role_hit.start - folded_start) < 60:
        role_start, role_end = attribution.original_span(role_hit.start, role_hit.end)
        role = attribution.original[role_start:role_end]
    company_hit = min(company_hits, key=lambda hit: abs(hit.start - folded_start), default=None)
    company_id = (
        company_hit.owner_id if company_hit is not None and abs(company_hit.start - folded_start) < 80 else None
    )
    return name, None, role, company_id


def _name_span(
    attribution: FoldedText,
    boundary: int,
    *,
    language: str,
    roles: list[TermHit],
    verbs: list[TermHit],
    companies: list[Hit],
) -> tuple[int, int] | None:
    """Where the speaker's name is in ``attribution.original``, read from the attribution's shape."""
    original = attribution.original
    company_spans = [attribution.original_span(hit.start, hit.end) for hit in companies]
    if language == "th":
        matches = list(_THAI_NAME.finditer(original))
        if matches:
            best = min(matches, key=lambda m: abs(m.start() - boundary))
            return best.span(1)
    if language == "ko":
        return _korean_name(attribution, boundary, roles, company_spans)
    if language == "ja":
        return _japanese_name(attribution, roles)
    if language == "zh":
        span = _chinese_name(attribution, roles, verbs)
        if span is not None:
            return span
    return _capitalised_name(original, boundary, company_spans)


def _capitalised_name(original: str, boundary: int, company_spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The run of 2-4 capitalised words closest to the quote (Latin and Vietnamese names)."""
    runs: list[tuple[int, int]] = []
    current: list[tuple[int, int]] = []
    for token in re.finditer(r"[^\s,;:()“”\"「」\u2029]+", original):
        word = token.group(0).strip(".'’")
        is_company = any(start <= token.start() < end for start, end in company_spans)
        if word and word[0].isupper() and word.casefold() not in _NOT_NAMES and not is_company:
            current.append(token.span())
            continue
        if word.casefold() in {"bin", "binti", "van", "de", "da"} and current:
            current.append(token.span())
            continue
        if len(current) >= 2:
            runs.append((current[0][0], current[min(len(current), 4) - 1][1]))
        current = []
    if len(current) >= 2:
        runs.append((current[0][0], current[min(len(current), 4) - 1][1]))
    if not runs:
        return None
    return min(runs, key=lambda span: min(abs(span[0] - boundary), abs(span[1] - boundary)))


def _korean_name(
    attribution: FoldedText, boundary: int, roles: list[TermHit], company_spans: list[tuple[int, int]]
) -> tuple[int, int] | None:
    """'알렉스 헝가테 그랩 사장은' or '김민수 대표는': the Hangul words before a title, skipping company names."""
    original = attribution.original
    best: tuple[int, int] | None = None
    for role in roles:
        role_start, _ = attribution.original_span(role.start, role.end)
        tokens = list(re.finditer(r"\S+", original[:role_start]))
        picked: list[re.Match[str]] = []
        for token in reversed(tokens):
            if any(start <= token.start() < end for start, end in company_spans) and not picked:
                continue
            word = token.group(0)
            if not _HANGUL_WORD.match(word) or (word.endswith(_KOREAN_PARTICLE_END) and not picked and len(word) > 3):
                break
            picked.insert(0, token)
            if len(picked) == 2:
                break
        if picked:
            span = (picked[0].start(), picked[-1].end())
            if best is None or abs(span[1] - boundary) < abs(best[1] - boundary):
                best = span
    return best


def _japanese_name(attribution: FoldedText, roles: list[TermHit]) -> tuple[int, int] | None:
    """'アレックス・ハンゲート社長は' or '山田太郎氏は': the name right before a title or 氏."""
    original = attribution.original
    anchors = [attribution.original_span(role.start, role.end)[0] for role in roles]
    anchors += [match.start() for match in re.finditer(r"氏", original)]
    for anchor in sorted(anchors):
        match = _JAPANESE_NAME.search(original[max(0, anchor - 20) : anchor])
        if match:
            offset = max(0, anchor - 20)
            return offset + match.start(1), offset + match.end(1)
    return None


def _chinese_name(attribution: FoldedText, roles: list[TermHit], verbs: list[TermHit]) -> tuple[int, int] | None:
    """'首席执行官陈明表示' or 'Grab总裁Alex Hungate称': the name between a title and a speech verb."""
    original = attribution.original
    for role in roles:
        _, role_end = attribution.original_span(role.start, role.end)
        match = _CHINESE_NAME.match(original[role_end : role_end + 30])
        if match and any(attribution.original_span(verb.start, verb.end)[0] >= role_end for verb in verbs):
            name_end = role_end + match.end(1)
            for verb in verbs:
                verb_start = attribution.original_span(verb.start, verb.end)[0]
                if role_end < verb_start < name_end:
                    name_end = verb_start  # "陈明表示" : the verb is not part of the name
            if name_end - role_end >= 2:
                return role_end + match.start(1), name_end
    return None
