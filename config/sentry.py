"""Optional error reporting to Sentry (or anything speaking its protocol), by environment.

Off unless ``SENTRY_DSN`` is set. Then the web processes and the Celery workers
report unhandled exceptions and failed tasks, tagged with ``SENTRY_ENVIRONMENT`` and
``SENTRY_RELEASE``; ``SENTRY_TRACES_SAMPLE_RATE`` (default 0) turns on performance
tracing. No personal data is sent (``send_default_pii=False``: no cookies, no user,
no request bodies) and every event passes through the same secrets filter as the logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

from config.logs import redact

if TYPE_CHECKING:
    from sentry_sdk.types import Event


def init(*, dsn: str, environment: str, release: str | None, traces_sample_rate: float) -> None:
    try:
        import sentry_sdk
        from sentry_sdk.integrations.celery import CeleryIntegration
        from sentry_sdk.integrations.django import DjangoIntegration
    except ImportError:
        raise ImproperlyConfigured(
            "SENTRY_DSN is set but sentry-sdk is not installed; install requirements/prod.txt."
        ) from None
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        before_send=scrub,
    )


def scrub(event: Event, hint: dict[str, Any]) -> Event:
    """Redact credentials anywhere in the event's strings (messages, frames' variables, URLs)."""
    cleaned: Event = _walk(event)
    return cleaned


def _walk(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _walk(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item) for item in value]
    return value
