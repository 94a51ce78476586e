"""Regressions for what the review of the analyst's desk found."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rumours import credibility
from rumours.models import Status
from rumours.selectors import statuses_as_of
from rumours.services import (
    RumourError,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
    rumours_merge,
)
from tests.rumours.conftest import at

pytestmark = pytest.mark.django_db


def test_it_answers_as_of_a_date_before_a_merge_as_it_did_then(make_rumour, analyst, goto, grab):
    # given: two threads, each with its own history, merged today
    keep = make_rumour(title="GoTo–Grab merger", companies=[goto, grab])
    duplicate = make_rumour(title="Grab-GoTo combination", companies=[goto, grab])
    rumour_change_status(
        rumour=keep, status=Status.RUMOURED, effective_at=at(2021), recorded_at=at(2021), recorded_by=analyst
    )
    rumour_change_status(
        rumour=duplicate, status=Status.DENIED, effective_at=at(2023), recorded_at=at(2023), recorded_by=analyst
    )
    before = statuses_as_of(at(2024))

    # when
    rumours_merge(keep=keep, duplicate=duplicate, merged_by=analyst)

    # then: the past answers the same; today there is one thread with both histories
    assert statuses_as_of(at(2024)) == before == {keep.pk: Status.RUMOURED, duplicate.pk: Status.DENIED}
    assert statuses_as_of(datetime.now(UTC)) == {keep.pk: Status.DENIED}


def test_it_refuses_writes_to_a_merged_duplicate(make_rumour, analyst, goto, grab):
    keep, duplicate = make_rumour(companies=[goto, grab]), make_rumour(companies=[goto, grab])
    rumours_merge(keep=keep, duplicate=duplicate, merged_by=analyst)
    duplicate.refresh_from_db()

    with pytest.raises(RumourError, match="merged into"):
        rumour_change_status(rumour=duplicate, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst)
    with pytest.raises(RumourError, match="merged into"):
        quote_add(rumour=duplicate, text="No comment.", speaker_name="X", said_at=at(2024), added_by=analyst)


def test_it_answers_404_for_a_merged_duplicates_status_page(make_rumour, analyst, goto, grab, admin_client):
    keep, duplicate = make_rumour(companies=[goto, grab]), make_rumour(companies=[goto, grab])
    rumours_merge(keep=keep, duplicate=duplicate, merged_by=analyst)

    assert admin_client.get(f"/admin/rumours/rumour/{duplicate.pk}/status/").status_code == 404


def test_it_answers_404_not_500_for_a_bad_entry_parameter(admin_client):
    assert admin_client.get("/admin/rumours/rumour/create/?entry=abc").status_code == 404


def test_it_counts_an_executive_saying_the_same_thing_twice_once():
    quotes = [credibility.QuoteFact("confirms", True, "Alex Hungate")] * 2

    points, parts = credibility.score(sources=[], quotes=quotes, status="rumoured", last_evidence_at=None, now=at(2025))

    assert points == 20
    assert parts[0].label == "1 party executive(s) confirmed on record (Alex Hungate)"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "ftp://files.example/a"])
def test_it_refuses_a_source_url_that_is_not_http(make_rumour, analyst, url):
    with pytest.raises(RumourError, match="http"):
        rumour_attach_source(rumour=make_rumour(), url=url, published_at=at(2024), added_by=analyst)


def test_it_places_a_back_filled_change_by_its_recording_time_within_the_same_moment(make_rumour, analyst):
    # given: completed, effective at noon, recorded at 13:00
    rumour = make_rumour()
    noon = at(2024, 3, 1, 12)
    rumour_change_status(
        rumour=rumour, status=Status.COMPLETED, effective_at=noon, recorded_at=at(2024, 3, 1, 13), recorded_by=analyst
    )

    # when: a "rumoured" for the same moment, recorded earlier, is back-filled: it goes before
    rumour_change_status(
        rumour=rumour, status=Status.RUMOURED, effective_at=noon, recorded_at=at(2024, 3, 1, 11), recorded_by=analyst
    )

    # then the history reads rumoured → completed, and completed is the status
    rumour.refresh_from_db()
    assert rumour.status == Status.COMPLETED
    ordered = rumour.status_changes.order_by("effective_at", "recorded_at").values_list("status", flat=True)
    assert list(ordered) == [Status.RUMOURED, Status.COMPLETED]
