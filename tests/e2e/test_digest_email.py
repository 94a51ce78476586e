"""The digest email as a phone shows it: the HTML part rendered by headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from rumours.demo import DEMO_SUBSCRIBER

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
HUNGATE = "이런 거래에 대한 기준이 매우 높다"


@pytest.mark.django_db
def test_it_renders_the_demo_digest_readably_on_a_phone(browser, settings, tmp_path):
    # given: the demo (watchlist, feeds, the GoTo–Grab thread with Alex Hungate's words) and its subscriber
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("load_demo", "--no-user", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("send_digests", "--user", DEMO_SUBSCRIBER, "--now", stdout=open(os.devnull, "w"))  # noqa: SIM115
    (message,) = mail.outbox
    assert isinstance(message, mail.EmailMultiAlternatives)
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    path = tmp_path / "digest.html"
    path.write_text(html, encoding="utf-8")

    # when: opened at a phone's width
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    page.goto(path.as_uri())

    # then: the quote is there, nothing is wider than the screen, the unsubscribe link is in the footer
    assert HUNGATE in page.inner_text("body")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator(".footer a:has-text('Unsubscribe')").count() == 1
    if os.environ.get("DOCS_SCREENSHOTS"):
        page.screenshot(path=str(DOCS_IMG / "digest-phone.png"), full_page=True)
    context.close()
