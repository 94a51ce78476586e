"""The analyst inbox: flagging entries that name watchlist companies (services.mentions_scan),
dismissing them, the hand-off from tracker, and the inbox page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from rumours.mentions import mentions_dismiss, mentions_scan
from rumours.models import Company, Mention, MentionState, Status
from rumours.services import (
    AliasSpec,
    CompanySpec,
    company_upsert,
    rumour_attach_source,
    rumour_change_status,
    rumours_merge,
)
from tests import feedbuilder
from tests.rumours.conftest import UserFactory, make_entry
from tracker.models import Entry, Feed
from tracker.services import feed_create, feed_ingest_document

pytestmark = pytest.mark.django_db

INBOX = "/admin/rumours/mention/"
# Every row: the inbox shows only deal news, one row per story, unless asked.
EVERY_ROW = {"deal": "all", "copies": "show"}


@pytest.fixture
def watchlist(db) -> dict[str, Company]:
    """GoTo, Grab and Emtek as the bundled watchlist spells them (Grab is an ordinary word too)."""
    specs = [
        CompanySpec("GoTo", "ID", "super_app", aliases=(AliasSpec("Gojek"), AliasSpec("고투", "ko", ambiguous=True))),
        CompanySpec("Grab", "SG", "super_app", aliases=(AliasSpec("Grab", ambiguous=True), AliasSpec("Grab Holdings"))),
        CompanySpec("Emtek", "ID", "media"),
    ]
    return {spec.name: company_upsert(spec=spec)[0] for spec in specs}


@pytest.fixture
def feed(db) -> Feed:
    return feed_create(url="https://wire.example/rss", title="Wire", language="en")[0]


# --- mentions_scan -----------------------------------------------------------------------------


def test_it_flags_an_entry_naming_watchlist_companies_and_not_an_unrelated_one(watchlist, feed):
    # given
    deal = make_entry(
        feed=feed, title="Grab Holdings and GoTo revive merger talks", summary="<p>Sources say <b>Gojek</b>…</p>"
    )
    weather = make_entry(feed=feed, title="Heavy rain floods Jakarta", summary="<p>Grab an umbrella.</p>")

    # when
    flagged = mentions_scan(entry_ids=[deal.pk, weather.pk])

    # then
    assert flagged.flagged == 1
    mention = Mention.objects.get()
    assert mention.entry == deal
    assert mention.state == MentionState.NEW
    assert set(mention.companies.all()) == {watchlist["GoTo"], watchlist["Grab"]}


def test_it_reads_the_summary_without_its_markup(watchlist, feed):
    entry = make_entry(
        feed=feed, title="Ride-hailing shake-up", summary='<p><a href="https://x.example">Grab Holdings</a> said…</p>'
    )

    mentions_scan(entry_ids=[entry.pk])

    assert set(Mention.objects.get().companies.all()) == {watchlist["Grab"]}


def test_it_scans_idempotently(watchlist, feed):
    # given
    entry = make_entry(feed=feed, title="Grab Holdings and GoTo revive merger talks")
    mentions_scan(entry_ids=[entry.pk])

    # when
    flagged = mentions_scan(entry_ids=[entry.pk])

    # then
    assert flagged.flagged == 1
    mention = Mention.objects.get()
    assert set(mention.companies.all()) == {watchlist["GoTo"], watchlist["Grab"]}


def test_it_suggests_the_open_rumour_whose_parties_are_all_named(watchlist, feed, make_rumour, analyst):
    # given: the GoTo–Emtek thread is the most recently active, but Emtek is not named
    named = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    rumour_change_status(rumour=named, status=Status.RUMOURED, effective_at=timezone.now(), recorded_by=analyst)
    make_rumour(title="GoTo–Emtek stake", companies=[watchlist["GoTo"], watchlist["Emtek"]])
    entry = make_entry(feed=feed, title="GoTo and Grab Holdings close in on a deal")

    # when
    mentions_scan(entry_ids=[entry.pk])

    # then
    assert Mention.objects.get().suggested_rumour == named


def test_it_suggests_nothing_when_no_rumour_has_all_its_parties_named(watchlist, feed, make_rumour):
    make_rumour(title="GoTo–Emtek stake", companies=[watchlist["GoTo"], watchlist["Emtek"]])
    entry = make_entry(feed=feed, title="GoTo and Grab Holdings close in on a deal")

    mentions_scan(entry_ids=[entry.pk])

    assert Mention.objects.get().suggested_rumour is None


def test_it_does_not_suggest_a_completed_rumour(watchlist, feed, make_rumour, analyst):
    # given
    done = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    rumour_change_status(rumour=done, status=Status.COMPLETED, effective_at=timezone.now(), recorded_by=analyst)
    entry = make_entry(feed=feed, title="A year after GoTo bought Grab Holdings")

    # when
    mentions_scan(entry_ids=[entry.pk])

    # then
    assert Mention.objects.get().suggested_rumour is None


def test_it_does_not_suggest_a_rumour_merged_away(watchlist, feed, make_rumour, analyst):
    # given: the duplicate is the more recently active one
    keep = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    duplicate = make_rumour(title="Grab–GoTo deal", companies=[watchlist["GoTo"], watchlist["Grab"]])
    rumours_merge(keep=keep, duplicate=duplicate, merged_by=analyst)
    entry = make_entry(feed=feed, title="GoTo and Grab Holdings close in on a deal")

    # when
    mentions_scan(entry_ids=[entry.pk])

    # then
    assert Mention.objects.get().suggested_rumour == keep


def test_it_accepts_the_mention_when_its_entry_is_attached_to_a_rumour(watchlist, feed, make_rumour, analyst):
    # given
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    entry = make_entry(feed=feed, title="GoTo and Grab Holdings close in on a deal")
    mentions_scan(entry_ids=[entry.pk])

    # when
    rumour_attach_source(rumour=rumour, entry=entry, added_by=analyst)

    # then
    mention = Mention.objects.get()
    assert (mention.state, mention.rumour, mention.state_changed_by) == (MentionState.ACCEPTED, rumour, analyst)
    assert mention.state_changed_at is not None


def test_it_keeps_an_accepted_mention_as_it_was_when_rescanned(watchlist, feed, make_rumour, analyst):
    # given: accepted with GoTo and Grab; the entry is then edited to name Emtek instead of Grab
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    entry = make_entry(feed=feed, title="GoTo and Grab Holdings close in on a deal")
    mentions_scan(entry_ids=[entry.pk])
    rumour_attach_source(rumour=rumour, entry=entry, added_by=analyst)
    Entry.objects.filter(pk=entry.pk).update(title="GoTo and Emtek close in on a deal")

    # when
    mentions_scan(entry_ids=[entry.pk])

    # then
    mention = Mention.objects.get()
    assert (mention.state, mention.rumour) == (MentionState.ACCEPTED, rumour)
    assert set(mention.companies.all()) == {watchlist["GoTo"], watchlist["Grab"]}


# --- mentions_dismiss --------------------------------------------------------------------------


def test_it_dismisses_only_new_mentions_and_records_who(watchlist, feed, make_rumour, analyst):
    # given: one new mention and one already accepted
    rumour = make_rumour(title="GoTo–Grab merger", companies=[watchlist["GoTo"], watchlist["Grab"]])
    fresh = make_entry(feed=feed, title="GoTo weighs options")
    accepted = make_entry(feed=feed, title="Grab Holdings confirms GoTo talks")
    mentions_scan(entry_ids=[fresh.pk, accepted.pk])
    rumour_attach_source(rumour=rumour, entry=accepted, added_by=analyst)
    editor = UserFactory.create(username="editor")

    # when
    count = mentions_dismiss(mention_ids=Mention.objects.values_list("pk", flat=True), by=editor)

    # then
    assert count == 1
    dismissed = Mention.objects.get(entry=fresh)
    assert (dismissed.state, dismissed.state_changed_by) == (MentionState.DISMISSED, editor)
    assert dismissed.state_changed_at is not None
    kept = Mention.objects.get(entry=accepted)
    assert (kept.state, kept.state_changed_by, kept.rumour) == (MentionState.ACCEPTED, analyst, rumour)


# --- The hand-off from tracker -----------------------------------------------------------------


def test_it_flags_entries_ingested_by_tracker(watchlist, feed, django_capture_on_commit_callbacks, celery_eager):
    # given: the real setting points at rumours.handoff.entries_ingested
    start = datetime.now(UTC) - timedelta(days=2)
    body = feedbuilder.rss(
        [
            feedbuilder.Item(
                title="GoTo and Grab Holdings revive merger talks",
                link="https://wire.example/goto-grab",
                guid="urn:wire:1",
                published=start,
            ),
            feedbuilder.Item(
                title="Jakarta weather", link="https://wire.example/rain", guid="urn:wire:2", published=start
            ),
        ]
    )

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = feed_ingest_document(feed=feed, body=body)

    # then
    assert len(callbacks) == 1
    assert report.entries_new == 2
    mention = Mention.objects.get()
    assert mention.entry.link == "https://wire.example/goto-grab"
    assert set(mention.companies.all()) == {watchlist["GoTo"], watchlist["Grab"]}


def test_it_flags_nothing_before_tracker_commits(watchlist, feed, django_capture_on_commit_callbacks):
    body = feedbuilder.rss([feedbuilder.Item(title="GoTo and Grab Holdings", link="https://wire.example/a")])

    with django_capture_on_commit_callbacks(execute=False):
        feed_ingest_document(feed=feed, body=body)

    assert not Mention.objects.exists()


# --- The inbox page ----------------------------------------------------------------------------


@pytest.fixture
def inbox(watchlist, feed, staff_client) -> dict[str, Mention]:
    entries = {
        "new": make_entry(feed=feed, title="GoTo weighs options"),
        "dismissed": make_entry(feed=feed, title="Grab Holdings hires", days_ago=2),
    }
    mentions_scan(entry_ids=[e.pk for e in entries.values()])
    mentions = {state: Mention.objects.get(entry=entry) for state, entry in entries.items()}
    mentions_dismiss(mention_ids=[mentions["dismissed"].pk], by=staff_client.user)
    return mentions


def test_it_shows_new_mentions_by_default(inbox, staff_client):
    response = staff_client.get(INBOX, EVERY_ROW)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [inbox["new"]]
    assert "GoTo weighs options" in response.content.decode()


def test_it_shows_every_mention_on_request(inbox, staff_client):
    response = staff_client.get(INBOX, {**EVERY_ROW, "state": "all"})

    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {inbox["new"], inbox["dismissed"]}


def test_it_lists_the_most_recently_published_articles_first(watchlist, feed, staff_client):
    # given: the older article is flagged last (a backfill, or a feed catching up)
    recent = make_entry(feed=feed, title="GoTo weighs options", days_ago=1)
    older = make_entry(feed=feed, title="Grab Holdings hires", days_ago=30)
    mentions_scan(entry_ids=[recent.pk])
    mentions_scan(entry_ids=[older.pk])

    # when
    response = staff_client.get(INBOX, EVERY_ROW)

    # then
    assert [m.entry for m in response.context["cl"].result_list] == [recent, older]


def test_it_dismisses_with_the_admin_action(inbox, staff_client):
    # when
    response = staff_client.post(f"{INBOX}?deal=all", {"action": "dismiss", "_selected_action": [inbox["new"].pk]})

    # then
    assert response.status_code == 302
    mention = Mention.objects.get(pk=inbox["new"].pk)
    assert (mention.state, mention.state_changed_by) == (MentionState.DISMISSED, staff_client.user)
    assert list(staff_client.get(INBOX, EVERY_ROW).context["cl"].result_list) == []


def test_it_folds_copies_into_the_first_one_the_filters_let_through(watchlist, feed, staff_client):
    # given: one story whose first copy is not deal news and whose later copy is
    first = make_entry(feed=feed, title="GoTo weighs options", days_ago=2)
    later = make_entry(feed=feed, title="GoTo and Grab Holdings revive merger talks", days_ago=1)
    mentions_scan(entry_ids=[first.pk, later.pk])
    story = Mention.objects.get(entry=first).cluster
    Mention.objects.filter(entry=later).update(cluster=story, is_deal_candidate=True)
    Mention.objects.filter(entry=first).update(is_deal_candidate=False)

    # when: the default inbox (deal news, one row per story)
    response = staff_client.get(INBOX)

    # then
    assert [m.entry for m in response.context["cl"].result_list] == [later]
