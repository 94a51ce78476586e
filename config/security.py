"""Security headers Django 5.2 does not send itself."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ContentSecurityPolicyMiddleware:
    """Adds ``Content-Security-Policy`` (``CONTENT_SECURITY_POLICY``) to every response that has none.

    Set the setting to "" to send none (e.g. while trying a new admin add-on).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


def client_ip(request: HttpRequest) -> str:
    """The address a request came from, for the login lockout (django-axes).

    Without a proxy (``DJANGO_PROXY_COUNT=0``) that is ``REMOTE_ADDR``. Behind N proxies
    that each append to ``X-Forwarded-For``, it is the N-th address from the right: the
    one our own outermost proxy saw. Addresses further left are the client's to invent,
    so they are never trusted.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    hops = settings.PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else remote
