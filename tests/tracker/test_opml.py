"""tracker.opml: reading and writing subscription lists. Pure, no ORM."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.opml import OpmlError, OpmlFeed, read_opml, write_opml

NESTED = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head><title>Reader export</title></head>
  <body>
    <outline text="Wires">
      <outline type="rss" text="Deal text" title="DealStreet" xmlUrl="https://dealstreet.example/feed"
               htmlUrl="https://dealstreet.example/" language="en" tier="1"/>
      <outline text="Korea">
        <outline type="rss" text="경제 테크" xmlUrl=" https://gyeongje.example/rss " language="ko" tier="2"/>
      </outline>
    </outline>
    <outline type="link" text="A web page, not a feed" url="https://example.com/"/>
    <outline type="rss" xmlUrl="https://bare.example/atom.xml"/>
  </body>
</opml>
""".encode()


def test_it_reads_feeds_from_nested_folders():
    feeds = read_opml(NESTED)

    assert feeds == [
        OpmlFeed(
            url="https://dealstreet.example/feed",
            title="DealStreet",
            site_url="https://dealstreet.example/",
            language="en",
            tier=1,
        ),
        OpmlFeed(url="https://gyeongje.example/rss", title="경제 테크", language="ko", tier=2),
        OpmlFeed(url="https://bare.example/atom.xml"),
    ]


def test_it_reads_an_empty_body_as_no_feeds():
    assert read_opml(b'<opml version="2.0"><head/><body/></opml>') == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
            "Not an OPML file: expected <opml> with a <body>.",
        ),
        (b'<opml version="2.0"><head/></opml>', "Not an OPML file: expected <opml> with a <body>."),
        (b'<opml version="2.0"><body><outline text="x"></body></opml>', "Not well-formed XML: mismatched tag"),
        (b"", "Not well-formed XML: no element found"),
        (b"just some text", "Not well-formed XML: syntax error"),
    ],
)
def test_it_refuses_a_file_that_is_not_opml(data, message):
    with pytest.raises(OpmlError) as caught:
        read_opml(data)

    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE opml [<!ENTITY name "DealStreet">]>',
        '<!DOCTYPE opml [<!ENTITY name SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_it_refuses_an_opml_file_with_entities(doctype):
    data = (
        f'<?xml version="1.0"?>{doctype}<opml version="2.0"><body>'
        '<outline text="&name;" xmlUrl="https://a.example/feed"/></body></opml>'
    ).encode()

    with pytest.raises(OpmlError, match="declares XML entities or a DTD, which OPML never needs; refused"):
        read_opml(data)


def test_it_names_every_outline_with_a_bad_tier():
    data = b"""<opml version="2.0"><body>
      <outline text="Good" xmlUrl="https://good.example/feed" tier="3"/>
      <outline text="Bad" xmlUrl="https://bad.example/feed" tier="gold"/>
      <outline text="Worse" xmlUrl="https://worse.example/feed" tier="-1"/>
    </body></opml>"""

    with pytest.raises(OpmlError) as caught:
        read_opml(data)

    assert str(caught.value).splitlines() == [
        "outline 2 (https://bad.example/feed): tier 'gold' is not a number.",
        "outline 3 (https://worse.example/feed): tier '-1' is not a number.",
    ]


def test_it_round_trips_what_it_writes():
    feeds = [
        OpmlFeed(
            url="https://dealstreet.example/feed",
            title="DealStreet",
            site_url="https://dealstreet.example/",
            language="en",
            tier=1,
        ),
        OpmlFeed(url="https://gyeongje.example/rss", title="경제 테크 & <샘플>", language="ko", tier=2),
        OpmlFeed(url="https://feed.example/?a=1&b=2", title='Query "quoted"', tier=3),
    ]

    document = write_opml(feeds, title="Tracker feeds", created=datetime(2026, 11, 10, 12, 0, tzinfo=UTC))

    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b"<dateCreated>Tue, 10 Nov 2026 12:00:00 GMT</dateCreated>" in document
    assert read_opml(document) == feeds


def test_it_writes_the_url_as_text_for_an_untitled_feed():
    document = write_opml(
        [OpmlFeed(url="https://bare.example/atom.xml")], title="t", created=datetime(2026, 11, 10, tzinfo=UTC)
    )

    assert b'text="https://bare.example/atom.xml"' in document
    assert read_opml(document)[0].url == "https://bare.example/atom.xml"


def test_it_round_trips_an_untitled_feed_as_untitled():
    feeds = [OpmlFeed(url="https://bare.example/atom.xml", language="id", tier=3)]

    document = write_opml(feeds, title="t", created=datetime(2026, 11, 10, tzinfo=UTC))

    assert read_opml(document) == feeds
