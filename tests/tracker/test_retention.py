"""Entry retention (tracker.retention): the prune_entries command and task delete old
entries no rumour cites, in batches, and never one a rumour cites."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from rumours.models import Mention, MentionParty, MentionState, PartyRole, Source, StoryBand
from rumours.services import PartySpec, rumour_attach_source, rumour_create
from tests.rumours.conftest import CompanyFactory, UserFactory
from tracker import retention, tasks
from tracker.models import Entry, Feed
from tracker.services import feed_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed() -> Feed:
    return feed_create(url="https://wire.example/rss", title="Wire", language="en")[0]


def entry(feed: Feed, title: str, *, published_days_ago: int, seen_days_ago: int | None = None) -> Entry:
    """An entry as tracker stores it, published and first seen that many days ago."""
    now = timezone.now()
    key = hashlib.sha256(title.encode()).hexdigest()
    seen = now - timedelta(days=published_days_ago if seen_days_ago is None else seen_days_ago)
    return Entry.objects.create(
        feed=feed, identity_key=key, link=f"https://wire.example/{key[:12]}", title=title,
        published_at=now - timedelta(days=published_days_ago), first_seen_at=seen, updated_at=seen, content_hash=key,
    )  # fmt: skip


def cite(cited: Entry) -> Source:
    """A rumour cites the entry, through the rumours services (as the admin does)."""
    analyst = UserFactory.create()
    parties = [PartySpec(company=CompanyFactory.create(), role=PartyRole.MERGER_PARTY) for _ in range(2)]
    rumour = rumour_create(title=f"Deal on {cited.title}", parties=parties, created_by=analyst)
    return rumour_attach_source(rumour=rumour, entry=cited, added_by=analyst)


def mention(of: Entry, state: str) -> Mention:
    """Detection's output for the entry, with a party and a story band, in the given state."""
    flagged = Mention.objects.create(entry=of, state=state, is_deal_candidate=True)
    company = CompanyFactory.create()
    flagged.companies.add(company)
    MentionParty.objects.create(mention=flagged, company=company)
    StoryBand.objects.create(mention=flagged, key=hash(of.title) % 1_000_000)
    return flagged


def remaining(*entries: Entry) -> set[str]:
    return set(Entry.objects.filter(pk__in=[e.pk for e in entries]).values_list("title", flat=True))


def test_it_deletes_old_uncited_entries_and_keeps_recent_ones(feed):
    # given
    old = entry(feed, "old", published_days_ago=400)
    recent = entry(feed, "recent", published_days_ago=10)
    archive = entry(feed, "archive imported last week", published_days_ago=900, seen_days_ago=7)
    edge = entry(feed, "just inside the window", published_days_ago=364)

    # when
    report = retention.entries_prune(older_than_days=365)

    # then
    assert remaining(old, recent, archive, edge) == {"recent", "archive imported last week", "just inside the window"}
    assert (report.deleted, report.kept, report.batches) == (1, 0, 1)


def test_it_never_deletes_an_entry_a_rumour_cites(feed):
    # given: two old entries, one on a rumour thread
    cited = entry(feed, "cited", published_days_ago=800)
    source = cite(cited)
    uncited = entry(feed, "uncited", published_days_ago=800)

    # when
    report = retention.entries_prune(older_than_days=365)

    # then
    assert remaining(cited, uncited) == {"cited"}
    source.refresh_from_db()
    assert source.entry_id == cited.pk
    assert (report.deleted, report.kept) == (1, 1)


def test_it_deletes_new_and_dismissed_mentions_with_their_entry_and_keeps_accepted_ones(feed):
    # given: old entries flagged by detection; the accepted one's thread cites only a typed-in
    # URL (an existing source with the same link), so no source points at the entry
    new = mention(entry(feed, "never decided", published_days_ago=500), MentionState.NEW)
    dismissed = mention(entry(feed, "dismissed", published_days_ago=500), MentionState.DISMISSED)
    accepted = mention(entry(feed, "accepted", published_days_ago=500), MentionState.ACCEPTED)
    assert not Source.objects.filter(entry=accepted.entry).exists()

    # when
    report = retention.entries_prune(older_than_days=365)

    # then
    assert set(Mention.objects.values_list("entry__title", flat=True)) == {"accepted"}
    assert remaining(new.entry, dismissed.entry, accepted.entry) == {"accepted"}
    assert set(MentionParty.objects.values_list("mention_id", flat=True)) == {accepted.pk}
    assert set(StoryBand.objects.values_list("mention_id", flat=True)) == {accepted.pk}
    assert (report.deleted, report.kept) == (2, 1)
    assert report.cascaded["rumours.Mention"] == 2
    assert report.cascaded["rumours.MentionParty"] == 2


def test_a_dry_run_counts_and_deletes_nothing(feed):
    # given
    for n in range(3):
        entry(feed, f"old {n}", published_days_ago=400)
    cite(entry(feed, "cited", published_days_ago=400))

    # when
    report = retention.entries_prune(older_than_days=365, dry_run=True)

    # then
    assert (report.deleted, report.kept, report.batches) == (3, 1, 0)
    assert Entry.objects.count() == 4


def test_it_deletes_in_batches_oldest_first(feed):
    # given: 25 old entries, one cited in the middle, and a recent one
    olds = [entry(feed, f"old {n:02}", published_days_ago=1000 - n) for n in range(25)]
    cite(olds[12])
    entry(feed, "recent", published_days_ago=1)

    # when
    report = retention.entries_prune(older_than_days=365, batch_size=10)

    # then: 24 deleted in three transactions of at most ten
    assert (report.deleted, report.batches, report.kept) == (24, 3, 1)
    assert set(Entry.objects.values_list("title", flat=True)) == {"old 12", "recent"}


def test_a_batch_rechecks_the_citations_when_it_deletes(feed, monkeypatch):
    # given: a rumour cites an entry after the batch was selected (the selection here
    # ignores citations, as one that ran just before the source was attached would)
    cited = entry(feed, "cited meanwhile", published_days_ago=400)
    cite(cited)
    entry(feed, "uncited", published_days_ago=400)
    selections = []
    real = retention.prunable_entries

    def racing_selection(*, cutoff):
        selections.append(cutoff)
        return retention.old_entries(cutoff=cutoff) if len(selections) == 1 else real(cutoff=cutoff)

    monkeypatch.setattr(retention, "prunable_entries", racing_selection)

    # when
    report = retention.entries_prune(older_than_days=365)

    # then
    assert set(Entry.objects.values_list("title", flat=True)) == {"cited meanwhile"}
    assert report.deleted == 1


def test_protect_refuses_a_delete_that_misses_a_citation_and_the_batch_rolls_back(feed, monkeypatch):
    # given: a check that sees no citation (one landing after it), so only PROTECT stands in the way
    cited = entry(feed, "cited", published_days_ago=400)
    cite(cited)
    entry(feed, "uncited", published_days_ago=400)
    monkeypatch.setattr(retention, "entry_is_needed", lambda: models.Q(pk__in=[]))

    # when
    with pytest.raises(models.ProtectedError):
        retention.entries_prune(older_than_days=365)

    # then: every attempt was rolled back whole
    assert Entry.objects.count() == 2


def test_the_database_refuses_to_delete_a_cited_entry(feed):
    # given
    cited = entry(feed, "cited", published_days_ago=400)
    cite(cited)

    # when: deleted behind the ORM's back, and the foreign keys checked as at commit
    def delete_raw() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM tracker_entry WHERE id = %s", [cited.pk])
            connection.check_constraints(table_names=["rumours_source"])

    with pytest.raises(IntegrityError):
        delete_raw()

    # then
    assert Entry.objects.filter(pk=cited.pk).exists()


# --- the command and the task ---------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("prune_entries", *args, stdout=out)
    return out.getvalue()


def test_the_command_prunes_with_the_setting_by_default(feed, settings):
    settings.TRACKER_ENTRY_RETENTION_DAYS = 30
    entry(feed, "two months old", published_days_ago=60)
    entry(feed, "last week", published_days_ago=7)

    output = run()

    assert output.startswith("Deleted 1 entries from before ")
    assert "0 older entries kept" in output
    assert set(Entry.objects.values_list("title", flat=True)) == {"last week"}


def test_the_command_dry_run_reports_and_keeps_everything(feed):
    entry(feed, "old", published_days_ago=400)
    cite(entry(feed, "cited", published_days_ago=400))

    output = run("--days", "100", "--dry-run")

    assert output.startswith("Dry run: would delete 1 entries")
    assert "1 older entry kept: cited by a rumour." in output
    assert Entry.objects.count() == 2


def test_the_command_does_nothing_with_retention_off(feed, settings):
    settings.TRACKER_ENTRY_RETENTION_DAYS = 0
    entry(feed, "ancient", published_days_ago=5000)

    output = run()

    assert "retention is off" in output
    assert Entry.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "at least 1 day"),
        (["--batch-size", "0"], "between 1 and 10,000"),
        (["--batch-size", "50000"], "between 1 and 10,000"),
    ],
)
def test_the_command_refuses_bad_arguments(feed, args, message):
    entry(feed, "old", published_days_ago=400)

    with pytest.raises(CommandError, match=message):
        run(*args)
    assert Entry.objects.count() == 1


def test_a_bad_setting_is_refused_with_its_name(feed, settings):
    settings.TRACKER_ENTRY_RETENTION_DAYS = "a year"

    with pytest.raises(CommandError, match="TRACKER_ENTRY_RETENTION_DAYS"):
        run()


def test_the_task_prunes_with_the_setting(feed, settings):
    settings.TRACKER_ENTRY_RETENTION_DAYS = 90
    entry(feed, "old", published_days_ago=120)
    entry(feed, "recent", published_days_ago=30)

    assert tasks.prune_entries.apply().get() == 1
    assert set(Entry.objects.values_list("title", flat=True)) == {"recent"}


def test_the_default_window_is_a_year(feed, settings):
    del settings.TRACKER_ENTRY_RETENTION_DAYS  # not configured: the documented default
    entry(feed, "400 days", published_days_ago=400)
    entry(feed, "300 days", published_days_ago=300)

    assert tasks.prune_entries.apply().get() == 1
    assert set(Entry.objects.values_list("title", flat=True)) == {"300 days"}
