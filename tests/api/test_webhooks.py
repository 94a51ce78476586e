"""Webhooks: signed per Standard Webhooks, sent after commit, retried, guarded, visible."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from rumours.models import DeliveryState, Status, WebhookDelivery, WebhookEndpoint, WebhookEvent
from rumours.services import api_key_create, quote_add, rumour_change_status
from rumours.webhooks import (
    WebhookEndpointError,
    new_secret,
    webhook_deliver,
    webhook_endpoint_validate,
    webhooks_due,
)
from tests.rumours.conftest import CompanyFactory, at

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server that records what arrives and answers with the next queued status."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def endpoint(receiver, django_user_model, goto):
    investor = django_user_model.objects.create_user("fund")
    hook = WebhookEndpoint.objects.create(user=investor, url=receiver.url, secret=new_secret())
    hook.companies.set([goto])
    return hook


def deliver_all() -> list[WebhookDelivery]:
    return [d for d in (webhook_deliver(delivery_id=pk) for pk in webhooks_due()) if d is not None]


def test_it_sends_a_signed_status_change_the_library_verifies(
    receiver, endpoint, make_rumour, analyst, goto, grab, django_capture_on_commit_callbacks
):
    # given
    rumour = make_rumour(title="GoTo–Grab merger", companies=[goto, grab])

    # when: a status change commits (the delivery row is written in the same transaction)
    with django_capture_on_commit_callbacks(execute=False):
        rumour_change_status(rumour=rumour, status=Status.IN_TALKS, effective_at=at(2025, 5, 12), recorded_by=analyst)
    delivered = deliver_all()

    # then: the receiver got it, and Standard Webhooks' own verifier accepts the signature
    events = {d.event_type for d in delivered}
    assert WebhookEvent.STATUS_CHANGED in events
    headers, body = next((h, b) for h, b in receiver.received if b"rumour.status_changed" in b)
    payload = Webhook(endpoint.secret).verify(body, headers)
    assert payload["data"]["status_change"]["status"] == "in_talks"
    assert payload["data"]["rumour"]["title"] == "GoTo–Grab merger"
    assert headers["webhook-id"].startswith("msg_")
    with pytest.raises(Exception):  # noqa: B017,PT011  (the library's own error type for a bad signature)
        Webhook(new_secret()).verify(body, headers)


def test_it_sends_nothing_for_companies_the_endpoint_does_not_follow(receiver, endpoint, make_rumour, analyst):
    rumour = make_rumour(companies=[CompanyFactory.create()])
    rumour_change_status(rumour=rumour, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst)

    assert WebhookDelivery.objects.count() == 0


def test_it_retries_with_backoff_then_delivers_once(receiver, endpoint, make_rumour, analyst, goto):
    receiver.answers = [500]
    rumour = make_rumour(companies=[goto])
    quote_add(rumour=rumour, text="No comment", speaker_name="CEO", said_at=at(2024), added_by=analyst)
    (delivery,) = [d for d in WebhookDelivery.objects.all() if d.event_type == WebhookEvent.QUOTE_ADDED]

    first = webhook_deliver(delivery_id=delivery.pk)
    assert first is not None
    assert (first.state, first.attempts, first.last_status_code) == (DeliveryState.PENDING, 1, 500)
    assert first.next_attempt_at > timezone.now() + timedelta(seconds=20)
    assert webhook_deliver(delivery_id=delivery.pk) is None  # not due yet: nothing sent

    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    second = webhook_deliver(delivery_id=delivery.pk)
    assert second is not None
    assert (second.state, second.attempts) == (DeliveryState.DELIVERED, 2)
    ids = [h["webhook-id"] for h, b in receiver.received if b"quote.added" in b]
    assert len(ids) == 2
    assert len(set(ids)) == 1  # the same idempotency id on the retry


def test_it_refuses_private_addresses_when_the_guard_is_on(receiver, endpoint, settings, make_rumour, analyst, goto):
    settings.TRACKER_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(WebhookEndpointError, match="https"):
        webhook_endpoint_validate(url="http://example.com/hooks", events=[])
    with pytest.raises(WebhookEndpointError, match="private"):
        webhook_endpoint_validate(url="https://localhost/hooks", events=[])

    rumour = make_rumour(companies=[goto])
    rumour_change_status(rumour=rumour, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst)
    deliveries = deliver_all()
    assert deliveries
    assert all("not a public address" in delivery.last_error for delivery in deliveries)
    assert receiver.received == []


def test_it_shows_an_investor_their_endpoints_and_deliveries(receiver, endpoint, make_rumour, analyst, goto):
    rumour = make_rumour(companies=[goto])
    rumour_change_status(rumour=rumour, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst)
    deliver_all()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=endpoint.user, name='t', created_by=None)[1]}")

    (listed,) = api.get("/api/v1/webhooks/").json()["results"]

    assert listed["url"] == receiver.url
    assert [d["state"] for d in listed["recent_deliveries"]] == ["delivered"] * len(listed["recent_deliveries"])
    assert json.dumps(listed).count("msg_") >= 1
