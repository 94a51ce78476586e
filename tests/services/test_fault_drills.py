"""Fault drills: break a worker, Redis, PostgreSQL or the one-beat rule on purpose, with real
processes, and check that nothing is lost and nothing is done twice.

* A worker killed with SIGKILL mid-poll and mid-send (shared Redis and the test database).
* Redis restarted while work is queued (a private ``redis-server``: the shared one is never touched).
* PostgreSQL restarted mid-poll (a private throwaway cluster).
* Two beat processes started by mistake.

Workers and beats run the production settings module so the ``TRACKER_*`` variables a drill
sets (a lease of seconds, a dispatcher ticking every second) take effect; see
:mod:`tests.services.private_services` for the parts each drill starts and always stops.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from django.db.models import Count, F
from django.utils import timezone

from config.celery import app
from rumours.digests.schedule import latest_period
from rumours.digests.services import STALE_AFTER
from rumours.models import DigestDelivery, DigestState, Subscription
from rumours.services import api_key_create
from rumours.tasks import plan_digests
from tests.feedbuilder import items, rss
from tests.rumours.conftest import UserFactory
from tests.rumours.digest_world import GotoGrab, goto_grab_denial, subscriber
from tests.services.conftest import ROOT, wait_for
from tests.services.private_services import (
    CeleryProcess,
    PrivatePostgres,
    PrivateRedis,
    SmtpInbox,
    SmtpServer,
    WatchedFeedServer,
    celery_env,
    patient,
    until,
)
from tracker.models import Entry, Feed, PollLog, PollOutcome
from tracker.services import feed_create
from tracker.tasks import dispatch_due_feeds

pytestmark = pytest.mark.service

ENTRIES = 8


# --- Fixtures ---------------------------------------------------------------------------------


class Processes:
    """The workers and beats a drill starts; all stopped at teardown, whatever happened."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[CeleryProcess] = []

    def worker(self, name: str, env: dict[str, str], **options: Any) -> CeleryProcess:
        process = CeleryProcess.worker(env=env, log_path=self.directory / f"{name}.log", **options)
        self.started.append(process)
        return process

    def beat(self, name: str, env: dict[str, str]) -> CeleryProcess:
        process = CeleryProcess.beat(
            env=env, log_path=self.directory / f"{name}.log", schedule=self.directory / f"{name}-schedule"
        )
        self.started.append(process)
        return process

    def wait_for(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float,
        message: str,
        tick: Callable[[], object] | None = None,
        every: float = 1.0,
    ) -> None:
        """Wait (calling ``tick`` every ``every`` seconds, as beat would); on a timeout, show the logs."""
        try:
            if tick is None:
                wait_for(condition, timeout=patient(timeout), message=message)
            else:
                until(condition, tick=tick, every=every, timeout=patient(timeout), message=message)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.output()[-6000:]}" for p in self.started)

    def stop_all(self) -> None:
        problems = []
        for process in reversed(self.started):
            try:
                process.stop()
            except Exception as exc:  # stop the others all the same
                problems.append(f"{process.log_path.name}: {exc!r}")
        assert not problems, problems


@pytest.fixture
def shared_broker(services_available) -> Iterator[str]:
    """The suite's Redis database, empty before and after the drill."""
    app.control.purge()
    yield settings.CELERY_BROKER_URL
    app.control.purge()
    # A killed worker's unacknowledged messages would come back after the visibility timeout
    # (an hour) and wander into a later test: drop them (this database's keys only).
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("unacked", "unacked_index", "unacked_mutex")


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def watched_feed_server() -> Iterator[Callable[..., WatchedFeedServer]]:
    servers: list[WatchedFeedServer] = []

    def start(*, hold: float) -> WatchedFeedServer:
        server = WatchedFeedServer(hold=hold)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_inbox() -> Iterator[Callable[..., tuple[SmtpInbox, SmtpServer]]]:
    servers: list[SmtpServer] = []

    def start(*, stall_at: int = 0) -> tuple[SmtpInbox, SmtpServer]:
        inbox = SmtpInbox(stall_at=stall_at)
        servers.append(SmtpServer(inbox))
        return inbox, servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def private_redis(services_available, tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.crash()


@pytest.fixture
def private_postgres(services_available, tmp_path) -> Iterator[PrivatePostgres]:
    """A throwaway cluster with the project's schema in database ``tracker``."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        with cluster.connect() as connection:
            connection.execute("CREATE DATABASE tracker")
        manage(["migrate", "--verbosity=0"], database_url=cluster.url("tracker"))
        yield cluster
    finally:
        cluster.stop()


def manage(arguments: list[str], *, database_url: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=celery_env(database_url=database_url, broker_url=settings.CELERY_BROKER_URL),
        capture_output=True,
        text=True,
        timeout=patient(600),
        check=False,
    )
    assert done.returncode == 0, f"manage.py {' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def lease(seconds: float) -> str:
    """A lease for TRACKER_LEASE_SECONDS: long enough for a poll, short enough to wait out."""
    return str(round(patient(seconds)))


def suite_database_url() -> str:
    """The test database the suite runs on (pytest-django's ``test_…``), for worker processes."""
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def path_of(feed: Feed) -> str:
    return urlsplit(feed.url).path


def serve_feeds(server: WatchedFeedServer, count: int, *, name: str) -> list[Feed]:
    return [
        feed_create(url=server.add(f"/{name}/{n}.xml", body=rss(items(ENTRIES, prefix=f"{name}{n}"))))[0]
        for n in range(count)
    ]


def assert_each_entry_stored_once(feeds: list[Feed]) -> None:
    assert Entry.objects.filter(feed__in=feeds).count() == len(feeds) * ENTRIES
    duplicates = Entry.objects.values("feed", "identity_key").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicates.exists(), list(duplicates)


def assert_never_polled_twice_at_once(server: WatchedFeedServer, feeds: list[Feed]) -> None:
    """Neither at the feed server (requests in flight per path) nor in the poll log (time spans)."""
    assert set(server.most_in_flight.values()) == {1}, server.most_in_flight
    for feed in feeds:
        spans = [
            (log.started_at, log.started_at + timedelta(milliseconds=log.duration_ms))
            for log in PollLog.objects.filter(feed=feed).order_by("started_at")
        ]
        for (_, earlier_end), (later_start, _) in itertools.pairwise(spans):
            assert later_start >= earlier_end, f"feed {feed.pk}: polls overlap: {spans}"


def succeeded(process: CeleryProcess, task: str) -> int:
    return sum(task in line and "succeeded" in line for line in process.output().splitlines())


def grab_denial_today() -> tuple[GotoGrab, int]:
    """GoTo's denial inside the latest daily period of a Singapore send hour far from the clock's
    (so the period cannot roll over mid-drill); returns the world and that send hour."""
    now = timezone.now()
    send_hour = (now.astimezone(ZoneInfo("Asia/Singapore")).hour + 12) % 24
    period = latest_period(now=now, frequency="daily", time_zone="Asia/Singapore", hour=send_hour)
    world = goto_grab_denial(
        analyst=UserFactory.create(username="drill-analyst"),
        during=period.end - timedelta(hours=6),
        before=period.start - timedelta(days=30),
    )
    return world, send_hour


def grab_followers(world: GotoGrab, send_hour: int, count: int) -> list[Subscription]:
    return [
        subscriber(
            f"follower{n}@example.invalid",
            since=timezone.now() - timedelta(days=60),
            follows=[world.grab],
            time_zone="Asia/Singapore",
            send_hour=send_hour,
        )
        for n in range(count)
    ]


# --- 6. A worker killed with SIGKILL ----------------------------------------------------------


def test_it_polls_every_feed_once_after_a_worker_is_killed_mid_poll(
    transactional_db, shared_broker, processes, watched_feed_server
):
    # given: four feeds whose answers take 3 s, and a worker (two processes) holding leases for 15 s
    server = watched_feed_server(hold=3.0)
    feeds = serve_feeds(server, 4, name="killed")
    env = celery_env(database_url=suite_database_url(), broker_url=shared_broker, TRACKER_LEASE_SECONDS=lease(15))
    worker = processes.worker("worker-killed", env)

    # when: beat's tick dispatches them, and the worker (pool and all) is killed with SIGKILL
    # while a poll waits for its answer
    dispatch_due_feeds.delay()
    processes.wait_for(lambda: server.in_flight_now() >= 1, timeout=120, message="a poll in flight")
    worker.kill()
    requested = {path_of(feed): len(server.requests_to(path_of(feed))) for feed in feeds}
    completed = set(PollLog.objects.filter(feed__in=feeds).values_list("feed_id", flat=True))
    cut_off = [feed for feed in feeds if requested[path_of(feed)] and feed.pk not in completed]
    assert cut_off, "no poll was cut off"

    # when: a new worker starts, and beat keeps ticking until every feed has been polled
    processes.worker("worker-restarted", env)
    processes.wait_for(
        lambda: not Feed.objects.filter(pk__in=[f.pk for f in feeds], last_success_at__isnull=True).exists(),
        tick=dispatch_due_feeds.delay,
        timeout=180,
        message="every feed to be polled after the restart",
    )

    # then: each cut-off feed was fetched once more; every feed has one complete poll; every entry is stored once
    for feed in feeds:
        again = 0 if feed.pk in completed else 1
        assert len(server.requests_to(path_of(feed))) == requested[path_of(feed)] + again, path_of(feed)
        (log,) = PollLog.objects.filter(feed=feed)
        assert (log.outcome, log.entries_new) == (PollOutcome.FETCHED, ENTRIES)
    assert_each_entry_stored_once(feeds)
    assert_never_polled_twice_at_once(server, feeds)
    assert not Feed.objects.filter(pk__in=[f.pk for f in feeds], lease_token__isnull=False).exists()


def test_it_sends_no_digest_twice_after_a_worker_is_killed_mid_send(
    transactional_db, shared_broker, processes, smtp_inbox
):
    # given: three Grab followers owed today's digest, and a mail server that takes the second
    # message whole and never answers
    world, send_hour = grab_denial_today()
    followers = grab_followers(world, send_hour, 3)
    inbox, smtp = smtp_inbox(stall_at=2)
    env = celery_env(database_url=suite_database_url(), broker_url=shared_broker, EMAIL_URL=smtp.url)
    worker = processes.worker("worker-killed", env)

    # when: beat's digest tick plans them (one batch) and the worker is killed mid-send
    plan_digests.delay()
    processes.wait_for(inbox.stalled, timeout=120, message="the second message to reach the server")
    worker.kill()

    # then: one sent, one in flight (its Message-ID recorded before it left), one claimed but untouched
    in_flight = email.message_from_bytes(inbox.received[1].original_content or b"", policy=email.policy.default)
    assert Counter(DigestDelivery.objects.values_list("state", flat=True)) == {
        DigestState.SENT: 1,
        DigestState.SENDING: 2,
    }
    cut_off = DigestDelivery.objects.get(message_id=in_flight["Message-ID"])
    assert cut_off.state == DigestState.SENDING

    # when: the stale-claim timeout passes (claims moved back), a new worker starts and beat's next
    # digest ticks run
    DigestDelivery.objects.filter(state=DigestState.SENDING).update(
        claimed_at=F("claimed_at") - STALE_AFTER - timedelta(minutes=1)
    )
    restarted = processes.worker("worker-restarted", env)
    plan_digests.delay()
    processes.wait_for(
        lambda: not DigestDelivery.objects.filter(state__in=[DigestState.PLANNED, DigestState.SENDING]).exists(),
        timeout=120,
        message="every delivery to be settled",
    )
    plan_digests.delay()
    processes.wait_for(
        lambda: succeeded(restarted, "rumours.plan_digests") >= 2,
        timeout=60,
        message="the second digest tick",
    )

    # then: the one in flight is unknown and never resent; the other two went out once each
    cut_off.refresh_from_db()
    assert cut_off.state == DigestState.UNKNOWN
    assert inbox.accepted_for(cut_off.subscription.email) == 0
    assert sum(cut_off.subscription.email in e.rcpt_tos for e in inbox.received) == 1
    others = [f for f in followers if f.pk != cut_off.subscription_id]
    for follower in others:
        assert inbox.accepted_for(follower.email) == 1, follower.email
        assert DigestDelivery.objects.get(subscription=follower).state == DigestState.SENT
    assert len(inbox.accepted) == 2


# --- 7. Redis restarted while work is queued --------------------------------------------------


def test_it_serves_and_then_resumes_queued_work_when_redis_restarts(
    transactional_db, private_redis, processes, watched_feed_server, smtp_inbox, client, django_user_model, settings
):
    # given: five feeds, three Grab followers owed today's digest, an investor with an API key and an
    # editor; this process's cache and broker on the private Redis
    server = watched_feed_server(hold=0.5)
    feeds = serve_feeds(server, 5, name="redis")
    world, send_hour = grab_denial_today()
    followers = grab_followers(world, send_hour, 3)
    investor = django_user_model.objects.create_user("investor")
    _, key = api_key_create(user=investor, name="drill", created_by=None)
    django_user_model.objects.create_user("editor", password="correct-horse-battery", is_staff=True)
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": private_redis.url(1)}}
    inbox, smtp = smtp_inbox()
    env = celery_env(
        database_url=suite_database_url(), broker_url=private_redis.url(0), EMAIL_URL=smtp.url,
        TRACKER_LEASE_SECONDS=lease(15), TRACKER_DISPATCH_EVERY_SECONDS="1",
    )  # fmt: skip

    # and: a housekeeping worker (default queue) and beat: the dispatcher claims the feeds and queues
    # their polls, the digest tick queues the batch; no polling or email worker has taken them yet
    housekeeping = processes.worker("worker-default", env, queues="default")
    beat = processes.beat("beat", env)
    processes.wait_for(
        lambda: private_redis.queued("polling") >= len(feeds),
        timeout=120,
        message="the polls to be queued",
    )
    with app.connection_for_write(private_redis.url(0)) as connection:
        plan_digests.apply_async(connection=connection)  # type: ignore[call-arg]  # a Celery option the stubs lack  # beat's digest tick (every 15 min)
    processes.wait_for(lambda: private_redis.queued("email") >= 1, timeout=60, message="the digests")
    assert not PollLog.objects.exists()

    # when: Redis crashes (nothing saved: the queued messages are gone)
    private_redis.crash()
    previous_broker = app.conf.broker_url
    app.conf["broker_url"] = private_redis.url(0)
    try:
        # then: the API and the admin keep serving; /health/ says the broker is down
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        for path in (
            "/api/v1/rumours/",
            f"/api/v1/rumours/{world.rumour.pk}/",
            "/api/v1/companies/",
            "/api/v1/quotes/",
            "/api/v1/status-changes/",
        ):
            response = client.get(path, **bearer)
            assert response.status_code == 200, (path, response.status_code, response.content[:500])
        login = client.post("/admin/login/", {"username": "editor", "password": "correct-horse-battery"})
        assert login.status_code == 302
        assert client.get("/admin/").status_code == 200
        assert client.get("/health/live/").status_code == 200
        health = client.get("/health/")
        assert health.status_code == 503
        assert health.json()["checks"]["broker"]["ok"] is False
        assert health.json()["checks"]["database"]["ok"] is True
    finally:
        app.conf["broker_url"] = previous_broker

    # when: Redis comes back empty, a polling and email worker starts, and beat's next digest tick runs
    private_redis.start()
    processes.worker("worker-polling-email", env, queues="polling,email,detection")
    processes.wait_for(
        lambda: PollLog.objects.count() >= len(feeds),
        timeout=180,
        message="the polls, dispatched again once their leases expired",
    )
    with app.connection_for_write(private_redis.url(0)) as connection:
        plan_digests.apply_async(connection=connection)  # type: ignore[call-arg]  # a Celery option the stubs lack
    processes.wait_for(
        lambda: DigestDelivery.objects.filter(state=DigestState.SENT).count() == len(followers),
        timeout=120,
        message="the digests, re-enqueued from their planned rows",
    )

    # then: the beat and the housekeeping worker rode out the outage; every feed was polled once,
    # never twice at once, and every follower got one digest
    assert housekeeping.process.poll() is None
    assert beat.process.poll() is None
    for feed in feeds:
        assert PollLog.objects.filter(feed=feed).count() == 1
        assert len(server.requests_to(path_of(feed))) == 1
    assert_each_entry_stored_once(feeds)
    assert_never_polled_twice_at_once(server, feeds)
    for follower in followers:
        assert inbox.accepted_for(follower.email) == 1, follower.email


# --- 8. PostgreSQL restarted mid-poll ---------------------------------------------------------

BIG = 600  # two INSERT statements (bulk_create writes 500 rows at a time)

# Holds the first poll's transaction open in the middle of its second INSERT (row 550), once:
# a sequence is not rolled back, so the retry runs straight through.
HOLD_ONCE = """
CREATE SEQUENCE drill_hold_once;
CREATE FUNCTION drill_hold_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.guid = 'urn:big:550' AND nextval('drill_hold_once') = 1 THEN
        PERFORM pg_sleep(300);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER drill_hold_once BEFORE INSERT ON tracker_entry FOR EACH ROW EXECUTE FUNCTION drill_hold_once();
"""


def test_it_retries_a_poll_cut_off_by_a_postgres_restart_and_keeps_nothing_of_it(
    services_available, private_postgres, shared_broker, processes, watched_feed_server
):
    # given: a feed of 600 entries on a private PostgreSQL, a worker on it, and a trigger that holds
    # the first poll's transaction open after 550 rows
    server = watched_feed_server(hold=0.0)
    url = server.add("/pg/big.xml", body=rss(items(BIG, prefix="big")))
    manage(["addfeed", url, "--title", "Big"], database_url=private_postgres.url("tracker"))
    database = private_postgres.connect("tracker")
    database.execute(HOLD_ONCE)
    env = celery_env(
        database_url=private_postgres.url("tracker"), broker_url=shared_broker, TRACKER_LEASE_SECONDS=lease(20),
        TRACKER_ENTRIES_HANDLER="tests.handoff_recorder.record",  # detection is not what this drill is about
    )  # fmt: skip
    worker = processes.worker("worker", env, concurrency=1)

    # when: the poll is inside its transaction and PostgreSQL restarts (fast: sessions ended, rolled back)
    dispatch_due_feeds.delay()
    held = "SELECT query FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
    processes.wait_for(
        lambda: bool(database.execute(held).fetchall()),
        timeout=120,
        message="the poll to be held mid-insert",
    )
    ((statement,),) = database.execute(held).fetchall()
    assert statement.startswith('INSERT INTO "tracker_entry"')
    database.close()
    private_postgres.restart()
    database = private_postgres.connect("tracker")

    # when: the task's retry (and, if the claim could not be handed back, beat's tick after the
    # lease) polls again
    def polled() -> bool:
        return database.execute("SELECT count(*) FROM tracker_polllog").fetchone() != (0,)

    processes.wait_for(polled, tick=dispatch_due_feeds.delay, every=2.0, timeout=180, message="the retry")

    # then: the task failed on the lost connection and was retried; all 600 entries come from the one
    # poll that committed (had the cut-off one kept its 550 rows, this one would have found 50 new)
    assert "OperationalError" in worker.output()
    assert "Retry in" in worker.output()
    ((outcome, entries_new, started_at),) = database.execute(
        "SELECT outcome, entries_new, started_at FROM tracker_polllog"
    ).fetchall()
    assert (outcome, entries_new) == (PollOutcome.FETCHED, BIG)
    assert database.execute(
        "SELECT count(*), count(DISTINCT identity_key), min(first_seen_at), max(first_seen_at) FROM tracker_entry"
    ).fetchone() == (BIG, BIG, started_at, started_at)
    assert database.execute("SELECT lease_token FROM tracker_feed").fetchone() == (None,)
    assert len(server.requests_to("/pg/big.xml")) >= 2
    database.close()


# --- 9. Two beats by mistake ------------------------------------------------------------------


def test_it_polls_no_feed_twice_at_once_under_two_beats(
    transactional_db, shared_broker, processes, watched_feed_server
):
    # given: six feeds due every 2 s whose answers take 1 s, a worker with four processes, and two
    # beats (separate schedule files) each ticking the dispatcher every second
    server = watched_feed_server(hold=1.0)
    feeds = serve_feeds(server, 6, name="beats")
    env = celery_env(
        database_url=suite_database_url(), broker_url=shared_broker,
        TRACKER_MIN_INTERVAL="2", TRACKER_MAX_INTERVAL="2", TRACKER_DISPATCH_EVERY_SECONDS="1",
    )  # fmt: skip
    processes.worker("worker", env, concurrency=4)
    beats = [processes.beat(f"beat-{n}", env) for n in (1, 2)]

    # when: they run until every feed has been polled three times
    processes.wait_for(
        lambda: all(PollLog.objects.filter(feed=feed).count() >= 3 for feed in feeds),
        timeout=180,
        message="three polls of every feed",
    )
    for beat in beats:
        beat.stop()

    # then: both beats ticked throughout, yet no feed was ever polled twice at once
    for beat in beats:
        assert beat.output().count("Sending due task dispatch-due-feeds") >= 3, beat.output()
    assert_never_polled_twice_at_once(server, feeds)
    assert_each_entry_stored_once(feeds)
