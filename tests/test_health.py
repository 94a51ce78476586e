"""The health endpoints: what a load balancer and an operator's monitoring read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tracker.models import Heartbeat
from tracker.tasks import dispatch_due_feeds

pytestmark = pytest.mark.django_db


def test_it_says_it_is_alive_without_touching_anything(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live/")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_it_is_degraded_until_beat_has_ticked(client):
    response = client.get("/health/")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["checks"]["beat"] == {"ok": False, "last_tick": None, "error": "no dispatcher tick recorded yet"}


def test_it_is_ok_once_the_dispatcher_has_ticked(client):
    # given: beat's tick, run as a worker runs it
    dispatch_due_feeds()

    # when
    body = client.get("/health/").json()

    # then
    assert body["status"] == "ok"
    assert body["checks"]["beat"]["ok"] is True
    assert set(body["checks"]["broker"]["queues"]) == {"default", "polling", "detection", "email"}


def test_it_reports_a_stale_beat(client, settings):
    Heartbeat.objects.create(name="beat", at=timezone.now() - timedelta(seconds=settings.HEALTH_BEAT_STALE_SECONDS + 5))

    body = client.get("/health/").json()

    assert body["status"] == "degraded"
    assert body["checks"]["beat"]["ok"] is False
    assert body["checks"]["beat"]["age_seconds"] > settings.HEALTH_BEAT_STALE_SECONDS


def test_it_fails_with_503_when_the_broker_does_not_answer(client):
    # given: a broker on a port nothing listens on (a real connection attempt, refused)
    from config.celery import app

    dispatch_due_feeds()
    previous = app.conf.broker_url
    app.conf["broker_url"] = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/health/")
    finally:
        app.conf["broker_url"] = previous

    # then: out of rotation, and says why without leaking the address
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False
    assert "127.0.0.1" not in response.content.decode()
