"""Merging duplicate threads (services.rumours_merge) and expiring stale rumours
(services.rumours_expire_stale)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from rumours.models import Party, Quote, Rumour, Source, Stance, Status, StatusChange
from rumours.selectors import rumour_list
from rumours.services import (
    RumourError,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
    rumours_expire_stale,
    rumours_merge,
)
from tests.rumours.conftest import CompanyFactory, at

pytestmark = pytest.mark.django_db

S = Status
SHARED_URL = "https://wire.example/goto-grab-talks"


# --- Merge ------------------------------------------------------------------------------------


@pytest.fixture
def threads(make_rumour, analyst, goto, grab):
    """Two threads about one deal, sharing Grab and one wire article."""
    keep = make_rumour(title="GoTo–Grab merger", companies=[goto, grab])
    keep_only = rumour_attach_source(rumour=keep, added_by=analyst, url="https://a.example/1", published_at=at(2020))
    keep_shared = rumour_attach_source(rumour=keep, added_by=analyst, url=SHARED_URL, published_at=at(2021))
    rumour_change_status(rumour=keep, status=S.RUMOURED, effective_at=at(2020, 9, 1), recorded_by=analyst)

    duplicate = make_rumour(title="Grab–Emtek deal", companies=[grab, CompanyFactory.create(name="Emtek")])
    dup_shared = rumour_attach_source(rumour=duplicate, added_by=analyst, url=SHARED_URL, published_at=at(2021))
    dup_only = rumour_attach_source(
        rumour=duplicate, added_by=analyst, url="https://b.example/2", published_at=at(2022)
    )
    quote_on_shared = quote_add(
        rumour=duplicate, text="No talks.", said_at=at(2021), added_by=analyst, speaker_name="X", source=dup_shared
    )
    quote_on_own = quote_add(
        rumour=duplicate, text="Talks.", said_at=at(2022), added_by=analyst, speaker_name="Y", source=dup_only
    )
    denial = rumour_change_status(
        rumour=duplicate, status=S.DENIED, effective_at=at(2021, 3, 1), recorded_by=analyst, evidence_source=dup_shared
    )
    return {
        "keep": keep,
        "duplicate": duplicate,
        "keep_only": keep_only,
        "keep_shared": keep_shared,
        "dup_shared": dup_shared,
        "dup_only": dup_only,
        "quote_on_shared": quote_on_shared,
        "quote_on_own": quote_on_own,
        "denial": denial,
    }


def test_it_moves_parties_without_listing_a_company_twice(threads, analyst):
    # when
    rumours_merge(keep=threads["keep"], duplicate=threads["duplicate"], merged_by=analyst)

    # then
    names = list(Party.objects.filter(rumour=threads["keep"]).values_list("company__name", flat=True))
    assert sorted(names) == ["Emtek", "GoTo", "Grab"]


def test_it_moves_sources_keeping_one_copy_of_an_article_on_both(threads, analyst):
    # when
    rumours_merge(keep=threads["keep"], duplicate=threads["duplicate"], merged_by=analyst)

    # then
    kept = Source.objects.filter(rumour=threads["keep"])
    assert sorted(kept.values_list("url", flat=True)) == sorted(
        ["https://a.example/1", SHARED_URL, "https://b.example/2"]
    )
    assert kept.get(url=SHARED_URL).pk == threads["keep_shared"].pk


def test_it_re_points_quotes_and_evidence_at_the_kept_copy(threads, analyst):
    # when
    rumours_merge(keep=threads["keep"], duplicate=threads["duplicate"], merged_by=analyst)

    # then
    on_shared = Quote.objects.get(pk=threads["quote_on_shared"].pk)
    on_own = Quote.objects.get(pk=threads["quote_on_own"].pk)
    denial = StatusChange.objects.get(pk=threads["denial"].pk)
    assert (on_shared.rumour, on_shared.source) == (threads["keep"], threads["keep_shared"])
    assert (on_own.rumour, on_own.source) == (threads["keep"], threads["dup_only"])
    assert (denial.rumour, denial.evidence_source) == (threads["keep"], threads["keep_shared"])


def test_it_moves_the_status_history_and_derives_the_status_again(threads, analyst):
    # when
    keep = rumours_merge(keep=threads["keep"], duplicate=threads["duplicate"], merged_by=analyst)

    # then
    assert list(StatusChange.objects.filter(rumour=keep).values_list("status", flat=True)) == [S.RUMOURED, S.DENIED]
    assert not StatusChange.objects.filter(rumour=threads["duplicate"]).exists()
    keep.refresh_from_db()
    duplicate = Rumour.objects.get(pk=threads["duplicate"].pk)
    assert (keep.status, keep.status_effective_at) == (S.DENIED, at(2021, 3, 1))
    assert duplicate.status == ""


def test_it_marks_the_duplicate_merged_and_drops_it_from_lists(threads, analyst):
    # given
    assert set(rumour_list()) == {threads["keep"], threads["duplicate"]}

    # when
    rumours_merge(keep=threads["keep"], duplicate=threads["duplicate"], merged_by=analyst)

    # then
    duplicate = Rumour.objects.get(pk=threads["duplicate"].pk)
    assert duplicate.merged_into == threads["keep"]
    assert f"Merged into #{threads['keep'].pk}" in duplicate.summary
    assert list(rumour_list()) == [threads["keep"]]


def test_it_refuses_to_merge_a_rumour_into_itself(threads, analyst):
    with pytest.raises(RumourError, match="itself"):
        rumours_merge(keep=threads["keep"], duplicate=threads["keep"], merged_by=analyst)

    assert Rumour.objects.get(pk=threads["keep"].pk).merged_into is None


def test_it_refuses_to_merge_twice(threads, analyst):
    # given
    rumours_merge(keep=threads["keep"], duplicate=threads["duplicate"], merged_by=analyst)

    # when / then
    with pytest.raises(RumourError, match="already merged"):
        rumours_merge(keep=threads["keep"], duplicate=threads["duplicate"], merged_by=analyst)
    with pytest.raises(RumourError, match="already merged"):
        rumours_merge(keep=threads["duplicate"], duplicate=threads["keep"], merged_by=analyst)
    assert Rumour.objects.get(pk=threads["keep"].pk).merged_into is None


# --- Expiry -----------------------------------------------------------------------------------


@pytest.fixture
def window(settings) -> int:
    settings.RUMOURS_EXPIRE_AFTER_DAYS = 30
    return 30


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def rumour_in(make_rumour, analyst, now):
    """A rumour whose history ends in the given statuses, its last evidence ``days`` ago."""

    def make(*statuses: str, days: int) -> Rumour:
        last = now - timedelta(days=days)
        rumour = make_rumour(title=f"{'/'.join(statuses)} {days} days ago")
        for n, status in enumerate(statuses):
            moment = last - timedelta(days=len(statuses) - 1 - n)
            rumour_change_status(rumour=rumour, status=status, effective_at=moment, recorded_by=analyst)
        rumour_attach_source(rumour=rumour, added_by=analyst, url=f"https://a.example/{rumour.pk}", published_at=last)
        rumour.refresh_from_db()
        assert rumour.last_evidence_at == last
        return rumour

    return make


@pytest.mark.parametrize("statuses", [(S.RUMOURED,), (S.IN_TALKS,), (S.DENIED,)], ids=lambda s: s[-1])
def test_it_expires_open_rumours_without_new_evidence(window, now, rumour_in, statuses):
    # given
    rumour = rumour_in(*statuses, days=60)

    # when
    expired = rumours_expire_stale(now=now)

    # then
    assert [r.pk for r in expired] == [rumour.pk]
    rumour.refresh_from_db()
    assert (rumour.status, rumour.status_effective_at) == (S.EXPIRED, now)
    assert rumour.credibility <= 15


def test_it_records_the_expiry_as_the_system_and_names_the_window(window, now, rumour_in):
    # given
    rumour = rumour_in(S.RUMOURED, days=60)

    # when
    rumours_expire_stale(now=now)

    # then
    change = StatusChange.objects.filter(rumour=rumour).latest_first().first()
    assert change is not None
    assert (change.status, change.effective_at, change.recorded_by, change.is_system) == (S.EXPIRED, now, None, True)
    assert "60 days" in change.note
    assert "RUMOURS_EXPIRE_AFTER_DAYS=30" in change.note


@pytest.mark.parametrize(
    ("statuses", "days"),
    [
        pytest.param((S.COMPLETED,), 400, id="completed"),
        pytest.param((S.AGREED,), 400, id="agreed"),
        pytest.param((S.RUMOURED, S.ABANDONED), 400, id="abandoned"),
        pytest.param((S.RUMOURED,), 10, id="fresh"),
        pytest.param((S.IN_TALKS,), 29, id="inside-the-window"),
    ],
)
def test_it_leaves_closed_and_fresh_rumours_alone(window, now, rumour_in, statuses, days):
    # given
    rumour = rumour_in(*statuses, days=days)
    history = StatusChange.objects.filter(rumour=rumour).count()

    # when
    expired = rumours_expire_stale(now=now)

    # then
    assert expired == []
    rumour.refresh_from_db()
    assert rumour.status == statuses[-1]
    assert StatusChange.objects.filter(rumour=rumour).count() == history


def test_it_counts_any_new_evidence_as_keeping_a_rumour_alive(window, now, rumour_in, analyst):
    # given an old rumour with a quote from last week
    rumour = rumour_in(S.RUMOURED, days=200)
    quote_add(
        rumour=rumour,
        text="Talks are ongoing.",
        said_at=now - timedelta(days=7),
        added_by=analyst,
        speaker_name="X",
        stance=Stance.CONFIRMS,
    )

    # when / then
    assert rumours_expire_stale(now=now) == []


def test_it_uses_the_configured_window(settings, now, rumour_in):
    # given a rumour idle for 60 days, and a 90-day window
    settings.RUMOURS_EXPIRE_AFTER_DAYS = 90
    rumour = rumour_in(S.RUMOURED, days=60)

    # when / then
    assert rumours_expire_stale(now=now) == []
    settings.RUMOURS_EXPIRE_AFTER_DAYS = 30
    assert [r.pk for r in rumours_expire_stale(now=now)] == [rumour.pk]


def test_it_does_nothing_the_second_time(window, now, rumour_in):
    # given
    stale = [rumour_in(S.RUMOURED, days=60), rumour_in(S.DENIED, days=45)]
    first = rumours_expire_stale(now=now)
    history = StatusChange.objects.count()

    # when
    second = rumours_expire_stale(now=now + timedelta(seconds=1))

    # then
    assert sorted(r.pk for r in first) == sorted(r.pk for r in stale)
    assert second == []
    assert StatusChange.objects.count() == history
