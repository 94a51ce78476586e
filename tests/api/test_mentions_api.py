"""GET /api/v1/mentions/: the analyst inbox over the API. Who may read it, the contract fields,
the filters (deal, company, cluster, state), bad filter values, and a fixed query count."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from rumours.mentions import mention_accept, mentions_dismiss, mentions_scan
from rumours.models import ApiScope, Company, Mention, Person
from rumours.services import AliasSpec, CompanySpec, api_key_create, company_upsert, person_upsert
from tests.articles import DEAL_BODY, DEAL_TITLE, HUNGATE_SAYS
from tests.rumours.conftest import UserFactory, make_entry
from tracker.models import Entry, Feed, OutletTier
from tracker.services import feed_create

pytestmark = pytest.mark.django_db

MENTIONS = "/api/v1/mentions/"

COPY_TITLE = "Southeast Asia's two super apps move closer to a merger"
COPY_BODY = DEAL_BODY + "<p>Shares of GoTo rose 4 per cent in Jakarta after the announcement.</p>"
NON_DEAL_TITLE = "Grab launches grocery delivery in Hanoi"
NON_DEAL_BODY = (
    "<p>Grab said on Monday it would start delivering groceries in Hanoi, adding a service its customers had "
    "asked for.</p><p>The ride-hailing company will hire 500 riders.</p>"
)
LAZADA_TITLE = "Lazada weighs sale of Vietnam unit to Tiki"
LAZADA_BODY = (
    "<p>Lazada is weighing a sale of its Vietnamese marketplace to Tiki, according to people familiar with the "
    "matter, in a deal that could value the business at around US$400 million.</p>"
    "<p>Tiki has hired advisers to study the Lazada books and a term sheet could be ready by the end of the "
    "quarter.</p>"
)


@pytest.fixture
def watchlist(db) -> dict[str, Company]:
    specs = [
        CompanySpec("GoTo", "ID", "super_app", tickers=["IDX:GOTO"]),
        CompanySpec(
            "Grab",
            "SG",
            "super_app",
            aliases=(AliasSpec("Grab", ambiguous=True), AliasSpec("Grab Holdings"), AliasSpec("그랩", "ko")),
        ),
        CompanySpec("Tiki", "VN", "e_commerce"),
        CompanySpec("Lazada", "SG", "e_commerce"),
    ]
    return {spec.name: company_upsert(spec=spec)[0] for spec in specs}


@pytest.fixture
def hungate(watchlist) -> Person:
    return person_upsert(name="Alex Hungate", company=watchlist["Grab"], role="President")[0]


@pytest.fixture
def feeds(db) -> dict[str, Feed]:
    return {
        "wire": feed_create(url="https://wire.example/rss", title="SEA Wire", language="en", tier=OutletTier.WIRE)[0],
        "daily": feed_create(url="https://daily.example/tech.xml", title="Jakarta Daily", language="en")[0],
    }


def publish(feed: Feed, title: str, body: str, *, at: datetime) -> Entry:
    entry = make_entry(title, body, feed=feed)
    Entry.objects.filter(pk=entry.pk).update(published_at=at)
    return entry


@pytest.fixture
def inbox(watchlist, hungate, feeds, analyst) -> dict[str, Mention]:
    """The wire's deal story and its syndicated copy (one cluster), a non-deal article naming Grab
    (dismissed) and a Lazada–Tiki sale report (accepted onto a new thread)."""
    start = timezone.now() - timedelta(days=3)
    entries = {
        "deal": publish(feeds["wire"], DEAL_TITLE, DEAL_BODY, at=start),
        "copy": publish(feeds["daily"], COPY_TITLE, COPY_BODY, at=start + timedelta(hours=5)),
        "non_deal": publish(feeds["daily"], NON_DEAL_TITLE, NON_DEAL_BODY, at=start + timedelta(hours=6)),
        "lazada": publish(feeds["wire"], LAZADA_TITLE, LAZADA_BODY, at=start + timedelta(hours=7)),
    }
    mentions_scan(entry_ids=[entry.pk for entry in entries.values()])
    found = {name: Mention.objects.get(entry=entry) for name, entry in entries.items()}
    mentions_dismiss(mention_ids=[found["non_deal"].pk], by=analyst)
    mention_accept(mention=found["lazada"], by=analyst)
    for mention in found.values():
        mention.refresh_from_db()
    assert found["deal"].cluster_id == found["copy"].cluster_id != found["lazada"].cluster_id
    return found


def client_for(scope: str) -> APIClient:
    key = api_key_create(user=UserFactory.create(), name="tests", scope=scope, created_by=None)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api() -> APIClient:
    return client_for(ApiScope.ANALYST)


def listed(api: APIClient, **params: Any) -> list[dict[str, Any]]:
    response = api.get(MENTIONS, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(rows: list[dict[str, Any]]) -> set[int]:
    return {row["id"] for row in rows}


# --- Access --------------------------------------------------------------------------------------


def test_it_refuses_an_investor_key(inbox):
    response = client_for(ApiScope.INVESTOR).get(MENTIONS)

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "This endpoint is for analyst keys; yours has the investor scope."


def test_it_refuses_an_investor_key_one_mention_too(inbox):
    response = client_for(ApiScope.INVESTOR).get(f"{MENTIONS}{inbox['deal'].pk}/")

    assert response.status_code == 403


def test_it_asks_an_anonymous_caller_for_a_key(inbox):
    response = APIClient().get(MENTIONS)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "Authorization" in response.json()["error"]["message"]


# --- The contract --------------------------------------------------------------------------------


def test_it_shows_an_analyst_the_contract_fields(api, inbox, hungate):
    # when
    [deal] = [row for row in listed(api) if row["id"] == inbox["deal"].pk]

    # then
    entry = inbox["deal"].entry
    assert deal["entry"] == {
        "url": entry.link,
        "title": DEAL_TITLE,
        "feed": "SEA Wire",
        "published_at": entry.published_at.isoformat().replace("+00:00", "Z"),
        "language": "en",
        "cluster": inbox["deal"].cluster_id,
    }
    assert deal["companies"] == ["GoTo", "Grab"]
    assert deal["parties"] == ["Grab", "GoTo"]  # in detection's order: as the headline names them
    assert deal["is_deal_candidate"] is True
    assert deal["deal_score"] == pytest.approx(inbox["deal"].deal_score)
    assert deal["deal_score"] >= 0.5
    assert (deal["stage_hint"], deal["deal_type"]) == ("in_talks", "merger")
    assert deal["quotes"] == [
        {
            "speaker": "Alex Hungate",
            "person": hungate.pk,
            "role": "President",
            "company": "Grab",
            "text": HUNGATE_SAYS,
            "stance": "confirms",
        }
    ]
    assert deal["rumour"] is None
    assert deal["state"] == "new"


def test_it_shows_the_rumour_an_accepted_mention_was_attached_to(api, inbox):
    [lazada] = listed(api, state="accepted")

    assert lazada["id"] == inbox["lazada"].pk
    assert inbox["lazada"].rumour_id is not None
    assert lazada["rumour"] == inbox["lazada"].rumour_id
    assert lazada["parties"] == ["Lazada", "Tiki"]


def test_it_shows_one_mention(api, inbox):
    response = api.get(f"{MENTIONS}{inbox['copy'].pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["entry"]["title"] == COPY_TITLE
    assert body["entry"]["feed"] == "Jakarta Daily"
    assert body["entry"]["cluster"] == inbox["deal"].cluster_id


# --- Filters -------------------------------------------------------------------------------------


def test_it_filters_deal_candidates_and_the_rest(api, inbox):
    assert ids(listed(api, deal="true")) == {inbox["deal"].pk, inbox["copy"].pk, inbox["lazada"].pk}
    assert ids(listed(api, deal="false")) == {inbox["non_deal"].pk}
    assert ids(listed(api)) == {m.pk for m in inbox.values()}


@pytest.mark.parametrize("company", ["Grab", "grab", "Grab Holdings", "그랩", "GRAB"])
def test_it_filters_by_any_name_of_a_company(api, inbox, company):
    assert ids(listed(api, company=company)) == {inbox["deal"].pk, inbox["copy"].pk, inbox["non_deal"].pk}


def test_it_filters_by_slug_and_id(api, inbox, watchlist):
    assert ids(listed(api, company="tiki")) == {inbox["lazada"].pk}
    assert ids(listed(api, company=str(watchlist["GoTo"].pk))) == {inbox["deal"].pk, inbox["copy"].pk}


def test_it_filters_copies_of_one_story(api, inbox):
    assert ids(listed(api, cluster=str(inbox["deal"].cluster_id))) == {inbox["deal"].pk, inbox["copy"].pk}
    assert ids(listed(api, cluster=str(inbox["lazada"].cluster_id))) == {inbox["lazada"].pk}


@pytest.mark.parametrize(("state", "names"), [("new", {"deal", "copy"}), ("dismissed", {"non_deal"})])
def test_it_filters_by_state(api, inbox, state, names):
    rows = listed(api, state=state)

    assert ids(rows) == {inbox[name].pk for name in names}
    assert {row["state"] for row in rows} == {state}


def test_it_combines_filters(api, inbox):
    assert ids(listed(api, deal="true", company="GoTo", state="new")) == {inbox["deal"].pk, inbox["copy"].pk}
    assert listed(api, deal="false", state="new") == []


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("deal", "maybe", "Use true or false."),
        ("deal", "True", "Use true or false."),
        ("cluster", "abc", "A cluster id is a whole number."),
        ("cluster", "-3", "A cluster id is a whole number."),
        ("state", "bogus", "Use one of new, accepted, dismissed."),
        ("company", "Shopee", "No company is called 'Shopee'; try its ticker or slug."),
    ],
)
def test_it_refuses_a_bad_filter_value_saying_what_to_send(api, inbox, param, value, message):
    response = api.get(MENTIONS, {param: value})

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (400, "invalid")
    assert error["details"] == {param: [message]}


# --- Cost ----------------------------------------------------------------------------------------


def test_it_runs_the_same_number_of_queries_whatever_the_page_size(api, watchlist, hungate, feeds, analyst):
    start = timezone.now() - timedelta(days=5)
    made = 0

    def make(count: int) -> None:
        nonlocal made
        entries = []
        for _ in range(count):
            made += 1
            entries.append(
                publish(
                    feeds["wire"] if made % 2 else feeds["daily"],
                    f"{DEAL_TITLE} ({made})",
                    DEAL_BODY if made % 3 else NON_DEAL_BODY,
                    at=start + timedelta(minutes=made),
                )
            )
        mentions_scan(entry_ids=[entry.pk for entry in entries])
        # some decided, so rumour ids, states and empty quote lists are all on the page
        decided = Mention.objects.filter(entry__in=entries).order_by("pk")
        mention_accept(mention=decided[0], by=analyst)
        mentions_dismiss(mention_ids=[decided[1].pk], by=analyst)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = api.get(MENTIONS)
        assert response.status_code == 200
        return len(queries), len(response.json()["results"])

    count()  # the key's first use records last_used_at once; measure the steady state
    make(10)
    few, rows_few = count()
    make(20)
    many, rows_many = count()

    assert (rows_few, rows_many) == (10, 30)
    assert few == many


@pytest.mark.parametrize("value", ["²", "99999999999999999999999", "1e3"])
def test_it_refuses_a_cluster_id_that_is_not_a_plain_number(api, inbox, value):
    response = api.get(MENTIONS, {"cluster": value})

    assert response.status_code == 400
