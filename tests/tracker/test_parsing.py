"""tracker.parsing: bytes in, clean and identified entries out. Pure, no ORM, no network."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.feedbuilder import Item, items, rss
from tracker.demo import DEMO_FEEDS_DIR
from tracker.parsing import FeedParseError, normalise_language, parse_feed

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def parse(body: bytes, **kwargs):
    return parse_feed(body, now=NOW, **kwargs)


def only_entry(body: bytes, **kwargs):
    (entry,) = parse(body, **kwargs).entries
    return entry


def atom(entries: str, *, lang: str = "") -> bytes:
    lang_attr = f' xml:lang="{lang}"' if lang else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<feed xmlns="http://www.w3.org/2005/Atom"{lang_attr}><title>Atom test</title><id>urn:feed</id>'
        f"{entries}</feed>"
    ).encode()


# --- Identity -------------------------------------------------------------------------


def test_it_identifies_an_entry_by_guid_whatever_its_link():
    # given the same guid under two different links, in two polls
    first = only_entry(rss([Item("Grab talks", link="https://news.example/a", guid="urn:story:1")]))
    second = only_entry(rss([Item("Grab talks (updated)", link="https://news.example/b", guid="urn:story:1")]))

    # then both are the same entry
    assert first.identity_key == second.identity_key
    assert re.fullmatch(r"[0-9a-f]{64}", first.identity_key)
    assert (first.guid, first.link) == ("urn:story:1", "https://news.example/a")


def test_it_identifies_an_entry_without_guid_by_link():
    first = only_entry(rss([Item("Title one", link="https://news.example/a")]))
    retitled = only_entry(rss([Item("Title two", link="https://news.example/a")]))
    other = only_entry(rss([Item("Title one", link="https://news.example/b")]))

    assert first.guid == ""
    assert first.identity_key == retitled.identity_key
    assert first.identity_key != other.identity_key


def test_it_identifies_an_entry_without_guid_or_link_by_title_and_date():
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    base = only_entry(rss([Item("Sea eyes Tokopedia", published=monday)]))
    same = only_entry(rss([Item("Sea eyes Tokopedia", description="<p>Other body</p>", published=monday)]))
    other_date = only_entry(rss([Item("Sea eyes Tokopedia", published=monday + timedelta(days=1))]))
    other_title = only_entry(rss([Item("Sea eyes Lazada", published=monday)]))

    assert (base.guid, base.link) == ("", "")
    assert base.identity_key == same.identity_key
    assert base.identity_key != other_date.identity_key
    assert base.identity_key != other_title.identity_key


def test_it_identifies_entries_sharing_one_guid_by_their_links_and_warns():
    # given a feed that puts the same guid on every item (some put the feed URL there)
    body = rss(
        [
            Item("One", link="https://news.example/1", guid="https://news.example/feed"),
            Item("Two", link="https://news.example/2", guid="https://news.example/feed"),
        ]
    )

    parsed = parse(body)

    # then both entries are kept, each identified by its link
    assert [e.title for e in parsed.entries] == ["One", "Two"]
    by_link = [only_entry(rss([Item("x", link=f"https://news.example/{n}")])).identity_key for n in (1, 2)]
    assert [e.identity_key for e in parsed.entries] == by_link
    assert "1 guid(s) shared by different entries; identified by link instead." in parsed.warnings


def test_it_ignores_an_entry_the_document_repeats():
    story = Item("Repeated", link="https://news.example/r", guid="urn:r", published=NOW - timedelta(hours=1))
    body = rss([story, Item("Other", link="https://news.example/o", guid="urn:o"), story])

    parsed = parse(body)

    assert [e.title for e in parsed.entries] == ["Repeated", "Other"]
    assert "1 repeated entry ignored." in parsed.warnings


# --- Dates ----------------------------------------------------------------------------


def test_it_converts_an_offset_date_to_aware_utc():
    body = rss([]).replace(
        b"</channel>",
        b"<item><title>x</title><link>https://news.example/x</link>"
        b"<pubDate>Tue, 03 Nov 2026 14:30:00 +0700</pubDate></item></channel>",
    )

    entry = only_entry(body)

    assert entry.published_at == datetime(2026, 11, 3, 7, 30, tzinfo=UTC)
    assert entry.published_at.utcoffset() == timedelta(0)
    assert entry.date_estimated is False


def test_it_uses_now_for_a_missing_date_and_flags_it():
    parsed = parse(rss([Item("Undated", link="https://news.example/u")]))

    (entry,) = parsed.entries
    assert entry.published_at == NOW
    assert entry.date_estimated is True
    assert "1 entry without a plausible date; used the time first seen." in parsed.warnings


@pytest.mark.parametrize(
    "pub_date", ["Thu, 01 Jan 1970 00:00:00 GMT", "Sun, 01 Jan 1995 00:00:00 +0100", "Tue, 01 Jan 2999 00:00:00 GMT"]
)
def test_it_estimates_an_implausible_date(pub_date):
    body = rss([]).replace(
        b"</channel>",
        f"<item><title>x</title><link>https://news.example/x</link><pubDate>{pub_date}</pubDate></item></channel>".encode(),
    )

    entry = only_entry(body)

    assert (entry.published_at, entry.date_estimated) == (NOW, True)


def test_it_keeps_a_date_slightly_in_the_future():
    tomorrow = NOW + timedelta(days=1)

    entry = only_entry(rss([Item("Tomorrow", link="https://news.example/t", published=tomorrow)]))

    assert (entry.published_at, entry.date_estimated) == (tomorrow, False)


# --- Clean text -----------------------------------------------------------------------


def test_it_sanitises_html_keeping_paragraphs_and_links():
    description = (
        '<p onclick="steal()">Grab and <a href="https://news.example/goto">GoTo</a> '
        "talk again<script>alert(1)</script></p>"
    )

    entry = only_entry(rss([Item("x", link="https://news.example/x", description=description)]))

    assert entry.summary == (
        '<p>Grab and <a href="https://news.example/goto" rel="noopener noreferrer">GoTo</a> talk again</p>'
    )


def test_it_escapes_text_plain_content():
    body = atom(
        "<entry><id>urn:1</id><title>t</title><updated>2026-11-01T10:00:00Z</updated>"
        '<content type="text">a &lt;b&gt;</content></entry>'
    )

    entry = only_entry(body)

    assert entry.content == "a &lt;b&gt;"


def test_it_strips_markup_from_titles_and_unescapes_entities():
    body = atom(
        '<entry><id>urn:1</id><title type="html">Grab &amp;amp; GoTo &lt;em&gt;merger&lt;/em&gt;'
        " &lt;script&gt;x()&lt;/script&gt;  talks</title><updated>2026-11-01T10:00:00Z</updated></entry>"
    )

    parsed = parse(body)

    assert parsed.entries[0].title == "Grab & GoTo merger talks"


def test_it_reads_the_feed_title_as_plain_text():
    parsed = parse(rss(items(1), title="Deal <b>Street</b> &amp; Co"))

    assert parsed.title == "Deal Street & Co"


# --- Language -------------------------------------------------------------------------


def test_it_takes_the_language_the_document_declares():
    parsed = parse(rss(items(2), language="en-GB"))

    assert parsed.language == "en-gb"
    assert [e.language for e in parsed.entries] == ["en-gb", "en-gb"]


def test_it_prefers_the_operator_language_over_the_document():
    parsed = parse(rss(items(1), language="en"), language="id_ID")

    assert parsed.language == "id-id"
    assert parsed.entries[0].language == "id-id"


def test_it_reads_xml_lang_from_an_atom_feed():
    parsed = parse(
        atom("<entry><id>urn:1</id><title>t</title><updated>2026-11-01T10:00:00Z</updated></entry>", lang="fr")
    )

    assert parsed.language == "fr"
    assert parsed.entries[0].language == "fr"


def test_it_reads_xml_lang_from_an_atom_entry_when_the_feed_has_none():
    parsed = parse(
        atom('<entry xml:lang="vi"><id>urn:1</id><title>t</title><updated>2026-11-01T10:00:00Z</updated></entry>')
    )

    assert parsed.language == ""
    assert parsed.entries[0].language == "vi"


def test_it_ignores_a_declared_language_that_is_not_a_tag():
    parsed = parse(rss(items(1), language="not a language!"))

    assert parsed.language == ""
    assert parsed.entries[0].language == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en_US", "en-us"),
        (" ZH-CN ", "zh-cn"),
        ("ko", "ko"),
        ("fil", "fil"),
        ("", ""),
        ("e", ""),
        ("english", ""),
        ("en us", ""),
        ("12", ""),
        ("en-", ""),
        (None, ""),
    ],
)
def test_it_normalises_language_tags(value, expected):
    assert normalise_language(value) == expected


# --- Channel fields -------------------------------------------------------------------


def test_it_converts_ttl_minutes_to_seconds():
    assert parse(rss(items(1), ttl=15)).ttl_seconds == 900
    assert parse(rss(items(1))).ttl_seconds is None


@pytest.mark.parametrize("ttl", [b"0", b"-5", b"soon"])
def test_it_ignores_a_ttl_that_is_not_a_positive_number(ttl):
    body = rss(items(1)).replace(b"<language>", b"<ttl>" + ttl + b"</ttl><language>")

    assert parse(body).ttl_seconds is None


def test_it_reads_the_channel_title_and_site_url():
    parsed = parse(rss(items(3), title="DealStreet"))

    assert (parsed.title, parsed.site_url) == ("DealStreet", "https://news.example/")
    assert [e.title for e in parsed.entries] == ["story 0", "story 1", "story 2"]


# --- Refusals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "The server sent an empty body instead of a feed."),
        (b" \n\t ", "The server sent an empty body instead of a feed."),
        (b"<!DOCTYPE html>\n<html><head><title>Home</title></head><body>Hi</body></html>", "HTML page, not a feed"),
        (b"<!-- cached --><html lang='en'><body>Hi</body></html>", "HTML page, not a feed"),
        (b"<?xml version='1.0'?><note><to>Tove</to></note>", "no RSS or Atom elements found"),
        (b"this is not xml at all", "The body is not a readable feed"),
    ],
)
def test_it_refuses_a_body_that_is_not_a_feed(body, message):
    with pytest.raises(FeedParseError, match=re.escape(message)):
        parse(body)


def test_it_refuses_a_document_that_declares_entities():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b'<rss version="2.0"><channel><title>&lol2;</title><item><title>x</title></item></channel></rss>'
    )

    with pytest.raises(FeedParseError) as caught:
        parse(body)

    assert "declares XML entities" in str(caught.value)


def test_it_refuses_an_external_entity():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><title>&xxe;</title><item><title>x</title></item></channel></rss>'
    )

    with pytest.raises(FeedParseError, match="entity"):
        parse(body)


# --- Bundled demo feeds in other encodings --------------------------------------------


def test_it_decodes_the_euc_kr_demo_feed():
    parsed = parse((DEMO_FEEDS_DIR / "ko-gyeongje.xml").read_bytes())

    assert parsed.title == "경제테크 (샘플) - 동남아 테크 뉴스"
    assert parsed.language == "ko"
    assert len(parsed.entries) == 7
    assert parsed.entries[0].title == "카카오, 동남아 사업 재편 검토"
    assert {e.language for e in parsed.entries} == {"ko"}
    assert parsed.warnings == []


def test_it_decodes_the_shift_jis_demo_feed():
    parsed = parse((DEMO_FEEDS_DIR / "ja-keizai.xml").read_bytes())

    assert parsed.title == "アジア経済テック（サンプル）"  # the feed uses full-width brackets
    assert parsed.language == "ja"
    assert len(parsed.entries) == 7
    assert parsed.entries[0].title == "グラブとGoTo、経営統合協議を再開か"
    assert {e.language for e in parsed.entries} == {"ja"}
    assert parsed.warnings == []


# --- Content hash ---------------------------------------------------------------------


def test_it_changes_the_content_hash_when_the_summary_changes_and_only_then():
    published = datetime(2026, 11, 2, tzinfo=UTC)
    base = Item("Story", link="https://news.example/s", guid="urn:s", description="<p>One</p>", published=published)

    original = only_entry(rss([base]))
    same_again = only_entry(rss([base], title="Renamed feed", ttl=30))
    redated = only_entry(rss([Item(**{**base.__dict__, "published": published + timedelta(hours=3)})]))
    edited = only_entry(rss([Item(**{**base.__dict__, "description": "<p>One, corrected</p>"})]))

    assert same_again.content_hash == original.content_hash
    assert redated.content_hash == original.content_hash
    assert edited.content_hash != original.content_hash
    assert edited.identity_key == original.identity_key


def test_it_removes_control_characters_that_databases_refuse():
    body = rss(
        [Item(title="Grab\x00 deal\x07", link="https://n.example/1", guid="g\x00x", description="<p>a\x00b</p>")]
    )

    (entry,) = parse_feed(body, now=NOW).entries

    assert (entry.title, entry.guid, entry.summary) == ("Grab deal", "gx", "<p>ab</p>")


def test_it_ignores_a_language_tag_longer_than_a_column_can_hold():
    body = rss(items(1), language="en-aaaaaaaa-bbbbbbbb-cccccccc-dddddddd")

    parsed = parse_feed(body, now=NOW)

    assert parsed.language == ""
    assert parsed.entries[0].language == ""


def test_it_prefers_an_entry_xml_lang_to_the_channel_language():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en"><title>Mixed</title><id>urn:mixed</id>
<updated>2026-11-01T00:00:00Z</updated>
<entry xml:lang="ko"><title>Korean story</title><id>urn:1</id><updated>2026-11-01T00:00:00Z</updated>
<link href="https://n.example/ko"/></entry>
<entry><title>English story</title><id>urn:2</id><updated>2026-11-01T00:00:00Z</updated>
<link href="https://n.example/en"/></entry></feed>"""

    languages = {entry.title: entry.language for entry in parse_feed(body, now=NOW).entries}

    assert languages == {"Korean story": "ko", "English story": "en"}


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,hi"])
def test_it_drops_a_link_that_is_not_http(link):
    body = rss([Item(title="Story", link=link, guid="g1")])

    (entry,) = parse_feed(body, now=NOW).entries

    assert entry.link == ""
    assert entry.guid == "g1"
