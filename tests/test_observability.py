"""Metrics, structured logs, the secrets filter and error reporting."""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import brotli
import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config.logs import JsonLines, RedactSecrets, redact
from tracker.models import Feed, Heartbeat, PollLog, PollOutcome

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "scrape-token-for-tests"


def scrape(client: Client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", **headers})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")  # the exposition format
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


# --- /metrics -------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_report_feeds_polls_and_the_beat_from_the_database(client):
    # given: three active feeds (one overdue), one paused, and polls in the last minutes
    now = timezone.now()
    feeds = [
        Feed.objects.create(url=f"http://127.0.0.1:9/{n}.xml", title=f"Feed {n}", next_poll_at=now + timedelta(hours=1))
        for n in range(3)
    ]
    Feed.objects.filter(pk=feeds[0].pk).update(next_poll_at=now - timedelta(minutes=30))
    Feed.objects.create(url="http://127.0.0.1:9/paused.xml", title="Paused", is_paused=True)
    PollLog.objects.create(feed=feeds[1], url=feeds[1].url, outcome=PollOutcome.FETCHED, duration_ms=400, entries_new=7)
    PollLog.objects.create(feed=feeds[2], url=feeds[2].url, outcome=PollOutcome.FETCHED, duration_ms=200, entries_new=1)
    PollLog.objects.create(feed=feeds[2], url=feeds[2].url, outcome=PollOutcome.ERROR, duration_ms=50)
    PollLog.objects.create(
        feed=feeds[1], url=feeds[1].url, outcome=PollOutcome.ERROR, started_at=now - timedelta(hours=2)
    )  # outside the window
    Heartbeat.objects.create(name="beat", at=now)

    # when: Prometheus scrapes
    samples = scrape(client)

    # then: the figures are the database's
    assert samples[("tracker_feeds", (("state", "active"),))] == 3
    assert samples[("tracker_feeds", (("state", "paused"),))] == 1
    assert samples[("tracker_feeds_overdue", ())] == 1
    assert samples[("tracker_polls_recent", (("outcome", "fetched"),))] == 2
    assert samples[("tracker_polls_recent", (("outcome", "error"),))] == 1
    assert samples[("tracker_poll_duration_seconds_recent", (("outcome", "fetched"),))] == pytest.approx(0.3)
    assert samples[("tracker_entries_new_recent", ())] == 8
    assert samples[("tracker_beat_last_tick_timestamp_seconds", ())] == pytest.approx(now.timestamp())
    assert ("celery_broker_up", ()) in samples
    # and the per-process request figures from django-prometheus are there too
    assert any(name.startswith("django_http_requests") for name, _ in samples)


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_report_queue_depths_and_a_dead_broker(client):
    from config.celery import app

    # given: the broker is reachable (each suite's own broker URL)
    samples = scrape(client)
    assert samples[("celery_broker_up", ())] == 1
    assert {labels for name, labels in samples if name == "celery_queue_length"} == {
        (("queue", q),) for q in ("default", "polling", "detection", "email")
    }

    # when: the broker is unreachable
    original = app.conf["broker_url"]
    app.conf["broker_url"] = "redis://127.0.0.1:1/0"
    try:
        samples = scrape(client)
    finally:
        app.conf["broker_url"] = original

    # then: the scrape still answers, and says the broker is down
    if original.startswith("redis://"):
        assert samples[("celery_broker_up", ())] == 0
    assert samples[("tracker_feeds_due", ())] == 0


@pytest.mark.django_db
def test_metrics_need_the_token(client):
    with override_settings(METRICS_TOKEN=TOKEN):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    with override_settings(METRICS_TOKEN="", DEBUG=False):
        assert client.get("/metrics").status_code == 404


# --- logs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("polling https://reader:hunter2@feeds.example.com/rss", "hunter2"),
        ("broker redis://:s3cretpw@10.0.0.5:6379/0 unreachable", "s3cretpw"),
        ("request with Authorization: Bearer srt_AbCdEf123456789", "srt_AbCdEf123456789"),
        ("key srt_live_0123456789abcdef leaked", "srt_live_0123456789abcdef"),
        ("login failed password=correct-horse", "correct-horse"),
        ("{'token': 'xyz-123-abc'}", "xyz-123-abc"),
    ],
)
def test_redact_removes_credentials(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_redact_leaves_ordinary_text_alone():
    text = "GoTo–Grab merger: now Denied · feed https://feeds.example.com/rss polled in 0.4 s"
    assert redact(text) == text


def json_record(message: str, *args: object, exc: BaseException | None = None, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("tracker.services", logging.WARNING, __file__, 1, message, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    for key, value in extra.items():
        setattr(record, key, value)
    assert RedactSecrets().filter(record)
    line = JsonLines().format(record)
    assert "\n" not in line
    parsed: dict[str, object] = json.loads(line)
    return parsed


def test_json_logs_are_one_object_per_line_with_extras_and_no_secrets():
    try:
        raise ConnectionError("cannot reach smtp://digests:mailpass99@smtp.example.com:587")
    except ConnectionError as error:
        record = json_record("poll of %s failed", "https://u:feedpass@x.example/rss", exc=error, feed_id=42)

    assert record["level"] == "WARNING"
    assert record["logger"] == "tracker.services"
    assert record["feed_id"] == 42
    assert "time" in record
    assert record["message"] == "poll of https://u:[redacted]@x.example/rss failed"
    assert "ConnectionError" in str(record["exc_info"])
    assert "mailpass99" not in json.dumps(record)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SENTRY_", "METRICS_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_processes_log_json_lines_without_secrets():
    # given: production settings (no DEBUG: JSON is the default format)
    code = (
        "import django, logging; django.setup();"
        "logging.getLogger('tracker.fetching')"
        ".warning('fetch https://a:topsecret@h.example/ failed', extra={'feed_id': 7})"
    )
    result = run_python(code, DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="tracker.example.com")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert lines, result.stderr
    assert lines[-1]["message"] == "fetch https://a:[redacted]@h.example/ failed"
    assert lines[-1]["feed_id"] == 7
    assert "topsecret" not in result.stderr


def test_an_unknown_log_format_is_refused_at_start():
    result = run_python("import django; django.setup()", DJANGO_DEBUG="1", DJANGO_LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "DJANGO_LOG_FORMAT must be json or plain" in result.stderr


# --- error reporting ------------------------------------------------------------------------


class _Ingest(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":  # sentry-sdk's choice when brotli is installed
            body = brotli.decompress(body)
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sentry_ingest() -> Iterator[tuple[str, list[bytes]]]:
    _Ingest.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ingest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://publickey@127.0.0.1:{server.server_address[1]}/1", _Ingest.received
    server.shutdown()


def test_errors_reach_the_reporting_service_without_secrets(sentry_ingest):
    dsn, received = sentry_ingest
    # given: SENTRY_DSN pointing at a local ingest server; when: a web request fails
    code = (
        "import django; django.setup();"
        "import sentry_sdk;"
        "from django.test import Client;"
        "from django.urls import path;"
        "from config import urls\n"
        "def boom(request):\n"
        "    feed_url = 'https://reader:feedpass@feeds.example.com/rss'\n"
        "    raise RuntimeError('cannot poll ' + feed_url)\n"
        "urls.urlpatterns.append(path('boom/', boom))\n"
        "key = {'Authorization': 'Bearer srt_abcdefgh12345678'}\n"
        "response = Client(raise_request_exception=False).get('/boom/', headers=key)\n"
        "assert response.status_code == 500, response.status_code\n"
        "assert b'feedpass' not in response.content\n"
        "sentry_sdk.flush(5)\n"
    )
    result = run_python(
        code,
        SENTRY_DSN=dsn,
        SENTRY_ENVIRONMENT="drill",
        DJANGO_SECRET_KEY="y" * 50,
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SSL_REDIRECT="0",
        DJANGO_LOG_FORMAT="plain",
    )
    assert result.returncode == 0, result.stderr

    # then: the event arrived, tagged, with the exception, and without the credentials
    assert received, "no event reached the ingest server"
    body = b"\n".join(received).decode()
    assert "RuntimeError" in body
    assert '"environment":"drill"' in body.replace(" ", "")
    assert "feedpass" not in body
    assert "srt_abcdefgh12345678" not in body
    assert "[redacted]" in body
