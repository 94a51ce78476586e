"""A Redis cache that degrades to a miss while Redis is unreachable.

Redis is the broker and the cache. Nothing the cache holds is needed to answer a
request (API throttling counters, the watchlist's change stamp), so when Redis
restarts the web and the API should keep serving from PostgreSQL instead of
answering 500. Every call that cannot reach Redis logs one warning and behaves like
an empty cache: reads miss, writes are dropped. Throttling therefore fails open for
the length of the outage, which we prefer to refusing every request.

Timeouts are short (``socket_connect_timeout`` / ``socket_timeout``, set in
settings) so an outage costs a request milliseconds, not the default minutes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
T = TypeVar("T")


def _or(fallback: Callable[..., Any]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Run the client call; if Redis is unreachable, log and return ``fallback(*args)``."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @wraps(method)
        def call(self: RedisCacheClient, *args: Any, **kwargs: Any) -> T:
            try:
                return method(self, *args, **kwargs)
            except _UNREACHABLE as exc:
                logger.warning("cache unavailable, %s treated as a miss: %s", method.__name__, exc)
                result: T = fallback(*args, **kwargs)
                return result

        return call

    return decorate


class ResilientRedisCacheClient(RedisCacheClient):
    add = _or(lambda key, value, timeout: False)(RedisCacheClient.add)
    get = _or(lambda key, default: default)(RedisCacheClient.get)
    set = _or(lambda key, value, timeout: None)(RedisCacheClient.set)
    touch = _or(lambda key, timeout: False)(RedisCacheClient.touch)
    delete = _or(lambda key: False)(RedisCacheClient.delete)
    get_many = _or(lambda keys: {})(RedisCacheClient.get_many)
    has_key = _or(lambda key: False)(RedisCacheClient.has_key)
    set_many = _or(lambda data, timeout: None)(RedisCacheClient.set_many)
    delete_many = _or(lambda keys: None)(RedisCacheClient.delete_many)
    clear = _or(lambda: False)(RedisCacheClient.clear)
    # incr is left alone: Django's incr() raises ValueError for a missing key, and a
    # caller counting on it should see the failure rather than a made-up number.


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
