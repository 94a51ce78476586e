"""The investor API: keys, errors, filters, point-in-time answers, query counts, schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from rumours.models import ApiKey, ApiScope, Status
from rumours.services import (
    api_key_create,
    api_key_revoke,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
    status_change_retract,
)
from tests.rumours.conftest import CompanyFactory, UserFactory, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def investor():
    return UserFactory.create(username="fund")


@pytest.fixture
def key(investor) -> str:
    return api_key_create(user=investor, name="tests", created_by=None)[1]


@pytest.fixture
def api(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def saga(make_rumour, analyst, goto, grab):
    """GoTo–Grab with a hand-computed history, recorded when it happened."""
    rumour = make_rumour(title="GoTo–Grab merger", companies=[goto, grab])
    source = rumour_attach_source(
        rumour=rumour, url="https://wire.example/1", title="Talks", outlet="Wire", outlet_tier=1,
        published_at=at(2020, 9), added_by=analyst,
    )  # fmt: skip
    for status, year, recorded in [
        (Status.RUMOURED, 2020, at(2020, 9, 2)),
        (Status.DENIED, 2021, at(2021, 1, 2)),
        (Status.RUMOURED, 2024, at(2024, 2, 2)),
    ]:
        rumour_change_status(
            rumour=rumour, status=status, effective_at=at(year, 1, 1) if year != 2020 else at(2020, 9),
            recorded_at=recorded, recorded_by=analyst, evidence_source=source,
        )  # fmt: skip
    return rumour


def get(api: APIClient, path: str, **params: str):
    return api.get(path, params)


# --- access ----------------------------------------------------------------------------------


def test_it_refuses_requests_without_a_key_saying_how_to_send_one():
    response = APIClient().get("/api/v1/rumours/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "Authorization" in response.json()["error"]["message"]


def test_it_refuses_an_unknown_and_a_revoked_key(investor):
    record, key = api_key_create(user=investor, name="old", created_by=None)
    api_key_revoke(api_key=record)
    client = APIClient()

    client.credentials(HTTP_AUTHORIZATION="Bearer srt_nope")
    assert client.get("/api/v1/rumours/").json()["error"]["message"].startswith("This API key is not valid")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get("/api/v1/rumours/")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_it_stores_only_a_hash_and_records_last_use(api, key, investor):
    record = ApiKey.objects.get(user=investor)
    assert key not in (record.key_hash, record.prefix)
    assert record.last_used_at is None

    api.get("/api/v1/rumours/")

    record.refresh_from_db()
    assert record.last_used_at is not None


def test_it_accepts_the_key_in_an_x_api_key_header(key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)

    assert client.get("/api/v1/companies/").status_code == 200


def test_it_refuses_writes_with_a_key(api, saga):
    response = api.post("/api/v1/rumours/", {"title": "x"}, format="json")

    assert response.status_code in (403, 405)
    assert "error" in response.json()


def test_it_throttles_per_key_with_retry_after(api, monkeypatch):
    from rumours.api.auth import ApiKeyRateThrottle

    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "3/min"})

    codes = [api.get("/api/v1/companies/").status_code for _ in range(4)]
    response = api.get("/api/v1/companies/")

    assert codes == [200, 200, 200, 429]
    assert int(response["Retry-After"]) > 0
    assert "retry in" in response.json()["error"]["message"]


def test_create_api_key_prints_the_key_once(capsys):
    call_command("create_api_key", "newfund", "--create-user", "--scope", ApiScope.ANALYST)

    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("srt_")
    assert ApiKey.objects.get(user__username="newfund").scope == ApiScope.ANALYST


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("company", ["GoTo", "goto", "IDX:GOTO", "GOTO", "고투"])
def test_it_finds_a_rumour_by_any_name_of_a_party(api, saga, goto, company):
    from rumours.services import AliasSpec, CompanySpec, company_upsert

    company_upsert(
        spec=CompanySpec(
            name="GoTo", country="ID", sector="super_app", tickers=["IDX:GOTO"], aliases=[AliasSpec("고투", "ko")]
        )
    )

    results = get(api, "/api/v1/rumours/", company=company).json()["results"]

    assert [r["title"] for r in results] == ["GoTo–Grab merger"]


def test_it_filters_by_several_statuses_and_says_which_is_unknown(api, saga, make_rumour):
    make_rumour(title="Quiet thread")

    assert [r["title"] for r in get(api, "/api/v1/rumours/", status="denied,rumoured").json()["results"]] == [
        "GoTo–Grab merger"
    ]
    response = get(api, "/api/v1/rumours/", status="rumored")
    assert response.status_code == 400
    assert "Unknown status 'rumored'" in response.json()["error"]["details"]["status"][0]


def test_it_filters_by_country_sector_and_credibility(api, saga):
    assert get(api, "/api/v1/rumours/", country="id").json()["results"]
    assert not get(api, "/api/v1/rumours/", country="VN").json()["results"]
    assert not get(api, "/api/v1/rumours/", min_credibility="99").json()["results"]


# --- point in time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "status"),
    [("2020-10-01", "rumoured"), ("2021-06-01", "denied"), ("2024-01-15", "denied"), ("2024-03-01", "rumoured")],
)
def test_it_answers_as_known_at_a_past_date(api, saga, as_of, status):
    detail = get(api, f"/api/v1/rumours/{saga.pk}/", as_of=as_of).json()

    assert detail["status"] == status
    assert detail["as_of"].startswith(as_of)
    assert all(change["recorded_at"] <= f"{as_of}T23:59:59Z" for change in detail["status_history"])


def test_it_hides_a_rumour_before_anything_was_recorded(api, saga):
    assert get(api, "/api/v1/rumours/", as_of="2019-01-01").json()["results"] == []


def test_it_applies_retractions_only_once_they_were_made(api, saga, analyst):
    latest = saga.status_changes.order_by("-effective_at").first()
    status_change_retract(change=latest, retracted_by=analyst, reason="Misread the article.")

    before = get(api, f"/api/v1/rumours/{saga.pk}/", as_of="2025-01-01").json()
    now = get(api, f"/api/v1/rumours/{saga.pk}/").json()

    assert before["status"] == "rumoured"  # the retraction was made after 2025-01-01
    assert not any(change["retracted"] for change in before["status_history"])
    assert now["status"] == "denied"
    assert [c["retracted"] for c in now["status_history"]] == [False, False, True]


def test_it_leaves_out_quotes_added_after_as_of(api, saga, analyst):
    quote_add(rumour=saga, text="No comment", speaker_name="X", said_at=datetime.now(UTC), added_by=analyst)

    assert get(api, f"/api/v1/rumours/{saga.pk}/", as_of="2024-06-01").json()["quotes"] == []
    assert len(get(api, f"/api/v1/rumours/{saga.pk}/").json()["quotes"]) == 1


# --- cost ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", [None, "2024-06-01"])
def test_it_runs_the_same_number_of_queries_whatever_the_page_size(api, make_rumour, analyst, as_of):
    def make(n: int) -> None:
        for _ in range(n):
            rumour = make_rumour(companies=[CompanyFactory.create(), CompanyFactory.create()])
            rumour_change_status(
                rumour=rumour, status=Status.RUMOURED, effective_at=at(2024), recorded_at=at(2024), recorded_by=analyst
            )

    params = {"as_of": as_of} if as_of else {}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/rumours/", params).status_code == 200
        return len(queries)

    count()  # the key's first use records last_used_at once; measure the steady state
    make(2)
    few = count()
    make(8)
    many = count()

    assert few == many


def test_it_serves_a_valid_schema_and_self_hosted_docs(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert "/api/v1/rumours/" in schema.content.decode()
    assert docs.status_code == 200
    assert "cdn" not in docs.content.decode().lower()


def test_it_orders_by_credibility_when_asked(api, make_rumour, analyst):
    from rumours.models import Rumour

    for n, score in enumerate([40, 90, 10]):
        rumour = make_rumour(title=f"Deal {n}")
        Rumour.objects.filter(pk=rumour.pk).update(credibility=score)

    titles = [r["title"] for r in get(api, "/api/v1/rumours/", ordering="-credibility").json()["results"]]

    assert titles == ["Deal 1", "Deal 0", "Deal 2"]
