"""Storing entries (tracker.services): idempotent upsert on (feed, identity_key), updates, hand-off."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from tests.feedbuilder import Item, items, rss
from tracker.models import Entry, Feed
from tracker.services import feed_create, feed_ingest_document, feed_poll, feeds_claim

pytestmark = pytest.mark.django_db


def poll(feed: Feed):
    (claim,) = feeds_claim(feed_ids=[feed.pk])
    return feed_poll(feed_id=feed.pk, claim_token=claim.token)


def serve_and_create(feed_server, body: bytes) -> Feed:
    feed, _ = feed_create(url=feed_server.add("/feed.xml", body=body))
    return feed


def rows(feed: Feed) -> list[tuple[str, str, str]]:
    return list(Entry.objects.filter(feed=feed).order_by("pk").values_list("guid", "link", "title"))


def test_it_stores_nothing_twice_when_the_same_entries_come_again(feed_server):
    stories = items(4)
    feed = serve_and_create(feed_server, rss(stories))
    first = poll(feed)
    stored = list(Entry.objects.filter(feed=feed).order_by("pk").values())

    # the channel changes, so the body is parsed again, but the entries do not
    feed_server.add("/feed.xml", body=rss(stories, title="Renamed channel", ttl=30))
    second = poll(feed)

    assert (first.entries_new, second.outcome, second.entries_new, second.entries_updated) == (4, "fetched", 0, 0)
    assert list(Entry.objects.filter(feed=feed).order_by("pk").values()) == stored


def test_it_stores_nothing_twice_when_the_same_file_is_ingested_twice():
    feed, _ = feed_create(url="https://file.example/feed.xml")
    body = rss(items(3))

    first = feed_ingest_document(feed=feed, body=body)
    second = feed_ingest_document(feed=feed, body=body)

    assert (first.entries_new, second.entries_new, second.entries_updated) == (3, 0, 0)
    assert Entry.objects.filter(feed=feed).count() == 3


def test_it_updates_an_entry_whose_summary_changed_and_hands_it_off(
    feed_server, handed_off, django_capture_on_commit_callbacks
):
    stories = items(3)
    feed = serve_and_create(feed_server, rss(stories))
    with django_capture_on_commit_callbacks(execute=True):
        poll(feed)
    original = Entry.objects.get(feed=feed, guid="urn:story:1")

    # when the publisher corrects one story
    stories[1] = replace(stories[1], description="<p>Corrected: the deal is off.</p>")
    feed_server.add("/feed.xml", body=rss(stories))
    with django_capture_on_commit_callbacks(execute=True):
        report = poll(feed)

    # then that row is updated in place and handed off as changed
    updated = Entry.objects.get(feed=feed, guid="urn:story:1")
    assert (report.entries_new, report.entries_updated, report.changed_entry_ids) == (0, 1, [original.pk])
    assert updated.pk == original.pk
    assert updated.summary == "<p>Corrected: the deal is off.</p>"
    assert (updated.update_count, updated.was_updated) == (1, True)
    assert updated.updated_at > original.updated_at
    assert updated.first_seen_at == original.first_seen_at
    assert updated.content_hash != original.content_hash
    assert Entry.objects.filter(feed=feed).count() == 3
    assert Entry.objects.filter(feed=feed, update_count=0).count() == 2
    assert handed_off[1] == {"feed_id": feed.pk, "new": [], "changed": [original.pk]}
    assert len(handed_off) == 2


def test_it_hands_off_new_and_changed_entries_in_one_call(feed_server, handed_off, django_capture_on_commit_callbacks):
    stories = items(2)
    feed = serve_and_create(feed_server, rss(stories))
    with django_capture_on_commit_callbacks(execute=True):
        poll(feed)
    changed = Entry.objects.get(feed=feed, guid="urn:story:0")

    stories[0] = replace(stories[0], title="story 0 (updated)")
    feed_server.add("/feed.xml", body=rss([*stories, *items(1, prefix="late")]))
    with django_capture_on_commit_callbacks(execute=True):
        poll(feed)

    new = Entry.objects.get(feed=feed, guid="urn:late:0")
    assert handed_off[1] == {"feed_id": feed.pk, "new": [new.pk], "changed": [changed.pk]}


def test_it_hands_off_nothing_when_nothing_changed(feed_server, handed_off, django_capture_on_commit_callbacks):
    stories = items(2)
    feed = serve_and_create(feed_server, rss(stories))
    with django_capture_on_commit_callbacks(execute=True):
        poll(feed)

    feed_server.add("/feed.xml", body=rss(stories, title="Renamed channel"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        poll(feed)

    assert len(handed_off) == 1
    assert callbacks == []


def test_it_updates_the_same_row_when_the_guid_changes_but_the_link_stays(feed_server):
    link = "https://news.example/grab-goto"
    published = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    before = Item("Grab, GoTo talk", link=link, guid="urn:cms-a:123", description="<p>Talks.</p>", published=published)
    feed = serve_and_create(feed_server, rss([before]))
    poll(feed)
    original = Entry.objects.get(feed=feed)

    # the publisher moves to a new CMS: new guid scheme, same article URL, edited text
    after = replace(before, guid="urn:cms-b:9f2e", description="<p>Talks resume.</p>")
    feed_server.add("/feed.xml", body=rss([after]))
    report = poll(feed)

    entry = Entry.objects.get(feed=feed)
    assert (report.entries_new, report.entries_updated) == (0, 1)
    assert entry.pk == original.pk
    assert (entry.guid, entry.link, entry.summary) == ("urn:cms-b:9f2e", link, "<p>Talks resume.</p>")
    assert entry.update_count == 1


def test_it_does_not_duplicate_when_only_the_guid_changes(feed_server):
    link = "https://news.example/grab-goto"
    feed = serve_and_create(feed_server, rss([Item("Grab, GoTo talk", link=link, guid="urn:cms-a:123")]))
    poll(feed)

    feed_server.add("/feed.xml", body=rss([Item("Grab, GoTo talk", link=link, guid="urn:cms-b:9f2e")]))
    poll(feed)
    renamed = Item("Grab, GoTo talk", link=link, guid="urn:cms-b:9f2e")
    feed_server.add("/feed.xml", body=rss([renamed, *items(1, prefix="other")]))
    poll(feed)

    assert Entry.objects.filter(feed=feed, link=link).count() == 1
    assert Entry.objects.filter(feed=feed).count() == 2


def test_it_follows_an_entry_through_a_guid_change_and_then_a_link_change(feed_server):
    feed = serve_and_create(feed_server, rss([Item("Sea eyes Lazada", link="https://news.example/a", guid="urn:a:1")]))
    poll(feed)
    # new guid, same link
    feed_server.add("/feed.xml", body=rss([Item("Sea eyes Lazada", link="https://news.example/a", guid="urn:b:1")]))
    poll(feed)
    # same new guid, the slug of the link is edited
    feed_server.add("/feed.xml", body=rss([Item("Sea eyes Lazada", link="https://news.example/a-2", guid="urn:b:1")]))
    poll(feed)

    assert rows(feed) == [("urn:b:1", "https://news.example/a-2", "Sea eyes Lazada")]


def test_it_identifies_entries_without_guid_or_link_by_title_and_date(feed_server):
    monday = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    stories = [
        Item("Sea eyes Tokopedia", description="<p>One</p>", published=monday),
        Item("Sea eyes Tokopedia", description="<p>Same title, next day</p>", published=monday.replace(day=3)),
        Item("Bukalapak for sale", description="<p>Two</p>", published=monday),
    ]
    feed = serve_and_create(feed_server, rss(stories))
    first = poll(feed)

    stories[2] = replace(stories[2], description="<p>Two, updated</p>")
    feed_server.add("/feed.xml", body=rss(stories))
    second = poll(feed)

    assert (first.entries_new, second.entries_new, second.entries_updated) == (3, 0, 1)
    assert sorted(Entry.objects.filter(feed=feed).values_list("title", "summary", "update_count")) == [
        ("Bukalapak for sale", "<p>Two, updated</p>", 1),
        ("Sea eyes Tokopedia", "<p>One</p>", 0),
        ("Sea eyes Tokopedia", "<p>Same title, next day</p>", 0),
    ]


def test_it_keeps_the_first_seen_time_of_an_undated_entry_that_is_edited(feed_server):
    story = Item("Undated rumour", link="https://news.example/undated", guid="urn:undated", description="<p>v1</p>")
    feed = serve_and_create(feed_server, rss([story]))
    poll(feed)
    original = Entry.objects.get(feed=feed)
    assert (original.date_estimated, original.published_at) == (True, original.first_seen_at)

    feed_server.add("/feed.xml", body=rss([replace(story, description="<p>v2</p>")]))
    poll(feed)

    edited = Entry.objects.get(feed=feed)
    assert edited.summary == "<p>v2</p>"
    assert edited.published_at == original.first_seen_at


def test_it_replaces_an_estimated_date_with_a_real_one(feed_server):
    story = Item("Late-dated", link="https://news.example/late", guid="urn:late", description="<p>v1</p>")
    feed = serve_and_create(feed_server, rss([story]))
    poll(feed)

    dated = replace(story, description="<p>v2</p>", published=datetime(2026, 11, 1, 6, 0, tzinfo=UTC))
    feed_server.add("/feed.xml", body=rss([dated]))
    poll(feed)

    entry = Entry.objects.get(feed=feed)
    assert (entry.published_at, entry.date_estimated) == (datetime(2026, 11, 1, 6, 0, tzinfo=UTC), False)


def test_it_refuses_a_duplicate_identity_in_one_feed():
    feed, _ = feed_create(url="https://a.example/feed")
    other, _ = feed_create(url="https://b.example/feed")
    fields = {"identity_key": "a" * 64, "published_at": datetime(2026, 11, 1, tzinfo=UTC), "content_hash": "x"}
    Entry.objects.create(feed=feed, title="first", **fields)
    Entry.objects.create(feed=other, title="same key, other feed", **fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        Entry.objects.create(feed=feed, title="second", **fields)

    assert list(Entry.objects.filter(feed=feed).values_list("title", flat=True)) == ["first"]


def test_it_keeps_different_stories_that_share_a_home_page_link(feed_server):
    # given: a feed whose items all link to its home page, with a rolling window of one
    first = Item(title="Story A", link="https://outlet.example/", guid="a", published=datetime(2026, 11, 1, tzinfo=UTC))
    feed = serve_and_create(feed_server, rss([first]))
    poll(feed)

    # when: the window moves on to a different story with the same link
    second = Item(
        title="Story B", link="https://outlet.example/", guid="b", published=datetime(2026, 11, 2, tzinfo=UTC)
    )
    feed_server.routes["/feed.xml"].body = rss([second])
    report = poll(feed)

    # then: both stories are kept; B is new, not an edit of A
    assert (report.entries_new, report.entries_updated) == (1, 0)
    assert [title for _, _, title in rows(feed)] == ["Story A", "Story B"]
