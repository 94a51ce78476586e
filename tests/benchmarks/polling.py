"""Feed polling benchmark (not a test: it reports figures, it does not pass or fail).

Serves N feeds x M entries from a real local HTTP server and reports, in one run:

1. **Parse baseline**: feedparser alone on the same bytes, entries/s.
2. **End-to-end first poll**: claim, fetch over HTTP, parse, sanitise, upsert,
   reschedule, log, entries/s, and its ratio to the baseline.
3. **Re-poll unchanged** (the server answers 304 to our ETag): polls/s.
4. **Unchanged body without validators** (200, same bytes, skipped by hash): polls/s.
5. **Peak memory** of a fresh process polling one feed just under the body cap,
   against the same process doing everything but the poll.

Usage::

    make bench                                   # SQLite in a temp file
    DATABASE_URL=postgres://postgres@127.0.0.1/tracker make bench   # PostgreSQL (test_ database)
    .venv/bin/python -m tests.benchmarks.polling --feeds 500 --entries 50

Figures go to standard output and ``benchmark-results/polling.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    parser.add_argument("--memory-baseline", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import django

    django.setup()
    if args.memory_probe or args.memory_baseline:
        _memory_probe(args.memory_probe)
        return
    _run(args.feeds, args.entries)


def _run(feed_count: int, entry_count: int) -> None:
    import feedparser
    from django.conf import settings
    from django.db import connection

    from tests.feedbuilder import items, rss
    from tests.feedserver import FeedServer, Route
    from tracker.fetching import build_client
    from tracker.models import Entry, Feed
    from tracker.services import feed_create, feed_poll, feeds_claim, fetch_policy

    tmp = tempfile.TemporaryDirectory()
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(Path(tmp.name) / "bench.sqlite3")
    settings.TRACKER_ENTRIES_HANDLER = "tests.benchmarks.polling.ignore_hand_off"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = FeedServer().start()
    results: dict[str, Any] = {"feeds": feed_count, "entries_per_feed": entry_count, "database": connection.vendor}
    try:
        bodies = [rss(items(entry_count, prefix=f"f{n}")) for n in range(feed_count)]
        for n, body in enumerate(bodies):
            server.add(f"/b/{n}.xml", Route(body=body, etag=f'"e{n}"'))
        feeds = [feed_create(url=server.url(f"/b/{n}.xml"))[0] for n in range(feed_count)]
        total_entries = feed_count * entry_count
        results["body_bytes_per_feed"] = len(bodies[0])

        # 1. baseline: feedparser alone, same bytes
        started = time.perf_counter()
        parsed = sum(len(feedparser.parse(io.BytesIO(body)).entries) for body in bodies)
        baseline = time.perf_counter() - started
        assert parsed == total_entries
        results["feedparser_entries_per_s"] = total_entries / baseline

        # 2. end to end, first poll
        elapsed = _poll_all(feeds, feeds_claim, feed_poll, build_client, fetch_policy)
        assert Entry.objects.count() == total_entries, "not every entry was stored"
        results["poll_entries_per_s"] = total_entries / elapsed
        results["poll_feeds_per_s"] = feed_count / elapsed
        results["poll_vs_feedparser"] = results["poll_entries_per_s"] / results["feedparser_entries_per_s"]

        # 3. re-poll: 304 Not Modified
        elapsed = _poll_all(feeds, feeds_claim, feed_poll, build_client, fetch_policy)
        results["repoll_304_per_s"] = feed_count / elapsed

        # 4. same body, no validators: skipped by hash
        for n in range(feed_count):
            server.routes[f"/b/{n}.xml"].etag = ""
        Feed.objects.update(etag="")
        elapsed = _poll_all(feeds, feeds_claim, feed_poll, build_client, fetch_policy)
        results["repoll_unchanged_body_per_s"] = feed_count / elapsed
        outcomes = set(Feed.objects.values_list("polls__outcome", flat=True))
        assert outcomes == {"fetched", "not_modified", "unchanged"}, outcomes

        # 5. peak memory at the size cap, in fresh processes
        cap = settings.TRACKER_MAX_BODY_BYTES
        batch = items(max(1, int(cap * 0.95) // 6200), prefix="big")
        for item in batch:
            item.description = f"<p>{'x' * 6000}</p>"
        body = rss(batch)
        while len(body) > cap:
            batch = batch[: len(batch) * 9 // 10]
            body = rss(batch)
        server.add("/big.xml", Route(body=body))
        results["cap_bytes"] = cap
        results["cap_feed_bytes"] = len(body)
        results["cap_feed_entries"] = len(batch)
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(settings),
            "TRACKER_ENTRIES_HANDLER": "tests.benchmarks.polling.ignore_hand_off",
        }
        probe = [sys.executable, "-m", "tests.benchmarks.polling"]
        base_rss = json.loads(subprocess.check_output([*probe, "--memory-baseline"], cwd=ROOT, env=env))
        peak = json.loads(
            subprocess.check_output([*probe, "--memory-probe", server.url("/big.xml")], cwd=ROOT, env=env)
        )
        results["process_baseline_rss_mib"] = base_rss["maxrss_mib"]
        results["process_peak_rss_at_cap_mib"] = peak["maxrss_mib"]
        results["poll_at_cap_seconds"] = peak["seconds"]
        results["poll_at_cap_outcome"] = peak["outcome"]
    finally:
        server.stop()
        connection.creation.destroy_test_db(test_db, verbosity=0)
        tmp.cleanup()
    _report(results)


def _poll_all(feeds: list[Any], feeds_claim: Any, feed_poll: Any, build_client: Any, fetch_policy: Any) -> float:
    started = time.perf_counter()
    claims = feeds_claim(feed_ids=[f.pk for f in feeds])
    with build_client(fetch_policy()) as client:
        for claim in claims:
            feed_poll(feed_id=claim.feed_id, claim_token=claim.token, client=client)
    return time.perf_counter() - started


def _database_url(settings: Any) -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _memory_probe(url: str | None) -> None:
    """Run in a fresh process: poll ``url`` once (or not, for the baseline) and print peak RSS."""
    from tracker.models import Feed
    from tracker.services import feed_create, feed_poll, feeds_claim

    Feed.objects.filter(url=url or "").delete()
    started = time.perf_counter()
    outcome = "baseline"
    if url:
        feed, _ = feed_create(url=url)
        (claim,) = feeds_claim(feed_ids=[feed.pk])
        outcome = feed_poll(feed_id=feed.pk, claim_token=claim.token).outcome
    seconds = time.perf_counter() - started
    print(json.dumps({"maxrss_mib": _peak_rss_kib() / 1024, "seconds": seconds, "outcome": outcome}))


def _peak_rss_kib() -> int:
    """This process's peak resident set. VmHWM, because Linux carries ru_maxrss over
    from the parent across fork and exec, which would hide the probe's own peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def ignore_hand_off(**kwargs: Any) -> None:
    """The benchmark measures polling, not what the rest of the product does next."""


def _report(results: dict[str, Any]) -> None:
    lines = [
        f"Polling benchmark: {results['feeds']} feeds x {results['entries_per_feed']} entries "
        f"({results['body_bytes_per_feed']:,} bytes each), database {results['database']}",
        f"  feedparser alone (baseline)      {results['feedparser_entries_per_s']:>10,.0f} entries/s",
        f"  end-to-end first poll            {results['poll_entries_per_s']:>10,.0f} entries/s"
        f"  ({results['poll_feeds_per_s']:,.1f} feeds/s; {results['poll_vs_feedparser']:.2f}x the baseline)",
        f"  re-poll, 304 Not Modified        {results['repoll_304_per_s']:>10,.0f} polls/s",
        f"  re-poll, same body (hash skip)   {results['repoll_unchanged_body_per_s']:>10,.0f} polls/s",
        f"  one poll of a {results['cap_feed_bytes'] / 2**20:.1f} MiB feed ({results['cap_feed_entries']} entries, "
        f"cap {results['cap_bytes'] / 2**20:.0f} MiB): {results['poll_at_cap_outcome']} in "
        f"{results['poll_at_cap_seconds']:.1f} s, peak RSS {results['process_peak_rss_at_cap_mib']:.0f} MiB "
        f"vs {results['process_baseline_rss_mib']:.0f} MiB for the same process without the poll",
    ]
    print("\n".join(lines))
    out = ROOT / "benchmark-results"
    out.mkdir(exist_ok=True)
    (out / "polling.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
