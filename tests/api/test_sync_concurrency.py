"""The sync contract under concurrent writers (PostgreSQL: real concurrent transactions).

A slow transaction writes change A (taking its ``changed_at`` first); while it is
still open, a fast one writes and commits change B. A client syncing in between must
not advance its ``since`` past A before A is visible. The settle window guarantees it
as long as it exceeds the longest write.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from rumours.models import Status
from rumours.services import api_key_create, rumour_change_status
from tests.rumours.conftest import UserFactory, at


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent transactions (PostgreSQL)")


def sync(api: APIClient, since: str) -> tuple[list[int], str]:
    body = api.get("/api/v1/status-changes/", {"since": since} if since else {}).json()
    return [row["id"] for row in body["results"]], body["next_since"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("settle", [0, 2])
def test_a_client_polling_during_a_slow_write_misses_nothing_with_a_settle_window(
    postgresql, settings, make_rumour, analyst, settle
):
    settings.API_SYNC_SETTLE_SECONDS = settle
    slow_rumour, fast_rumour = make_rumour(title="Slow"), make_rumour(title="Fast")
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=UserFactory.create(), name='t', created_by=None)[1]}"
    )
    in_transaction, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                rumour_change_status(
                    rumour=slow_rumour, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst
                )
                in_transaction.set()
                release.wait(10)  # committed only after the fast write and a client poll
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    in_transaction.wait(10)
    rumour_change_status(rumour=fast_rumour, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst)
    seen, since = sync(api, "")  # the client polls while the slow write is still open
    release.set()
    writer.join(10)
    time.sleep(settle + 0.5)
    later, _ = sync(api, since)

    received = seen + later
    expected = {c.pk for c in (slow_rumour.status_changes.get(), fast_rumour.status_changes.get())}
    if settle:
        assert set(received) == expected  # nothing missed
        assert len(received) == len(set(received))  # nothing twice
    else:
        # Without the window the fast change is served first and the slow one, which took
        # an earlier timestamp, falls behind the client's `since`: why the window exists.
        assert set(received) != expected
