"""Feeds and webhooks pointed at this machine's or the network's private services.

Real servers stand in for the private services: ``internal`` on 127.0.0.1 and
``internal_v6`` on ::1, each serving a valid feed and accepting POSTs, so a request
that got through would be seen (and a feed from them would be stored).

For redirects the test needs an origin the guard lets through. This machine has no
public address (its one interface is on TEST-NET 192.0.2.0/24, not global), and the
guard's only setting, ``TRACKER_ALLOW_PRIVATE_ADDRESSES``, would let the private hop
through too. So :func:`outside` treats exactly one loopback address, 127.0.0.2, as
public by wrapping ``address_is_public``; every other address, and every hop, is still
judged by the real guard. The control tests show each spelling of the private address
does reach ``internal`` when private addresses are allowed, so "nothing arrived" means
the guard stopped it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from rumours.models import DeliveryState, WebhookDelivery, WebhookEndpoint, WebhookEvent
from rumours.webhooks import new_secret, webhook_deliver
from tests.feedbuilder import items, rss
from tracker import fetching
from tracker.models import Entry, Feed
from tracker.services import PollReport, feed_create, feed_poll, feeds_claim

pytestmark = pytest.mark.django_db

PUBLIC_STAND_IN = "127.0.0.2"
SECRET = rss(items(2, prefix="internal"))


@dataclass
class Recorder:
    """A real HTTP server on ``host``: answers from ``routes`` (path → status, headers, body),
    records every request as (method, path)."""

    host: str = "127.0.0.1"
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                recorder.requests.append((self.command, self.path))
                status, headers, body = recorder.routes.get(self.path, (404, {}, b"not here"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            daemon_threads = True

        self.server = Server((self.host, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serving(host: str) -> Iterator[Recorder]:
    recorder = Recorder(host)
    recorder.routes["/secret.xml"] = (200, {"Content-Type": "application/rss+xml"}, SECRET)
    recorder.routes["/hooks"] = (204, {}, b"")
    yield recorder
    recorder.stop()


@pytest.fixture
def internal() -> Iterator[Recorder]:
    yield from serving("127.0.0.1")


@pytest.fixture
def internal_v6() -> Iterator[Recorder]:
    yield from serving("::1")


@pytest.fixture
def guard_on(settings) -> None:
    settings.TRACKER_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def outside(guard_on, monkeypatch) -> Iterator[Recorder]:
    """An origin on 127.0.0.2 that the guard treats as public (see the module docstring)."""
    real = fetching.address_is_public
    monkeypatch.setattr(fetching, "address_is_public", lambda address: address == PUBLIC_STAND_IN or real(address))
    yield from serving(PUBLIC_STAND_IN)


def poll(feed: Feed) -> PollReport:
    (claim,) = feeds_claim(feed_ids=[feed.pk])
    return feed_poll(feed_id=feed.pk, claim_token=claim.token)


def assert_refused(feed: Feed, report: PollReport, *, address: str | tuple[str, ...]) -> None:
    feed.refresh_from_db()
    assert report.outcome == "error"
    assert "not a public address" in feed.last_error, feed.last_error
    assert any(each in feed.last_error for each in ([address] if isinstance(address, str) else address))
    assert feed.error_count == 1
    assert not Entry.objects.filter(feed=feed).exists()


Address = str | tuple[str, ...]  # what the guard names: the address, or any of several (localhost may be ::1)


def spellings(internal: Recorder, internal_v6: Recorder) -> dict[str, tuple[str, Recorder, Address]]:
    """Ways to write the internal services' address: name → (URL, the server it reaches, resolved address)."""
    port = internal.port
    return {
        "dotted": (f"http://127.0.0.1:{port}/secret.xml", internal, "127.0.0.1"),
        "decimal": (f"http://2130706433:{port}/secret.xml", internal, "127.0.0.1"),
        "hex": (f"http://0x7f.1:{port}/secret.xml", internal, "127.0.0.1"),
        "octal": (f"http://0177.1:{port}/secret.xml", internal, "127.0.0.1"),
        "short": (f"http://127.1:{port}/secret.xml", internal, "127.0.0.1"),
        "localhost": (f"http://localhost:{port}/secret.xml", internal, ("127.0.0.1", "::1")),
        "all-zero": (f"http://0.0.0.0:{port}/secret.xml", internal, "0.0.0.0"),
        "v4-mapped": (f"http://[::ffff:127.0.0.1]:{port}/secret.xml", internal, "::ffff:127.0.0.1"),
        "v6-loopback": (internal_v6.url("/secret.xml"), internal_v6, "::1"),
    }


SPELLINGS = ["dotted", "decimal", "hex", "octal", "short", "localhost", "all-zero", "v4-mapped", "v6-loopback"]
# Those a plain connect reaches on any Linux (0.0.0.0 and IPv4-mapped IPv6 depend on the network stack).
REACHABLE = ["dotted", "decimal", "hex", "octal", "short", "localhost", "v6-loopback"]


# --- Feeds: the guard at fetch time -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254"),
        ("http://10.0.0.1/feed.xml", "10.0.0.1"),
        ("http://192.168.1.1/feed.xml", "192.168.1.1"),
        ("http://100.64.0.1/feed.xml", "100.64.0.1"),
        ("http://[fe80::1]/feed.xml", "fe80::1"),
        ("http://[::ffff:169.254.169.254]/latest/meta-data/", "::ffff:169.254.169.254"),
    ],
)
def test_it_refuses_a_feed_on_a_private_or_metadata_address(guard_on, url, address):
    # given: a feed an analyst added (creating it checks the URL's form, not where it points)
    feed, _ = feed_create(url=url)

    # when
    report = poll(feed)

    # then: refused before connecting, with the address named
    assert_refused(feed, report, address=address)


@pytest.mark.parametrize("name", ["dotted", "localhost", "v4-mapped", "v6-loopback"])
def test_it_never_reaches_a_private_server_a_feed_points_at(guard_on, internal, internal_v6, name):
    # given
    url, server, address = spellings(internal, internal_v6)[name]
    feed, _ = feed_create(url=url)

    # when
    report = poll(feed)

    # then
    assert_refused(feed, report, address=address)
    assert server.requests == []


def test_it_refuses_a_private_feed_added_in_the_admin_at_its_first_poll(guard_on, internal, admin_client):
    # given: the add form takes the URL
    url = internal.url("/secret.xml")
    form = {"url": url, "tier": 2, "polls-TOTAL_FORMS": 0, "polls-INITIAL_FORMS": 0}
    response = admin_client.post(reverse("admin:tracker_feed_add"), form)
    assert response.status_code in {200, 302}
    feed = Feed.objects.filter(url=url).first()
    if feed is None:  # refused on create: then the form says why
        assert "public" in response.content.decode()
        return

    # when
    report = poll(feed)

    # then
    assert_refused(feed, report, address="127.0.0.1")
    assert internal.requests == []


# --- Feeds: redirects from an allowed origin into a private one --------------------------------------


@pytest.mark.parametrize("name", SPELLINGS)
def test_it_refuses_a_redirect_into_a_private_address(outside, internal, internal_v6, name):
    # given: a public origin that redirects the poll to the internal service
    target, server, address = spellings(internal, internal_v6)[name]
    outside.routes["/feed.xml"] = (302, {"Location": target}, b"")
    feed, _ = feed_create(url=outside.url("/feed.xml"))

    # when
    report = poll(feed)

    # then: the origin was asked, the internal service never was
    assert_refused(feed, report, address=address)
    assert outside.requests == [("GET", "/feed.xml")]
    assert server.requests == []


@pytest.mark.parametrize("status", [301, 303, 307, 308])
def test_it_checks_the_target_of_every_kind_of_redirect(outside, internal, status):
    outside.routes["/feed.xml"] = (status, {"Location": internal.url("/secret.xml")}, b"")
    feed, _ = feed_create(url=outside.url("/feed.xml"))

    report = poll(feed)

    assert_refused(feed, report, address="127.0.0.1")
    assert internal.requests == []


def test_it_refuses_a_private_hop_deep_in_a_redirect_chain(outside, internal):
    # given: two hops on the allowed origin, then the internal service
    outside.routes["/feed.xml"] = (301, {"Location": "/moved.xml"}, b"")
    outside.routes["/moved.xml"] = (302, {"Location": internal.url("/secret.xml")}, b"")
    feed, _ = feed_create(url=outside.url("/feed.xml"))

    # when
    report = poll(feed)

    # then
    assert_refused(feed, report, address="127.0.0.1")
    assert outside.requests == [("GET", "/feed.xml"), ("GET", "/moved.xml")]
    assert internal.requests == []


def test_it_follows_a_redirect_that_stays_on_public_addresses(outside):
    # control: the stand-in origin really is let through, and its redirects followed
    outside.routes["/feed.xml"] = (302, {"Location": "/real.xml"}, b"")
    outside.routes["/real.xml"] = (200, {"Content-Type": "application/rss+xml"}, SECRET)
    feed, _ = feed_create(url=outside.url("/feed.xml"))

    report = poll(feed)

    assert (report.outcome, report.entries_new) == ("fetched", 2)


@pytest.mark.parametrize("name", REACHABLE)
def test_each_spelling_reaches_the_internal_service_when_private_addresses_are_allowed(
    outside, internal, internal_v6, settings, name
):
    # control: with the guard off, the same redirect does reach the server (so the refusals above are the guard's)
    settings.TRACKER_ALLOW_PRIVATE_ADDRESSES = True
    target, server, _ = spellings(internal, internal_v6)[name]
    outside.routes["/feed.xml"] = (302, {"Location": target}, b"")
    feed, _ = feed_create(url=outside.url("/feed.xml"))

    report = poll(feed)

    assert (report.outcome, report.entries_new) == ("fetched", 2)
    assert server.requests == [("GET", "/secret.xml")]


@pytest.mark.parametrize(
    "location",
    ["http://" + "ä" * 63 + ".example/feed.xml", "http://[::1/feed.xml", "http://127.0.0.1:99999/feed.xml"],
    ids=["bad-idna", "bad-ipv6", "bad-port"],
)
def test_it_records_a_clear_error_for_a_redirect_to_a_broken_url(outside, location):
    outside.routes["/feed.xml"] = (302, {"Location": location}, b"")
    feed, _ = feed_create(url=outside.url("/feed.xml"))

    report = poll(feed)

    feed.refresh_from_db()
    assert report.outcome == "error"
    assert "Unexpected error" not in feed.last_error, feed.last_error
    assert "redirect" in feed.last_error.lower() or "url" in feed.last_error.lower(), feed.last_error


# --- Webhooks: refused when registered ----------------------------------------------------------------


def add_endpoint(admin_client, django_user_model, url: str):
    owner = django_user_model.objects.create_user("fund")
    return admin_client.post(
        reverse("admin:rumours_webhookendpoint_add"),
        {
            "user": owner.pk,
            "url": url,
            "is_active": "on",
            "webhookdelivery_set-TOTAL_FORMS": "0",
            "webhookdelivery_set-INITIAL_FORMS": "0",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://127.0.0.1/hooks", "private or reserved"),
        ("https://10.1.2.3/hooks", "private or reserved"),
        ("https://169.254.169.254/latest/meta-data/", "private or reserved"),
        ("https://[::1]/hooks", "private or reserved"),
        ("https://[::ffff:127.0.0.1]/hooks", "private or reserved"),
        ("https://[::ffff:a9fe:a9fe]/hooks", "private or reserved"),  # the metadata address, IPv4-mapped
        ("https://[64:ff9b::a9fe:a9fe]/hooks", "private or reserved"),  # and through NAT64
        ("https://0.0.0.0/hooks", "private or reserved"),
        ("https://localhost/hooks", "private or reserved"),
        ("http://example.com/hooks", "https://"),
        ("https://example.com:99999/hooks", "port"),
        ("https://" + "ä" * 63 + ".example/hooks", "host"),
    ],
)
def test_it_refuses_to_register_a_webhook_on_a_private_or_broken_address(
    guard_on, admin_client, django_user_model, url, message
):
    # when
    response = add_endpoint(admin_client, django_user_model, url)

    # then: the form comes back with the reason, and nothing is saved
    assert response.status_code == 200
    page = response.content.decode()
    assert "errornote" in page
    assert message in page
    assert not WebhookEndpoint.objects.exists()


def test_it_registers_a_webhook_on_a_public_address(outside, admin_client, django_user_model):
    # control: the same form takes an address the guard calls public
    response = add_endpoint(admin_client, django_user_model, f"https://{PUBLIC_STAND_IN}:{outside.port}/hooks")

    assert response.status_code == 302
    assert WebhookEndpoint.objects.count() == 1


# --- Webhooks: refused when sent -----------------------------------------------------------------------


def deliver_to(url: str, django_user_model) -> WebhookDelivery:
    """An endpoint already registered (before the guard was on, or before its DNS changed), and one event."""
    owner = django_user_model.objects.create_user("fund")
    endpoint = WebhookEndpoint.objects.create(user=owner, url=url, secret=new_secret())
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="msg_ssrf", event_type=WebhookEvent.RUMOUR_CREATED, payload={"type": "x"}
    )
    delivered = webhook_deliver(delivery_id=delivery.pk)
    assert delivered is not None
    return delivered


@pytest.mark.parametrize("name", ["dotted", "decimal", "hex", "localhost", "v4-mapped", "v6-loopback"])
def test_it_never_posts_a_webhook_to_a_private_address(guard_on, internal, internal_v6, django_user_model, name):
    # given
    url, server, address = spellings(internal, internal_v6)[name]

    # when
    delivery = deliver_to(url.replace("/secret.xml", "/hooks"), django_user_model)

    # then: recorded as a failed attempt, to be retried, and nothing arrived
    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1
    assert "not a public address" in delivery.last_error
    assert any(each in delivery.last_error for each in ([address] if isinstance(address, str) else address))
    assert server.requests == []


def test_it_does_not_follow_a_webhook_redirect_into_a_private_address(outside, internal, django_user_model):
    # given: a receiver on a public address that answers with a redirect to the internal service
    outside.routes["/hooks"] = (307, {"Location": internal.url("/hooks")}, b"")

    # when
    delivery = deliver_to(outside.url("/hooks"), django_user_model)

    # then
    assert outside.requests == [("POST", "/hooks")]
    assert internal.requests == []
    assert delivery.state == DeliveryState.PENDING
    assert "307" in delivery.last_error


def test_it_records_a_clear_error_for_a_webhook_host_that_cannot_be_encoded(guard_on, django_user_model):
    delivery = deliver_to("https://" + "ä" * 63 + ".example/hooks", django_user_model)

    assert delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 1
    assert delivery.last_error
