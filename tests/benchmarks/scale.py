"""Scale benchmark (not a test: it reports figures, it does not pass or fail).

N feeds (default 10,000) served by a local feed farm (:mod:`tests.benchmarks.feedfarm`,
its own processes), loaded as due ``Feed`` rows in PostgreSQL and polled once each by
real ``celery -A config worker -Q polling,default`` processes through Redis. In one run:

1. **Feed server capacity**: requests/s the farm answers to a concurrent client opening
   a new connection per request (as the poller does), and the farm's CPU time per
   request; later, the share of a core it used while the workers polled.
2. **Dispatcher cost per tick** (``tracker.dispatch_due_feeds``, run in this process:
   heartbeat, claim of ``TRACKER_DISPATCH_BATCH`` due feeds, one ``tracker.poll_feed``
   message each) with 100, one batch's worth and N feeds loaded, all due: median time
   and SQL queries per tick, the claim alone, and ``EXPLAIN (ANALYZE)`` of the due-feed
   query with the partial index ``feed_due_idx``.
3. **Polling with 1, then 2 worker processes**: feeds polled per minute until every
   feed has a poll log, and the ratio 2 vs 1. A *worker process* is one ``celery worker``
   (its main process and a prefork pool of ``--concurrency`` children, default 8, since
   polling waits on the network); "2" is two such workers on the same broker and
   database, as a second machine or container would run them. The benchmark ticks the
   dispatcher (the real task, on the ``default`` queue the workers consume) whenever
   fewer than half a batch of claimed feeds remain, so the workers never wait on beat's
   60-second cadence; the ceiling that cadence sets is printed beside the figures.

Each run starts from the same state (no entries, no poll logs, every feed due), so each
poll is a first poll: 200, parse, store the entries, reschedule, log. The hand-off to
detection (``TRACKER_ENTRIES_HANDLER``, enqueueing ``rumours.scan_entries`` on the
``detection`` queue) is part of every poll; detection itself is not, since these
workers do not consume that queue. Its depth and Redis memory are reported, and the
Redis database is emptied at the end.

Usage::

    .venv/bin/python -m tests.benchmarks.scale                 # 10,000 feeds, a few minutes on 2 cores
    .venv/bin/python -m tests.benchmarks.scale --feeds 1000 --concurrency 4

The database is ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/bench_scale``,
created and migrated here) and must belong to the benchmark: it refuses to touch one
holding feeds it did not create. Redis is ``--redis-url`` (default
``redis://127.0.0.1:6379/7``; ``REDIS_URL`` is ignored on purpose, since the benchmark
empties the database it uses). Figures go to standard output and
``benchmark-results/scale.json``. On a shared machine they move with the other load:
the machine's CPU use during each run is printed with them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tests.benchmarks.feedfarm import PATH_PREFIX, FeedFarm

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_scale"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
QUEUES = ("default", "polling", "detection", "email")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROBE = [sys.executable, "-m", "tests.benchmarks.feedfarm", "probe"]
# As docs/operations.md runs a polling worker, plus the default queue for the dispatcher's
# tick; without gossip, mingle and heartbeat like the service tests' WorkerProcess.
WORKER = [
    *(sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "polling,default"),
    *("--pool=prefork", "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=10_000, help="feeds served and loaded (default 10,000)")
    parser.add_argument("--entries", type=int, default=5, help="entries per feed (default 5)")
    parser.add_argument("--concurrency", type=int, default=8, help="prefork children per worker (default 8)")
    parser.add_argument("--server-processes", type=int, default=2, help="feed farm processes (default 2)")
    parser.add_argument("--ticks", type=int, default=5, help="measured dispatcher ticks per size (median)")
    parser.add_argument("--run-timeout", type=float, default=600, help="give up on a polling run after this (s)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args()
    if args.feeds < 1 or args.concurrency < 1 or args.server_processes < 1 or args.ticks < 1:
        parser.error("--feeds, --concurrency, --server-processes and --ticks must be at least 1")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    # This process and the workers it starts share one broker, cache and address rule.
    os.environ["REDIS_URL"] = os.environ["CELERY_BROKER_URL"] = args.redis_url
    os.environ["TRACKER_ALLOW_PRIVATE_ADDRESSES"] = "1"

    import django

    django.setup()
    logging.getLogger("tracker").setLevel(logging.WARNING)  # one line per tick would bury the report
    _prepare_database()
    redis_client = _redis(args.redis_url)

    results: dict[str, Any] = {
        "feeds": args.feeds,
        "entries_per_feed": args.entries,
        "concurrency_per_worker": args.concurrency,
        "cpus": os.cpu_count(),
    }
    _say(_header_lines(results), results)
    farm = FeedFarm(processes=args.server_processes, entries=args.entries)
    logs = tempfile.TemporaryDirectory(prefix="bench-scale-")
    try:
        farm.wait_ready()
        results["server"] = _measure_server(farm, args.feeds)
        _say(_server_lines(results["server"]), results)
        results["dispatcher"] = _measure_dispatcher(farm, args.feeds, args.ticks, redis_client)
        _say(_dispatcher_lines(results["dispatcher"]), results)
        results["polling"] = []
        _say(_polling_header(results), results)
        for count in (1, 2):
            run = _measure_polling(farm, args, workers=count, log_dir=Path(logs.name), redis_client=redis_client)
            results["polling"].append(run)
            _say(_polling_row(run), results)
        _say(_polling_summary(results["dispatcher"], results["polling"]), results)
    finally:
        farm.stop()
        redis_client.flushdb()
        logs.cleanup()


# --- Set-up -----------------------------------------------------------------------------


def _prepare_database() -> None:
    """Create the benchmark's database if it is missing, migrate it, and make sure it is ours."""
    import psycopg
    from django.conf import settings
    from django.core.management import call_command
    from psycopg.conninfo import make_conninfo

    from tracker.models import Feed

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit("The scale benchmark needs PostgreSQL: set DATABASE_URL to postgres://… (or leave it unset).")
    server = make_conninfo(
        "", dbname="postgres", host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
        password=db["PASSWORD"] or None,
    )  # fmt: skip
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone() is None:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(db["NAME"])))
    call_command("migrate", verbosity=0, interactive=False)
    if Feed.objects.exclude(url__contains=PATH_PREFIX).exists():
        raise SystemExit(
            f"Database {db['NAME']!r} holds feeds this benchmark did not create, and the benchmark deletes "
            "feeds, entries and poll logs. Point DATABASE_URL at a database of its own (default bench_scale)."
        )


def _redis(url: str) -> Any:
    """A client on the benchmark's Redis database, refusing one that holds anything but Celery's keys."""
    import redis

    client = redis.Redis.from_url(url)
    foreign = [
        key
        for key in client.scan_iter(count=1000)
        if key.decode(errors="replace").split("\x06", 1)[0] not in QUEUES
        and not key.startswith((b"_kombu.", b"unacked", b":1:"))
    ]
    if foreign:
        raise SystemExit(
            f"Redis {url} holds keys that are not Celery's ({foreign[:3]!r}…), and the benchmark empties "
            "the database it uses. Pass --redis-url with a database of its own (default db 7)."
        )
    client.flushdb()
    return client


def _load_feeds(farm: FeedFarm, numbers: Iterable[int], *, due: datetime) -> None:
    """Bulk rows of the shape ``feed_create`` writes, due oldest first in feed-number order."""
    from tracker.models import Feed

    Feed.objects.bulk_create(
        (Feed(url=farm.url(n), next_poll_at=due + timedelta(milliseconds=n)) for n in numbers), batch_size=2000
    )


def _empty_tables() -> None:
    from django.db import connection

    from tracker.models import Entry, Feed, PollLog

    with connection.cursor() as cursor:
        for model in (PollLog, Entry, Feed):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    _vacuum(PollLog, Entry, Feed)


def _vacuum(*models: Any) -> None:
    """What autovacuum would have done by the time a table this size is polled in production."""
    from django.db import connection

    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# --- 1. The feed server -------------------------------------------------------------------


def _measure_server(farm: FeedFarm, feeds: int) -> dict[str, Any]:
    before = {pid: _cpu_seconds(pid) or 0.0 for pid in farm.pids}
    probe = subprocess.run(
        [*PROBE, "--port", str(farm.port), "--seconds", "3", "--concurrency", "32", "--feeds", str(feeds)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    server_cpu = sum((_cpu_seconds(pid) or 0.0) - before[pid] for pid in farm.pids)
    result: dict[str, Any] = json.loads(probe.stdout)
    result["processes"] = len(farm.pids)
    result["server_cpu_us_per_request"] = server_cpu / max(result["requests"], 1) * 1e6
    return result


# --- 2. The dispatcher --------------------------------------------------------------------


def _measure_dispatcher(farm: FeedFarm, feeds: int, repeats: int, redis_client: Any) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tracker.models import Feed
    from tracker.services import feeds_claim_due
    from tracker.tasks import dispatch_due_feeds

    batch = settings.TRACKER_DISPATCH_BATCH
    due = timezone.now() - timedelta(hours=1)

    def reset() -> None:
        Feed.objects.update(lease_token=None, lease_until=None, next_poll_at=due)
        redis_client.delete("polling")
        _vacuum(Feed)

    def timed(action: Callable[[], Any]) -> tuple[float, int, list[str], Any]:
        reset()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            outcome = action()
            elapsed = time.perf_counter() - started
        return elapsed, len(queries), [q["sql"] for q in queries.captured_queries], outcome

    _empty_tables()
    loaded = 0
    sizes = sorted({min(100, feeds), min(batch, feeds), feeds})
    rows = []
    for size in sizes:
        _load_feeds(farm, range(loaded, size), due=due)
        loaded = size
        timed(dispatch_due_feeds)  # warm-up: broker connection, plan cache
        ticks = [timed(dispatch_due_feeds) for _ in range(repeats)]
        claims = [timed(feeds_claim_due) for _ in range(repeats)]
        due_query = next(sql for sql in claims[0][2] if "ORDER BY" in sql and "next_poll_at" in sql)
        reset()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {due_query}")
            plan = [line for (line,) in cursor.fetchall()]
        rows.append(
            {
                "feeds_loaded": size,
                "claimed": len(claims[0][3]),
                "tick_ms": statistics.median(t[0] for t in ticks) * 1000,
                "tick_queries": ticks[0][1],
                "claim_ms": statistics.median(c[0] for c in claims) * 1000,
                "claim_queries": claims[0][1],
                "due_query": due_query,
                "plan": plan,
                "uses_feed_due_idx": any("feed_due_idx" in line for line in plan),
            }
        )
    reset()
    return {"batch": batch, "every_seconds": _dispatch_every(), "repeats": repeats, "ticks": rows}


def _dispatch_every() -> int:
    from django.conf import settings

    schedule: Any = settings.CELERY_BEAT_SCHEDULE["dispatch-due-feeds"]["schedule"]
    return int(schedule)


# --- 3. Polling through Celery workers ----------------------------------------------------


class Worker:
    """``celery -A config worker -Q polling,default`` in its own session (so its pool can be found and stopped)."""

    def __init__(self, *, name: str, concurrency: int, log_path: Path) -> None:
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [*WORKER, f"--concurrency={concurrency}", f"--hostname={name}@%h"],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b"ready." in self.log_path.read_bytes():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"The Celery worker did not start:\n{self.tail()}")

    def pids(self) -> list[int]:
        return _session_pids(self.process.pid)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@dataclass
class CpuMeter:
    """CPU seconds used by a changing set of processes since :meth:`start`.

    Sampled while the run goes on, because processes come and go (a database backend
    is replaced when its connection reaches CONN_MAX_AGE); one that appears after the
    start counts from zero, one that exits keeps what it had at its last sample.
    """

    find: Callable[[], Iterable[int]]
    base: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)

    def start(self) -> None:
        for pid in self.find():
            self.base[pid] = self.last[pid] = _cpu_seconds(pid) or 0.0

    def sample(self) -> None:
        for pid in self.find():
            seconds = _cpu_seconds(pid)
            if seconds is not None:
                self.base.setdefault(pid, 0.0)
                self.last[pid] = seconds

    @property
    def seconds(self) -> float:
        return sum(self.last[pid] - self.base[pid] for pid in self.last)


def _measure_polling(
    farm: FeedFarm, args: argparse.Namespace, *, workers: int, log_dir: Path, redis_client: Any
) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count, Q
    from django.utils import timezone

    from tracker.models import Entry, Feed, PollLog
    from tracker.tasks import dispatch_due_feeds

    feeds = args.feeds
    batch = settings.TRACKER_DISPATCH_BATCH
    _empty_tables()
    _load_feeds(farm, range(feeds), due=timezone.now() - timedelta(hours=1))
    _vacuum(Feed)
    redis_client.flushdb()

    pool = [
        Worker(
            name=f"bench-scale-{workers}-{n}-{os.getpid()}",
            concurrency=args.concurrency,
            log_path=log_dir / f"{workers}-{n}.log",
        )
        for n in range(workers)
    ]
    result: dict[str, Any] = {"workers": workers, "concurrency": args.concurrency}
    try:
        for worker in pool:
            worker.wait_ready()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            row = cursor.fetchone()
            assert row is not None
            own_backend = row[0]

        def backends() -> list[int]:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s", [own_backend]
                )
                return [pid for (pid,) in cursor.fetchall()]

        meters = {
            "workers": CpuMeter(lambda: [pid for w in pool for pid in w.pids()]),
            "postgres": CpuMeter(backends),
            "server": CpuMeter(lambda: farm.pids),
        }
        for meter in meters.values():
            meter.start()
        machine_before = _machine_cpu()

        started_at = timezone.now()
        deadline = time.monotonic() + args.run_timeout
        ticks, awaiting_claim, last_tick = 0, False, 0.0
        seen_claimed = 0
        polls = 0
        while polls < feeds and time.monotonic() < deadline:
            state = Feed.objects.aggregate(
                leased=Count("pk", filter=Q(lease_token__isnull=False)),
                claimed=Count("pk", filter=Q(lease_token__isnull=False) | Q(last_polled_at__isnull=False)),
            )
            polls = PollLog.objects.count()
            if state["claimed"] > seen_claimed:
                seen_claimed, awaiting_claim = state["claimed"], False
            waited_too_long = awaiting_claim and time.monotonic() - last_tick > 30
            if state["claimed"] < feeds and state["leased"] < batch // 2 and (not awaiting_claim or waited_too_long):
                dispatch_due_feeds.delay()
                ticks, awaiting_claim, last_tick = ticks + 1, True, time.monotonic()
            for meter in meters.values():
                meter.sample()
            time.sleep(0.5)
        machine_after = _machine_cpu()
        for meter in meters.values():
            meter.sample()
        result["complete"] = polls >= feeds
        if not result["complete"]:
            result["worker_log_tail"] = pool[0].tail()
    finally:
        for worker in pool:
            worker.stop()

    finished = sorted(
        started + timedelta(milliseconds=duration)
        for started, duration in PollLog.objects.values_list("started_at", "duration_ms")
    )
    polls = len(finished)
    wall = (finished[-1] - started_at).total_seconds() if finished else float("nan")
    low, high = int(polls * 0.1), max(int(polls * 0.9) - 1, 0)
    span = (finished[high] - finished[low]).total_seconds() if polls >= 10 else 0.0
    busy, stolen, total = (after - before for after, before in zip(machine_after, machine_before, strict=True))
    result.update(
        {
            "polls": polls,
            "feeds_polled": PollLog.objects.values("feed").distinct().count(),
            "outcomes": dict(PollLog.objects.values_list("outcome").annotate(n=Count("id")).order_by("outcome")),
            "entries_stored": Entry.objects.count(),
            "ticks_sent": ticks,
            "wall_seconds": wall,
            "feeds_per_minute": polls / wall * 60 if wall else 0.0,
            "steady_feeds_per_minute": (high - low) / span * 60 if span else 0.0,
            "cpu_seconds": {name: meter.seconds for name, meter in meters.items()},
            "machine_busy_percent": busy / total * 100 if total else 0.0,
            "machine_stolen_percent": stolen / total * 100 if total else 0.0,
            "detection_queue_messages": redis_client.llen("detection"),
            "detection_queue_bytes": redis_client.memory_usage("detection") or 0,
            "polling_queue_left": redis_client.llen("polling"),
        }
    )
    redis_client.flushdb()
    return result


# --- /proc ------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces


def _cpu_seconds(pid: int) -> float | None:
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _session_pids(session: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[3]) == session:
                pids.append(int(entry.name))
    return pids


def _machine_cpu() -> tuple[int, int, int]:
    """(busy, stolen, total) clock ticks of all CPUs since boot; stolen: taken by the hypervisor."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]
    )
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + steal + idle + iowait


# --- Report -----------------------------------------------------------------------------
# Each section is printed (and the JSON rewritten) as soon as it is measured, so a run
# cut short on a busy machine still leaves the figures it reached.


def _say(lines: list[str], results: dict[str, Any]) -> None:
    print("\n".join(lines), flush=True)
    out = ROOT / "benchmark-results"
    out.mkdir(exist_ok=True)
    (out / "scale.json").write_text(json.dumps(results, indent=2, default=str) + "\n")


def _header_lines(results: dict[str, Any]) -> list[str]:
    from django.conf import settings

    return [
        f"Scale benchmark: {results['feeds']:,} feeds x {results['entries_per_feed']} entries, "
        f"PostgreSQL {settings.DATABASES['default']['NAME']!r}, Redis {settings.CELERY_BROKER_URL}, "
        f"{results['cpus']} CPUs"
    ]


def _server_lines(server: dict[str, Any]) -> list[str]:
    return [
        "",
        f"Feed server ({server['processes']} processes): {server['requests_per_s']:,.0f} requests/s to a "
        f"32-connection client, new connection per request ({server['failed']} failed; the client shares "
        "the cores, so this is a lower bound)",
        f"  server CPU per request: {server['server_cpu_us_per_request']:,.0f} µs "
        f"(~{1e6 / max(server['server_cpu_us_per_request'], 1):,.0f} requests/s per core)",
    ]


def _dispatcher_lines(dispatcher: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"Dispatcher tick (batch {dispatcher['batch']}, median of {dispatcher['repeats']}; "
        "tick = heartbeat + claim + one poll_feed message per claim)",
        f"  {'feeds loaded':>12}  {'claimed':>7}  {'tick ms':>8}  {'queries':>7}  {'claim ms':>8}  "
        f"{'queries':>7}  {'µs/claimed feed':>15}  feed_due_idx",
    ]
    for row in dispatcher["ticks"]:
        lines.append(
            f"  {row['feeds_loaded']:>12,}  {row['claimed']:>7,}  {row['tick_ms']:>8.1f}  {row['tick_queries']:>7}  "
            f"{row['claim_ms']:>8.1f}  {row['claim_queries']:>7}  {row['tick_ms'] * 1000 / row['claimed']:>15,.0f}  "
            f"{'used' if row['uses_feed_due_idx'] else 'NOT used'}"
        )
    first, largest = dispatcher["ticks"][0], dispatcher["ticks"][-1]
    if largest is not first:
        lines.append(
            f"  {largest['feeds_loaded']:,} vs {first['feeds_loaded']:,} loaded: "
            f"tick {largest['tick_ms'] / first['tick_ms']:.1f}x, claim {largest['claim_ms'] / first['claim_ms']:.1f}x"
        )
    if len(dispatcher["ticks"]) == 3:
        one_batch = dispatcher["ticks"][1]
        lines.append(
            f"  {largest['feeds_loaded']:,} vs {one_batch['feeds_loaded']:,} loaded (same batch): "
            f"tick {largest['tick_ms'] / one_batch['tick_ms']:.2f}x, "
            f"claim {largest['claim_ms'] / one_batch['claim_ms']:.2f}x"
        )
    lines.append(
        f"  EXPLAIN (ANALYZE, BUFFERS) of the due-feed query, {largest['feeds_loaded']:,} feeds loaded, all due:"
    )
    lines += [f"    {line}" for line in largest["plan"]]
    return lines


def _polling_header(results: dict[str, Any]) -> list[str]:
    return [
        "",
        "Polling: every feed polled once (first poll: 200, parse, store, reschedule, log, hand-off to the "
        f"detection queue), {results['concurrency_per_worker']} prefork children per worker",
        f"  {'workers':>7}  {'processes':>9}  {'polls':>6}  {'wall s':>7}  {'feeds/min':>9}  {'steady/min':>10}  "
        f"{'ticks':>5}  {'CPU s: workers':>14}  {'postgres':>8}  {'server':>6}  {'CPU ms/poll':>11}  "
        f"{'machine busy/stolen':>19}",
    ]


def _polling_row(run: dict[str, Any]) -> list[str]:
    cpu = run["cpu_seconds"]
    per_poll = sum(cpu.values()) / run["polls"] * 1000 if run["polls"] else 0.0
    return [
        f"  {run['workers']:>7}  {run['workers'] * (run['concurrency'] + 1):>9}  {run['polls']:>6,}  "
        f"{run['wall_seconds']:>7.1f}  {run['feeds_per_minute']:>9,.0f}  {run['steady_feeds_per_minute']:>10,.0f}  "
        f"{run['ticks_sent']:>5}  {cpu['workers']:>14.1f}  {cpu['postgres']:>8.1f}  {cpu['server']:>6.1f}  "
        f"{per_poll:>11.1f}  {run['machine_busy_percent']:>11.0f}% / {run['machine_stolen_percent']:>3.0f}%"
    ]


def _polling_summary(dispatcher: dict[str, Any], polling: list[dict[str, Any]]) -> list[str]:
    lines = []
    one, two = polling
    if one["feeds_per_minute"] and two["feeds_per_minute"]:
        lines.append(
            f"  ratio 2 vs 1 worker: {two['feeds_per_minute'] / one['feeds_per_minute']:.2f}x "
            f"(steady: {two['steady_feeds_per_minute'] / max(one['steady_feeds_per_minute'], 1e-9):.2f}x)"
        )
    for run in polling:
        share = run["cpu_seconds"]["server"] / run["wall_seconds"] * 100 if run["wall_seconds"] else 0.0
        outcomes = ", ".join(f"{n:,} {outcome}" for outcome, n in run["outcomes"].items())
        lines.append(
            f"  {run['workers']} worker(s): {run['feeds_polled']:,} feeds polled ({outcomes}); "
            f"{run['entries_stored']:,} entries; feed server at {share:.0f}% of one core; detection queue left "
            f"{run['detection_queue_messages']:,} messages ({run['detection_queue_bytes'] / 2**20:.1f} MiB), "
            f"polling queue {run['polling_queue_left']}{'' if run['complete'] else '; INCOMPLETE (timed out)'}"
        )
    ceiling = dispatcher["batch"] * 60 / dispatcher["every_seconds"]
    lines += [
        f"  beat's cadence caps polling at batch x ticks = {ceiling:,.0f} feeds/min "
        f"(TRACKER_DISPATCH_BATCH={dispatcher['batch']}, every {dispatcher['every_seconds']} s); "
        "the runs above tick on demand instead",
        "  CPU ms/poll: workers + their PostgreSQL backends + feed server (Redis not counted). "
        "machine busy/stolen: all CPUs, other processes included, and the share the hypervisor kept;",
        "  on a shared machine the rates move with both.",
    ]
    for run in polling:
        if not run["complete"]:
            lines.append(f"\nLast lines of a worker log ({run['workers']} worker run):\n{run['worker_log_tail']}")
    return lines


if __name__ == "__main__":
    main()
