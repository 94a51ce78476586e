"""Property-based runs of the pure readers of outside files: feeds, OPML and company lists.

Whatever the bytes, each reader answers with its result or its own documented error
(:class:`FeedParseError`, :class:`OpmlError`, :class:`WatchlistError`), and what it
keeps is fit to store: no NUL or other control characters, bounded lengths, http(s)
links only, aware UTC dates in the plausible window.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rumours.watchlist import WatchlistError, read_companies
from tests.feedbuilder import items, rss
from tracker.opml import OpmlError, read_opml
from tracker.parsing import (
    EARLIEST_PLAUSIBLE,
    FUTURE_TOLERANCE,
    MAX_TITLE,
    MAX_URL,
    FeedParseError,
    ParsedFeed,
    normalise_language,
    parse_feed,
)

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
HEX64 = re.compile(r"[0-9a-f]{64}")

# Text the way hostile feeds write it: markup, entities, scripts without spaces, combining
# marks, controls, bidi overrides and odd whitespace, mixed with plain words.
SPICY = (
    "<>&\"'/=;:#%()[]{}“”「」«»\\\u0000\u0001\u0008\u000b\u000c\u001b\u007f\u0085\u00a0\u2028\u2029"
    "\u200b\u200d\u202e\u2066\ufeff\ufffd\u0301\u0e31\u3099"
    "abcXYZ019 \t\n\r고투그랩ソフトバンク格步ภาษาไทยđơư"
)
hostile_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=SPICY, max_size=200),
    st.lists(
        st.sampled_from(
            ["<script>alert(1)</script>", "&lt;b&gt;", "&#0;", "&#x110000;", "&amp;", "]]>", "<![CDATA[", "javascript:",
             "https://news.example/a", "Grab", "GoTo", " ", "\n", "<p>", "</p>", "<a href='javascript:x'>"]
        ),
        max_size=12,
    ).map("".join),
)  # fmt: skip


def assert_fit_to_store(parsed: ParsedFeed) -> None:
    assert not CONTROL.search(parsed.title + parsed.site_url + parsed.language)
    assert len(parsed.title) <= MAX_TITLE
    assert len(parsed.site_url) <= MAX_URL
    assert parsed.site_url == "" or parsed.site_url.lower().startswith(("http://", "https://")), parsed.site_url
    assert parsed.language == normalise_language(parsed.language)
    keys = [entry.identity_key for entry in parsed.entries]
    assert len(keys) == len(set(keys))
    for entry in parsed.entries:
        assert HEX64.fullmatch(entry.identity_key)
        assert HEX64.fullmatch(entry.content_hash)
        for text in (entry.guid, entry.link, entry.title, entry.summary, entry.content, entry.author):
            assert not CONTROL.search(text), repr(text)
        assert len(entry.link) <= MAX_URL
        assert len(entry.guid) <= MAX_URL
        assert len(entry.title) <= MAX_TITLE
        assert len(entry.author) <= 300
        assert entry.link == "" or entry.link.lower().startswith(("http://", "https://"))
        assert entry.language == normalise_language(entry.language)
        assert entry.published_at.tzinfo is not None
        assert entry.published_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        if entry.date_estimated:
            assert entry.published_at == NOW
        else:
            assert EARLIEST_PLAUSIBLE <= entry.published_at <= NOW + FUTURE_TOLERANCE


def parse_or_refuse(body: bytes, content_type: str = "") -> None:
    try:
        parsed = parse_feed(body, content_type=content_type, now=NOW)
    except FeedParseError as exc:
        refusal = str(exc)
    else:
        assert_fit_to_store(parsed)
        return
    assert refusal, "a refusal says why"


@FUZZ
@given(body=st.binary(max_size=1500), content_type=st.sampled_from(["", "application/rss+xml", "text/html; charset=x"]))
def test_it_parses_or_refuses_arbitrary_bytes(body, content_type):
    parse_or_refuse(body, content_type)


GOOD = rss(items(3))


@FUZZ
@given(cut=st.integers(0, len(GOOD)), flips=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255))))
def test_it_parses_or_refuses_a_damaged_feed(cut, flips):
    body = bytearray(GOOD[:cut])
    for position, value in flips:
        if position < len(body):
            body[position] = value
    parse_or_refuse(bytes(body))


@FUZZ
@given(
    channel=hostile_text,
    title=hostile_text,
    link=hostile_text,
    summary=hostile_text,
    author=hostile_text,
    date=st.one_of(hostile_text, st.sampled_from(["Mon, 02 Nov 2026 08:00:00 GMT", "2026-11-02T08:00:00Z", "0"])),
    raw=st.booleans(),
)
def test_it_keeps_only_storable_fields_from_hostile_rss(channel, title, link, summary, author, date, raw):
    # raw: the fields go in as they are (often breaking the XML); else escaped, as a careful feed would send them
    put = (lambda text: text) if raw else escape
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{put(channel)}</title><link>{put(link)}</link><language>{put(channel[:10])}</language>"
        f"<item><title>{put(title)}</title><link>{put(link)}</link><description>{put(summary)}</description>"
        f"<author>{put(author)}</author><pubDate>{put(date)}</pubDate><guid>{put(link)}</guid></item>"
        f"<item><title>{put(title)}</title><link>{put(link)}</link></item>"
        "</channel></rss>"
    ).encode("utf-8", "surrogatepass")
    parse_or_refuse(body)


@FUZZ
@given(title=hostile_text, link=hostile_text, content=hostile_text, kind=st.sampled_from(["html", "text", "xhtml"]))
def test_it_keeps_only_storable_fields_from_hostile_atom(title, link, content, kind):
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><link href={quoteattr(link)}/>"
        f"<entry><id>{escape(link)}</id><title type={quoteattr(kind)}>{escape(title)}</title>"
        f"<link href={quoteattr(link)}/><content type={quoteattr(kind)}>{escape(content)}</content>"
        "<updated>2026-11-02T08:00:00Z</updated></entry></feed>"
    ).encode("utf-8", "surrogatepass")
    parse_or_refuse(body)


@FUZZ
@given(
    value=st.one_of(
        st.text(max_size=60), st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_ABC01 \u00e9\u0301", max_size=60)
    )
)
def test_it_normalises_any_language_tag_to_a_tag_or_nothing(value):
    tag = normalise_language(value)

    assert tag == "" or re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", tag)
    assert len(tag) <= 35
    assert normalise_language(tag) == tag


# --- OPML and company lists -----------------------------------------------------------------------


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=800),
        st.lists(st.tuples(hostile_text, hostile_text, hostile_text), max_size=4).map(
            lambda rows: (
                '<?xml version="1.0"?><opml version="2.0"><body>'
                + "".join(
                    f"<outline xmlUrl={quoteattr(url)} title={quoteattr(title)} tier={quoteattr(tier)}/>"
                    for url, title, tier in rows
                )
                + "</body></opml>"
            ).encode("utf-8", "surrogatepass")
        ),
    )
)
def test_it_reads_or_refuses_any_opml_file(data):
    try:
        feeds = read_opml(data)
    except OpmlError as exc:
        feeds, refusal = [], str(exc)
        assert refusal, "a refusal says why"
    for feed in feeds:
        assert feed.url
        assert feed.tier is None or feed.tier >= 0


company_item = st.fixed_dictionaries(
    {
        "name": hostile_text,
        "country": st.sampled_from(["SG", "ID", "sg", "", "XXX", "\u0000G"]),
        "sector": st.sampled_from(["other", "fintech", "", "<script>"]),
    },
    optional={
        "aliases": st.lists(
            st.one_of(
                hostile_text, st.fixed_dictionaries({"alias": hostile_text, "language": hostile_text}), st.integers()
            ),
            max_size=3,
        ),
        "tickers": st.one_of(st.lists(hostile_text, max_size=2), hostile_text, st.none()),
        "website": st.one_of(hostile_text, st.just("javascript:alert(1)"), st.just("https://grab.example")),
    },
)


@FUZZ
@given(
    data=st.one_of(
        st.binary(max_size=800),
        st.lists(st.one_of(company_item, st.integers(), st.text(max_size=10)), max_size=4).map(
            lambda items: json.dumps(items).encode()
        ),
        st.lists(st.lists(hostile_text, min_size=3, max_size=5), max_size=4).map(
            lambda rows: ("name,country,sector,aliases,tickers\n" + "\n".join(",".join(row) for row in rows)).encode(
                "utf-8", "surrogatepass"
            )
        ),
    ),
    name=st.sampled_from(["companies.json", "companies.csv", "-"]),
)
def test_it_reads_or_refuses_any_company_list(data, name):
    try:
        specs = read_companies(data, name=name)
    except WatchlistError as exc:
        specs, problems = [], exc.problems
        assert problems, "a refusal lists the problems"
        assert all(problems)
    for spec in specs:
        assert 0 < len(spec.name) <= 200
        assert re.fullmatch(r"[A-Z]{2}", spec.country)
        assert spec.website == "" or spec.website.startswith(("http://", "https://"))
        for text in (spec.name, *(alias.alias for alias in spec.aliases), *spec.tickers):
            assert "\x00" not in text


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>", "vbscript:x"]
)
def test_it_keeps_no_site_link_that_is_not_http(link):
    body = rss(items(1)).replace(b"<link>https://news.example/</link>", f"<link>{escape(link)}</link>".encode())

    parsed = parse_feed(body, now=NOW)

    assert parsed.site_url == ""


@pytest.mark.parametrize("reference", ["&#1114112;", "&#x110000;", "&#xD800;", "&#99999999999999999999;"])
def test_a_character_reference_no_text_can_hold_costs_only_that_character(reference):
    # given: a feed broken enough for feedparser's lenient parser, with an impossible reference
    body = rss(items(2)).replace(b"<title>", f"<title>&amp <b>{reference} ".encode(), 1)

    # when
    parsed = parse_feed(body, now=NOW)

    # then: the feed is read; the reference became U+FFFD
    assert len(parsed.entries) == 2
    assert "\ufffd" in parsed.title


@pytest.mark.parametrize(
    "declaration",
    [b'<?xml version="1.0" encoding="\x80"?>', b'<?xml version="1.0" encoding="utf\x00-8"?>'],
    ids=["not UTF-8", "NUL"],
)
def test_a_damaged_encoding_declaration_is_refused_with_a_reason(declaration):
    body = declaration + rss(items(1)).split(b"?>", 1)[1]

    with pytest.raises(FeedParseError, match="not a readable feed"):
        parse_feed(body, now=NOW)
