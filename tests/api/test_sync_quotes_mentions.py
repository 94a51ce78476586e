"""status-changes/ incremental sync, quotes/, mentions/ (analyst scope), a schema check in CI and conditional GET."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from rumours.models import ApiScope, Stance, Status, StatusChange
from rumours.services import api_key_create, quote_add, rumour_change_status, status_change_retract
from tests.rumours.conftest import UserFactory, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_settle_delay(settings):
    settings.API_SYNC_SETTLE_SECONDS = 0


def client_for(scope: str = ApiScope.INVESTOR) -> APIClient:
    key = api_key_create(user=UserFactory.create(), name="t", scope=scope, created_by=None)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def record(rumour, analyst, status: str, year: int) -> StatusChange:
    return rumour_change_status(rumour=rumour, status=status, effective_at=at(year), recorded_by=analyst)


def sync_all(api: APIClient, since: str = "", page_size: int = 2) -> tuple[dict[int, dict], str]:
    """What a client does: page through with next_since, upserting by id."""
    local: dict[int, dict] = {}
    while True:
        params = {"page_size": str(page_size), **({"since": since} if since else {})}
        body = api.get("/api/v1/status-changes/", params).json()
        for row in body["results"]:
            local[row["id"]] = row
        since = body["next_since"]
        if not body["has_more"]:
            return local, since


def test_it_syncs_every_change_once_and_sends_a_retraction_as_an_update(make_rumour, analyst):
    api = client_for()
    rumour = make_rumour()
    first = record(rumour, analyst, Status.RUMOURED, 2020)
    record(rumour, analyst, Status.DENIED, 2021)
    record(rumour, analyst, Status.RUMOURED, 2023)

    local, since = sync_all(api)
    assert sorted(local) == sorted(rumour.status_changes.values_list("pk", flat=True))

    # when: nothing new, then a retraction and a new change
    assert api.get("/api/v1/status-changes/", {"since": since}).json()["results"] == []
    status_change_retract(change=first, retracted_by=analyst, reason="Wrong thread.")
    newest = record(rumour, analyst, Status.DENIED, 2024)
    update, since = sync_all(api, since)

    # then: exactly the two rows that changed, the retraction as an update
    assert sorted(update) == sorted([first.pk, newest.pk])
    assert update[first.pk]["retracted"] is True


def test_it_holds_back_rows_younger_than_the_settle_time(make_rumour, analyst, settings):
    settings.API_SYNC_SETTLE_SECONDS = 60
    record(make_rumour(), analyst, Status.RUMOURED, 2020)

    assert client_for().get("/api/v1/status-changes/").json()["results"] == []


def test_it_never_misses_a_back_dated_record(make_rumour, analyst):
    # A record back-dated to 2019 (an import) still arrives after a client synced past 2019.
    api = client_for()
    rumour = make_rumour()
    record(rumour, analyst, Status.RUMOURED, 2024)
    _, since = sync_all(api)

    late = rumour_change_status(
        rumour=make_rumour(), status=Status.DENIED, effective_at=at(2019), recorded_at=at(2019), recorded_by=analyst
    )

    update, _ = sync_all(api, since)
    assert list(update) == [late.pk]


def test_it_refuses_a_bad_since_or_page_size():
    api = client_for()

    assert api.get("/api/v1/status-changes/", {"since": "yesterday"}).status_code == 400
    assert api.get("/api/v1/status-changes/", {"page_size": "0"}).status_code == 400


def test_it_lists_quotes_by_rumour_and_stance(make_rumour, analyst):
    api = client_for()
    rumour = make_rumour()
    quote_add(
        rumour=rumour, text="We deny it", speaker_name="CEO", stance=Stance.DENIES, said_at=at(2024), added_by=analyst
    )
    quote_add(
        rumour=rumour,
        text="No comment",
        speaker_name="CFO",
        stance=Stance.NO_COMMENT,
        said_at=at(2024, 2),
        added_by=analyst,
    )

    denials = api.get("/api/v1/quotes/", {"rumour": rumour.pk, "stance": "denies"}).json()["results"]

    assert [q["text"] for q in denials] == ["We deny it"]
    assert denials[0]["speaker"]["name"] == "CEO"
    assert api.get("/api/v1/quotes/", {"stance": "maybe"}).status_code == 400


def test_it_shows_mentions_to_analyst_keys_only(settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert client_for(ApiScope.INVESTOR).get("/api/v1/mentions/").status_code == 403
    body = client_for(ApiScope.ANALYST).get("/api/v1/mentions/", {"state": "new"}).json()
    first = body["results"][0]
    assert set(first) >= {
        "entry",
        "companies",
        "is_deal_candidate",
        "deal_score",
        "stage_hint",
        "quotes",
        "rumour",
        "state",
    }
    assert set(first["entry"]) >= {"url", "title", "feed", "published_at", "language", "cluster"}


def test_it_answers_304_to_a_matching_if_none_match(make_rumour):
    api = client_for()
    make_rumour()

    first = api.get("/api/v1/rumours/")
    again = api.get("/api/v1/rumours/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert again.status_code == 304


def test_it_generates_a_schema_without_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()  # warnings are counted process-wide; count only this generation's

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_it_hides_from_a_past_as_of_what_was_recorded_later(make_rumour, analyst):
    api = client_for()
    rumour = make_rumour()
    rumour_change_status(
        rumour=rumour, status=Status.RUMOURED, effective_at=at(2020), recorded_at=at(2020, 2), recorded_by=analyst
    )
    record(rumour, analyst, Status.DENIED, 2021)  # recorded today

    rows = api.get("/api/v1/status-changes/", {"as_of": "2022-01-01"}).json()["results"]

    assert [r["status"] for r in rows] == ["rumoured"]
