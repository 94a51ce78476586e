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

from rumours.detection.lexicon import Lexicon, TermHit, negation_governs
from rumours.detection.names import Hit, NameIndex
from rumours.detection.text import FoldedText, words

_QUOTE_PAIRS = re.compile(
    r"“(?P<curly>[^“”\n]{2,1200})”"
    r"|\"(?P<straight>[^\"\n]{2,1200})\""
    r"|「(?P<corner>[^「」\n]{2,1200})」"
    r"|『(?P<white>[^『』\n]{2,1200})』"
    r"|«\s?(?P<guillemet>[^«»\n]{2,1200}?)\s?»"
)
_SENTENCE_STOP = re.compile(r"[.!?](?=[\s\"”’」』)]|$)|[。！？]|\n")
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
_NAME_PARTICLES = words("bin binti van de da")
_NOT_NAMES = words(
    "the a an in on at he she it its they this that these but and or as for with from by of to said says "
    "told added according monday tuesday wednesday thursday friday saturday sunday january february march "
    "april may june july august september october november december chief executive officer president "
    "chairman founder co-founder ceo coo cfo cto director head spokesperson spokesman spokeswoman analyst "
    "senior vice group company statement reuters bloomberg kata ujar menurut katanya berkata jelasnya ungkap "
    "tutur pada dalam yang dan di ke tổng giám đốc chủ tịch theo cho biết nói senin selasa rabu kamis jumat "
    "sabtu minggu isnin khamis jumaat ahad januari februari maret mac mei juni jun juli julai agustus ogos "
    "oktober desember disember thứ hai ba tư năm sáu bảy chủ nhật tháng"
)
_ORGANISATION_WORDS = words(
    "research authority capital partners securities bank group holdings communications corporate advisory "
    "ventures institute university ministry exchange agency commission council association bhd tbk ltd inc "
    "sekuritas investments consulting consultancy management asset fund insights analytics intelligence "
    "economics markets labs"
)
_THAI_NAME = re.compile(r"(?:นางสาว|นาย|นาง|ดร\.|คุณ)\s*([\u0e00-\u0e7f]+(?:\s[\u0e00-\u0e7f]+)?)")
_HANGUL_WORD = re.compile(r"^[가-힣]{2,5}$")
_KOREAN_PARTICLE_END = ("의", "은", "는", "을", "를", "에서", "와", "과", "도", "측", "로", "으로")
_KATAKANA_OR_LATIN = re.compile(r"[ァ-ヴー・A-Za-z0-9\s&.\-]+")
# After a particle, a comma or a bracket: "同社の佐々木浩二副社長は" gives 佐々木浩二.
_JAPANESE_NAME = re.compile(
    r"(?:^|[のはがとも、。「」（）()\s])([ァ-ヴー・]{2,}|[一-龥々]{2,6}?)(?:副|前|元|新)?\s*(?:氏|さん)?$"
)
_CHINESE_NAME = re.compile(r"^\s*([\u4e00-\u9fff·]{2,8}|[A-Z][\w'’-]+(?:\s[A-Z][\w'’-]+){0,3})")


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
    last_speaker: Speaker | None = None
    last_end = -1
    # "…," Hungate said: after the first mention the press uses the surname alone. Every
    # known person the article names, and every speaker read so far, answers to theirs.
    by_surname = {
        _surname(people.names[hit.owner_id]): _person(people, hit.owner_id)
        for hit in people.index.hits(FoldedText(text))
        if _surname(people.names[hit.owner_id])
    }
    for match in _QUOTE_PAIRS.finditer(text):
        group = next(name for name, value in match.groupdict().items() if value is not None)
        quoted = match.group(group)
        before_start = _sentence_start(text, match.start())
        after_end = _sentence_end(text, match.end())
        before, after = text[before_start : match.start()], text[match.end() : after_end]
        glued = bool(_KOREAN_QUOTATIVE.match(after) if language == "ko" else False) or bool(
            _JAPANESE_QUOTATIVE.match(after) if language == "ja" else False
        )
        # "表示：“非常高”": a speech verb right before the opening mark attributes even three characters.
        attribution = FoldedText(f"{before}\u2029{after}")
        cues = lexicon.find(attribution)
        verbs = [hit for hit in cues if hit.kind == "speech_verbs"]
        # "表示，此类交易的门槛“非常高”": in a sentence with a speech verb, three characters are words said.
        if not _substantial(quoted, glued=glued or bool(verbs)):
            continue
        speaker: Speaker | None = None
        if verbs or glued or before.rstrip().endswith((":", "：")):
            roles = [hit for hit in cues if hit.kind == "roles"]
            boundary = attribution.folded.index("\u2029")
            speaker = (
                _known_speaker(attribution, boundary, people)
                or _read_speaker(
                    attribution, boundary, language=language, roles=roles, verbs=verbs, companies=companies
                )
                or _speaker_by_surname(attribution.original, by_surname)
            )
            if speaker is None and last_speaker is not None and (_PRONOUNS.search(before) or _PRONOUNS.search(after)):
                speaker = last_speaker
        elif last_speaker is not None and not before.strip() and _continues(text, last_end, match.start()):
            # A second quote standing alone right after an attributed one: “…,” he said. “…”
            speaker = last_speaker
        if speaker is None:
            continue
        name, person_id, role, company_id = speaker
        last_speaker, last_end = speaker, match.end()
        if _surname(name):
            by_surname.setdefault(_surname(name), speaker)
        start = match.start(group)
        stance = _stance(lexicon.find(FoldedText(quoted)), language=language)
        suggestions.append(
            QuoteSuggestion(quoted, name, person_id, role, company_id, start, start + len(quoted), stance)
        )
    return suggestions


Speaker = tuple[str, int | None, str, int | None]  # name, person id, role, company id


def _continues(text: str, previous_end: int, start: int) -> bool:
    """Whether a quote starting at ``start`` follows the previous quote's sentence directly."""
    if previous_end < 0 or start - previous_end > 200:
        return False
    between = text[previous_end:start]
    return "\n" not in between and len(_SENTENCE_STOP.findall(between)) <= 1


def _stance(hits: list[TermHit], *, language: str) -> str:
    """What the quoted words say of a deal: a denial ("not in talks"), no comment, a confirmation."""
    kinds = {hit.kind for hit in hits}
    negations = [(hit.start, hit.end) for hit in hits if hit.kind == "negations"]

    def negated(term: TermHit) -> bool:
        return any(negation_governs((term.start, term.end), negation, language=language) for negation in negations)

    talks = [hit for hit in hits if hit.kind == "talks"]
    if "no_comment" in kinds:
        return "no_comment"
    if "denial" in kinds or any(negated(hit) for hit in talks):
        return "denies"
    confirming = [hit for hit in hits if hit.kind in {"talks", "agreement", "completion"} and not negated(hit)]
    if confirming and "confirmation_markers" in kinds:
        return "confirms"
    return "neutral"


def _substantial(quoted: str, *, glued: bool) -> bool:
    """Words someone said, not a scare-quoted term or a name: at least two words where words
    are spaced; in Chinese, Japanese and Korean at least five characters that are not all
    katakana or Latin (「スーパーアプリ」, 「LINE」), unless a quotative ending is glued on."""
    stripped = quoted.strip(" ,.;:!?…、。")
    unspaced = sum(1 for char in stripped if 0x3040 <= ord(char) <= 0x9FFF or 0xAC00 <= ord(char) <= 0xD7AF)
    if not unspaced:
        thai = sum(1 for char in stripped if 0x0E00 <= ord(char) <= 0x0E7F)
        return len(stripped.split()) >= 2 or thai >= 4
    if _KATAKANA_OR_LATIN.fullmatch(stripped):
        return False
    return len(stripped) >= (3 if glued else 5)


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


def _known_speaker(attribution: FoldedText, boundary: int, people: People) -> Speaker | None:
    hit = _nearest(people.index.hits(attribution), boundary)
    return None if hit is None else _person(people, hit.owner_id)


def _person(people: People, person_id: int) -> Speaker:
    return people.names[person_id], person_id, people.roles.get(person_id, ""), people.companies.get(person_id)


def _surname(name: str) -> str:
    """The last word of a Latin-script name of two words or more, folded; "" otherwise."""
    words = name.split()
    if len(words) < 2 or not words[-1][:1].isascii() or not words[-1][:1].isalpha() or len(words[-1]) < 3:
        return ""
    return words[-1].casefold()


def _speaker_by_surname(attribution: str, by_surname: dict[str, Speaker]) -> Speaker | None:
    for word in re.findall(r"[A-Z][\w'’-]+", attribution):
        if word.casefold() in by_surname:
            return by_surname[word.casefold()]
    return None


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
        return _korean_name(original, boundary, company_spans)
    if language == "ja":
        return _japanese_name(attribution, roles) or _japanese_name_before_topic(original, boundary)
    if language == "zh":
        span = _chinese_name(attribution, roles, verbs) or _chinese_name_by_surname(attribution, verbs)
        if span is not None:
            return span
    role_spans = [attribution.original_span(hit.start, hit.end) for hit in roles]
    return _capitalised_name(original, boundary, company_spans, role_spans)


def _capitalised_name(
    original: str, boundary: int, company_spans: list[tuple[int, int]], role_spans: list[tuple[int, int]]
) -> tuple[int, int] | None:
    """The run of 2-4 capitalised words closest to the quote (Latin-script and Vietnamese names).

    A run stops at punctuation; titles ("Vice President"), company names, weekdays and
    months are not names, and a run with an organisation word ("Orchid Research") is an
    organisation, not a person.
    """
    runs: list[tuple[int, int]] = []
    current: list[re.Match[str]] = []

    def close() -> None:
        if len(current) >= 2 and not any(
            token.group(0).strip(".'’").casefold() in _ORGANISATION_WORDS for token in current
        ):
            runs.append((current[0].start(), current[min(len(current), 4) - 1].end()))
        current.clear()

    previous_end = 0
    for token in re.finditer(r"[^\s,;:()“”\"「」\u2029]+", original):
        if current and original[previous_end : token.start()].strip():
            close()  # punctuation between: a new run
        previous_end = token.end()
        word = token.group(0).strip(".'’")
        inside = any(start <= token.start() < end for start, end in [*company_spans, *role_spans])
        capitalised = bool(word) and word[0].isupper() and word.casefold() not in _NOT_NAMES and not inside
        if capitalised or (current and word.casefold() in _NAME_PARTICLES):
            current.append(token)
        else:
            close()
    close()
    if not runs:
        return None
    return min(runs, key=lambda span: min(abs(span[0] - boundary), abs(span[1] - boundary)))


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
    """'首席执行官陈明表示' or 'Grab总裁Alex Hungate称': the name between a title and a speech verb.

    Titles chain ("联合创始人兼首席执行官"), so the title read is the last one before the name.
    """
    original = attribution.original
    role_spans = [attribution.original_span(role.start, role.end) for role in roles]
    verb_starts = [attribution.original_span(verb.start, verb.end)[0] for verb in verbs]
    for role_start, role_end in sorted(role_spans, reverse=True):
        match = _CHINESE_NAME.match(original[role_end : role_end + 30])
        if not match or not any(start >= role_end for start in verb_starts):
            continue
        name_end = role_end + match.end(1)
        for verb_start in verb_starts:
            if role_end <= verb_start < name_end:
                name_end = verb_start  # "陈明表示": the verb is not part of the name
        if any(role_end <= start < name_end for start, _end in role_spans if start != role_start):
            continue  # "兼首席执行官": another title, not a name
        if name_end - role_end >= 2:
            return role_end + match.start(1), name_end
    return None


# The commonest surnames: a name read without a title to anchor it must start with one.
_KOREAN_SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부"
)
_CHINESE_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_JAPANESE_TITLES = tuple(
    sorted(
        words(
            "常務執行役員 専務執行役員 執行役員 代表取締役 取締役 社長 会長 副社長 部長 室長 課長 本部長 事業部長 担当 "
            "常務 専務 代表 主任 最高経営責任者 最高財務責任者 広報担当者 アナリスト 研究員 氏 さん"
        ),
        key=len,
        reverse=True,
    )
)


def _japanese_name_before_topic(original: str, boundary: int) -> tuple[int, int] | None:
    """'…中川真理子執行役員は「…」': the kanji right before は, titles taken off the end."""
    match = re.search(r"([一-龥々ァ-ヴー・]{2,16})は\s*$", original[:boundary])
    if match is None:
        return None
    name = match.group(1)
    stripped = True
    while stripped:
        stripped = False
        for title in _JAPANESE_TITLES:
            if name.endswith(title) and len(name) - len(title) >= 2:
                name, stripped = name[: -len(title)], True
    if not 2 <= len(name) <= 6 or (name == match.group(1) and not re.fullmatch(r"[一-龥々]{2,5}", name)):
        return None
    return match.start(1), match.start(1) + len(name)


def _chinese_name_by_surname(attribution: FoldedText, verbs: list[TermHit]) -> tuple[int, int] | None:
    """'…经营者黄美玲说：“…”': two or three characters starting with a common surname, right before the verb."""
    original = attribution.original
    for verb in verbs:
        verb_start, _ = attribution.original_span(verb.start, verb.end)
        for length in (3, 2):
            start = verb_start - length
            if (
                start >= 0
                and original[start] in _CHINESE_SURNAMES
                and re.fullmatch(r"[\u4e00-\u9fff]+", original[start:verb_start])
            ):
                return start, verb_start
    return None


def _korean_name(original: str, boundary: int, company_spans: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The speaker in Korean attribution: '정민호 카카오 커뮤니케이션실장은 "…"',
    '알렉스 헝가테 그랩 사장은 이날 … "…"', '이준호 로지비 대표는 "…"'.

    The press writes name, affiliation, then title with the topic marker 은/는. So the
    subject is the few words up to the last word ending in 은/는 before the quote; the
    name is its first three-syllable word with a common surname, else the Hangul words
    right before the first company named in it.
    """
    tokens = [
        (match.start(), match.end(), match.group(0)) for match in re.finditer(r"[^\s\"“”‘’,.()]+", original[:boundary])
    ]
    topics = [index for index, token in enumerate(tokens) if len(token[2]) >= 2 and token[2].endswith(("은", "는"))]
    if not topics:
        return None
    last = topics[-1]
    subject = tokens[max(0, last - 4) : last]
    for start, end, word in subject:
        if len(word) == 3 and word[0] in _KOREAN_SURNAMES and _HANGUL_WORD.match(word):
            return start, end
    company_at = [
        index for index, (start, _end, _word) in enumerate(subject) if any(s <= start < e for s, e in company_spans)
    ]
    if company_at:
        before_company = [token for token in subject[: company_at[0]] if _HANGUL_WORD.match(token[2])][-2:]
        if before_company:
            return before_company[0][0], before_company[-1][1]
    return None
