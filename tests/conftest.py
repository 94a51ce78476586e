"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feedserver import FeedServer

FEEDS_DIR = Path(__file__).parent / "feeds"


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def feed_file() -> object:
    """Bytes of a test feed file under tests/feeds/."""

    def read(name: str) -> bytes:
        return (FEEDS_DIR / name).read_bytes()

    return read


@pytest.fixture
def handed_off(settings: pytest.FixtureRequest) -> Iterator[list[dict[str, object]]]:
    """Record what tracker hands to the rest of the product, via the real setting."""
    from tests import handoff_recorder

    handoff_recorder.calls.clear()
    settings.TRACKER_ENTRIES_HANDLER = "tests.handoff_recorder.record"  # type: ignore[attr-defined]
    yield handoff_recorder.calls
    handoff_recorder.calls.clear()
