"""An operator adds a feed in the admin, polls it now and reads its health and entries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.feedbuilder import items, rss
from tracker.models import Entry, Feed

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def eager_celery():
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def log_in(page, live_server) -> None:
    get_user_model().objects.create_superuser("operator", "op@example.invalid", "a-long-password-1")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "a-long-password-1")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


@pytest.mark.django_db(transaction=True)
def test_it_adds_polls_and_shows_a_feed_in_the_admin(page, live_server, feed_server, eager_celery):
    # given: a feed served locally and a failing one next to it
    good_url = feed_server.add("/good.xml", body=rss(items(4, prefix="grab"), title="Grab Watch"))
    bad_url = feed_server.add("/bad.xml", status=500)
    log_in(page, live_server)

    # when: the operator adds both feeds through the admin form
    for url, language in [(good_url, "en"), (bad_url, "id")]:
        page.goto(f"{live_server.url}/admin/tracker/feed/add/")
        page.fill("#id_url", url)
        page.fill("#id_language", language)
        page.click("input[name=_save]")
        page.wait_for_selector(".messagelist .success")
    assert Feed.objects.count() == 2

    # and polls them now with the admin action
    page.goto(f"{live_server.url}/admin/tracker/feed/")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "poll_now")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")

    # then: health, title from the feed and the error in words
    page.goto(f"{live_server.url}/admin/tracker/feed/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    text = page.locator("#result_list").inner_text()
    assert "Grab Watch" in text
    assert "healthy" in text
    assert "failing (1)" in text
    if os.environ.get("DOCS_SCREENSHOTS"):
        page.screenshot(path=str(DOCS_IMG / "admin-feeds.png"), full_page=True)

    # the failing filter narrows the list to the broken feed, whose page says why
    page.click("#changelist-filter a:text-is('Failing')")
    page.wait_for_url("**health=failing**")
    assert page.locator("#result_list tbody tr").count() == 1
    page.click("#result_list tbody tr th a")
    assert "HTTP 500 Internal Server Error." in page.locator(".field-last_error").inner_text()

    # and the entries are listed, newest first
    page.goto(f"{live_server.url}/admin/tracker/entry/")
    assert page.locator("#result_list tbody tr").count() == 4 == Entry.objects.count()
    assert page.locator("#result_list tbody tr").first.locator("th").inner_text() == "grab 3"
