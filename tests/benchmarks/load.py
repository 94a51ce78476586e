"""API load test (not a test: it reports figures; it fails only if a request failed).

The API as production serves it, under a load generator in a second process:

1. Recreates the PostgreSQL database (``DATABASE_URL``, default ``bench_load`` on
   127.0.0.1) and migrates it with ``manage.py migrate``.
2. Seeds it: ``manage.py load_demo`` (watchlist, executives, demo feeds and threads),
   then, through the services, a few hundred rumour threads (parties, typed-in sources
   and syndicated copies, executives' quotes, a status history of one to five steps,
   a few retractions) and a few thousand articles in a dozen synthetic feeds, ingested
   through the parse-and-store path and scanned by detection into the analyst inbox.
3. Issues API keys: a pool of investor keys and a pool of analyst keys (see below).
4. Starts ``gunicorn config.wsgi`` in its own process with production settings
   (``DJANGO_DEBUG=0``, a secret key, ``DJANGO_ALLOWED_HOSTS``, ``REDIS_URL`` for the
   cache the throttle uses; ``DJANGO_SSL_REDIRECT=0`` because the load generator
   speaks plain HTTP, as it would behind a proxy that ends TLS).
5. Runs ``locust --headless`` (one process) twice at the same concurrency for the
   same time: first the baseline, ``/health/live/`` (touches nothing: the cost of
   gunicorn, Django's middleware and the load generator themselves), then the API
   traffic of ``tests/benchmarks/locustfile.py``.
6. Stops gunicorn, prints requests/s, median, p95 and p99 and failures per endpoint,
   the API's figures as a ratio to the baseline, and exits 1 if any request failed
   (a 429 from the throttle counts as a failure).

Workers: three sync workers by default. The API is CPU-bound Python with short
waits on PostgreSQL, so on two cores one worker per core plus one to fill the gaps
while the others wait on the database keeps both cores busy; more only adds context
switches, and here the two cores are also shared with locust and PostgreSQL. It is
also what docs/operations.md starts with. ``--workers`` changes it.

Keys: ``API_RATE`` (600/min per key by default) applies as in production. One
machine's load generator stands in for many investors, so each request takes the
next key of its pool, round robin; the report shows the busiest key's rate against
the limit.

Usage::

    .venv/bin/python -m tests.benchmarks.load                        # 20 users, 60 s each run
    .venv/bin/python -m tests.benchmarks.load --users 20 --seconds 60
    .venv/bin/python -m tests.benchmarks.load --seconds 5            # a smoke run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_load_2 .venv/bin/python -m tests.benchmarks.load

Figures go to standard output and ``benchmark-results/load.json``; locust's CSV
files, the seeded data file (throwaway keys for a throwaway database) and gunicorn's
log go to ``benchmark-results/load/``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
OUT = ROOT / "benchmark-results" / "load"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_load"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
API_CLASSES = ["InvestorUser", "AnalystUser"]
BASELINE_CLASSES = ["LivenessUser"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20, help="Concurrent users (requests in flight); default 20.")
    parser.add_argument("--seconds", type=int, default=60, help="Length of each run (baseline, API); default 60.")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers; default 3 (see above).")
    parser.add_argument("--rumours", type=int, default=300, help="Rumour threads seeded besides the demo's.")
    parser.add_argument("--entries", type=int, default=3000, help="Articles seeded besides the demo feeds'.")
    parser.add_argument("--keys", type=int, default=100, help="Investor keys in the pool (analyst keys: a quarter).")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="Keep an earlier run's database: skip drop, migrate and load_demo, and the seeding if it was seeded.",
    )
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("LOAD_REDIS_URL") or DEFAULT_REDIS_URL
    OUT.mkdir(parents=True, exist_ok=True)
    var_dir = tempfile.TemporaryDirectory(prefix="bench-load-var-")
    server_env = _server_environment(database_url, redis_url, var_dir.name)
    # Seeding runs the services, which enqueue alerts and detection after commit: an
    # in-memory broker swallows them instead of leaving tasks nobody consumes in Redis.
    seed_env = {**server_env, "CELERY_BROKER_URL": "memory://"}
    os.environ.update(seed_env)

    clock = time.perf_counter()
    if not args.reuse_database:
        _recreate_database(database_url)
        _manage(seed_env, "migrate", "--no-input", "-v", "0")
        _manage(seed_env, "load_demo", "--no-user")
    import django

    django.setup()
    from django.contrib.auth.models import User

    data_path = OUT / "data.json"
    if args.reuse_database and data_path.is_file() and User.objects.filter(username="load-analyst").exists():
        data = json.loads(data_path.read_text())
    else:
        data = _seed(rumours=args.rumours, entries=args.entries, investor_keys=args.keys)
        data_path.write_text(json.dumps(data, indent=1))
    seed_seconds = time.perf_counter() - clock
    print(f"Seeded in {seed_seconds:.0f} s: {data['counts']}", flush=True)
    _forget_throttle_history(redis_url)

    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    gunicorn = _start_gunicorn(server_env, port, args.workers)
    runs: dict[str, dict[str, Any]] = {}
    try:
        _wait_until_up(host, gunicorn)
        locust_env = {**server_env, "LOAD_TEST_DATA": str(data_path)}
        runs["baseline"] = _locust(locust_env, host, "baseline", BASELINE_CLASSES, args.users, args.seconds)
        (OUT / "key_counts.json").unlink(missing_ok=True)
        locust_env["LOAD_TEST_KEY_COUNTS"] = str(OUT / "key_counts.json")
        runs["api"] = _locust(locust_env, host, "api", API_CLASSES, args.users, args.seconds)
    finally:
        _stop(gunicorn)
        var_dir.cleanup()

    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "users": args.users,
        "seconds": args.seconds,
        "workers": args.workers,
        "database": _without_password(database_url),
        "seeded": data["counts"],
        "seed_seconds": round(seed_seconds),
        "api_rate": os.environ.get("API_RATE", "600/min"),
        "key_pools": {"investor": len(data["investor_keys"]), "analyst": len(data["analyst_keys"])},
        "busiest_key_requests": _busiest_key(OUT / "key_counts.json"),
        **runs,
    }
    (OUT.parent / "load.json").write_text(json.dumps(results, indent=2) + "\n")
    failures = _report(results)
    sys.exit(1 if failures else 0)


# --- Set-up -------------------------------------------------------------------------------------


def _server_environment(database_url: str, redis_url: str, var_dir: str) -> dict[str, str]:
    """Production settings, as docs/operations.md lists them, on this machine's own database and Redis db."""
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"The load test runs on PostgreSQL; DATABASE_URL is {_without_password(database_url)}.")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SSL_REDIRECT": "0",  # plain HTTP, as behind a proxy that ends TLS
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TRACKER_VAR_DIR": var_dir,  # mail and the beat schedule stay out of the checkout's var/
        "PYTHONHASHSEED": "0",
    }


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    return urlunsplit(parts)


def _recreate_database(database_url: str) -> None:
    """Drop and create the load test's own database (never one that looks shared)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if "bench" not in name and "load" not in name:
        raise SystemExit(
            f"Refusing to drop database {name!r}: the load test recreates its database from scratch, so its name "
            "must contain 'bench' or 'load' (the default is bench_load)."
        )
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _manage(env: dict[str, str], *command: str) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def _forget_throttle_history(redis_url: str) -> None:
    """Key ids restart at 1 with the database: drop a previous run's throttle history for them (db 8 only)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    stale = list(client.scan_iter(match="*throttle_api_key_*", count=1000))
    if stale:
        client.delete(*stale)


# --- The data -----------------------------------------------------------------------------------

OUTLETS = [
    ("DealStreet Wire", 1, "en"), ("Asia Markets Daily", 1, "en"), ("Tech in Asia Brief", 2, "en"),
    ("Bisnis Harian", 2, "id"), ("Kontan Digital", 2, "id"), ("The Edge Tech", 2, "en"),
    ("Nikkei Asia Notes", 1, "en"), ("VnExpress Kinh doanh", 2, "vi"), ("Startup Rumour Blog", 3, "en"),
]  # fmt: skip
ROLES = {
    "merger": ("merger_party", "merger_party"),
    "joint_venture": ("merger_party", "merger_party"),
    "acquisition": ("acquirer", "target"),
    "takeover": ("acquirer", "target"),
    "stake": ("investor", "target"),
    "divestment": ("seller", "acquirer"),
}
TITLES = {
    "merger": "{a}–{b} merger",
    "joint_venture": "{a}–{b} joint venture",
    "acquisition": "{a} to acquire {b}",
    "takeover": "{a} offer for {b}",
    "stake": "{a} stake in {b}",
    "divestment": "{a} sells unit to {b}",
}
HEADLINES = {
    "rumoured": "{a} and {b} said to explore a deal, people familiar say",
    "in_talks": "{a} confirms talks with {b}",
    "agreed": "{a} and {b} sign definitive agreement",
    "completed": "{a} completes deal with {b}",
    "abandoned": "{a} and {b} call off talks",
    "denied": "{a} denies deal talks with {b}",
}
QUOTES = {
    "denied": ("denies", "There is no agreement of any kind and we are not in discussions."),
    "in_talks": ("confirms", "We are in early discussions and will update the market as required."),
    "agreed": ("confirms", "This agreement brings our customers a stronger platform across the region."),
    "rumoured": ("no_comment", "We do not comment on market speculation."),
}
# Articles: (headline, stage hint, deal type); an empty stage is business news that names a company.
ARTICLES = {
    "en": [
        ("{a} in talks to acquire {b}, sources say", "in_talks", "acquisition"),
        ("{a} said to weigh merger with {b}", "rumoured", "merger"),
        ("{a} denies report of takeover bid for {b}", "denied", "takeover"),
        ("{a} explores sale of stake in {b}", "rumoured", "stake"),
        ("{a} reports record quarterly revenue", "", ""),
        ("{a} launches new payments feature in {country}", "", ""),
    ],
    "id": [
        ("{a} dikabarkan akan mengakuisisi {b}", "rumoured", "acquisition"),
        ("{a} membantah rumor merger dengan {b}", "denied", "merger"),
        ("{a} mencatat pertumbuhan pendapatan", "", ""),
    ],
    "vi": [
        ("{a} được cho là đang đàm phán sáp nhập với {b}", "in_talks", "merger"),
        ("{a} công bố kết quả kinh doanh quý", "", ""),
    ],
    "ms": [
        ("{a} dilaporkan berunding untuk mengambil alih {b}", "in_talks", "takeover"),
        ("{a} melancarkan perkhidmatan baharu", "", ""),
    ],
}
FEEDS = [
    ("en", 1), ("en", 1), ("en", 2), ("en", 2), ("en", 3), ("en", 3),
    ("id", 2), ("id", 2), ("id", 3), ("vi", 2), ("vi", 3), ("ms", 2),
]  # fmt: skip


def _seed(*, rumours: int, entries: int, investor_keys: int) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.db import transaction

    from rumours.api.filters import companies_matching
    from rumours.models import ApiScope, Company, CompanyAlias, Mention, Quote, Rumour, Source, StatusChange
    from rumours.services import api_key_create
    from tracker.models import Entry

    rng = random.Random(20261129)
    with transaction.atomic():
        analyst = User.objects.create_user("load-analyst")
        threads = _seed_threads(rng, rumours, analyst)
        _seed_articles(rng, entries, threads)

        keys: dict[str, list[str]] = {"investor_keys": [], "analyst_keys": []}
        pools = [
            ("investor", ApiScope.INVESTOR, investor_keys),
            ("analyst", ApiScope.ANALYST, max(4, investor_keys // 4)),
        ]
        for label, scope, count in pools:
            users = User.objects.bulk_create(User(username=f"load-{label}-{n:03d}") for n in range(count))
            for user in users:
                keys[f"{label}_keys"].append(
                    api_key_create(user=user, name="load test", scope=scope, created_by=None)[1]
                )

    party_companies = list(Company.objects.filter(parties__isnull=False).distinct().order_by("name"))
    names = [c.name for c in party_companies]
    lookups = rng.sample(names, min(40, len(names)))
    lookups += [c.slug for c in rng.sample(party_companies, min(10, len(party_companies)))]
    lookups += [t.split(":")[-1] if rng.random() < 0.5 else t for c in party_companies for t in c.tickers][:15]
    aliases = list(
        CompanyAlias.objects.filter(company__in=party_companies, is_ambiguous=False).values_list("alias", flat=True)
    )
    lookups += rng.sample(aliases, min(15, len(aliases)))
    lookups = [value for value in dict.fromkeys(lookups) if companies_matching(value)]
    clusters = list(
        Mention.objects.exclude(cluster=None).values_list("cluster_id", flat=True).distinct().order_by("cluster_id")
    )
    now = datetime.now(UTC)
    # A thread exists as of a moment once a status change was both recorded and in effect by
    # then (rumours.selectors); before that the API rightly answers 404, so as_of asks after it.
    known_since: dict[int, datetime] = {}
    for rumour_id, recorded, effective in StatusChange.objects.values_list("rumour_id", "recorded_at", "effective_at"):
        moment = max(recorded, effective)
        known_since[rumour_id] = min(known_since.get(rumour_id, moment), moment)
    open_ids = list(Rumour.objects.filter(merged_into__isnull=True).values_list("pk", flat=True))
    return {
        **keys,
        "rumour_ids": open_ids,
        "rumour_known_since": {str(pk): known_since[pk].isoformat() for pk in open_ids if pk in known_since},
        "quoted_rumour_ids": list(Quote.objects.values_list("rumour_id", flat=True).distinct()),
        "companies": lookups,
        "atom_companies": names[:30],
        "countries": sorted({c.country for c in party_companies if c.country}),
        "sectors": sorted({c.sector for c in party_companies if c.sector}),
        "clusters": clusters[:200] or [0],
        "updated_since": (now - timedelta(days=365)).strftime("%Y-%m-%dT00:00:00Z"),
        "sync_since": "2020-01-01T00:00:00Z",  # a new client's first sync: the whole history, 200 at a time
        "counts": {
            "rumours": Rumour.objects.count(),
            "sources": Source.objects.count(),
            "quotes": Quote.objects.count(),
            "status_changes": StatusChange.objects.count(),
            "entries": Entry.objects.count(),
            "mentions": Mention.objects.count(),
            "companies": Company.objects.count(),
        },
    }


def _seed_threads(rng: random.Random, count: int, analyst: Any) -> dict[frozenset[int], Any]:
    """Threads bulk-inserted in the shape the services write (the services would take minutes on a
    busy machine): parties, sources with syndicated copies sharing a story key, quotes, a valid
    status history of one to five steps (a few retracted), and the status and credibility the
    services would derive, computed by the same function (``selectors.credibility_of``).

    Returns the threads by their pair of party companies, for the articles to suggest.
    """
    from django.utils.text import slugify

    from rumours.models import TRANSITIONS, Company, Party, Person, Quote, Rumour, Source, Status, StatusChange
    from rumours.selectors import credibility_of
    from rumours.services import story_key

    companies = list(Company.objects.order_by("pk"))
    people_by_company: dict[int | None, list[Any]] = {}
    for person in Person.objects.exclude(company=None):
        people_by_company.setdefault(person.company_id, []).append(person)
    now = datetime.now(UTC)
    plans = []
    for n in range(count):
        deal_type = rng.choice(list(ROLES))
        a, b = rng.sample(companies, 2)
        title = TITLES[deal_type].format(a=a.name, b=b.name)
        value = Decimal(rng.randrange(50, 8000)) * 1_000_000 if rng.random() < 0.4 else None
        rumour = Rumour(
            title=title,
            slug=f"{slugify(title)[:280]}-{n}",
            deal_type=deal_type,
            summary=f"Reports of a {deal_type.replace('_', ' ')} between {a.name} and {b.name}. (Load-test data.)",
            value_amount=value,
            value_currency="USD" if value else "",
            stake_percent=Decimal(rng.randrange(5, 80)) if deal_type == "stake" else None,
            created_by=analyst,
        )
        parties = [Party(rumour=rumour, company=a, role=ROLES[deal_type][0])]
        parties.append(Party(rumour=rumour, company=b, role=ROLES[deal_type][1]))
        moment = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 5 * 365), hours=rng.randrange(24))
        rumour.created_at = moment
        sources: list[Any] = []
        quotes: list[Any] = []
        changes: list[Any] = []
        current: str | None = None
        for step in range(rng.randint(1, 5)):
            first = [Status.RUMOURED.value] * 4 + [Status.IN_TALKS.value]  # most threads start as press reports
            options = first if current is None else sorted(TRANSITIONS[current])
            options = [status for status in options if status != Status.EXPIRED]  # the system's to set
            moment += timedelta(days=rng.randint(5, 240), hours=rng.randrange(24))
            if not options or moment > now - timedelta(days=1):
                break
            status = rng.choice(options)
            headline = HEADLINES[status].format(a=a.name, b=b.name)
            copies = [
                Source(
                    rumour=rumour,
                    url=f"https://{outlet.lower().replace(' ', '-')}.example/{moment:%Y/%m}/{n}-{step}",
                    title=headline,
                    outlet=outlet,
                    outlet_tier=tier,
                    published_at=moment + timedelta(hours=copy),
                    language=language,
                    excerpt=f"{headline}. People familiar with the matter said terms were still being discussed.",
                    story_key=story_key(headline),  # syndicated copies: one story, several URLs
                    added_at=moment + timedelta(hours=copy + 2),
                    added_by=analyst,
                )
                for copy, (outlet, tier, language) in enumerate(rng.sample(OUTLETS, rng.choice([1, 1, 2, 3])))
            ]
            sources += copies
            quote = None
            if status in QUOTES and rng.random() < 0.6:
                stance, text = QUOTES[status]
                company = rng.choice([a, b])
                speaker = rng.choice(people_by_company[company.pk]) if company.pk in people_by_company else None
                quote = Quote(
                    rumour=rumour,
                    source=copies[0],
                    speaker=speaker,
                    speaker_name=speaker.name if speaker else "A spokesperson",
                    speaker_role=speaker.role if speaker else "",
                    speaker_company=company,
                    text=text,
                    language="en",
                    stance=stance,
                    said_at=moment,
                    added_at=moment + timedelta(hours=2),
                    added_by=analyst,
                )
                quotes.append(quote)
            recorded = min(moment + timedelta(hours=rng.randint(1, 30)), now)
            changes.append(
                StatusChange(
                    rumour=rumour,
                    origin_rumour=rumour,
                    status=status,
                    effective_at=moment,
                    recorded_at=recorded,
                    changed_at=recorded,
                    recorded_by=analyst,
                    evidence_source=copies[0],
                    evidence_quote=quote,
                    note=f"{headline} ({copies[0].outlet}).",
                )
            )
            current = status
        if len(changes) > 1 and rng.random() < 0.05:  # a correction: the latest change retracted
            last = changes[-1]
            last.retracted_at = last.changed_at = min(last.recorded_at + timedelta(days=2), now)
            last.retracted_by, last.retraction_reason = analyst, "The outlet corrected its story."
        plans.append((rumour, parties, sources, quotes, changes))

    Rumour.objects.bulk_create([plan[0] for plan in plans], batch_size=1000)
    Party.objects.bulk_create([party for plan in plans for party in plan[1]], batch_size=2000)
    Source.objects.bulk_create([source for plan in plans for source in plan[2]], batch_size=2000)
    Quote.objects.bulk_create([quote for plan in plans for quote in plan[3]], batch_size=2000)
    StatusChange.objects.bulk_create([change for plan in plans for change in plan[4]], batch_size=2000)
    threads: dict[frozenset[int], Any] = {}
    for rumour, parties, sources, quotes, changes in plans:
        in_force = [c for c in changes if c.retracted_at is None]
        latest = in_force[-1] if in_force else None
        rumour.status = latest.status if latest else ""
        rumour.status_effective_at = latest.effective_at if latest else None
        moments = [s.published_at for s in sources] + [q.said_at for q in quotes] + [c.effective_at for c in in_force]
        rumour.last_evidence_at = max(moments, default=None)
        points, parts = credibility_of(
            sources=sources,
            quotes=quotes,
            party_company_ids={p.company_id for p in parties},
            status=rumour.status,
            last_evidence_at=rumour.last_evidence_at,
            now=now,
        )
        rumour.credibility, rumour.credibility_breakdown = points, [part.as_dict() for part in parts]
        rumour.credibility_updated_at = now
        rumour.updated_at = max([c.changed_at for c in changes] + [s.added_at for s in sources])
        threads[frozenset(p.company_id for p in parties)] = rumour
    derived = ["status", "status_effective_at", "last_evidence_at", "credibility", "credibility_breakdown"]
    Rumour.objects.bulk_update(
        [plan[0] for plan in plans], [*derived, "credibility_updated_at", "updated_at"], batch_size=500
    )
    return threads


def _seed_articles(rng: random.Random, count: int, threads: dict[frozenset[int], Any]) -> None:
    """Articles in a dozen feeds and the inbox rows detection makes of them, bulk-inserted.

    A story runs in one to three feeds of its language within hours (syndicated copies
    share a story cluster); most deal stories are about a seeded thread's parties, and
    suggest that thread. Most wait in the inbox; some were dismissed or accepted.
    """
    import hashlib

    from rumours.models import Company, Mention, MentionParty, MentionState, StoryCluster
    from tracker.models import Entry, Feed

    companies = list(Company.objects.order_by("pk"))
    pairs = list(threads)
    now = datetime.now(UTC)
    feeds = Feed.objects.bulk_create(
        Feed(url=f"https://feed-{n}.example/rss.xml", title=f"Load-test outlet {n}", language=language, tier=tier)
        for n, (language, tier) in enumerate(FEEDS)
    )
    stories = []
    written = 0
    while written < count:
        language = rng.choice(["en", "en", "en", "id", "id", "vi", "ms"])
        template, stage, deal_type = rng.choice(ARTICLES[language])
        thread_parties = [c for c in companies if c.pk in rng.choice(pairs)] if stage and rng.random() < 0.6 else []
        a, b = thread_parties[:2] if len(thread_parties) >= 2 else rng.sample(companies, 2)  # a thread's first two
        title = template.format(a=a.name, b=b.name, country=a.country or "Singapore")
        published = now - timedelta(minutes=rng.randrange(60, 730 * 24 * 60))
        body = f"<p>{title}.</p><p>The company did not respond to a request for comment.</p>"
        quotes = []
        if stage and rng.random() < 0.3:
            body += f'<p>"We do not comment on market speculation," a spokesperson for {a.name} said.</p>'
            quotes = [
                {"speaker": "a spokesperson", "person": None, "role": "spokesperson", "company": a.name,
                 "company_id": a.pk, "text": "We do not comment on market speculation.", "stance": "no_comment"}
            ]  # fmt: skip
        in_language = [feed for feed in feeds if feed.language == language]
        copies = rng.sample(in_language, min(len(in_language), rng.choice([1, 1, 1, 2, 3])))
        stories.append((a, b, title, stage, deal_type, published, body, quotes, copies))
        written += len(copies)

    entries, clusters = [], []
    for n, (_a, _b, title, _stage, _deal, published, body, _quotes, copies) in enumerate(stories):
        clusters.append(StoryCluster(created_at=published) if len(copies) > 1 else None)
        for copy, feed in enumerate(copies):
            guid = f"urn:load:{feed.pk}:{n}"
            entries.append(
                Entry(
                    feed=feed,
                    identity_key=hashlib.sha256(guid.encode()).hexdigest(),
                    guid=guid,
                    link=f"https://feed-{feed.pk}.example/news/{n}",
                    title=title,
                    summary=body,
                    language=feed.language,
                    published_at=published + timedelta(hours=copy),
                    first_seen_at=published + timedelta(hours=copy, minutes=7),
                    updated_at=published + timedelta(hours=copy, minutes=7),
                    content_hash=hashlib.sha256(body.encode()).hexdigest(),
                )
            )
    Entry.objects.bulk_create(entries, batch_size=2000)
    StoryCluster.objects.bulk_create([cluster for cluster in clusters if cluster is not None])

    mentions, named, parties = [], [], []
    entry_iter = iter(entries)
    for (a, b, _title, stage, deal_type, _published, _body, quotes, copies), cluster in zip(
        stories, clusters, strict=True
    ):
        thread = threads.get(frozenset({a.pk, b.pk})) if stage else None
        for _copy in copies:
            entry = next(entry_iter)
            state = rng.choices([MentionState.NEW, MentionState.DISMISSED, MentionState.ACCEPTED], [75, 15, 10])[0]
            if state == MentionState.ACCEPTED and thread is None:
                state = MentionState.NEW
            mention = Mention(
                entry=entry,
                is_deal_candidate=bool(stage),
                deal_score=round(rng.uniform(0.55, 0.98), 2) if stage else round(rng.uniform(0.0, 0.3), 2),
                stage_hint=stage,
                deal_type=deal_type,
                signals=[{"kind": "deal", "term": stage, "sentence": entry.title}] if stage else [],
                suggested_quotes=quotes,
                cluster=cluster,
                scanned_at=entry.first_seen_at,
                suggested_rumour=thread,
                state=state,
                state_changed_at=entry.first_seen_at + timedelta(hours=3) if state != MentionState.NEW else None,
                rumour=thread if state == MentionState.ACCEPTED else None,
                created_at=entry.first_seen_at,
            )
            mentions.append(mention)
            named += [(mention, a), (mention, b)] if stage else [(mention, a)]
            if stage:
                parties += [MentionParty(mention=mention, company=a, position=0)]
                parties += [MentionParty(mention=mention, company=b, position=1)]
    Mention.objects.bulk_create(mentions, batch_size=2000)
    Mention.companies.through.objects.bulk_create(
        [Mention.companies.through(mention_id=m.pk, company_id=c.pk) for m, c in named], batch_size=5000
    )
    MentionParty.objects.bulk_create(parties, batch_size=5000)


# --- The processes ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_gunicorn(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    log = (OUT / "gunicorn.log").open("wb")
    command = [
        str(VENV_BIN / "gunicorn"), "config.wsgi",
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "--timeout", "30",
        "--log-level", "warning",
    ]  # fmt: skip
    print("$ " + " ".join(["gunicorn", *command[1:]]), flush=True)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_until_up(host: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {OUT / 'gunicorn.log'}.")
        try:
            with urllib.request.urlopen(f"{host}/health/live/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /health/live/ within 60 s; see {OUT / 'gunicorn.log'}.")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown of its workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _locust(env: dict[str, str], host: str, label: str, classes: list[str], users: int, seconds: int) -> dict[str, Any]:
    prefix = OUT / label
    for old in OUT.glob(f"{label}_*.csv"):
        old.unlink()
    command = [
        "locust", "--headless", "-f", "tests/benchmarks/locustfile.py",
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
        "--host", host, "--csv", str(prefix.relative_to(ROOT)), "--only-summary", "--loglevel", "WARNING",
        *classes,
    ]  # fmt: skip
    print("$ " + " ".join(command), flush=True)
    completed = subprocess.run(
        [str(VENV_BIN / "locust"), *command[1:]], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.is_file():
        raise SystemExit(f"locust wrote no statistics (exit {completed.returncode}):\n{completed.stderr[-3000:]}")
    return {
        "command": " ".join(command),
        "endpoints": _read_stats(stats_file),
        "failures": _read_failures(Path(f"{prefix}_failures.csv")),
    }


def _read_stats(path: Path) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "median_ms": float(row["50%"] if row["50%"] != "N/A" else "nan"),
                "p95_ms": float(row["95%"] if row["95%"] != "N/A" else "nan"),
                "p99_ms": float(row["99%"] if row["99%"] != "N/A" else "nan"),
                "mean_ms": float(row["Average Response Time"]),
            }
    return rows


def _busiest_key(path: Path) -> int | None:
    """Requests sent with the most used key (the locustfile counts them), or None if it wrote nothing."""
    if not path.is_file():
        return None
    return max(json.loads(path.read_text()).values(), default=0)


def _read_failures(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


# --- The report ---------------------------------------------------------------------------------


def _report(results: dict[str, Any]) -> int:
    baseline = results["baseline"]["endpoints"]["Aggregated"]
    api = results["api"]["endpoints"]["Aggregated"]
    print()
    print(
        f"API load test: gunicorn, {results['workers']} sync workers; locust, 1 process, {results['users']} users, "
        f"no think time, {results['seconds']} s per run; PostgreSQL ({results['database']}); seeded "
        f"{results['seeded']['rumours']} rumours, {results['seeded']['entries']} entries, "
        f"{results['seeded']['mentions']} mentions"
    )
    print()
    print(f"| {'Endpoint':<34} | {'Requests':>8} | {'req/s':>7} | {'median ms':>9} | {'p95 ms':>7} "
          f"| {'p99 ms':>7} | {'Failures':>8} |")  # fmt: skip
    print(f"| {'-' * 34} | {'-' * 7}: | {'-' * 6}: | {'-' * 8}: | {'-' * 6}: | {'-' * 6}: | {'-' * 7}: |")
    rows = [(name, f) for name, f in results["api"]["endpoints"].items() if name != "Aggregated"]
    rows.sort(key=lambda row: -row[1]["requests"])
    rows += [("**API total**", api), ("**baseline: /health/live/**", baseline)]
    for name, f in rows:
        print(
            f"| {name:<34} | {f['requests']:>8,} | {f['rps']:>7.1f} | {f['median_ms']:>9.0f} | {f['p95_ms']:>7.0f} "
            f"| {f['p99_ms']:>7.0f} | {f['failures']:>8} |"
        )
    print()
    print(
        f"API vs baseline: {api['rps'] / baseline['rps']:.2f}x the requests/s; "
        f"p95 {api['p95_ms'] / baseline['p95_ms']:.1f}x, median {api['median_ms'] / baseline['median_ms']:.1f}x"
        if baseline["rps"] and baseline["p95_ms"] and baseline["median_ms"]
        else "API vs baseline: the baseline recorded nothing."
    )
    limit = results["api_rate"]
    busiest = results["busiest_key_requests"]
    pools = f"{results['key_pools']['investor']} investor + {results['key_pools']['analyst']} analyst keys"
    if busiest is None:
        print(f"Keys: {pools}, round robin; the locustfile wrote no count per key (API_RATE {limit}).")
    else:
        print(
            f"Keys: {pools}, round robin; busiest key {busiest} requests in {results['seconds']} s "
            f"(~{math.ceil(busiest * 60 / results['seconds'])}/min; API_RATE {limit})"
        )
    failures = int(api["failures"]) + int(baseline["failures"])
    for run in ("baseline", "api"):
        for failure in results[run]["failures"]:
            print(f"FAILED ({run}): {failure.get('Occurrences')} x {failure.get('Name')}: {failure.get('Error')}")
    print(f"Errors: {failures}" + ("" if failures else " (none)"))
    print(f"Figures: {OUT.parent / 'load.json'}; locust CSV files: {OUT}")
    return failures


if __name__ == "__main__":
    main()
