"""Digest benchmark (not a test: it reports figures, it does not pass or fail).

Loads 60 rumours with a day's activity (status changes, quotes, sources) and N
subscribers (default 10,000) following random sets of companies, countries and sectors
in a dozen time zones, into a throwaway database. Then, in one run:

* **build + render**: :func:`rumours.digests.content.digests_build` for every subscriber
  in batches of 500 (what the send task does), then each email rendered (text, HTML,
  CSS inlined);
* **render alone** (the baseline): the same emails rendered from digests built once,
  so the difference is the cost of selecting each subscriber's content;
* the queries per batch, which must not grow with the batch.

Usage::

    make bench-digests
    DATABASE_URL=postgres://postgres@127.0.0.1/tracker make bench-digests
    .venv/bin/python -m tests.benchmarks.digests --subscribers 2000
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

ZONES = [
    "Asia/Singapore", "Asia/Jakarta", "Asia/Bangkok", "Asia/Ho_Chi_Minh", "Asia/Manila", "Asia/Seoul",
    "Asia/Tokyo", "Asia/Shanghai", "Asia/Kolkata", "Europe/London", "America/New_York", "Australia/Sydney",
]  # fmt: skip
BATCH = 500


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rumours", type=int, default=60)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    tmp = tempfile.TemporaryDirectory()
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(Path(tmp.name) / "bench.sqlite3")
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _run(args.subscribers, args.rumours)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
        tmp.cleanup()


def _run(subscribers: int, rumours: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rumours.digests.content import DigestRequest, digests_build
    from rumours.digests.rendering import digest_message
    from rumours.models import Subscription

    end = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)
    start = end - timedelta(days=1)
    _load(subscribers, rumours, start)
    subscriptions = list(Subscription.objects.prefetch_related("companies").order_by("pk"))

    def requests(batch: list[Subscription]) -> list[DigestRequest]:
        return [DigestRequest(s, "daily", start, end) for s in batch]

    batches = [subscriptions[i : i + BATCH] for i in range(0, len(subscriptions), BATCH)]
    with CaptureQueriesContext(connection) as first:
        digests_build(requests(batches[0][:50]))
    with CaptureQueriesContext(connection) as full:
        digests_build(requests(batches[0]))

    started = time.perf_counter()
    built = []
    for batch in batches:
        for digest in digests_build(requests(batch)):
            digest_message(digest).message()
            built.append(digest)
    full_rate = len(subscriptions) / (time.perf_counter() - started)

    started = time.perf_counter()
    for digest in built:
        digest_message(digest).message()
    render_rate = len(built) / (time.perf_counter() - started)

    non_empty = sum(1 for digest in built if not digest.is_empty)
    mean_rumours = sum(len(d.updates) for d in built) / len(built)
    print(f"database: {connection.vendor}; {len(subscriptions):,} subscribers, {rumours} rumours active in the day")
    print(f"digests with news: {non_empty:,}; rumours per digest: {mean_rumours:.1f}")
    print(f"queries to build 50 digests: {len(first)}; to build {len(batches[0])}: {len(full)}")
    print(f"build + render:  {full_rate:,.0f} digests/s")
    print(f"render alone:    {render_rate:,.0f} digests/s")
    print(f"ratio:           {full_rate / render_rate:.2f}x of rendering alone")


def _load(subscribers: int, rumours: int, start: datetime) -> None:
    """Bulk rows of the shape the services write: the services would take minutes here."""
    from rumours.models import (
        Company,
        Party,
        PartyRole,
        Quote,
        Rumour,
        Sector,
        Source,
        Stance,
        Status,
        StatusChange,
        Subscription,
    )

    rng = random.Random(11)
    countries = ["ID", "SG", "MY", "TH", "VN", "PH", "KR", "JP", "CN"]
    sectors = [choice for choice, _label in Sector.choices]
    companies = Company.objects.bulk_create(
        Company(name=f"Company {n}", slug=f"company-{n}", country=rng.choice(countries), sector=rng.choice(sectors))
        for n in range(300)
    )
    moment = start + timedelta(hours=6)
    threads = Rumour.objects.bulk_create(
        Rumour(
            title=f"Deal {n}",
            slug=f"deal-{n}",
            status=Status.RUMOURED,
            credibility=rng.randint(10, 90),
            created_at=start - timedelta(days=30),
            updated_at=moment,
        )
        for n in range(rumours)
    )
    Party.objects.bulk_create(
        Party(rumour=r, company=c, role=PartyRole.MERGER_PARTY) for r in threads for c in rng.sample(companies, 2)
    )
    sources = Source.objects.bulk_create(
        Source(
            rumour=r,
            url=f"https://news.example/{r.pk}/{k}",
            title=f"Report {k} on {r.title}",
            outlet="Wire",
            outlet_tier=rng.randint(1, 3),
            published_at=moment,
            added_at=moment,
            story_key=f"{r.pk}-{k}",
        )
        for r in threads
        for k in range(3)
    )
    Quote.objects.bulk_create(
        Quote(
            rumour=s.rumour,
            source=s,
            speaker_name="An Executive",
            speaker_role="CEO",
            text="We are in talks.",
            translation="",
            stance=Stance.CONFIRMS,
            said_at=moment,
            added_at=moment,
        )
        for s in sources[::3]
    )
    StatusChange.objects.bulk_create(
        StatusChange(
            rumour=r,
            origin_rumour=r,
            status=Status.IN_TALKS,
            effective_at=moment,
            recorded_at=moment,
            changed_at=moment,
            evidence_source=sources[n * 3],
            note="Talks confirmed.",
        )
        for n, r in enumerate(threads)
        if n % 2 == 0
    )
    rows = Subscription.objects.bulk_create(
        Subscription(
            email=f"subscriber{n}@example.invalid",
            time_zone=rng.choice(ZONES),
            send_hour=rng.randint(0, 23),
            countries=rng.sample(countries, 1) if n % 5 == 1 else [],
            sectors=rng.sample(sectors, 1) if n % 5 == 2 else [],
            min_credibility=rng.choice([0, 0, 30, 50]),
            created_at=start - timedelta(days=60),
        )
        for n in range(subscribers)
    )
    through = Subscription.companies.through
    through.objects.bulk_create(
        through(subscription_id=s.pk, company_id=c.pk)
        for n, s in enumerate(rows)
        if n % 5 == 0
        for c in rng.sample(companies, 5)
    )


if __name__ == "__main__":
    main()
