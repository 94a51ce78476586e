"""Detection through a real Celery worker: polled articles reach the inbox matched, grouped
and with quotes suggested (Redis and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rumours.models import Mention
from rumours.services import AliasSpec, CompanySpec, company_upsert, person_upsert
from tests.articles import DEAL_BODY, DEAL_TITLE, HUNGATE_SAYS
from tests.feedbuilder import Item, rss
from tests.services.conftest import wait_for
from tracker.services import feed_create
from tracker.tasks import dispatch_due_feeds

pytestmark = pytest.mark.service


def test_it_puts_polled_copies_of_a_deal_story_in_the_inbox_as_one_story(celery_worker_process, feed_server):
    # given: the watchlist, and the wire story on two outlets' feeds (the second with its own headline)
    company_upsert(spec=CompanySpec("GoTo", "ID", "super_app"))
    grab, _ = company_upsert(
        spec=CompanySpec(
            "Grab", "SG", "super_app", aliases=(AliasSpec("Grab", ambiguous=True), AliasSpec("Grab Holdings"))
        )
    )
    person_upsert(name="Alex Hungate", company=grab, role="President and COO")
    published = datetime.now(UTC) - timedelta(hours=3)
    wire = Item(DEAL_TITLE, link="https://wire.example/goto-grab", description=DEAL_BODY, published=published)
    copy = Item(
        "Southeast Asia's two super apps move closer to a merger",
        link="https://daily.example/goto-grab",
        description=DEAL_BODY,
        published=published + timedelta(hours=2),
    )
    for name, item in (("wire", wire), ("daily", copy)):
        feed_create(url=feed_server.add(f"/{name}.xml", body=rss([item])), title=name)

    # when: beat's tick polls them in the worker, whose hand-off enqueues the scan
    dispatch_due_feeds.delay()
    wait_for(
        lambda: Mention.objects.count() == 2,
        timeout=90,
        message=f"two mentions\n{celery_worker_process.output()}",
    )

    # then: both are deal news between GoTo and Grab, in one story, with Hungate's words
    mentions = list(Mention.objects.prefetch_related("mentionparty_set__company"))
    assert all(m.is_deal_candidate for m in mentions)
    assert [{c.name for c in m.party_list} for m in mentions] == [{"GoTo", "Grab"}] * 2
    assert len({m.cluster_id for m in mentions}) == 1
    assert mentions[0].cluster_id is not None
    quotes = [(q["speaker"], q["text"]) for m in mentions for q in m.suggested_quotes]
    assert quotes == [("Alex Hungate", HUNGATE_SAYS)] * 2
