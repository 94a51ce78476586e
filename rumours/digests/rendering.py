"""Digests and alerts as email: subject, plain text and HTML with inlined CSS, and the
headers mail clients need for one-click unsubscribe (RFC 8058)."""

from __future__ import annotations

import functools
from typing import Any

import css_inline
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from rumours.digests.content import Digest
from rumours.digests.schedule import local_label
from rumours.models import DeliveryKind, StatusChange, Subscription

UNSUBSCRIBE_SALT = "rumours.digests.unsubscribe"
MANAGE_SALT = "rumours.digests.manage"
MANAGE_LINK_DAYS = 90


def unsubscribe_token(subscription: Subscription) -> str:
    """A signed, non-expiring token naming the subscription: the link works without logging in."""
    return signing.dumps(subscription.pk, salt=UNSUBSCRIBE_SALT)


def manage_token(subscription: Subscription) -> str:
    return signing.dumps(subscription.pk, salt=MANAGE_SALT)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def subject_of(digest: Digest) -> str:
    """Says what changed: “GoTo–Grab merger: now Denied · 2 more updates”."""
    label = "Weekly" if digest.kind == DeliveryKind.WEEKLY else "Daily"
    if digest.is_empty:
        return f"{label} digest: nothing new on your watchlist"
    first = digest.updates[0]
    more = len(digest.updates) - 1 + digest.more
    tail = f" · {more} more update{'s' * (more > 1)}" if more else ""
    return f"{first.rumour.title}: {first.headline}{tail}"[:290]


def digest_message(digest: Digest, *, message_id: str = "") -> EmailMultiAlternatives:
    subscription = digest.subscription
    context = {
        "digest": digest,
        "subscription": subscription,
        "period": " – ".join(local_label(moment, subscription.time_zone) for moment in (digest.start, digest.end)),
        "kind_label": "weekly" if digest.kind == DeliveryKind.WEEKLY else "daily",
        **_links(subscription),
    }
    return _message(subscription, subject_of(digest), "digests/digest", context, message_id=message_id)


def alert_message(subscription: Subscription, change: StatusChange, *, message_id: str = "") -> EmailMultiAlternatives:
    rumour = change.rumour
    subject = f"Status change: {rumour.title} is now {change.get_status_display()}"
    context = {
        "change": change,
        "rumour": rumour,
        "subscription": subscription,
        "effective": local_label(change.effective_at, subscription.time_zone),
        **_links(subscription),
    }
    return _message(subscription, subject, "digests/alert", context, message_id=message_id)


def rumour_url(rumour_id: int) -> str:
    return absolute(f"/api/v1/rumours/{rumour_id}/")


def _links(subscription: Subscription) -> dict[str, Any]:
    return {
        "unsubscribe_url": absolute(reverse("digest-unsubscribe", args=[unsubscribe_token(subscription)])),
        "manage_url": absolute(reverse("digest-manage", args=[manage_token(subscription)])),
        "site_url": settings.SITE_URL,
    }


def _message(
    subscription: Subscription, subject: str, template: str, context: dict[str, Any], *, message_id: str
) -> EmailMultiAlternatives:
    subject = " ".join(subject.split())  # a title's line break must not start a new header
    text = render_to_string(f"{template}.txt", context)
    html = _inliner().inline(render_to_string(f"{template}.html", context))
    headers = {
        "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": "SEA deal rumour digests <digests.rumours.local>",
        "Auto-Submitted": "auto-generated",
    }
    if message_id:
        headers["Message-ID"] = message_id
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [subscription.email], headers=headers)
    message.attach_alternative(html, "text/html")
    return message


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    # Only the <style> in our own templates: no remote stylesheets are fetched.
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False, keep_at_rules=True)
