"""load_demo builds a true-to-life desk through the services, once."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from rumours.models import Mention, MentionState, Quote, Rumour, Source, Status, StatusChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_it_builds_the_goto_grab_saga(demo):
    rumour = Rumour.objects.get(slug="goto-grab-merger")

    history = list(rumour.status_changes.order_by("effective_at").values_list("status", flat=True))

    assert history == ["rumoured", "denied", "rumoured", "denied", "in_talks", "denied"]
    assert rumour.status == Status.DENIED
    assert Quote.objects.get(rumour=rumour, speaker__name="Alex Hungate").text == "이런 거래에 대한 기준이 매우 높다"
    assert Source.objects.filter(rumour=rumour, url__contains="keizai-asia.example/news/2026/04").exists()
    assert rumour.credibility_breakdown


def test_it_leaves_the_june_2026_korean_report_for_the_analyst(demo):
    mention = Mention.objects.get(entry__link__contains="gyeongje-tech.example/news/2026/06")

    assert mention.state == MentionState.NEW
    assert set(mention.companies.values_list("name", flat=True)) == {"GoTo", "Grab"}
    assert mention.suggested_rumour == Rumour.objects.get(slug="goto-grab-merger")


def test_it_shows_other_states_including_a_system_expiry(demo):
    states = dict(Rumour.objects.values_list("title", "status"))

    assert states["TikTok takes control of Tokopedia"] == Status.COMPLETED
    expired = StatusChange.objects.filter(status=Status.EXPIRED)
    assert expired.count() == 2
    assert all(change.recorded_by is None for change in expired)


def test_it_changes_nothing_when_run_again(demo):
    counts = (Rumour.objects.count(), StatusChange.objects.count(), Source.objects.count(), Mention.objects.count())

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert (
        Rumour.objects.count(),
        StatusChange.objects.count(),
        Source.objects.count(),
        Mention.objects.count(),
    ) == counts


def test_it_lists_each_party_country_once_in_the_filter(demo, admin_client):
    page = admin_client.get("/admin/rumours/rumour/").content.decode()

    assert page.count("?country=ID") == 1
    assert page.count("?country=SG") == 1


def test_it_attributes_the_demo_history_to_a_person_even_without_debug(settings):
    settings.DEBUG = False

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    recorders = set(StatusChange.objects.exclude(status=Status.EXPIRED).values_list("recorded_by__username", flat=True))
    assert recorders == {"demo-analyst"}
