"""Turn the bytes of a feed into clean, identified entries. No ORM, no network.

feedparser does the reading (RSS 0.9x/1.0/2.0, Atom, encodings, bozo recovery);
this module decides what the tracker keeps:

* **Identity.** guid, else link, else a hash of title and date; a guid that the
  document repeats for different links is not trusted (some feeds put the feed URL
  in every guid). The key is a SHA-256 so it indexes well whatever its source.
* **Clean text.** HTML goes through nh3 (Ammonia); text/plain is escaped; titles
  are plain text.
* **Dates.** Aware UTC; a missing date, one before 1995 or more than two days in
  the future is replaced by the time we first saw the entry, and flagged.
* **Refusals.** An empty body, an HTML page, a document that is not a feed, and a
  document that declares XML entities (billion laughs, external entities: feeds
  never need them) raise :class:`FeedParseError` with a message for a person.
  Malformed but readable XML ("bozo" with entries) is kept, with a warning.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import nh3

EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)
MAX_TITLE = 1000
MAX_URL = 2000
MAX_LANGUAGE = 35  # the longest BCP 47 tag a conforming implementation must store
# C0 controls other than tab/newline/CR, and DEL: invalid in XML text and refused by
# PostgreSQL (NUL); lenient parsing can still let them through.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_ENTITY_DECLARATIONS = [
    re.compile(re.escape("<!ENTITY".encode(encoding)), re.IGNORECASE)
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
]
# A numeric character reference: feedparser's lenient parser turns each into chr(n).
_CHARACTER_REFERENCE = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)[\s>]", re.IGNORECASE | re.DOTALL)


class FeedParseError(Exception):
    """The body is not a feed we can read. ``str()`` is for people."""


@dataclass(frozen=True)
class ParsedEntry:
    identity_key: str
    guid: str
    link: str
    title: str
    summary: str
    content: str
    author: str
    published_at: datetime
    date_estimated: bool
    language: str
    content_hash: str


@dataclass
class ParsedFeed:
    title: str
    site_url: str
    language: str
    ttl_seconds: int | None
    entries: list[ParsedEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_feed(
    body: bytes,
    *,
    content_type: str = "",
    base_url: str = "",
    now: datetime,
    language: str = "",
) -> ParsedFeed:
    """Parse ``body`` (the bytes the server sent) into a :class:`ParsedFeed`.

    ``language`` is the operator's setting for the feed; when set it wins over what
    the document declares, because operators know their outlets better than many
    feeds' ``<language>`` elements do.
    """
    if not body.strip():
        raise FeedParseError("The server sent an empty body instead of a feed.")
    refuse_entity_declarations(body)
    body = _CHARACTER_REFERENCE.sub(_storable_reference, body)
    headers = {"content-location": base_url} if base_url else {}
    if content_type:
        headers["content-type"] = content_type
    # Always a stream: feedparser treats a plain string as a URL or a file path.
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False)
    except ValueError as exc:  # feedparser's own slips on damaged bytes, e.g. in the encoding declaration
        raise FeedParseError(f"The body is not a readable feed: {type(exc).__name__}: {exc}.") from None
    if not parsed.entries and (parsed.bozo or not parsed.version):
        if _HTML_START.match(body[:4096]):
            raise FeedParseError("The URL returned an HTML page, not a feed.")
        reason = parsed.get("bozo_exception") or "no RSS or Atom elements found"
        raise FeedParseError(f"The body is not a readable feed: {reason}.")
    channel = parsed.feed
    operator_language = normalise_language(language)
    channel_language = normalise_language(channel.get("language", ""))
    feed_language = operator_language or channel_language
    result = ParsedFeed(
        title=_plain(channel.get("title", ""))[:MAX_TITLE],
        site_url=_http_link(channel.get("link", "")),
        language=feed_language,
        ttl_seconds=_ttl_seconds(channel.get("ttl")),
    )
    if parsed.bozo:
        result.warnings.append(f"Malformed feed, read leniently: {parsed.get('bozo_exception')}")
    result.entries = _entries(
        parsed.entries,
        now=now,
        operator_language=operator_language,
        channel_language=channel_language,
        warnings=result.warnings,
    )
    return result


def normalise_language(value: str) -> str:
    """'en_US' -> 'en-us'; anything that is not a plausible language tag -> ''."""
    tag = str(value or "").strip().replace("_", "-").lower()
    return tag if len(tag) <= MAX_LANGUAGE and re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", tag) else ""


def refuse_entity_declarations(body: bytes) -> None:
    """Raise :class:`FeedParseError` if an XML document declares entities.

    Scans the whole body (a regex over 15 MiB takes milliseconds) in every encoding
    feedparser accepts that is not ASCII-compatible, so neither a UTF-16 document
    nor a declaration pushed past a long comment slips through.
    """
    if any(pattern.search(body) for pattern in _ENTITY_DECLARATIONS):
        raise FeedParseError(
            "The feed declares XML entities (<!ENTITY>), which feeds never need; refused "
            "as a possible entity-expansion or external-entity attack."
        )


def _ttl_seconds(value: Any) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if minutes > 0 else None


def _entries(
    raw_entries: list[Any], *, now: datetime, operator_language: str, channel_language: str, warnings: list[str]
) -> list[ParsedEntry]:
    # A guid shared by entries with different links identifies nothing.
    guid_links: dict[str, set[str]] = {}
    for raw in raw_entries:
        guid = _scrub(raw.get("id", ""))
        if guid:
            guid_links.setdefault(guid, set()).add(str(raw.get("link", "")).strip())
    untrusted = {guid for guid, links in guid_links.items() if len(links) > 1}
    if untrusted:
        warnings.append(f"{len(untrusted)} guid(s) shared by different entries; identified by link instead.")

    entries: list[ParsedEntry] = []
    seen: set[str] = set()
    estimated = 0
    for raw in raw_entries:
        entry = _entry(
            raw,
            now=now,
            language=operator_language or normalise_language(_detail_language(raw)) or channel_language,
            untrusted_guids=untrusted,
        )
        if entry.identity_key in seen:
            continue  # the document repeats itself; the first copy wins
        seen.add(entry.identity_key)
        estimated += entry.date_estimated
        entries.append(entry)
    if estimated:
        warnings.append(
            f"{estimated} entr{'y' if estimated == 1 else 'ies'} without a plausible date; used the time first seen."
        )
    repeated = len(raw_entries) - len(entries)
    if repeated:
        warnings.append(f"{repeated} repeated entr{'y' if repeated == 1 else 'ies'} ignored.")
    return entries


def _entry(raw: Any, *, now: datetime, language: str, untrusted_guids: set[str]) -> ParsedEntry:
    guid = _scrub(raw.get("id", ""))[:MAX_URL]
    link = _http_link(raw.get("link", ""))
    title = _plain(raw.get("title", ""))[:MAX_TITLE]
    published, date_estimated = _published_at(raw, now=now)
    if guid and guid not in untrusted_guids:
        identity = f"guid:{guid}"
    elif link:
        identity = f"link:{link}"
    else:
        identity = f"hash:{title}|{published.isoformat() if not date_estimated else ''}"
    summary = _clean(raw.get("summary_detail")) if raw.get("summary_detail") else ""
    content = ""
    for part in raw.get("content", []) or []:
        content = _clean(part)
        if "html" in str(part.get("type", "")):
            break
    if content == summary:
        content = ""
    author = _plain(raw.get("author", ""))[:300]
    digest = hashlib.sha256("\x1f".join([title, link, summary, content, author]).encode()).hexdigest()
    return ParsedEntry(
        identity_key=hashlib.sha256(identity.encode()).hexdigest(),
        guid=guid,
        link=link,
        title=title,
        summary=summary,
        content=content,
        author=author,
        published_at=published,
        date_estimated=date_estimated,
        language=language,
        content_hash=digest,
    )


def _detail_language(raw: Any) -> str:
    for key in ("content", "summary_detail", "title_detail"):
        detail = raw.get(key)
        if isinstance(detail, list):
            detail = detail[0] if detail else None
        if detail and detail.get("language"):
            return str(detail["language"])
    return ""


def _published_at(raw: Any, *, now: datetime) -> tuple[datetime, bool]:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: FeedParserDict maps a missing updated_parsed to published_parsed
        # with a DeprecationWarning; we want each field as the feed gave it.
        parsed = dict.get(raw, key)
        if not parsed:
            continue
        try:
            moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
        except (OverflowError, ValueError, OSError):
            continue
        if EARLIEST_PLAUSIBLE <= moment <= now + FUTURE_TOLERANCE:
            return moment, False
    return now, True


def _storable_reference(match: re.Match[bytes]) -> bytes:
    """``&#…;`` as written, or U+FFFD for a code point no text can hold.

    Past U+10FFFF (or a surrogate) feedparser's lenient parser raises instead of
    reading on, so one bad reference would cost the whole feed.
    """
    hexadecimal, decimal = match.groups()
    code = int(hexadecimal, 16) if hexadecimal else int(decimal)
    return match.group() if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else b"&#xFFFD;"


def _http_link(value: Any) -> str:
    """The link if it is http(s); javascript:, data: and friends are not links to keep."""
    link = _scrub(value)[:MAX_URL]
    return link if link.lower().startswith(("http://", "https://")) else ""


def _scrub(value: Any) -> str:
    return _CONTROL_CHARACTERS.sub("", str(value or "")).strip()


def _clean(detail: Any) -> str:
    value = _scrub(detail.get("value", ""))
    if "html" in str(detail.get("type", "text/html")):
        return nh3.clean(value).strip()
    return html.escape(value).strip()


def _plain(value: Any) -> str:
    """Plain text from a title-like field that may carry markup or entities."""
    text = nh3.clean(_scrub(value), tags=set())
    return re.sub(r"\s+", " ", html.unescape(text)).strip()
