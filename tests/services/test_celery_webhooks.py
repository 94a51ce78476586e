"""A status change reaches an investor's endpoint through a real Celery worker on Redis."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from rumours.models import DeliveryState, Status, WebhookDelivery, WebhookEndpoint
from rumours.services import rumour_change_status
from rumours.webhooks import new_secret
from tests.api.test_webhooks import Receiver
from tests.rumours.conftest import at
from tests.services.conftest import wait_for

pytestmark = pytest.mark.service


def test_it_delivers_a_signed_status_change_through_the_worker(
    celery_worker_process, make_rumour, analyst, goto, grab, django_user_model
):
    receiver = Receiver()
    try:
        # given: an investor following GoTo
        investor = django_user_model.objects.create_user("fund")
        endpoint = WebhookEndpoint.objects.create(user=investor, url=receiver.url, secret=new_secret())
        endpoint.companies.set([goto])
        rumour = make_rumour(title="GoTo–Grab merger", companies=[goto, grab])

        # when: an analyst records a change (committed: this test runs without a wrapping transaction)
        rumour_change_status(rumour=rumour, status=Status.DENIED, effective_at=at(2026, 6, 3), recorded_by=analyst)

        # then: the worker delivers it, signed, exactly once per event
        wait_for(
            lambda: (
                not WebhookDelivery.objects.exclude(state=DeliveryState.DELIVERED).exists()
                and WebhookDelivery.objects.exists()
            ),
            timeout=60,
            message=f"the deliveries\n{celery_worker_process.output()}",
        )
        status_changes = [(h, b) for h, b in receiver.received if b"rumour.status_changed" in b]
        assert len(status_changes) == 1
        headers, body = status_changes[0]
        assert Webhook(endpoint.secret).verify(body, headers)["data"]["status_change"]["status"] == "denied"
    finally:
        receiver.stop()
