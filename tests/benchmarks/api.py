"""API benchmark (not a test: it reports figures, it does not pass or fail).

Loads N rumours (default 10,000), each with two parties, a source and a three-step
status history, into a throwaway database, then times in one run, through Django's
test client (in-process: no network, so the figures are the application's own):

* ``rumours/`` list, ``rumours/{id}/`` detail, ``rumours/?as_of=`` list and
  ``status-changes/`` page (page size 50),
* against a bare Django view returning the same page of rumours from ``.values()``
  as JSON: the floor any API over this database can reach.

Usage::

    make bench-api                                      # SQLite in a temp file
    DATABASE_URL=postgres://postgres@127.0.0.1/tracker make bench-api
    .venv/bin/python -m tests.benchmarks.api --rumours 2000 --requests 200

The data is bulk-inserted (the services would take minutes for 10,000 threads); the
rows are the same shape the services write.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rumours", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    tmp = tempfile.TemporaryDirectory()
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(Path(tmp.name) / "bench.sqlite3")
    settings.API_SYNC_SETTLE_SECONDS = 0
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    settings.ALLOWED_HOSTS = ["*"]
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        results = _run(args.rumours, args.requests)
        results["database"] = connection.vendor
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
        tmp.cleanup()
    _report(results)


def _load(count: int) -> int:
    from django.contrib.auth.models import User

    from rumours.models import Company, Party, Rumour, Source, StatusChange

    analyst = User.objects.create_user("bench-analyst")
    companies = Company.objects.bulk_create(
        [Company(name=f"Company {n}", slug=f"company-{n}", country="ID", sector="e_commerce") for n in range(200)]
    )
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rumours = Rumour.objects.bulk_create(
        [
            Rumour(
                title=f"Deal {n}", slug=f"deal-{n}", status="denied", credibility=n % 100,
                credibility_breakdown=[{"label": "1 independent story", "points": n % 100}],
                status_effective_at=start + timedelta(days=n % 1500 + 60), updated_at=start + timedelta(minutes=n),
            )
            for n in range(count)
        ],
        batch_size=2000,
    )  # fmt: skip
    Party.objects.bulk_create(
        [Party(rumour=r, company=companies[i % 200], role="merger_party") for i, r in enumerate(rumours)]
        + [Party(rumour=r, company=companies[(i + 1) % 200], role="merger_party") for i, r in enumerate(rumours)],
        batch_size=5000,
    )
    Source.objects.bulk_create(
        [
            Source(rumour=r, url=f"https://wire.example/{i}", title=f"Story {i}", outlet="Wire", outlet_tier=1,
                   published_at=start + timedelta(days=i % 1500), story_key=str(i), added_at=start)
            for i, r in enumerate(rumours)
        ],
        batch_size=5000,
    )  # fmt: skip
    changes = []
    for i, rumour in enumerate(rumours):
        for step, status in enumerate(["rumoured", "in_talks", "denied"]):
            moment = start + timedelta(days=i % 1500 + step * 30)
            changes.append(
                StatusChange(rumour=rumour, origin_rumour=rumour, status=status, effective_at=moment,
                             recorded_at=moment, changed_at=moment, recorded_by=analyst)
            )  # fmt: skip
    StatusChange.objects.bulk_create(changes, batch_size=5000)
    return rumours[count // 2].pk


def _run(count: int, requests: int) -> dict[str, Any]:
    from django.http import JsonResponse
    from django.test import Client
    from django.urls import clear_url_caches, path

    from config import urls as root_urls
    from rumours.models import Rumour
    from rumours.services import api_key_create

    clock = time.perf_counter()
    middle = _load(count)
    load_seconds = time.perf_counter() - clock

    def bare_page(request: Any) -> JsonResponse:
        rows = list(
            Rumour.objects.order_by("-updated_at", "-id").values(
                "id", "slug", "title", "deal_type", "status", "status_effective_at", "credibility", "updated_at"
            )[:50]
        )
        return JsonResponse({"results": rows})

    root_urls.urlpatterns.append(path("bench/bare/", bare_page))
    clear_url_caches()
    from django.contrib.auth.models import User

    key = api_key_create(user=User.objects.get(username="bench-analyst"), name="bench", created_by=None)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    targets = {
        "bare .values() view (baseline)": "/bench/bare/",
        "rumours/ list": "/api/v1/rumours/?page_size=50",
        "rumours/{id}/ detail": f"/api/v1/rumours/{middle}/",
        "rumours/?as_of= list": "/api/v1/rumours/?page_size=50&as_of=2022-06-01T00:00:00Z",
        "status-changes/ page": "/api/v1/status-changes/?page_size=50",
    }
    results: dict[str, Any] = {"rumours": count, "requests_each": requests, "load_seconds": load_seconds}
    results["endpoints"] = {}
    for label, url in targets.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url)
            timings.append(time.perf_counter() - started)
        timings.sort()
        results["endpoints"][label] = {
            "rps": requests / sum(timings),
            "p50_ms": statistics.median(timings) * 1000,
            "p95_ms": timings[int(len(timings) * 0.95) - 1] * 1000,
        }
    baseline = results["endpoints"]["bare .values() view (baseline)"]["rps"]
    for figures in results["endpoints"].values():
        figures["vs_baseline"] = figures["rps"] / baseline
    return results


def _report(results: dict[str, Any]) -> None:
    print(
        f"API benchmark: {results['rumours']:,} rumours with parties, a source and 3 status changes each; "
        f"{results['requests_each']} requests per endpoint, page size 50, database {results['database']} "
        f"(loaded in {results['load_seconds']:.0f} s)"
    )
    for label, f in results["endpoints"].items():
        print(
            f"  {label:<32} {f['rps']:>8,.0f} req/s   p50 {f['p50_ms']:>6.1f} ms   p95 {f['p95_ms']:>6.1f} ms"
            f"   {f['vs_baseline']:.2f}x the baseline"
        )
    out = ROOT / "benchmark-results"
    out.mkdir(exist_ok=True)
    (out / "api.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
