"""Bad input on the poll path, end to end against a real local HTTP server.

Every case starts from a feed that has already been polled once with a good
document, then serves something bad at the same URL and polls again. What must
hold for every failure: a clear message on the feed and in its poll log, one
counted error, a backoff, the lease released, and nothing already stored lost or
changed.
"""

from __future__ import annotations

import re
import socket
import threading
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db.models import Q
from django.utils import timezone

from tests.feedbuilder import Item, items, rss
from tests.feedserver import FeedServer
from tracker.models import Entry, Feed, PollLog
from tracker.services import PollReport, feed_create, feed_poll, feeds_claim, feeds_claim_due

pytestmark = pytest.mark.django_db

FEED_PATH = "/feed.xml"
JITTER = 0.10  # tracker.scheduling.JITTER, restated: the backoff windows below must fail if it changes


# --- Helpers ---------------------------------------------------------------------------


def poll(feed: Feed) -> PollReport:
    (claim,) = feeds_claim(feed_ids=[feed.pk])
    return feed_poll(feed_id=feed.pk, claim_token=claim.token)


def stored_entries(feed: Feed) -> list[tuple[object, ...]]:
    return list(
        Entry.objects.filter(feed=feed)
        .order_by("identity_key")
        .values_list("identity_key", "title", "summary", "content", "content_hash", "update_count", "published_at")
    )


def polled_feed(feed_server: FeedServer, path: str = FEED_PATH) -> tuple[Feed, list[tuple[object, ...]]]:
    """A feed at ``path`` that has been polled once, successfully, with three stories."""
    url = feed_server.add(path, body=rss(items(3)))
    feed, _ = feed_create(url=url)
    report = poll(feed)
    assert (report.outcome, report.entries_new) == ("fetched", 3)
    feed.refresh_from_db()
    assert feed.error_count == 0
    return feed, stored_entries(feed)


def poll_timed(feed: Feed) -> tuple[PollReport, tuple[datetime, datetime]]:
    """Poll, and return the report with the (start, end) wall-clock window around the poll."""
    before = timezone.now()
    report = poll(feed)
    return report, (before, timezone.now())


def assert_failed_safely(
    feed: Feed,
    report: PollReport,
    *,
    mentions: str,
    earlier: list[tuple[object, ...]],
    window: tuple[datetime, datetime],
    delay: float | None = None,
) -> None:
    """The failure contract: recorded, counted, backed off, lease released, nothing lost.

    ``delay`` is the expected backoff in seconds before jitter (default: the first
    error's backoff, the minimum interval); ``window`` brackets the poll.
    """
    feed.refresh_from_db()
    assert report.outcome == "error"
    assert mentions in feed.last_error
    assert report.error == feed.last_error
    assert feed.error_count == 1
    assert feed.first_error_at is not None
    assert PollLog.objects.filter(feed=feed, outcome="error", error=feed.last_error).count() == 1
    assert stored_entries(feed) == earlier
    delay = delay if delay is not None else django_settings.TRACKER_MIN_INTERVAL
    started, finished = window
    earliest = started + timedelta(seconds=delay * (1 - JITTER) - 1)
    latest = finished + timedelta(seconds=delay * (1 + JITTER) + 1)
    assert earliest <= feed.next_poll_at <= latest, "not the error backoff"
    assert feed.next_poll_at > timezone.now()
    assert feed.lease_token is None
    assert feed.lease_until is None


def assert_stored_alongside(feed: Feed, report: PollReport, earlier: list[tuple[object, ...]]) -> Entry:
    """A lenient success: one new entry, the earlier ones untouched, no error. Returns the new one."""
    feed.refresh_from_db()
    assert (report.outcome, report.entries_new, report.entries_updated) == ("fetched", 1, 0)
    assert (feed.error_count, feed.last_error) == (0, "")
    assert feed.lease_token is None
    earlier_keys = {row[0] for row in earlier}
    assert [row for row in stored_entries(feed) if row[0] in earlier_keys] == earlier
    return Entry.objects.filter(feed=feed).exclude(identity_key__in=earlier_keys).get()


def latest_log(feed: Feed) -> PollLog:
    return PollLog.objects.filter(feed=feed).order_by("-started_at", "-id")[0]


# --- Documents that are not quite feeds -----------------------------------------------


LATER = datetime(2026, 11, 2, tzinfo=UTC)  # after the three stories of items(3)
NEW_STORY = Item(
    title="Grab and GoTo resume merger talks", link="https://news.example/new", guid="urn:new", published=LATER
)


@pytest.mark.parametrize(
    ("break_it", "new_title"),
    [
        pytest.param(
            lambda doc: doc.replace(b"Grab and GoTo", b"Grab & GoTo"),
            "Grab & GoTo resume merger talks",
            id="unescaped-ampersand",
        ),
        pytest.param(
            lambda doc: doc[::-1].replace(b"</item>"[::-1], b"", 1)[::-1],  # the last item's
            "Grab and GoTo resume merger talks",
            id="missing-closing-tag",
        ),
    ],
)
def test_it_stores_malformed_but_readable_xml_with_a_warning(feed_server, break_it, new_title):
    # given
    feed, earlier = polled_feed(feed_server)
    body = break_it(rss([*items(3), NEW_STORY]))
    feed_server.add(FEED_PATH, body=body)

    # when
    report = poll(feed)

    # then
    new = assert_stored_alongside(feed, report, earlier)
    assert new.title == new_title
    log = latest_log(feed)
    assert (log.outcome, log.error) == ("fetched", "")
    assert "Malformed" in log.warning


def test_it_refuses_an_html_page(feed_server):
    # given
    feed, earlier = polled_feed(feed_server)
    feed_server.add(
        FEED_PATH,
        body=b"<!DOCTYPE html>\n<html lang='en'><head><title>Just a moment...</title></head>"
        b"<body><h1>Checking your browser</h1><p>Please enable cookies.</p></body></html>",
        content_type="text/html; charset=utf-8",
    )

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions="HTML page", earlier=earlier, window=window)
    assert feed.last_status_code == 200


def test_it_refuses_an_empty_body(feed_server):
    # given
    feed, earlier = polled_feed(feed_server)
    feed_server.add(FEED_PATH, body=b"")

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions="empty body", earlier=earlier, window=window)


# --- Encodings: not errors -------------------------------------------------------------


def test_it_reads_euc_kr_declared_in_the_xml_prolog(feed_server):
    # given
    feed, earlier = polled_feed(feed_server)
    story = Item(
        title="삼성전자, 카카오 지분 인수 검토", link="https://news.example/kr", guid="urn:kr", published=LATER
    )
    body = rss([*items(3), story], encoding="euc-kr")
    assert body.startswith(b'<?xml version="1.0" encoding="euc-kr"?>')
    assert story.title.encode("utf-8") not in body  # really EUC-KR on the wire
    feed_server.add(FEED_PATH, body=body, content_type="application/rss+xml")

    # when
    report = poll(feed)

    # then
    new = assert_stored_alongside(feed, report, earlier)
    assert new.title == "삼성전자, 카카오 지분 인수 검토"
    assert latest_log(feed).warning == ""


def test_it_reads_shift_jis_declared_only_in_the_http_charset(feed_server):
    # given
    feed, earlier = polled_feed(feed_server)
    story = Item(title="ソフトバンク、買収交渉を開始", link="https://news.example/jp", guid="urn:jp", published=LATER)
    body = rss([*items(3), story], encoding="shift_jis").replace(b' encoding="shift_jis"', b"")
    assert body.startswith(b'<?xml version="1.0"?>')
    feed_server.add(FEED_PATH, body=body, content_type="application/rss+xml; charset=Shift_JIS")

    # when
    report = poll(feed)

    # then
    new = assert_stored_alongside(feed, report, earlier)
    assert new.title == "ソフトバンク、買収交渉を開始"
    assert latest_log(feed).warning == ""


def test_it_reads_windows_1252_mislabelled_as_utf_8_with_a_warning(feed_server):
    # given
    feed, earlier = polled_feed(feed_server)
    intended = "\u201cGrab\u201d eyes caf\u00e9 chain"  # “Grab” eyes café chain
    story = Item(title="PLACEHOLDER", link="https://news.example/cp", guid="urn:cp", published=LATER)
    body = rss([*items(3), story]).replace(b"PLACEHOLDER", intended.encode("cp1252"))
    assert b"\x93Grab\x94" in body
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    feed_server.add(FEED_PATH, body=body, content_type="application/rss+xml; charset=utf-8")

    # when
    report = poll(feed)

    # then: feedparser falls back to windows-1252 and says so
    new = assert_stored_alongside(feed, report, earlier)
    assert new.title == intended
    warning = latest_log(feed).warning
    assert "Malformed" in warning
    assert "windows-1252" in warning


# --- Size limits -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send_content_length", "how"),
    [(True, "not downloaded"), (False, "stopped reading")],
    ids=["declared-length", "streamed"],
)
def test_it_stops_at_the_body_limit(feed_server, settings, send_content_length, how):
    # given
    settings.TRACKER_MAX_BODY_BYTES = 200_000
    feed, earlier = polled_feed(feed_server)
    big = rss(items(1500))
    assert len(big) > 300_000
    feed_server.add(FEED_PATH, body=big, send_content_length=send_content_length)

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions="200,000 byte limit", earlier=earlier, window=window)
    assert how in feed.last_error


def gzip_bomb(*, expands_to: int) -> bytes:
    """A gzip stream of a feed's start followed by ``expands_to`` bytes of spaces, built in pieces."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: gzip framing
    parts = [packer.compress(b'<?xml version="1.0"?><rss version="2.0"><channel><title>')]
    block = b" " * 1_000_000
    for _ in range(expands_to // len(block)):
        parts.append(packer.compress(block))
    parts.append(packer.flush())
    return b"".join(parts)


def test_it_stops_a_gzip_bomb_at_the_limit_without_inflating_it(feed_server, settings):
    # given
    settings.TRACKER_MAX_BODY_BYTES = 1_000_000
    feed, earlier = polled_feed(feed_server)
    bomb = gzip_bomb(expands_to=50_000_000)
    assert len(bomb) < 100_000  # small on the wire, so only the decompressed size can trip the limit
    assert len(zlib.decompress(bomb, 16 + zlib.MAX_WBITS)) > 50 * settings.TRACKER_MAX_BODY_BYTES
    feed_server.add(FEED_PATH, raw_gzip_body=bomb)

    # when
    tracemalloc.start()
    try:
        report, window = poll_timed(feed)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then
    assert_failed_safely(
        feed, report, mentions="1,000,000 byte limit once decompressed", earlier=earlier, window=window
    )
    assert peak < 10 * settings.TRACKER_MAX_BODY_BYTES, f"peak {peak:,} bytes while polling"


# --- XML entities ----------------------------------------------------------------------


def billion_laughs() -> bytes:
    levels = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(levels) + "\n]>\n"
        '<rss version="2.0"><channel><title>Laughs</title>'
        "<item><title>&lol9;</title><guid>urn:lol</guid><description>&lol9;</description></item>"
        "</channel></rss>"
    ).encode()


def external_entity(*, encoding: str = "utf-8", padding: int = 0) -> bytes:
    document = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        + (f"<!-- {'x' * padding} -->\n" if padding else "")
        + '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<rss version="2.0"><channel><title>Leak &xxe;</title>'
        "<item><title>Users: &xxe;</title><guid>urn:xxe</guid>"
        "<description>&xxe;</description></item></channel></rss>"
    )
    return document.encode(encoding)


def assert_nothing_from_etc_passwd(feed: Feed) -> None:
    assert "root:" in Path("/etc/passwd").read_text()  # the leak this guards against is possible here
    leaked = Q(title__contains="root:") | Q(summary__contains="root:") | Q(content__contains="root:")
    assert not Entry.objects.filter(leaked).exists()
    feed.refresh_from_db()
    assert "root:" not in feed.title
    assert "root:" not in feed.last_error
    assert not PollLog.objects.filter(Q(error__contains="root:") | Q(warning__contains="root:")).exists()


def test_it_refuses_billion_laughs_quickly(feed_server):
    # given
    feed, earlier = polled_feed(feed_server)
    feed_server.add(FEED_PATH, body=billion_laughs())

    # when
    clock = time.monotonic()
    report, window = poll_timed(feed)
    elapsed = time.monotonic() - clock

    # then
    assert_failed_safely(feed, report, mentions="declares XML entities", earlier=earlier, window=window)
    assert elapsed < 2
    assert not Entry.objects.filter(Q(title__contains="lollol") | Q(summary__contains="lollol")).exists()


def test_it_refuses_an_external_entity_without_reading_the_file(feed_server):
    # given
    feed, earlier = polled_feed(feed_server)
    feed_server.add(FEED_PATH, body=external_entity())

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions="declares XML entities", earlier=earlier, window=window)
    assert_nothing_from_etc_passwd(feed)


HIDDEN_ENTITY_DOCUMENTS = [  # (document, Content-Type): both well labelled
    pytest.param(lambda: external_entity(encoding="utf-16"), "application/rss+xml", id="utf-16"),
    pytest.param(
        lambda: external_entity(padding=1024 * 1024),
        "application/rss+xml; charset=utf-8",
        id="doctype-after-1MiB-comment",
    ),
]


@pytest.mark.parametrize(("document", "content_type"), HIDDEN_ENTITY_DOCUMENTS)
def test_it_refuses_entity_declarations_whatever_the_encoding_or_position(feed_server, document, content_type):
    # given: a DOCTYPE that a scan of the first bytes for ASCII "<!ENTITY" would miss
    feed, earlier = polled_feed(feed_server)
    feed_server.add(FEED_PATH, body=document(), content_type=content_type)

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions="declares XML entities", earlier=earlier, window=window)
    assert_nothing_from_etc_passwd(feed)


# --- Slow servers and redirects --------------------------------------------------------


def test_it_gives_up_on_a_dribbling_server_at_the_total_timeout(feed_server, settings):
    # given: 2 KiB at 0.05 s a byte would take 100 s; the budget is 1 s in all, 3 s per read
    settings.TRACKER_TOTAL_TIMEOUT = 1
    settings.TRACKER_READ_TIMEOUT = 3
    feed, earlier = polled_feed(feed_server)
    body = rss(items(12))[:2048]
    assert len(body) == 2048
    feed_server.add(FEED_PATH, body=body, dribble_delay=0.05)

    # when
    clock = time.monotonic()
    report, window = poll_timed(feed)
    elapsed = time.monotonic() - clock

    # then
    assert_failed_safely(feed, report, mentions="took longer than 1 s", earlier=earlier, window=window)
    assert elapsed < settings.TRACKER_TOTAL_TIMEOUT + settings.TRACKER_READ_TIMEOUT + 2


class SlowHeadersServer:
    """A raw socket server: a good feed at once, then, once ``dribble`` is set, the same
    response with its status line and headers sent a byte every ``delay`` seconds.

    tests.feedserver dribbles only the body; this covers the time before httpx has a
    response at all.
    """

    def __init__(self, body: bytes, *, delay: float) -> None:
        self.body, self.delay, self.dribble, self.stopped = body, delay, False, False
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}{FEED_PATH}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n"
                    f"X-Padding: {'p' * 20}\r\nContent-Length: {len(self.body)}\r\n\r\n"
                ).encode()
                try:
                    for index in range(len(head) if self.dribble else 0):
                        conn.sendall(head[index : index + 1])
                        time.sleep(self.delay)
                    conn.sendall(b"" if self.dribble else head)
                    conn.sendall(self.body)
                except OSError:
                    pass  # the poller gave up, as it should

    def stop(self) -> None:
        self.stopped = True
        self.thread.join()
        self.sock.close()


def test_it_gives_up_on_a_server_dribbling_its_headers_at_the_total_timeout(settings):
    # given: ~110 header bytes at 0.05 s each take 5.5 s; the budget is 1 s in all, 1 s per read
    settings.TRACKER_TOTAL_TIMEOUT = 1
    settings.TRACKER_READ_TIMEOUT = 1
    server = SlowHeadersServer(rss(items(3)), delay=0.05)
    try:
        feed, _ = feed_create(url=server.url)
        assert poll(feed).outcome == "fetched"
        earlier = stored_entries(feed)
        server.dribble = True

        # when
        clock = time.monotonic()
        report, window = poll_timed(feed)
        elapsed = time.monotonic() - clock
    finally:
        server.stop()

    # then
    assert_failed_safely(feed, report, mentions="", earlier=earlier, window=window)
    assert re.search(r"longer than 1 s|in time", feed.last_error)
    assert elapsed < settings.TRACKER_TOTAL_TIMEOUT + settings.TRACKER_READ_TIMEOUT + 2, f"took {elapsed:.1f} s"


def test_it_detects_a_redirect_loop(feed_server):
    # given
    feed, earlier = polled_feed(feed_server, "/a")
    feed_server.add("/a", status=302, headers={"Location": "/b"})
    feed_server.add("/b", status=302, headers={"Location": "/a"})
    requests_before = len(feed_server.requests)

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions="Redirect loop", earlier=earlier, window=window)
    a, b = feed_server.url("/a"), feed_server.url("/b")
    assert feed.last_error == f"Redirect loop: {a} -> {b} -> {a}."
    assert [r.path for r in feed_server.requests[requests_before:]] == ["/a", "/b"]


def test_it_gives_up_after_too_many_redirects(feed_server, settings):
    # given: /a -> /r1 -> /r2 -> /r3 -> a good feed, one hop more than allowed
    settings.TRACKER_MAX_REDIRECTS = 2
    feed, earlier = polled_feed(feed_server, "/a")
    for here, there in [("/a", "/r1"), ("/r1", "/r2"), ("/r2", "/r3"), ("/r3", "/final")]:
        feed_server.add(here, status=302, headers={"Location": there})
    feed_server.add("/final", body=rss(items(5)))

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions="More than 2 redirects", earlier=earlier, window=window)
    assert feed_server.requests_to("/r3") == []
    assert feed_server.requests_to("/final") == []


# --- HTTP errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"), [(404, "HTTP 404 Not Found."), (500, "HTTP 500 Internal Server Error.")]
)
def test_it_records_an_http_error(feed_server, status, message):
    # given
    feed, earlier = polled_feed(feed_server)
    feed_server.add(FEED_PATH, status=status, body=b"oops", content_type="text/plain")

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions=message, earlier=earlier, window=window)
    assert feed.last_error == message
    assert (report.status_code, feed.last_status_code) == (status, status)
    assert latest_log(feed).status_code == status


def test_it_honours_retry_after_seconds_on_429(feed_server):
    # given
    feed, earlier = polled_feed(feed_server)
    feed_server.add(FEED_PATH, status=429, headers={"Retry-After": "3600"})

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(
        feed, report, mentions="HTTP 429 Too Many Requests.", earlier=earlier, window=window, delay=3600
    )
    assert "retry after 3600" in feed.last_error


def test_it_honours_retry_after_as_an_http_date_on_503(feed_server):
    # given
    retry_at = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    feed, earlier = polled_feed(feed_server)
    feed_server.add(FEED_PATH, status=503, headers={"Retry-After": format_datetime(retry_at, usegmt=True)})

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(
        feed, report, mentions="HTTP 503 Service Unavailable.", earlier=earlier, window=window, delay=2 * 3600
    )
    assert f"retry after {format_datetime(retry_at, usegmt=True)}" in feed.last_error


def test_it_disables_a_feed_that_is_gone(feed_server):
    # given
    feed, earlier = polled_feed(feed_server)
    other, _ = feed_create(url="https://other.example/feed.xml")
    feed_server.add(FEED_PATH, status=410)

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions="410 Gone", earlier=earlier, window=window)
    assert feed.disabled_at is not None
    assert "410" in feed.disabled_reason
    later = timezone.now() + timedelta(days=30)
    assert [claim.feed_id for claim in feeds_claim_due(now=later)] == [other.pk]


# --- The address guard -----------------------------------------------------------------


def test_it_refuses_a_non_public_address_without_connecting(feed_server, settings):
    # given
    feed, earlier = polled_feed(feed_server)
    assert len(feed_server.requests_to(FEED_PATH)) == 1
    settings.TRACKER_ALLOW_PRIVATE_ADDRESSES = False

    # when
    report, window = poll_timed(feed)

    # then
    assert_failed_safely(feed, report, mentions="not a public address", earlier=earlier, window=window)
    assert "127.0.0.1" in feed.last_error
    assert len(feed_server.requests_to(FEED_PATH)) == 1


@pytest.mark.parametrize("host", ["localhost", "[::ffff:127.0.0.1]", "0.0.0.0"])
def test_it_refuses_other_spellings_of_this_machine(feed_server, settings, host):
    # given
    settings.TRACKER_ALLOW_PRIVATE_ADDRESSES = False
    feed, _ = feed_create(url=f"http://{host}:{feed_server.port}{FEED_PATH}")
    feed_server.add(FEED_PATH, body=rss(items(3)))

    # when
    report = poll(feed)

    # then
    feed.refresh_from_db()
    assert report.outcome == "error"
    assert "not a public address" in feed.last_error
    assert feed_server.requests == []
    assert not Entry.objects.exists()


# --- Recovery --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixed_body", "outcome", "new"),
    [(rss(items(3)), "unchanged", 0), (rss([*items(3), NEW_STORY]), "fetched", 1)],
    ids=["same-body-as-before", "new-story"],
)
def test_it_clears_the_error_once_the_feed_is_fixed(feed_server, fixed_body, outcome, new):
    # given
    feed, earlier = polled_feed(feed_server)
    feed_server.add(FEED_PATH, status=500)
    report, window = poll_timed(feed)
    assert_failed_safely(feed, report, mentions="HTTP 500", earlier=earlier, window=window)
    feed_server.add(FEED_PATH, body=fixed_body)

    # when
    report = poll(feed)

    # then
    feed.refresh_from_db()
    assert (report.outcome, report.entries_new) == (outcome, new)
    assert (feed.error_count, feed.last_error, feed.first_error_at) == (0, "", None)
    assert feed.last_status_code == 200
    assert feed.lease_token is None
    assert Entry.objects.filter(feed=feed).count() == 3 + new
    assert list(PollLog.objects.filter(feed=feed).order_by("started_at", "id").values_list("outcome", flat=True)) == [
        "fetched",
        "error",
        outcome,
    ]
