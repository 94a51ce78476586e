"""Celery's routing: each kind of work on its own queue, so a slow one cannot starve another."""

from __future__ import annotations

import pytest

from config.celery import app


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("tracker.poll_feed", "polling"),
        ("rumours.scan_entries", "detection"),
        ("rumours.send_digests", "email"),
        ("rumours.deliver_webhook", "email"),
        ("tracker.dispatch_due_feeds", "default"),
        ("rumours.plan_digests", "default"),
        ("rumours.retry_webhooks", "default"),
    ],
)
def test_it_routes_each_task_to_its_queue(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_it_declares_every_queue_a_worker_without_q_consumes():
    assert set(app.amqp.queues) == {"default", "polling", "detection", "email"}


def test_it_routes_every_registered_task_to_a_declared_queue():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if name.startswith(("tracker.", "rumours."))]
    assert ours
    for name in ours:
        assert app.amqp.router.route({}, name)["queue"].name in app.amqp.queues
