"""tracker.fetching against a real local HTTP server, alone and through a poll (tracker.services)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from tests.feedbuilder import items, rss
from tracker.fetching import (
    BlockedAddressError,
    BoundedDecoder,
    FetchError,
    FetchPolicy,
    address_is_public,
    fetch,
)
from tracker.models import Entry, Feed, PollLog
from tracker.services import feed_create, feed_poll, feeds_claim

POLICY = FetchPolicy(user_agent="FetchTest/1.0", allow_private_addresses=True, total_timeout=10.0)


def poll(feed: Feed):
    (claim,) = feeds_claim(feed_ids=[feed.pk])
    return feed_poll(feed_id=feed.pk, claim_token=claim.token)


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


# --- What we send ---------------------------------------------------------------------


@pytest.mark.django_db
def test_it_names_the_product_in_the_user_agent_and_accepts_gzip(feed_server, settings):
    url = feed_server.add("/feed.xml", body=rss(items(1)))
    feed, _ = feed_create(url=url)

    poll(feed)

    (request,) = feed_server.requests_to("/feed.xml")
    assert request.headers["user-agent"] == settings.TRACKER_USER_AGENT
    assert "Rumour-Tracker" in request.headers["user-agent"]
    assert "gzip" in request.headers["accept-encoding"]
    assert "application/rss+xml" in request.headers["accept"]
    assert "if-none-match" not in request.headers
    assert "if-modified-since" not in request.headers


def test_it_sends_the_user_agent_of_the_policy(feed_server):
    url = feed_server.add("/feed.xml", body=rss(items(1)))

    fetch(url, policy=POLICY)

    assert feed_server.requests_to("/feed.xml")[0].headers["user-agent"] == "FetchTest/1.0"


# --- Content encodings ----------------------------------------------------------------


def test_it_decodes_a_gzip_body(feed_server):
    document = rss(items(40))
    url = feed_server.add("/feed.xml", body=document, gzip=True)

    result = fetch(url, policy=POLICY)

    assert result.headers["content-encoding"] == "gzip"
    assert result.body == document
    assert result.bytes_received == len(gzip.compress(document))
    assert result.bytes_received < len(document)


@pytest.mark.parametrize("compress", [zlib.compress, raw_deflate], ids=["zlib-wrapped", "raw"])
def test_it_decodes_a_deflate_body(feed_server, compress):
    document = rss(items(40))
    url = feed_server.add("/feed.xml", body=compress(document), headers={"Content-Encoding": "deflate"})

    result = fetch(url, policy=POLICY)

    assert result.body == document
    assert result.bytes_received == len(compress(document))


@pytest.mark.parametrize("compress", [zlib.compress, raw_deflate], ids=["zlib-wrapped", "raw"])
def test_it_decodes_deflate_arriving_in_small_chunks(compress):
    document = rss(items(40))
    wire = compress(document)
    decoder = BoundedDecoder("deflate", limit=1024 * 1024)

    decoded = b"".join(decoder.decode(wire[i : i + 7]) for i in range(0, len(wire), 7))

    assert decoded == document
    assert decoder.produced == len(document)


def test_it_refuses_an_unknown_content_encoding(feed_server):
    url = feed_server.add("/feed.xml", body=b"xx", headers={"Content-Encoding": "br"})

    with pytest.raises(FetchError, match="unsupported Content-Encoding: 'br'"):
        fetch(url, policy=POLICY)


# --- Conditional GET ------------------------------------------------------------------


@pytest.mark.django_db
def test_it_stores_validators_verbatim_and_sends_them_back(feed_server):
    etag = 'W/"5f3a-\\u00e9  odd"'
    last_modified = "Tue, 10 Nov 2026 12:00:00 GMT"
    url = feed_server.add("/feed.xml", body=rss(items(3)), etag=etag, last_modified=last_modified)
    feed, _ = feed_create(url=url)

    # when polled once
    poll(feed)

    # then the validators are stored exactly as sent
    feed.refresh_from_db()
    assert (feed.etag, feed.last_modified) == (etag, last_modified)
    entries_before = list(Entry.objects.filter(feed=feed).values().order_by("pk"))

    # when polled again
    report = poll(feed)

    # then they went back verbatim and the 304 left the entries alone
    second = feed_server.requests_to("/feed.xml")[1]
    assert second.headers["if-none-match"] == etag
    assert second.headers["if-modified-since"] == last_modified
    assert (report.outcome, report.status_code, report.entries_new) == ("not_modified", 304, 0)
    assert list(Entry.objects.filter(feed=feed).values().order_by("pk")) == entries_before
    feed.refresh_from_db()
    assert (feed.etag, feed.last_modified, feed.last_status_code) == (etag, last_modified, 304)
    assert list(PollLog.objects.filter(feed=feed).order_by("pk").values_list("outcome", flat=True)) == [
        "fetched",
        "not_modified",
    ]


@pytest.mark.django_db
def test_it_gets_a_304_from_last_modified_alone(feed_server):
    last_modified = "Mon, 09 Nov 2026 08:00:00 GMT"
    url = feed_server.add("/feed.xml", body=rss(items(2)), last_modified=last_modified)
    feed, _ = feed_create(url=url)

    poll(feed)
    report = poll(feed)

    second = feed_server.requests_to("/feed.xml")[1]
    assert second.headers["if-modified-since"] == last_modified
    assert "if-none-match" not in second.headers
    assert report.outcome == "not_modified"
    feed.refresh_from_db()
    assert (feed.etag, feed.last_modified) == ("", last_modified)


@pytest.mark.django_db
def test_it_does_not_reparse_the_same_body_without_validators(feed_server):
    url = feed_server.add("/feed.xml", body=rss(items(3)))
    feed, _ = feed_create(url=url)
    poll(feed)
    feed.refresh_from_db()
    body_hash = feed.body_hash
    # an entry that a re-parse of the same document would bring back
    Entry.objects.filter(feed=feed).order_by("pk")[0].delete()

    report = poll(feed)

    assert (report.outcome, report.status_code, report.entries_new) == ("unchanged", 200, 0)
    assert Entry.objects.filter(feed=feed).count() == 2
    feed.refresh_from_db()
    assert feed.body_hash == body_hash
    assert len(body_hash) == 64
    log = PollLog.objects.filter(feed=feed).latest("pk")
    assert (log.outcome, log.entries_new, log.entries_updated) == ("unchanged", 0, 0)
    assert [r.headers.get("if-none-match") for r in feed_server.requests_to("/feed.xml")] == [None, None]


@pytest.mark.django_db
def test_it_survives_a_malformed_retry_after_header(feed_server):
    url = feed_server.add("/feed.xml", body=rss(items(1)), headers={"Retry-After": "²"})
    feed, _ = feed_create(url=url)

    report = poll(feed)

    assert (report.outcome, report.entries_new, report.error) == ("fetched", 1, "")
    feed.refresh_from_db()
    assert (feed.lease_token, feed.error_count) == (None, 0)


# --- Redirects ------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_adopts_a_permanent_redirect_after_the_configured_number_of_polls(feed_server, settings):
    settings.TRACKER_REDIRECT_ADOPT_AFTER = 2
    new_url = feed_server.add("/new.xml", body=rss(items(2)))
    old_url = feed_server.add("/old.xml", status=301, headers={"Location": "/new.xml"})
    feed, _ = feed_create(url=old_url)

    # first poll: followed, remembered, not adopted yet
    first = poll(feed)
    feed.refresh_from_db()
    assert (first.outcome, first.entries_new) == ("fetched", 2)
    assert (feed.url, feed.redirect_target, feed.redirect_streak) == (old_url, new_url, 1)
    assert PollLog.objects.filter(feed=feed).get().url == new_url

    # second poll: adopted
    poll(feed)
    feed.refresh_from_db()
    assert (feed.url, feed.redirect_target, feed.redirect_streak) == (new_url, "", 0)

    # third poll goes straight to the new address
    poll(feed)
    assert len(feed_server.requests_to("/old.xml")) == 2
    assert len(feed_server.requests_to("/new.xml")) == 3


@pytest.mark.django_db
def test_it_restarts_the_redirect_streak_when_the_redirect_goes_away(feed_server, settings):
    settings.TRACKER_REDIRECT_ADOPT_AFTER = 2
    feed_server.add("/new.xml", body=rss(items(2)))
    old_url = feed_server.add("/old.xml", status=301, headers={"Location": "/new.xml"})
    feed, _ = feed_create(url=old_url)
    poll(feed)

    # the publisher takes the redirect back
    feed_server.add("/old.xml", body=rss(items(2)))
    poll(feed)
    feed.refresh_from_db()
    assert (feed.url, feed.redirect_target, feed.redirect_streak) == (old_url, "", 0)


@pytest.mark.django_db
@pytest.mark.parametrize("status", [302, 303, 307])
def test_it_never_adopts_a_temporary_redirect(feed_server, settings, status):
    settings.TRACKER_REDIRECT_ADOPT_AFTER = 2
    feed_server.add("/new.xml", body=rss(items(2)))
    old_url = feed_server.add("/old.xml", status=status, headers={"Location": "/new.xml"})
    feed, _ = feed_create(url=old_url)

    reports = [poll(feed) for _ in range(3)]

    feed.refresh_from_db()
    assert [r.outcome for r in reports] == ["fetched", "unchanged", "unchanged"]
    assert (feed.url, feed.redirect_target, feed.redirect_streak) == (old_url, "", 0)
    assert len(feed_server.requests_to("/new.xml")) == 3


def test_it_does_not_report_a_chain_with_a_temporary_hop_as_permanent(feed_server):
    feed_server.add("/final.xml", body=rss(items(1)))
    feed_server.add("/hop.xml", status=302, headers={"Location": "/final.xml"})
    start = feed_server.add("/start.xml", status=301, headers={"Location": "/hop.xml"})

    result = fetch(start, policy=POLICY)

    assert result.status_code == 200
    assert result.redirects == [feed_server.url("/hop.xml"), feed_server.url("/final.xml")]
    assert result.permanent_redirect is None


# --- Address guard and schemes --------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::a00:1", False),  # local-use NAT64
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("fec0::1", False),  # site-local
        ("::7f00:1", False),  # IPv4-compatible 127.0.0.1
        ("2002:5db8:d822::1", True),  # 6to4 of 93.184.216.34
        ("93.184.216.34", True),
        ("2606:4700::1", True),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_it_tells_public_addresses_from_the_rest(address, public):
    assert address_is_public(address) is public


def test_it_refuses_to_connect_to_loopback_unless_allowed(feed_server):
    url = feed_server.add("/feed.xml", body=rss(items(1)))

    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1, which is not a public address"):
        fetch(url, policy=FetchPolicy(user_agent="FetchTest/1.0", allow_private_addresses=False))

    assert feed_server.requests_to("/feed.xml") == []


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/feed.xml", "file:///etc/passwd", "gopher://127.0.0.1:70/"])
def test_it_refuses_schemes_other_than_http(url):
    with pytest.raises(FetchError, match="Only http and https feeds can be fetched"):
        fetch(url, policy=POLICY)


def test_it_refuses_a_redirect_to_another_scheme(feed_server):
    url = feed_server.add("/feed.xml", status=301, headers={"Location": "file:///etc/passwd"})

    with pytest.raises(FetchError, match="Only http and https feeds can be fetched, not file URL"):
        fetch(url, policy=POLICY)
