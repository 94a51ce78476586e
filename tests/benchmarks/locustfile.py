"""Locust traffic for the investor API (driven by ``tests/benchmarks/load.py``).

Two kinds of client, as the API is used:

* :class:`InvestorUser` (4 in 5): lists rumours with the filters investors use (a
  company by name, ticker or alias, statuses, country, sector, credibility,
  ``updated_since``), turns to the next page, opens one thread (sources, quotes and
  status history come with it), reads a thread's timeline through
  ``status-changes/?rumour=``, keeps a local copy with ``status-changes/?since=``,
  re-polls the list with ``If-None-Match``, reads quotes and the watchlist, asks
  ``as_of`` questions, and now and then pulls the Atom feed (a feed reader: no key)
  or the CSV export.
* :class:`AnalystUser` (1 in 5): works the ``mentions/`` inbox (analyst keys only),
  opening threads and quotes as it goes.

There is no ``sources/`` endpoint: a thread's sources come with ``rumours/{id}/``.

Every user sends its next request as soon as the last one is answered (no think
time), so ``--users N`` keeps N requests in flight: a fixed concurrency, which is what
the figures are quoted at. :class:`LivenessUser` is the baseline: ``/health/live/``,
which touches nothing, at the same concurrency.

Keys: each request takes the next key from its pool (investor or analyst), round
robin, so no key comes near ``API_RATE`` (600/min by default) at the rates one
machine reaches; the count per key is written at the end (``LOAD_TEST_KEY_COUNTS``)
so ``load.py`` can show it stayed under the limit. A 429 is a failure like any other.

The test data (keys, rumour ids, company names, clusters) comes from the JSON file
named by ``LOAD_TEST_DATA``, written by ``load.py`` after it seeds the database.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, constant, events, task

_DATA_PATH = os.environ.get("LOAD_TEST_DATA", "")
if not _DATA_PATH or not Path(_DATA_PATH).is_file():
    raise SystemExit(
        "LOAD_TEST_DATA must name the JSON file load.py writes (keys, rumour ids, companies); "
        "run `.venv/bin/python -m tests.benchmarks.load` rather than locust directly."
    )
DATA: dict[str, Any] = json.loads(Path(_DATA_PATH).read_text())

_investor_keys: Iterator[str] = itertools.cycle(DATA["investor_keys"])
_analyst_keys: Iterator[str] = itertools.cycle(DATA["analyst_keys"])
KEY_COUNTS: Counter[str] = Counter()
STATUS_SETS = ["rumoured", "in_talks", "rumoured,in_talks", "denied", "rumoured,in_talks,denied", "agreed,completed"]


@events.quitting.add_listener
def _write_key_counts(environment: Any, **kwargs: Any) -> None:
    path = os.environ.get("LOAD_TEST_KEY_COUNTS")
    if path:
        # Only the key's prefix (srt_<prefix>_…) is written: enough to tell keys apart.
        Path(path).write_text(json.dumps({key.split("_")[1]: n for key, n in KEY_COUNTS.items()}))


def _some_moment() -> str:
    """A past moment for ``as_of``: somewhere in the years the seeded threads span."""
    start = datetime(2021, 1, 1, tzinfo=UTC)
    return (start + timedelta(days=random.randint(0, 5 * 365))).strftime("%Y-%m-%dT00:00:00Z")


class ApiUser(FastHttpUser):
    """Shared by both kinds of client: authenticated GETs and the thread reading they both do."""

    abstract = True
    wait_time = constant(0)
    keys: Iterator[str] = _investor_keys

    def api(self, path: str, name: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        key = next(self.keys)
        KEY_COUNTS[key] += 1
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json", **kwargs.pop("headers", {})}
        url = path + ("?" + urlencode(params) if params else "")
        return self.client.get(url, name=name, headers=headers, **kwargs)

    def rumour_detail(self) -> None:
        self.api(f"/api/v1/rumours/{random.choice(DATA['rumour_ids'])}/", name="rumours/{id}/")

    def quotes(self) -> None:
        choice = random.random()
        if choice < 0.5:
            params = {"rumour": random.choice(DATA["quoted_rumour_ids"])}
        elif choice < 0.8:
            params = {"company": random.choice(DATA["companies"])}
        else:
            params = {"stance": random.choice(["denies", "confirms", "no_comment"])}
        self.api("/api/v1/quotes/", name="quotes/ (filtered)", params=params)

    def rumours_filtered(self) -> None:
        filters: list[dict[str, Any]] = [
            {"company": random.choice(DATA["companies"])},
            {"status": random.choice(STATUS_SETS)},
            {"country": random.choice(DATA["countries"]), "status": "rumoured,in_talks"},
            {"sector": random.choice(DATA["sectors"])},
            {"min_credibility": random.choice([30, 50, 70])},
            {"updated_since": DATA["updated_since"]},
            {"company": random.choice(DATA["companies"]), "ordering": "-credibility"},
        ]
        self.api("/api/v1/rumours/", name="rumours/ (filtered)", params=random.choice(filters))


class InvestorUser(ApiUser):
    weight = 4

    def on_start(self) -> None:
        self.since = DATA["sync_since"]
        self.list_etag = ""

    @task(10)
    def rumours_list(self) -> None:
        response = self.api("/api/v1/rumours/", name="rumours/ list")
        self.list_etag = response.headers.get("ETag", "") if response.status_code == 200 else ""

    @task(4)
    def rumours_list_unchanged(self) -> None:
        """A client polling the list with the ETag it holds: 304 while nothing changed."""
        if not self.list_etag:
            return self.rumours_list()
        self.api("/api/v1/rumours/", name="rumours/ list If-None-Match", headers={"If-None-Match": self.list_etag})

    @task(16)
    def rumours_filtered_task(self) -> None:
        self.rumours_filtered()

    @task(4)
    def rumours_next_page(self) -> None:
        response = self.api("/api/v1/rumours/", name="rumours/ list", params={"page_size": 25})
        following = response.json().get("next") if response.status_code == 200 else None
        if following:
            link = urlsplit(following)
            self.api(f"{link.path}?{link.query}", name="rumours/ next page")

    @task(2)
    def rumours_as_of(self) -> None:
        self.api("/api/v1/rumours/", name="rumours/ as_of", params={"as_of": _some_moment()})

    @task(20)
    def rumour_detail_task(self) -> None:
        self.rumour_detail()

    @task(4)
    def rumour_detail_as_of(self) -> None:
        rumour, known_since = random.choice(list(DATA["rumour_known_since"].items()))
        since = datetime.fromisoformat(known_since)
        moment = since + (datetime.now(UTC) - since) * random.random()  # when the thread was known
        self.api(f"/api/v1/rumours/{rumour}/", name="rumours/{id}/ as_of", params={"as_of": moment.isoformat()})

    @task(8)
    def timeline(self) -> None:
        rumour = random.choice(DATA["rumour_ids"])
        self.api("/api/v1/status-changes/", name="status-changes/ timeline", params={"rumour": rumour})

    @task(4)
    def sync(self) -> None:
        """Incremental sync: follow next_since until has_more is false, then start over."""
        response = self.api("/api/v1/status-changes/", name="status-changes/ sync", params={"since": self.since})
        if response.status_code == 200:
            page = response.json()
            self.since = page["next_since"] if page["has_more"] else DATA["sync_since"]

    @task(6)
    def quotes_task(self) -> None:
        self.quotes()

    @task(5)
    def companies(self) -> None:
        choice = random.random()
        if choice < 0.4:
            params: dict[str, Any] = {}
        elif choice < 0.7:
            params = {"country": random.choice(DATA["countries"])}
        else:
            params = {"q": random.choice(DATA["companies"])}
        self.api("/api/v1/companies/", name="companies/", params=params)

    @task(3)
    def atom(self) -> None:
        """A feed reader: no key (the feed is public)."""
        url = "/api/v1/status-changes.atom"
        if random.random() < 0.5:
            url += "?" + urlencode({"company": random.choice(DATA["atom_companies"])})
        self.client.get(url, name="status-changes.atom")

    @task(2)
    def csv_export(self) -> None:
        params = {} if random.random() < 0.5 else {"status": random.choice(STATUS_SETS)}
        self.api("/api/v1/rumours.csv", name="rumours.csv", params=params)


class AnalystUser(ApiUser):
    weight = 1
    keys = _analyst_keys

    @task(12)
    def mentions(self) -> None:
        choice = random.random()
        if choice < 0.5:
            params: dict[str, Any] = {"state": "new", "deal": "true"}
        elif choice < 0.75:
            params = {"company": random.choice(DATA["companies"])}
        elif choice < 0.9:
            params = {"cluster": random.choice(DATA["clusters"])}
        else:
            params = {}
        self.api("/api/v1/mentions/", name="mentions/ (analyst)", params=params)

    @task(4)
    def rumour_detail_task(self) -> None:
        self.rumour_detail()

    @task(3)
    def rumours_filtered_task(self) -> None:
        self.rumours_filtered()

    @task(2)
    def quotes_task(self) -> None:
        self.quotes()


class LivenessUser(FastHttpUser):
    """The baseline: the same concurrency against a view that touches nothing."""

    wait_time = constant(0)

    @task
    def live(self) -> None:
        self.client.get("/health/live/", name="health/live/ (baseline)")
