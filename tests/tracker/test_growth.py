"""The admin lists that grow (entries, poll logs, the inbox, feeds): the right rows for
each filter and search, a fixed number of queries per page, no COUNT(*) over a whole
table, and on PostgreSQL searches served by the trigram indexes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rumours.models import Mention
from rumours.services import AliasSpec, CompanySpec, company_upsert
from tracker.admin import LargeTablePaginator, entry_languages
from tracker.models import Entry, Feed, PollLog, PollOutcome
from tracker.services import feed_create

pytestmark = pytest.mark.django_db

ENTRIES = "/admin/tracker/entry/"
POLL_LOGS = "/admin/tracker/polllog/"
FEEDS = "/admin/tracker/feed/"
INBOX = "/admin/rumours/mention/"
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's")


@pytest.fixture
def staff_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("curator", "c@example.invalid", "a-long-pass-1"))
    return client


@pytest.fixture
def feeds() -> dict[str, Feed]:
    return {
        "en": feed_create(url="https://wire.example/rss", title="Wire", language="en")[0],
        "ko": feed_create(url="https://gyeongje.example/rss", title="경제", language="ko")[0],
    }


def add_entries(feed: Feed, titles: list[str], *, days_ago: int = 1, estimated: bool = False) -> list[Entry]:
    now = timezone.now()
    rows = []
    for n, title in enumerate(titles):
        key = hashlib.sha256(f"{feed.pk}:{title}:{n}".encode()).hexdigest()
        rows.append(
            Entry(
                feed=feed, identity_key=key, guid=f"urn:{key[:16]}", link=f"{feed.url.rsplit('/', 1)[0]}/a/{key[:10]}",
                title=title, language=feed.language, published_at=now - timedelta(days=days_ago, minutes=n),
                date_estimated=estimated, content_hash=key,
            )
        )  # fmt: skip
    return Entry.objects.bulk_create(rows)


def listed(response: Any) -> list[Any]:
    assert response.status_code == 200, response.content[:500]
    return list(response.context["cl"].result_list)


def unbounded_counts(queries: CaptureQueriesContext) -> list[str]:
    """Counts that are not over a LIMIT subquery: the ones that would scan a big table."""
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("SELECT COUNT(")]
    return [sql for sql in counts if " LIMIT " not in sql.upper()]


def get(client: Any, url: str, params: dict[str, str] | None = None) -> tuple[Any, CaptureQueriesContext]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    return response, queries


# --- entries -----------------------------------------------------------------------------------


def test_the_entry_list_filters_by_language_feed_date_and_estimate(staff_client, feeds):
    # given
    add_entries(feeds["en"], ["Grab weighs GoTo bid", "Sea Ltd results"])
    add_entries(feeds["ko"], ["고투 그랩 합병"])
    add_entries(feeds["en"], ["Undated wire copy"], estimated=True)
    add_entries(feeds["en"], ["Last year's story"], days_ago=400)

    # when / then
    assert {e.title for e in listed(staff_client.get(ENTRIES, {"language": "ko"}))} == {"고투 그랩 합병"}
    assert {e.title for e in listed(staff_client.get(ENTRIES, {"feed": str(feeds["ko"].pk)}))} == {"고투 그랩 합병"}
    assert {e.title for e in listed(staff_client.get(ENTRIES, {"date_estimated__exact": "1"}))} == {"Undated wire copy"}
    since = str(timezone.now() - timedelta(days=30))
    recent = listed(staff_client.get(ENTRIES, {"published_at__gte": since}))
    assert "Last year's story" not in {e.title for e in recent}
    assert len(recent) == 4


def test_the_entry_search_matches_title_words_and_link_case_blind(staff_client, feeds):
    # given
    add_entries(feeds["en"], ["Grab weighs GoTo bid", "Grab posts profit", "Sea Ltd results"])
    add_entries(feeds["ko"], ["고투 그랩 합병 논의"])
    ko_link = Entry.objects.get(feed=feeds["ko"]).link

    # when / then: every word must match, in any case
    assert {e.title for e in listed(staff_client.get(ENTRIES, {"q": "grab GOTO"}))} == {"Grab weighs GoTo bid"}
    assert {e.title for e in listed(staff_client.get(ENTRIES, {"q": "그랩 합병"}))} == {"고투 그랩 합병 논의"}
    assert {e.title for e in listed(staff_client.get(ENTRIES, {"q": ko_link}))} == {"고투 그랩 합병 논의"}
    assert {e.title for e in listed(staff_client.get(ENTRIES, {"q": "gyeongje.example"}))} == {"고투 그랩 합병 논의"}


@pytest.mark.parametrize("params", [{}, {"q": "grab"}, {"language": "en"}, {"date_estimated__exact": "0"}], ids=str)
def test_the_entry_list_counts_no_whole_table_and_costs_the_same_for_more_rows(staff_client, feeds, params):
    # given
    add_entries(feeds["en"], [f"Grab story {n}" for n in range(3)])
    _, few = get(staff_client, ENTRIES, params)
    add_entries(feeds["en"], [f"Grab story {n}" for n in range(3, 40)])
    add_entries(feeds["ko"], [f"Grab 기사 {n}" for n in range(10)])

    # when
    response, many = get(staff_client, ENTRIES, params)

    # then
    assert len(listed(response)) > 3
    assert unbounded_counts(many) == []
    assert len(many) == len(few)


def test_a_count_past_the_exact_limit_is_bounded_then_estimated(staff_client, feeds, monkeypatch):
    # given: more matching rows than the paginator counts exactly
    monkeypatch.setattr(LargeTablePaginator, "exact_up_to", 5)
    add_entries(feeds["en"], [f"Grab story {n}" for n in range(12)])

    # when
    response, queries = get(staff_client, ENTRIES, {"q": "grab"})

    # then: PostgreSQL asks the planner; SQLite (small by design) counts exactly
    result_count = response.context["cl"].result_count
    bounded = [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("SELECT COUNT(")]
    assert len(bounded) == (1 if connection.vendor == "postgresql" else 2)
    assert " LIMIT 6" in bounded[0].upper()
    if connection.vendor == "postgresql":
        assert result_count >= 6
        assert any(q["sql"].upper().startswith("EXPLAIN (FORMAT JSON)") for q in queries.captured_queries)
    else:
        assert result_count == 12
    assert len(listed(response)) == 12


@postgresql_only
def test_an_unfiltered_list_of_a_big_table_uses_the_row_estimate(staff_client, feeds, monkeypatch):
    # given: a table past the exact limit, analysed as autovacuum would
    monkeypatch.setattr(LargeTablePaginator, "exact_up_to", 5)
    add_entries(feeds["en"], [f"Story {n}" for n in range(30)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tracker_entry")

    # when
    response, queries = get(staff_client, ENTRIES)

    # then: no count at all, and the estimate stands in for it
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert response.context["cl"].result_count == 30
    assert len(listed(response)) == 30


def test_the_language_choices_come_from_the_index(feeds):
    add_entries(feeds["en"], ["One", "Two"])
    add_entries(feeds["ko"], ["셋"])
    Entry.objects.filter(title="Two").update(language="")

    assert entry_languages() == ["en", "ko"]


# --- poll logs and feeds --------------------------------------------------------------------------


def test_the_poll_log_list_filters_by_status_class_and_searches_feeds_without_a_whole_count(staff_client, feeds):
    # given
    for feed, outcome, status in [
        (feeds["en"], PollOutcome.FETCHED, 200),
        (feeds["en"], PollOutcome.ERROR, 503),
        (feeds["ko"], PollOutcome.ERROR, None),
    ]:
        PollLog.objects.create(feed=feed, url=feed.url, outcome=outcome, status_code=status)

    # when
    server_errors, queries = get(staff_client, POLL_LOGS, {"status": "5"})
    no_answer = listed(staff_client.get(POLL_LOGS, {"status": "none"}))
    searched = listed(staff_client.get(POLL_LOGS, {"q": "gyeongje"}))

    # then
    assert [log.status_code for log in listed(server_errors)] == [503]
    assert [log.feed for log in no_answer] == [feeds["ko"]]
    assert [log.feed for log in searched] == [feeds["ko"]]
    assert unbounded_counts(queries) == []


def test_the_feed_list_links_each_feed_to_its_entries_in_a_fixed_number_of_queries(staff_client, feeds):
    # given
    _, few = get(staff_client, FEEDS)
    for n in range(10):
        feed_create(url=f"https://outlet{n}.example/rss", title=f"Outlet {n}", language="id")

    # when
    response, many = get(staff_client, FEEDS)

    # then
    assert response.status_code == 200
    assert f'href="{ENTRIES}?feed={feeds["ko"].pk}"' in response.content.decode()
    assert len(many) == len(few)


# --- the inbox ------------------------------------------------------------------------------------


@pytest.fixture
def inbox(feeds) -> dict[str, Mention]:
    goto = company_upsert(spec=CompanySpec("GoTo", "ID", "super_app", aliases=(AliasSpec("Gojek"),)))[0]
    grab = company_upsert(spec=CompanySpec("Grab", "SG", "super_app", aliases=(AliasSpec("Grab Holdings"),)))[0]
    sea = company_upsert(spec=CompanySpec("Sea", "SG", "e_commerce"))[0]
    titles = {"merger": "Merger talks resume", "ko": "고투 그랩 합병 논의", "results": "Quarterly results"}
    entries = add_entries(feeds["en"], [titles["merger"], titles["results"]]) + add_entries(feeds["ko"], [titles["ko"]])
    mentions = {}
    for (name, _), entry, companies in zip(
        titles.items(), [entries[0], entries[2], entries[1]], [[goto, grab], [goto, grab], [sea]], strict=True
    ):
        mentions[name] = Mention.objects.create(entry=entry, is_deal_candidate=True)
        mentions[name].companies.set(companies)
    return mentions


def test_the_inbox_search_matches_titles_and_companies_by_name_or_alias_once_each(staff_client, inbox):
    def search(term: str) -> list[Mention]:
        return listed(staff_client.get(INBOX, {"q": term}))

    assert search("merger") == [inbox["merger"]]
    assert search("합병") == [inbox["ko"]]
    assert sorted(m.pk for m in search("gojek")) == sorted([inbox["merger"].pk, inbox["ko"].pk])
    # "grab" names Grab and its alias Grab Holdings: each article still once
    assert sorted(m.pk for m in search("grab")) == sorted([inbox["merger"].pk, inbox["ko"].pk])
    assert search("gojek talks") == [inbox["merger"]]
    assert search("nothing-like-this") == []


def test_the_inbox_filters_by_language_and_company_without_a_whole_count(staff_client, inbox):
    sea = inbox["results"].companies.get()

    korean, queries = get(staff_client, INBOX, {"entry__language": "ko"})
    by_company = listed(staff_client.get(INBOX, {"company": str(sea.pk)}))

    assert listed(korean) == [inbox["ko"]]
    assert by_company == [inbox["results"]]
    assert unbounded_counts(queries) == []
    page = korean.content.decode()
    assert "?entry__language=en" in page  # the language choices, read from the index
    assert f"company={sea.pk}" in page


@pytest.mark.parametrize("params", [{}, {"q": "grab"}, {"entry__language": "en"}], ids=str)
def test_the_inbox_costs_the_same_for_more_articles(staff_client, inbox, feeds, params):
    # given
    _, few = get(staff_client, INBOX, params)
    grab = inbox["merger"].companies.get(name="Grab")
    for entry in add_entries(feeds["en"], [f"Grab deal {n}" for n in range(12)], days_ago=2):
        Mention.objects.create(entry=entry, is_deal_candidate=True).companies.set([grab])

    # when
    response, many = get(staff_client, INBOX, params)

    # then
    assert len(listed(response)) > 2
    assert unbounded_counts(many) == []
    assert len(many) == len(few)


# --- on PostgreSQL: the plans use the trigram indexes -------------------------------------------


@pytest.fixture
def without_scans() -> Iterator[None]:
    """Plans as on a big table: a small test table would otherwise be read whole, which is cheapest."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        yield


def search_plan(model: type, term: str) -> str:
    model_admin = site._registry[model]
    request = RequestFactory().get("/admin/", {"q": term})
    queryset, _ = model_admin.get_search_results(request, model_admin.model.objects.all(), term)
    return str(queryset.explain())


@postgresql_only
def test_the_entry_search_is_served_by_the_trigram_indexes(feeds, without_scans):
    add_entries(feeds["en"], ["Grab weighs GoTo bid"])

    plan = search_plan(Entry, "merger")

    assert "entry_title_upper_trgm" in plan
    assert "entry_link_upper_trgm" in plan


@postgresql_only
def test_the_inbox_search_is_served_by_the_title_trigram_index(inbox, without_scans):
    plan = search_plan(Mention, "merger")

    assert "entry_title_upper_trgm" in plan
