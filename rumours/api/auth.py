"""API keys: authentication, scopes and per-key throttling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from rumours.models import ApiKey, ApiScope
from rumours.services import api_key_hash

LAST_USED_GRANULARITY = timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer srt_…`` (or ``X-API-Key: srt_…``)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        key = self._key_from(request)
        if key is None:
            return None
        api_key = ApiKey.objects.select_related("user").filter(key_hash=api_key_hash(key)).first()
        if api_key is None:
            raise exceptions.AuthenticationFailed("This API key is not valid. Check it was copied whole.")
        if api_key.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                f"This API key was revoked on {api_key.revoked_at:%Y-%m-%d}. Ask your account manager for a new one."
            )
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed("The account this key belongs to is disabled.")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_GRANULARITY:
            # At most one write a minute per key, not one per request.
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'

    def _key_from(self, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith(f"{self.keyword} "):
            return header[len(self.keyword) + 1 :].strip() or None
        return request.headers.get("X-API-Key", "").strip() or None


class HasApiKeyOrStaff(permissions.BasePermission):
    """Read access with a valid key, or for a logged-in staff user (the admin's own browsing)."""

    message = "Send an API key: Authorization: Bearer srt_…"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method not in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_staff)
        return isinstance(request.auth, ApiKey) or bool(request.user and request.user.is_staff)


class AnalystScope(permissions.BasePermission):
    message = "This endpoint is for analyst keys; yours has the investor scope."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiKey):
            return request.auth.scope == ApiScope.ANALYST
        return bool(request.user and request.user.is_staff)


class ApiKeyRateThrottle(throttling.SimpleRateThrottle):
    """Per key (or per staff user); the rate is ``API_RATE`` (e.g. ``600/min``)."""

    scope = "api_key"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "rumours.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from your account manager or `manage.py create_api_key`, e.g. "
            "`Authorization: Bearer srt_1a2b3c4d_…`.",
        }
