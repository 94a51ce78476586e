"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.feedserver import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def handed_off(settings: pytest.FixtureRequest) -> Iterator[list[dict[str, object]]]:
    """Record what tracker hands to the rest of the product, via the real setting."""
    from tests import handoff_recorder

    handoff_recorder.calls.clear()
    settings.TRACKER_ENTRIES_HANDLER = "tests.handoff_recorder.record"  # type: ignore[attr-defined]
    yield handoff_recorder.calls
    handoff_recorder.calls.clear()


@pytest.fixture
def celery_eager() -> Iterator[None]:
    """Run tasks in-process when enqueued (for tests of what a hand-off sets off, not of Celery)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
