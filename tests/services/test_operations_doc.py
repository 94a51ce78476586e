"""docs/operations.md, executed: every ``$`` command in its ``console`` blocks runs, in
order, against PostgreSQL and Redis; every process of ``deploy/Procfile`` is started
between the two halves of the page (at its ``ops-test`` marker); a feed added by the
page's own command is polled end to end through them; and the systemd units run the
same command lines as the Procfile.

If this test fails, the page (or a deploy file) is wrong for a new operator.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from django.conf import settings

from tests.feedbuilder import items, rss
from tests.services.conftest import wait_for

pytestmark = pytest.mark.service

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "operations.md"
PROCFILE = ROOT / "deploy" / "Procfile"
UNITS = ROOT / "deploy" / "systemd"
MARKER = "<!-- ops-test: the processes are running from here on -->"
OPS_REDIS_DB = 12


def console_commands(markdown: str) -> list[str]:
    commands = []
    for block in re.findall(r"```console\n(.*?)```", markdown, flags=re.S):
        commands += [line[2:] for line in block.splitlines() if line.startswith("$ ")]
    return commands


def procfile() -> dict[str, str]:
    lines = [line for line in PROCFILE.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return dict(line.split(": ", 1) for line in lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str, **headers: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


class Installation:
    """A scratch installation: its own databases, Redis db, var dir and processes."""

    def __init__(self, tmp: Path, feed_url: str) -> None:
        db = settings.DATABASES["default"]
        server = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}"
        broker = urlsplit(settings.CELERY_BROKER_URL)
        self.redis_url = urlunsplit((broker.scheme, broker.netloc, f"/{OPS_REDIS_DB}", "", ""))
        self.server_url = server
        self.port = free_port()
        self.tmp = tmp
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        (tmp / "backups").mkdir()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TRACKER_", "CELERY_", "SENTRY_"))},
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"{server}/ops_doc",
            "REDIS_URL": self.redis_url,
            "SITE_URL": "https://tracker.example.com",
            "SITE": f"http://127.0.0.1:{self.port}",
            "PORT": str(self.port),
            "BIND_ADDRESS": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
            "POLLING_CONCURRENCY": "2",
            "DETECTION_CONCURRENCY": "1",
            "EMAIL_CONCURRENCY": "1",
            "HOUSEKEEPING_CONCURRENCY": "1",
            "TRACKER_VAR_DIR": str(tmp / "var"),
            "TRACKER_DISPATCH_EVERY_SECONDS": "3",
            "TRACKER_ALLOW_PRIVATE_ADDRESSES": "1",  # the feed is served on 127.0.0.1
            "METRICS_TOKEN": secrets.token_urlsafe(16),
            "ADMIN_PASSWORD": secrets.token_urlsafe(16),
            "FEED_URL": feed_url,
            "BACKUP_DIR": str(tmp / "backups"),
            "RESTORE_DB": "ops_doc_restore",
            "RESTORE_URL": f"{server}/ops_doc_restore",
        }

    def reset(self) -> None:
        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as conn:
            for name in ("ops_doc", "ops_doc_restore"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute('CREATE DATABASE "ops_doc"')
        redis.Redis.from_url(self.redis_url).flushdb()

    def run(self, command: str) -> str:
        env = self.env
        if "check --deploy" in command:
            # An operator's feeds are public; this test's is on 127.0.0.1, which needs the one
            # setting the deploy check rightly warns about. The check runs as the operator's would.
            env = {k: v for k, v in env.items() if k != "TRACKER_ALLOW_PRIVATE_ADDRESSES"}
        result = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"`{command}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def start(self, name: str, command: str) -> None:
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115  (the process owns it)
        self.processes[name] = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.tmp.glob("*.log"))

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        redis.Redis.from_url(self.redis_url).flushdb()
        with psycopg.connect(f"{self.server_url}/postgres", autocommit=True) as conn:
            for name in ("ops_doc", "ops_doc_restore"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def scalar(self, sql: str) -> object:
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            row = conn.execute(sql).fetchone()
        return row[0] if row else None


@pytest.fixture
def installation(services_available, feed_server, tmp_path) -> Iterator[Installation]:
    feed_url = feed_server.add("/ops/dealstreet.xml", body=rss(items(5, prefix="ops")), etag='"ops-1"')
    installed = Installation(tmp_path, feed_url)
    installed.reset()
    yield installed
    installed.stop()


def test_the_operations_page_runs_as_written(installation):
    text = DOC.read_text()
    assert MARKER in text
    before, after = text.split(MARKER)
    processes = procfile()
    assert set(processes) == {"release", "web", "polling", "detection", "email", "housekeeping", "beat"}

    # given: the page's set-up commands, then the Procfile's release step
    for command in console_commands(before):
        installation.run(command)
    installation.run(processes["release"])

    # when: every long-running process of the Procfile starts
    for name, command in processes.items():
        if name != "release":
            installation.start(name, command)
    site = installation.env["SITE"]

    def healthy() -> bool:
        status, body = get(f"{site}/health/")
        return status == 200 and '"status": "ok"' in body

    wait_for(healthy, timeout=120, message=f"/health/ to say ok\n{installation.logs()}")

    # then: the feed the page added is polled through beat, the dispatcher and a polling worker
    wait_for(
        lambda: installation.scalar("SELECT count(*) FROM tracker_entry") == 5,
        timeout=120,
        message=f"the feed's 5 entries\n{installation.logs()}",
    )
    # and the rest of the page runs against the running installation
    for command in console_commands(after):
        installation.run(command)
    assert installation.scalar("SELECT count(*) FROM rumours_apikey") == 1
    restored = psycopg.connect(installation.env["RESTORE_URL"])
    with restored:
        assert restored.execute("SELECT count(*) FROM tracker_entry").fetchone() == (5,)
    # and the metrics reflect the poll and sum the web workers' request counts
    status, body = get(f"{site}/metrics", Authorization=f"Bearer {installation.env['METRICS_TOKEN']}")
    assert status == 200
    assert 'tracker_polls_recent{outcome="fetched"} 1.0' in body
    assert "django_http_requests_total_by_method_total" in body
    for name, process in installation.processes.items():
        assert process.poll() is None, f"{name} exited\n{installation.logs()}"


def normalised(command: str) -> list[str]:
    words = shlex.split(command.replace("%%", "%"))
    out = []
    for word in words:
        word = word.removeprefix("/opt/tracker/.venv/bin/")
        word = re.sub(r"^--concurrency=.*", "--concurrency=N", word)
        word = re.sub(r"^--schedule=.*", "--schedule=FILE", word)
        out.append(word)
    return out


def test_the_systemd_units_run_the_procfile_commands():
    processes = procfile()
    queue_of = {"polling": "polling", "detection": "detection", "email": "email", "housekeeping": "default"}

    def exec_start(unit: str) -> str:
        match = re.search(r"^ExecStart=(.+)$", (UNITS / unit).read_text(), flags=re.M)
        assert match, unit
        return match.group(1)

    assert normalised(exec_start("tracker-web.service")) == normalised(processes["web"])
    assert normalised(exec_start("tracker-beat.service")) == normalised(processes["beat"])
    worker = exec_start("tracker-worker@.service")
    for name, queue in queue_of.items():
        assert normalised(worker.replace("%i", queue)) == normalised(processes[name]), name
    for unit in UNITS.glob("*.service"):
        assert "EnvironmentFile=/etc/tracker/tracker.env" in unit.read_text(), unit.name
