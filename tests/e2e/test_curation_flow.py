"""An analyst curates a Korean GoTo–Grab article end to end, in a real browser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from rumours.demo import demo_watchlist
from rumours.models import Mention, Quote, Rumour, Status
from tracker.demo import demo_feed_named
from tracker.services import feed_create, feed_ingest_document

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
KOREAN_ARTICLE = "고투-그랩 합병 논의 재점화"
HUNGATE = "이런 거래에 대한 기준이 매우 높다"


def screenshot(page, name: str) -> None:
    if os.environ.get("DOCS_SCREENSHOTS"):
        page.screenshot(path=str(DOCS_IMG / f"{name}.png"), full_page=True)


def choose(page, field_id: str, search: str, option: str) -> None:
    """Pick ``option`` in the admin's select2 autocomplete for ``field_id``."""
    page.click(f"#{field_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", search)
    page.click(f".select2-results__option:has-text('{option}')")


@pytest.fixture
def analyst(db) -> User:
    user = User.objects.create_user("ana", "ana@example.invalid", "a-long-password-1", is_staff=True)
    user.groups.add(Group.objects.get(name="Analysts"))
    return user


@pytest.mark.django_db(transaction=True)
def test_it_takes_a_korean_article_from_the_inbox_to_the_timeline(page, live_server, analyst, celery_eager):
    # given: the watchlist and the Korean sample feed, ingested through the normal path (detection
    # runs on the scan task the hand-off enqueues, here in-process)
    demo_watchlist()
    demo = demo_feed_named("ko-gyeongje")
    assert demo is not None
    feed, _ = feed_create(url=demo.url, title=demo.title, language=demo.language, tier=demo.tier)
    feed_ingest_document(feed=feed, body=demo.path.read_bytes())
    assert Mention.objects.filter(entry__title=KOREAN_ARTICLE, is_deal_candidate=True).exists()

    # when: the analyst logs in and opens the inbox (deal news, one row per story), filtered to Korean
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "a-long-password-1")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/rumours/mention/?entry__language=ko")
    row = page.locator("#result_list tbody tr", has_text=KOREAN_ARTICLE)
    assert "GoTo – Grab" in row.inner_text()
    screenshot(page, "admin-inbox")

    # and reviews it: parties, stage and Alex Hungate's quote are suggested
    row.locator("a:has-text('Review')").click()
    page.wait_for_selector("text=What detection found")
    found = page.inner_text("#content-main")
    assert "GoTo – Grab" in found
    assert f"Alex Hungate (President and COO, Grab): “{HUNGATE}”" in found
    screenshot(page, "admin-review")

    # and opens the GoTo–Grab thread from detection's proposal, keeping the quote
    page.check("input[name=decision][value=new]")
    page.fill("#id_title", "GoTo–Grab merger")
    page.click("input[name=_accept]")
    page.wait_for_selector(".messagelist .success")
    rumour = Rumour.objects.get(title="GoTo–Grab merger")
    assert sorted(rumour.parties.values_list("company__name", flat=True)) == ["GoTo", "Grab"]
    assert rumour.sources.get().title == KOREAN_ARTICLE
    quote = Quote.objects.get(rumour=rumour)
    assert quote.speaker_company is not None
    assert (quote.text, quote.speaker_company.name) == (HUNGATE, "Grab")
    assert rumour.status == Status.RUMOURED  # the stage detection read, recorded with the article as evidence

    # and records that talks are confirmed, with the article as evidence
    page.click("a:has-text('Record a status change')")
    page.select_option("#id_status", Status.IN_TALKS)
    page.fill("#id_effective_at_0", "2025-05-12")
    page.fill("#id_effective_at_1", "09:00:00")
    page.select_option("#id_evidence_source", label=KOREAN_ARTICLE)
    page.fill("#id_note", "Talks re-ignited, per the Korean business press.")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    # then: the rumour page shows it on the timeline, attributed to the analyst
    rumour.refresh_from_db()
    assert rumour.status == Status.IN_TALKS
    change = rumour.status_changes.filter(note__startswith="Talks re-ignited").get()
    assert change.evidence_source is not None
    assert (change.recorded_by, change.evidence_source.title) == (analyst, KOREAN_ARTICLE)
    timeline = page.locator("svg.rumour-timeline")
    assert "In talks May 2025" in (timeline.text_content() or "")
    assert "Talks re-ignited" in page.inner_text(".status-history")
    assert HUNGATE in page.inner_text("body")
    screenshot(page, "admin-rumour")

    # and the article has left the inbox, accepted onto the thread
    mention = Mention.objects.get(entry__title=KOREAN_ARTICLE)
    assert (mention.state, mention.rumour) == ("accepted", rumour)


@pytest.mark.django_db(transaction=True)
def test_it_shows_a_form_error_for_a_refused_transition(page, live_server, analyst):
    # given: a completed deal
    from rumours.services import PartySpec, rumour_attach_source, rumour_change_status, rumour_create

    demo_watchlist()
    from rumours.models import Company

    rumour = rumour_create(
        title="Done deal", parties=[PartySpec(Company.objects.get(name="Grab"), "acquirer")], created_by=analyst
    )
    from datetime import UTC, datetime

    source = rumour_attach_source(
        rumour=rumour, url="https://n.example/done", published_at=datetime(2024, 1, 1, tzinfo=UTC), added_by=analyst
    )
    rumour_change_status(
        rumour=rumour, status="completed", effective_at=datetime(2024, 1, 1, tzinfo=UTC), recorded_by=analyst,
        evidence_source=source,
    )  # fmt: skip
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", "a-long-password-1")
    page.click("input[type=submit]")

    # when: the analyst tries to move it back to rumoured
    page.goto(f"{live_server.url}/admin/rumours/rumour/{rumour.pk}/status/")
    page.select_option("#id_status", Status.RUMOURED)
    page.fill("#id_effective_at_0", "2024-06-01")
    page.fill("#id_effective_at_1", "00:00:00")
    page.select_option("#id_evidence_source", index=1)
    page.click("input[name=_save]")

    # then: a form error that says why, and nothing recorded
    assert "cannot move from Completed to Rumoured" in page.inner_text(".errornote")
    assert rumour.status_changes.count() == 1
