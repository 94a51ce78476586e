"""Growth benchmark (not a test: it reports figures, it does not pass or fail).

Loads 10,000 feeds, the default watchlist and a baseline of 10,000 entries (5% of
them flagged in the inbox) into a throwaway PostgreSQL database, measures, grows the
entries to 1,000,000 in the same database, measures again, and reports the ratio.
Then it drops the trigram indexes and times the searches once more.

Measured, as the median of ``--runs`` requests after one warm-up, through Django's
test client as a superuser (in-process: the figures are the application's own):

* the entry changelist: unfiltered, searched for a common and a rare word, filtered
  by language and by feed;
* the inbox (mentions): the default view, searched for a company, filtered by
  language;
* the dispatcher's claim of 1,000 due feeds out of 10,000 (``feeds_claim_due``),
  the feeds put back between runs.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1/tracker .venv/bin/python -m tests.benchmarks.growth
    DATABASE_URL=... .venv/bin/python -m tests.benchmarks.growth --entries 200000 --runs 5

PostgreSQL only (the trigram indexes and the row estimates are PostgreSQL's). The
rows are generated in SQL (``INSERT … SELECT generate_series``), not through the
ORM: the services would take hours for a million entries; the rows have the shape
the services write. Figures go to standard output and ``benchmark-results/growth.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["en", "id", "ms", "vi", "th", "ko", "ja", "zh"]
# Title words: deal vocabulary and filler, seven to a title, so "merger" lands in about 7%
# of titles; the rare word is planted in one title in 20,000.
VOCABULARY = (
    "merger acquisition stake talks deal bid funding round valuation investors shares listing ipo "
    "regulator approval denies confirms sources say report plans weighs considers eyes buyout "
    "startup unicorn fintech ride hailing ecommerce payments wallet logistics delivery grocery travel "
    "quarter results profit loss revenue growth layoffs expansion market launch partnership "
    "indonesia singapore malaysia vietnam thailand philippines jakarta hanoi bangkok manila "
    "chief executive founder board chairman bank fund venture capital private equity sovereign "
    "digital cloud data super app platform users drivers merchants consumers prices rates "
    "new old big small first last week month year today analysts expect said could would may"
)
WORDS = VOCABULARY.split()
RARE_WORD = "zirconia"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=10_000, help="Entries in the baseline measurement.")
    parser.add_argument("--entries", type=int, default=1_000_000, help="Entries in the grown measurement.")
    parser.add_argument("--runs", type=int, default=7, help="Requests per figure (the median is reported).")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("The growth benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = _run(args)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
    _report(results)


# --- loading ---------------------------------------------------------------------------------


def _sql(statement: str, params: list[Any] | None = None) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _load_feeds(count: int, due: int) -> None:
    """``count`` feeds, ``due`` of them due now; a few paused or disabled, as in life."""
    _sql(
        """
        INSERT INTO tracker_feed (url, title, site_url, language, tier, created_at, etag, last_modified, body_hash,
            poll_interval, next_poll_at, last_error, error_count, redirect_target, redirect_streak, is_paused,
            disabled_at, disabled_reason)
        SELECT 'https://outlet' || g || '.example/rss', 'Outlet ' || g, 'https://outlet' || g || '.example/',
            (%s::text[])[1 + g %% 8], 1 + g %% 3, now(), '', '', '', 1800,
            CASE WHEN g <= %s THEN now() - make_interval(secs => g) ELSE now() + make_interval(secs => g) END,
            '', 0, '', 0, g %% 97 = 0, CASE WHEN g %% 89 = 0 THEN now() END, ''
        FROM generate_series(1, %s) AS g
        """,
        [LANGUAGES, due, count],
    )


def _load_entries(first: int, last: int, feeds: int) -> None:
    """Entries ``first``..``last`` (numbers, not ids), spread over two years and every feed."""
    _sql(
        """
        INSERT INTO tracker_entry (feed_id, identity_key, guid, link, title, summary, content, author, language,
            published_at, date_estimated, first_seen_at, updated_at, update_count, content_hash)
        SELECT f.id, md5(g::text) || md5(g::text), 'https://outlet' || f.n || '.example/a/' || g,
            'https://outlet' || f.n || '.example/a/' || g,
            CASE WHEN g %% 20000 = 7 THEN %s || ' ' ELSE '' END || array_to_string(ARRAY(
                SELECT (%s::text[])[1 + (hashint4(g * 8 + k) & 2147483647) %% %s]
                FROM generate_series(1, 7 + 0 * g) AS k), ' '),
            '<p>Sources familiar with the matter said the talks were at an early stage.</p>', '', '',
            (%s::text[])[1 + f.n %% 8],
            now() - make_interval(mins => (hashint4(g) & 2147483647) %% (730 * 1440)),
            g %% 500 = 0, now() - make_interval(mins => (hashint4(g) & 2147483647) %% (730 * 1440)), now(), 0,
            md5(g::text) || md5(g::text)
        FROM generate_series(%s, %s) AS g
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM tracker_feed) AS f ON f.n = g %% %s
        """,
        [RARE_WORD, WORDS, len(WORDS), LANGUAGES, first, last, feeds],
    )


def _load_mentions(since_entry_id: int) -> None:
    """Flag one entry in 20 (new 70%, dismissed 20%, accepted 10%; a third deal news), each
    naming two watchlist companies; every third flagged article is a copy in a story cluster."""
    _sql(
        """
        INSERT INTO rumours_mention (entry_id, is_deal_candidate, deal_score, stage_hint, deal_type,
            suggested_quotes, signals, signature, state, created_at, scanned_at)
        SELECT id, id %% 3 = 0, (id %% 100) / 100.0, CASE WHEN id %% 3 = 0 THEN 'rumoured' ELSE '' END, '',
            '[]', '[]', '', CASE WHEN id %% 10 < 7 THEN 'new' WHEN id %% 10 < 9 THEN 'dismissed' ELSE 'accepted' END,
            published_at, published_at
        FROM tracker_entry WHERE id > %s AND id %% 20 = 0
        """,
        [since_entry_id],
    )
    _sql(
        """
        INSERT INTO rumours_mention_companies (mention_id, company_id)
        SELECT m.id, c.id FROM rumours_mention m
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total FROM rumours_company) c
          ON c.n IN (m.id %% c.total, (m.id * 7 + 3) %% c.total)
        WHERE m.entry_id > %s
        """,
        [since_entry_id],
    )
    _sql(
        """
        WITH copies AS (
            SELECT id, (row_number() OVER (ORDER BY id) - 1) / 3 AS story
            FROM rumours_mention WHERE entry_id > %s AND id %% 3 = 1
        ), stories AS (
            INSERT INTO rumours_storycluster (created_at)
            SELECT now() FROM (SELECT DISTINCT story FROM copies) s RETURNING id
        ), numbered AS (
            SELECT id, row_number() OVER (ORDER BY id) - 1 AS story FROM stories
        )
        UPDATE rumours_mention m SET cluster_id = numbered.id
        FROM copies JOIN numbered ON numbered.story = copies.story
        WHERE m.id = copies.id
        """,
        [since_entry_id],
    )


def _max_entry_id() -> int:
    from tracker.models import Entry

    return Entry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _analyze() -> None:
    for table in ("tracker_feed", "tracker_entry", "rumours_mention", "rumours_mention_companies"):
        _sql(f"ANALYZE {table}")


# --- measuring ---------------------------------------------------------------------------------


def _median_ms(runs: int, action: Callable[[], Any], reset: Callable[[], Any] | None = None) -> float:
    action()  # warm-up (and a check that it works)
    timings = []
    for _ in range(runs):
        if reset:
            reset()
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def _pages(feed_id: int) -> dict[str, str]:
    return {
        "entries: unfiltered": "/admin/tracker/entry/",
        "entries: search 'merger'": "/admin/tracker/entry/?q=merger",
        f"entries: search '{RARE_WORD}'": f"/admin/tracker/entry/?q={RARE_WORD}",
        "entries: language=ko": "/admin/tracker/entry/?language=ko",
        "entries: one feed": f"/admin/tracker/entry/?feed={feed_id}",
        "inbox: default": "/admin/rumours/mention/",
        "inbox: search 'grab'": "/admin/rumours/mention/?q=grab",
        "inbox: search 'merger'": "/admin/rumours/mention/?q=merger",
        "inbox: language=ko": "/admin/rumours/mention/?entry__language=ko",
    }


def _measure(client: Any, runs: int, feed_id: int, due: int) -> dict[str, float]:
    from django.db import connection

    from tracker.services import feeds_claim_due

    figures = {}
    for label, url in _pages(feed_id).items():

        def request(url: str = url) -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        figures[label] = _median_ms(runs, request)

    def put_back() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tracker_feed SET lease_token = NULL, lease_until = NULL, "
                "next_poll_at = now() - make_interval(secs => id %% 600) "
                "WHERE id IN (SELECT id FROM tracker_feed ORDER BY id LIMIT %s)",
                [due],
            )

    def claim() -> None:
        claimed = feeds_claim_due(limit=1000)
        assert len(claimed) == 1000, len(claimed)

    figures["dispatcher: claim 1,000 due feeds"] = _median_ms(runs, claim, reset=put_back)
    put_back()
    return figures


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from rumours.models import Mention
    from tracker.models import Entry, Feed

    due = 1500
    results: dict[str, Any] = {"feeds": args.feeds, "runs": args.runs, "phases": {}}
    clock = time.perf_counter()
    call_command("import_companies", stdout=io.StringIO())  # the bundled watchlist: 107 companies
    _load_feeds(args.feeds, due)
    _load_entries(1, args.baseline, args.feeds)
    _load_mentions(0)
    _analyze()
    results["load_seconds"] = {"baseline": time.perf_counter() - clock}
    client = Client()
    client.force_login(User.objects.create_superuser("bench", "bench@example.invalid", "a-long-password-1"))
    feed_id = Feed.objects.order_by("pk").values_list("pk", flat=True)[5]

    def phase(name: str) -> None:
        results["phases"][name] = {
            "entries": Entry.objects.count(),
            "mentions": Mention.objects.count(),
            "figures": _measure(client, args.runs, feed_id, due),
        }

    phase("baseline")
    clock = time.perf_counter()
    since = _max_entry_id()
    _load_entries(args.baseline + 1, args.entries, args.feeds)
    _load_mentions(since)
    _analyze()
    results["load_seconds"]["grown"] = time.perf_counter() - clock
    phase("grown")

    # The searches without the trigram indexes, on the grown table.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX entry_title_upper_trgm, entry_link_upper_trgm")
    searches = {label: url for label, url in _pages(feed_id).items() if "search" in label}
    results["without_trigram"] = {}
    for label, url in searches.items():

        def request(url: str = url) -> None:
            assert client.get(url).status_code == 200

        results["without_trigram"][label] = _median_ms(args.runs, request)
    return results


def _report(results: dict[str, Any]) -> None:
    base, grown = results["phases"]["baseline"], results["phases"]["grown"]
    print(
        f"Growth benchmark: {results['feeds']:,} feeds; median of {results['runs']} runs per figure, PostgreSQL; "
        f"loaded in {results['load_seconds']['baseline']:.0f} s + {results['load_seconds']['grown']:.0f} s"
    )
    head = f"{base['entries']:,} entries / {base['mentions']:,} mentions"
    tail = f"{grown['entries']:,} entries / {grown['mentions']:,} mentions"
    print(f"  {'':<38} {head:>34} {tail:>36}   ratio   no trigram index")
    for label, before in base["figures"].items():
        after = grown["figures"][label]
        without = results["without_trigram"].get(label)
        extra = f"{without:>10.1f} ms" if without is not None else ""
        print(f"  {label:<38} {before:>31.1f} ms {after:>33.1f} ms {after / before:>7.2f}x {extra}")
    out = ROOT / "benchmark-results"
    out.mkdir(exist_ok=True)
    (out / "growth.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
