"""Markup payloads in feeds, names, rumours, sources, quotes and notes: every admin page shows
them as text. Pages are found by following the admin's own links from its index, so a new
list, change page or curation view is checked without being named here."""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.hostile.conftest import HOSTILE, HostileWorld, assert_escaped, hostile, live_markup

pytestmark = pytest.mark.django_db

SKIP = ("/logout/", "/delete/", "/password/", "/autocomplete/", "/jsi18n/", "/admin/r/")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links += [value for name, value in attrs if name == "href" and value]


def admin_links(page: str, base: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    found = []
    for href in parser.links:
        parts = urlsplit(urljoin(base, href))
        if parts.netloc in {"", "testserver"} and parts.path.startswith("/admin/") and not parts.path.endswith(SKIP):
            found.append(parts.path)  # one visit per page: filters and sort orders show the same rows
    return found


def crawl(client: Client, start: list[str], *, limit: int = 400) -> dict[str, str]:
    """Every admin page reachable from ``start`` by GET, as {url: html}."""
    pages: dict[str, str] = {}
    queue = deque(start)
    while queue and len(pages) < limit:
        url = queue.popleft()
        if url in pages:
            continue
        response = client.get(url)
        assert response.status_code < 500, f"{url} answered {response.status_code}"
        pages[url] = ""
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages[url] = response.content.decode()
            queue.extend(link for link in admin_links(pages[url], url) if link not in pages)
    return pages


@pytest.fixture
def curator(hostile_world: HostileWorld, client: Client) -> Client:
    client.force_login(hostile_world.analyst)
    return client


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_it_shows_every_payload_as_text_on_every_admin_page(hostile_world, curator):
    # given: hostile_world filled every text field
    w = hostile_world
    start = [
        "/admin/",
        "/admin/rumours/mention/?state=all&deal=all&copies=show",
        *(reverse("admin:rumours_rumour_create") + f"?entry={entry.pk}" for entry in w.entries),
        *(reverse("admin:rumours_entry_attach", args=[entry.pk]) for entry in w.entries),
    ]

    # when: the admin is crawled from its index
    rendered = {url: html for url, html in crawl(curator, start).items() if html}

    # then: the crawl reached the curation pages, not just the lists
    reached = set(rendered)
    for expected in ["/admin/rumours/rumour/", "/admin/rumours/mention/", "/admin/tracker/entry/"]:
        assert expected in reached
    custom = [url for url in reached if url.endswith(("/review/", "/status/", "/source/", "/quote/", "/preview/"))]
    assert len(custom) >= 5, sorted(reached)
    assert any(url.endswith("/retract/") for url in reached)
    # and nothing on any of them runs
    assert {url: live for url, html in rendered.items() if (live := live_markup(html))} == {}


def test_it_shows_the_rumour_thread_as_text(hostile_world, curator):
    w = hostile_world
    thread = page(curator, reverse("admin:rumours_rumour_change", args=[w.rumour.pk]))

    assert_escaped(thread, hostile("Note"), hostile("Reason"), hostile("Source"), hostile("Speaker"), HOSTILE)
    assert_escaped(page(curator, "/admin/rumours/rumour/"), hostile("Merger"), hostile("Grab"), w.goto.name)


def test_it_shows_the_inbox_and_the_review_page_as_text(hostile_world, curator):
    w = hostile_world
    inbox = page(curator, "/admin/rumours/mention/?state=all&deal=all&copies=show")
    review = page(curator, reverse("admin:rumours_mention_review", args=[w.mention.pk]))

    assert_escaped(inbox, w.entries[1].title, hostile("Grab"))
    assert_escaped(review, HOSTILE, hostile("Alex"), hostile("Grab"))


def test_it_shows_feed_entries_and_their_errors_as_text(hostile_world, curator):
    w = hostile_world
    entry = page(curator, reverse("admin:tracker_entry_change", args=[w.entries[1].pk]))
    feed = page(curator, reverse("admin:tracker_feed_change", args=[w.feed.pk]))

    assert_escaped(entry, w.entries[1].title, HOSTILE)
    assert_escaped(feed, hostile("Last error"), hostile("Warning"))
    assert_escaped(page(curator, "/admin/tracker/feed/"), hostile("Feed"))
    assert_escaped(page(curator, "/admin/tracker/polllog/"), hostile("Error"))


def test_it_shows_names_keys_and_webhook_answers_as_text(hostile_world, curator):
    w = hostile_world
    webhook = page(curator, reverse("admin:rumours_webhookendpoint_change", args=[w.endpoint.pk]))

    assert_escaped(page(curator, "/admin/rumours/company/"), hostile("Grab"), HOSTILE, w.goto.name)
    assert_escaped(page(curator, "/admin/rumours/person/"), hostile("Alex"), hostile("President"))
    assert_escaped(page(curator, "/admin/rumours/apikey/"), hostile("Key")[:100])
    assert_escaped(webhook, HOSTILE)


def test_it_previews_the_digest_as_text(hostile_world, curator):
    preview = page(curator, reverse("admin:rumours_subscription_preview", args=[hostile_world.subscription.pk]))

    assert_escaped(preview, hostile("Merger"), hostile("Note"), HOSTILE, hostile("Speaker"))


def test_it_never_links_an_entry_to_a_javascript_url(hostile_world):
    # given: the feed sent javascript: links for the entry and for its site
    w = hostile_world
    w.feed.refresh_from_db()

    # then: neither is kept, so no page can offer one
    assert w.entries[0].link == ""
    assert not w.feed.site_url.lower().startswith("javascript:")
