"""Webhooks: one event function per event, an outbox, and signed delivery with retries.

The event functions run inside the service's transaction and write one
:class:`~rumours.models.WebhookDelivery` per interested endpoint, so an event is
never lost between the change and the broker; after commit a Celery task sends
each one. Deliveries are signed per the Standard Webhooks convention with the
``standardwebhooks`` library (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``); receivers verify with the same library and de-duplicate on
``webhook-id``. Failures are retried with exponential backoff, then given up and
shown in the admin and the API.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from rumours.models import (
    DeliveryState,
    Quote,
    Rumour,
    StatusChange,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from tracker.fetching import FetchError, FetchPolicy, post_json

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# --- events (inside the writing transaction) -----------------------------------------------------


def event_rumour_created(rumour: Rumour) -> None:
    _emit(WebhookEvent.RUMOUR_CREATED, rumour, {"rumour": _rumour_brief(rumour)})


def event_status_changed(change: StatusChange) -> None:
    rumour = change.rumour
    _emit(
        WebhookEvent.STATUS_CHANGED,
        rumour,
        {
            "rumour": _rumour_brief(rumour),
            "status_change": {
                "id": change.pk,
                "status": change.status,
                "effective_at": change.effective_at.isoformat(),
                "recorded_at": change.recorded_at.isoformat(),
                "note": change.note,
                "evidence_url": change.evidence_source.url if change.evidence_source else None,
            },
        },
    )


def event_quote_added(quote: Quote) -> None:
    _emit(
        WebhookEvent.QUOTE_ADDED,
        quote.rumour,
        {
            "rumour": _rumour_brief(quote.rumour),
            "quote": {
                "id": quote.pk,
                "text": quote.text,
                "translation": quote.translation,
                "language": quote.language,
                "stance": quote.stance,
                "said_at": quote.said_at.isoformat(),
                "speaker": {
                    "name": quote.speaker_name,
                    "role": quote.speaker_role,
                    "company": quote.speaker_company.name if quote.speaker_company else None,
                },
            },
        },
    )


def _rumour_brief(rumour: Rumour) -> dict[str, Any]:
    return {
        "id": rumour.pk,
        "title": rumour.title,
        "status": rumour.status,
        "credibility": rumour.credibility,
        "parties": [{"company": p.company.name, "role": p.role} for p in rumour.parties.select_related("company")],
    }


def _emit(event: str, rumour: Rumour, data: dict[str, Any]) -> None:
    party_ids = set(rumour.parties.values_list("company_id", flat=True))
    endpoints = WebhookEndpoint.objects.filter(is_active=True).prefetch_related("companies")
    deliveries = []
    for endpoint in endpoints:
        followed = {company.pk for company in endpoint.companies.all()}
        if endpoint.wants(event) and (not followed or followed & party_ids):
            payload = {"type": event, "timestamp": timezone.now().isoformat(), "data": data}
            deliveries.append(
                WebhookDelivery(
                    endpoint=endpoint, event_id=f"msg_{uuid.uuid4().hex}", event_type=event, payload=payload
                )
            )
    if not deliveries:
        return
    WebhookDelivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in WebhookDelivery.objects.filter(event_id__in=[d.event_id for d in deliveries])]
    transaction.on_commit(lambda: _enqueue(ids))


def _enqueue(delivery_ids: list[int]) -> None:
    from rumours.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        deliver_webhook.delay(delivery_id)


# --- delivery (in the worker) --------------------------------------------------------------------


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Send one due delivery once. Safe to call twice: a claim stops a second sender."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, state=DeliveryState.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + timedelta(minutes=5))  # held while we send
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
    sent_at = timezone.now()
    signature = Webhook(delivery.endpoint.secret).sign(delivery.event_id, sent_at, body)
    headers = {
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    status: int | None = None
    error = ""
    try:
        status, answer = post_json(delivery.endpoint.url, body=body.encode(), headers=headers, policy=_policy())
        if not 200 <= status < 300:
            error = f"The endpoint answered HTTP {status}: {answer[:200]}"
    except FetchError as exc:
        error = str(exc)
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code, delivery.last_error = sent_at, status, error
    if not error:
        delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, timezone.now()
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = DeliveryState.FAILED
    else:
        delivery.next_attempt_at = timezone.now() + min(FIRST_RETRY * 2 ** (delivery.attempts - 1), LONGEST_RETRY)
    delivery.save(
        update_fields=[
            "attempts", "last_attempt_at", "last_status_code", "last_error", "state", "delivered_at", "next_attempt_at",
        ]
    )  # fmt: skip
    return delivery


def webhooks_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending deliveries whose next attempt is due (the beat's retry sweep)."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def _policy() -> FetchPolicy:
    return FetchPolicy(
        user_agent=settings.TRACKER_USER_AGENT,
        connect_timeout=settings.TRACKER_CONNECT_TIMEOUT,
        read_timeout=settings.TRACKER_READ_TIMEOUT,
        total_timeout=min(settings.TRACKER_TOTAL_TIMEOUT, 15.0),
        allow_private_addresses=settings.TRACKER_ALLOW_PRIVATE_ADDRESSES,
    )


# --- endpoints ---------------------------------------------------------------------------------


class WebhookEndpointError(ValueError):
    """The endpoint cannot be registered; ``str()`` is for people."""


def webhook_endpoint_validate(*, url: str, events: list[str]) -> None:
    """HTTPS only (plain HTTP just for local tests and demos), known events, and a host
    that resolves to public addresses: the same guard as feeds, checked again at send time."""
    import socket
    from urllib.parse import urlsplit

    from tracker.fetching import address_is_public

    parts = urlsplit(url)
    allow_private = settings.TRACKER_ALLOW_PRIVATE_ADDRESSES
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise WebhookEndpointError("Webhook endpoints must use https://.")
    unknown = sorted(set(events) - set(WebhookEvent.values))
    if unknown:
        raise WebhookEndpointError(f"Unknown event {unknown[0]!r}; use {', '.join(WebhookEvent.values)}.")
    try:
        port = parts.port or 443
    except ValueError:
        raise WebhookEndpointError("The URL's port is not a number from 1 to 65535.") from None
    if allow_private:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname or "", port)}
    except socket.gaierror:
        raise WebhookEndpointError(f"The host {parts.hostname!r} does not resolve.") from None
    except UnicodeError:  # a label too long for IDNA
        raise WebhookEndpointError(f"The host {parts.hostname!r} is not a valid host name.") from None
    if not all(address_is_public(str(address)) for address in addresses):
        raise WebhookEndpointError(f"{parts.hostname} resolves to a private or reserved address; refused.")
