"""The parts the fault drills break on purpose, started privately so nothing shared is touched.

* :class:`PrivateRedis`: a ``redis-server`` on a free port, without persistence, that a drill
  kills (a crash: queued messages are gone) and starts again on the same port.
* :class:`PrivatePostgres`: a throwaway PostgreSQL cluster (``initdb`` as the ``postgres`` user)
  that a drill restarts under a running worker.
* :class:`CeleryProcess`: ``celery -A config worker|beat`` in its own session, with the
  environment a drill chooses (the production settings module, so ``TRACKER_*`` variables
  such as a short lease take effect), killed with SIGKILL or stopped.
* :class:`WatchedFeedServer`: the tests' feed server, holding each response a while and
  recording how many requests for one path were in flight at once.
* :class:`SmtpInbox`: a real SMTP server (aiosmtpd) that can leave one message unanswered,
  so a worker can be killed while a mail is in flight.

The shared PostgreSQL (5432) and Redis (6379) are never stopped or reconfigured here, and
every process or instance started here is stopped by the fixture that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, NoReturn

import psycopg
import pytest
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.feedserver import FeedServer, Route
from tests.services.conftest import ROOT, wait_for

# The drills' timeouts and leases fit CI's machine; DRILL_TIME_SCALE stretches them all on a
# slower one (a machine shared with other test runs can be ten times slower to start a process).
TIME_SCALE = float(os.environ.get("DRILL_TIME_SCALE", "1"))


def patient(seconds: float) -> float:
    return seconds * TIME_SCALE


# Starting a Python process that imports Django and Celery takes seconds on a quiet machine.
START_TIMEOUT = patient(180.0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unavailable(problem: str) -> NoReturn:
    """A drill cannot run here: fail in CI (the drills are required there), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"Fault drills need {problem} in CI.")
    pytest.skip(f"fault drill skipped: {problem}")


# --- Redis ------------------------------------------------------------------------------------


class PrivateRedis:
    """``redis-server`` on a free port of 127.0.0.1, nothing saved to disk."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server on the PATH")
        self.binary = str(binary)
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def start(self) -> None:
        self.starts += 1
        log = open(self.workdir / f"redis-{self.starts}.log", "wb")  # noqa: SIM115  (the process owns it)
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)]
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_for(self.answers, timeout=patient(30), message=f"the private redis-server on port {self.port} to answer")

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def crash(self) -> None:
        """SIGKILL: whatever was queued in memory is lost, as after a crash of an unsaved Redis."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=patient(30))
        self.process = None

    def queued(self, queue: str) -> int:
        """Messages waiting in a Celery queue (kombu keeps one list per queue and priority)."""
        client = self.client()
        return sum(int(client.llen(key)) for key in client.scan_iter(match=f"{queue}*"))


# --- PostgreSQL -------------------------------------------------------------------------------


class PrivatePostgres:
    """A throwaway cluster in a directory owned by ``postgres``, on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not initdb or shutil.which("runuser") is None or os.geteuid() != 0:
            unavailable("PostgreSQL's initdb and runuser (run as root) to start a private cluster")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("a postgres system user to own a private cluster")
        self.bin = Path(initdb[-1]).parent
        self.port = free_port()
        # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
        self.dir = Path(tempfile.mkdtemp(prefix="drill-pg-"))
        os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "--no-sync", "-U", "postgres")

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=5)

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        """A fast restart: every session is ended and its open transaction rolled back."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        """Stop (at once: nothing here is worth a checkpoint) and delete the cluster."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def server_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -F"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "120", *args
        )

    def _as_postgres(self, *command: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            capture_output=True,
            text=True,
            timeout=patient(300),
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}\n{self.server_log()}")


# --- Celery processes -------------------------------------------------------------------------


def celery_env(*, database_url: str, broker_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a drill's worker or beat: the production settings module (which reads
    every ``TRACKER_*`` variable; the test settings pin some of them), on the given services."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "fault-drill-only-secret-key",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "TRACKER_ALLOW_PRIVATE_ADDRESSES": "1",
        # Below every lease a drill sets, so a poll cannot outlive its lease.
        "TRACKER_CONNECT_TIMEOUT": str(round(patient(3))),
        "TRACKER_READ_TIMEOUT": str(round(patient(8))),
        "TRACKER_TOTAL_TIMEOUT": str(round(patient(10))),
        "TRACKER_MIN_INTERVAL": "60",
        **overrides,
    }


class CeleryProcess:
    """``celery -A config <arguments>`` in its own session; waits until its log shows ``ready``."""

    def __init__(self, arguments: list[str], *, env: dict[str, str], log_path: Path, ready: str) -> None:
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *arguments],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(
                lambda: ready in self.output() or self.process.poll() is not None,
                timeout=START_TIMEOUT,
                message=f"{' '.join(arguments[:1])} to start\n{self.output()}",
            )
            if self.process.poll() is not None:
                raise AssertionError(f"celery {arguments[0]} exited at start:\n{self.output()}")
        except BaseException:
            self.stop()  # never leave a half-started process behind
            raise

    @classmethod
    def worker(cls, *, env: dict[str, str], log_path: Path, concurrency: int = 2, queues: str = "") -> CeleryProcess:
        arguments = [
            "worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            f"--hostname=drill-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]  # fmt: skip
        if queues:
            arguments.append(f"--queues={queues}")
        return cls(arguments, env=env, log_path=log_path, ready="ready.")

    @classmethod
    def beat(cls, *, env: dict[str, str], log_path: Path, schedule: Path) -> CeleryProcess:
        return cls(
            ["beat", "--loglevel=INFO", f"--schedule={schedule}"], env=env, log_path=log_path, ready="beat: Starting"
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL to the whole process group (the main process and its pool): no cleanup at all."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        else:
            # The main process is gone; its pool children may not be.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        if not self.log.closed:
            self.log.close()


# --- A feed server that watches concurrency ---------------------------------------------------


class WatchedFeedServer(FeedServer):
    """Holds each response ``hold`` seconds and records the most requests in flight per path."""

    def __init__(self, *, hold: float = 0.0) -> None:
        super().__init__()
        self.hold = hold
        self.in_flight: Counter[str] = Counter()
        self.most_in_flight: Counter[str] = Counter()
        self._flight_lock = threading.Lock()

    def in_flight_now(self) -> int:
        with self._flight_lock:
            return sum(self.in_flight.values())

    def _serve(self, handler: BaseHTTPRequestHandler, route: Route) -> None:
        path = handler.path.split("?", 1)[0]
        with self._flight_lock:
            self.in_flight[path] += 1
            self.most_in_flight[path] = max(self.most_in_flight[path], self.in_flight[path])
        try:
            time.sleep(self.hold)
            super()._serve(handler, route)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the poller was killed while we held its response
        finally:
            with self._flight_lock:
                self.in_flight[path] -= 1


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class SmtpInbox:
    """An aiosmtpd handler: accepts every message, except that the ``stall_at``-th one (1-based) is
    received whole and then left without an answer, as a server does when the sender dies mid-send."""

    stall_at: int = 0
    received: list[Envelope] = field(default_factory=list)
    accepted: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        if len(self.received) == self.stall_at:
            await asyncio.sleep(600)  # the sender is killed meanwhile; the controller's stop() cancels this
        self.accepted.append(envelope)
        return "250 Message accepted for delivery"

    def accepted_for(self, address: str) -> int:
        return sum(address in envelope.rcpt_tos for envelope in self.accepted)

    def stalled(self) -> bool:
        return self.stall_at > 0 and len(self.received) >= self.stall_at


class SmtpServer:
    def __init__(self, inbox: SmtpInbox) -> None:
        self.inbox = inbox
        self.controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
        self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://{self.controller.hostname}:{self.controller.port}"

    def stop(self) -> None:
        self.controller.stop()


def until(
    condition: Callable[[], bool], *, tick: Callable[[], object], every: float, timeout: float, message: str
) -> None:
    """Wait for ``condition``, calling ``tick`` every ``every`` seconds meanwhile (beat's part)."""
    last = 0.0

    def ticking() -> bool:
        nonlocal last
        if time.monotonic() - last >= every:
            tick()
            last = time.monotonic()
        return condition()

    wait_for(ticking, timeout=timeout, message=message)
