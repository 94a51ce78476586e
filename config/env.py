"""The one reader of environment variables for settings.

Thin typed helpers over django-environ: each names the variable in its error, so a
bad value stops the process at start with a message an operator can act on
("TRACKER_MIN_INTERVAL must be an integer, got 'five'").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_env = environ.Env()


def _raw(name: str) -> str | None:
    value = _env.str(name, default=None)
    return None if value is None or value.strip() == "" else value.strip()


def string(name: str, *, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def boolean(name: str, *, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}.")


def integer(name: str, *, default: int) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None


def number(name: str, *, default: float) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}.") from None


def strings(name: str, *, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def path(name: str, *, default: Path) -> Path:
    value = _raw(name)
    return default if value is None else Path(value).expanduser().resolve()


def database(name: str, *, default: str) -> dict[str, Any]:
    url = string(name, default=default)
    scheme = url.split(":", 1)[0]
    if scheme not in environ.Env.DB_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} has an unsupported scheme {scheme!r}; use e.g. postgres://user:pass@host:5432/name "
            "or sqlite:////absolute/path.sqlite3."
        )
    try:
        config: dict[str, Any] = _env.db_url_config(url)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise ImproperlyConfigured(f"{name} is not a usable database URL: {exc}") from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured(f"{name} has an unsupported scheme: {url.split(':')[0]!r}.")
    return config


def cache(name: str) -> dict[str, Any]:
    url = string(name, default="")
    try:
        config: dict[str, Any] = _env.cache_url_config(url)
    except Exception as exc:
        raise ImproperlyConfigured(f"{name} is not a usable cache URL: {exc}") from None
    return config


def email(name: str, *, default: str) -> dict[str, Any]:
    """Django's EMAIL_* settings from a URL: smtp://user:pass@host:587 (smtp+tls://, smtp+ssl://),
    consolemail://, filemail:///absolute/path, memorymail://."""
    url = string(name, default=default)
    scheme = url.split(":", 1)[0]
    if scheme not in environ.Env.EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} has an unsupported scheme {scheme!r}; use smtp://, smtp+tls://, consolemail:// or filemail://."
        )
    try:
        config: dict[str, Any] = _env.email_url_config(url)
    except Exception as exc:
        raise ImproperlyConfigured(f"{name} is not a usable email URL: {exc}") from None
    return config


def mapping(name: str) -> dict[str, str]:
    """KEY=value pairs separated by commas (provider settings such as anymail's)."""
    value = _raw(name)
    if value is None:
        return {}
    pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise ImproperlyConfigured(f"{name} must be KEY=value pairs separated by commas.")
    return {key.strip(): item.strip() for key, item in pairs}
