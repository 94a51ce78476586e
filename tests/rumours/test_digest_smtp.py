"""A digest sent through Django's SMTP backend to a real SMTP server (aiosmtpd on
127.0.0.1), then read back from the bytes that arrived.

It needs neither Redis nor PostgreSQL, so it lives with the other digest tests and
runs everywhere, not among the ``service`` tests.
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.utils import timezone

from rumours.digests.schedule import latest_period
from rumours.digests.services import deliveries_plan, deliveries_send
from rumours.models import DigestDelivery, DigestState
from tests.rumours.digest_world import HUNGATE_MEANS, HUNGATE_SAYS, goto_grab_denial, subscriber

pytestmark = pytest.mark.django_db


class Inbox:
    """An aiosmtpd handler that keeps every envelope it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(settings) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    yield inbox
    controller.stop()


def text_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    assert part.get_content_type() == f"text/{subtype}"
    content: Any = part.get_content()
    return str(content)


def test_a_digest_arrives_through_a_real_smtp_server_intact(analyst, smtp_server, settings):
    # given: GoTo denied the merger in the Grab follower's latest period
    now = timezone.now()
    send_hour = (now.astimezone(ZoneInfo("Asia/Singapore")).hour + 12) % 24  # far from a period boundary
    period = latest_period(now=now, frequency="daily", time_zone="Asia/Singapore", hour=send_hour)
    world = goto_grab_denial(
        analyst=analyst, during=period.end - timedelta(hours=12), before=period.start - timedelta(days=30)
    )
    subscriber("investor@example.com", follows=[world.grab], send_hour=send_hour, since=now - timedelta(days=60))

    # when
    outcome = deliveries_send(delivery_ids=deliveries_plan(now=now), now=now)

    # then: one envelope, from the configured sender to the subscriber
    assert outcome == {DigestState.SENT: 1}
    [envelope] = smtp_server.envelopes
    assert envelope.mail_from == "digests@localhost"
    assert envelope.rcpt_tos == ["investor@example.com"]
    assert isinstance(envelope.original_content, bytes)
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    # and the headers a mail client reads
    delivery = DigestDelivery.objects.get()
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert message["To"] == "investor@example.com"
    assert message["Subject"] == "GoTo–Grab merger: now Denied"
    assert message["Message-ID"] == delivery.message_id != ""
    # (the long header is folded after its name; unfolded, that leaves leading white space)
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    assert re.fullmatch(rf"<{re.escape(settings.SITE_URL)}/digests/unsubscribe/[^<>\s/]+/>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # and both parts, with Alex Hungate's words and their translation
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_of(message, "plain"), text_of(message, "html")
    for part in (text, html):
        assert HUNGATE_SAYS in part
        assert HUNGATE_MEANS in part
    assert f"Unsubscribe: {unsubscribe.strip('<>')}" in text
    assert html.lstrip().lower().startswith("<!doctype html>")
