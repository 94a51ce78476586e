"""Service tests: a real Celery worker process on Redis, with PostgreSQL.

Outside CI they are skipped when Redis or a PostgreSQL ``DATABASE_URL`` is missing;
in CI (``CI=true``) a missing service fails the run instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.rumours.conftest import analyst, goto, grab, make_rumour  # the rumours fixtures serve here too

__all__ = ["analyst", "goto", "grab", "make_rumour"]

ROOT = Path(__file__).resolve().parents[2]


def _service_problem() -> str | None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "DATABASE_URL does not point at PostgreSQL"
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        return "REDIS_URL / CELERY_BROKER_URL does not point at Redis"
    import redis

    try:
        redis.Redis.from_url(broker, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis at {broker} is not answering: {exc}"
    return None


@pytest.fixture(scope="session")
def services_available() -> None:
    problem = _service_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"Service tests need Redis and PostgreSQL in CI: {problem}.")
        pytest.skip(f"service test skipped: {problem}")


def wait_for(condition: Callable[[], bool], *, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"Timed out after {timeout:g} s waiting for {message}.")


class WorkerProcess:
    """``celery -A config worker`` in a subprocess, on the test database and broker."""

    def __init__(self, *, concurrency: int = 2, log_path: Path) -> None:
        db = settings.DATABASES["default"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "TRACKER_ALLOW_PRIVATE_ADDRESSES": "1",
        }
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: b"ready." in log_path.read_bytes() or self.process.poll() is not None,
            timeout=60,
            message="the worker to start",
        )
        if self.process.poll() is not None:
            raise AssertionError(f"Celery worker exited at start:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture
def celery_worker_process(services_available, transactional_db, tmp_path) -> Iterator[WorkerProcess]:
    from config.celery import app

    app.control.purge()
    worker = WorkerProcess(log_path=tmp_path / "worker.log")
    yield worker
    worker.stop()
    app.control.purge()
