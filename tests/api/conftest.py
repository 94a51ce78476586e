"""The rumours fixtures (analyst, companies, make_rumour) serve the API tests too."""

from collections.abc import Iterator

import pytest

from tests.rumours.conftest import analyst, goto, grab, make_rumour

__all__ = ["analyst", "goto", "grab", "make_rumour"]


@pytest.fixture(autouse=True)
def fresh_throttle_counts() -> Iterator[None]:
    """Throttle counts live in the cache; each API test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
