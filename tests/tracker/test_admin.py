"""The feed admin's forms and actions, through Django's test client."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from tracker.models import Feed
from tracker.services import feed_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("curator", "c@example.invalid", "a-long-password-1")
    client.force_login(user)
    return client


def feed_form(**overrides: str) -> dict[str, str]:
    fields = {"url": "https://outlet.example/rss", "title": "", "site_url": "", "language": "en", "tier": "2"}
    # the (read-only, empty) poll log inline still posts its management form
    inline = {f"polls-{name}": "0" for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")}
    return fields | inline | overrides


def test_it_shows_a_form_error_for_a_bad_language_instead_of_failing(staff_client):
    response = staff_client.post("/admin/tracker/feed/add/", feed_form(language="English"))

    assert response.status_code == 200
    assert "Use a language tag such as" in response.content.decode()
    assert not Feed.objects.exists()


def test_it_adds_a_paused_feed_with_its_site_url(staff_client):
    response = staff_client.post(
        "/admin/tracker/feed/add/",
        feed_form(language="EN_us", site_url="https://outlet.example/", is_paused="on"),
    )

    assert response.status_code == 302
    feed = Feed.objects.get()
    assert (feed.language, feed.site_url, feed.is_paused) == ("en-us", "https://outlet.example/", True)


def test_it_edits_only_the_changed_fields_leaving_a_running_poll_alone(staff_client):
    # given: a feed whose poll is under way
    feed, _ = feed_create(url="https://outlet.example/rss", language="en")
    token = uuid.uuid4()
    Feed.objects.filter(pk=feed.pk).update(lease_token=token, lease_until=timezone.now(), error_count=2)
    page = staff_client.get(f"/admin/tracker/feed/{feed.pk}/change/")
    assert page.status_code == 200

    # when: a curator renames it
    response = staff_client.post(f"/admin/tracker/feed/{feed.pk}/change/", feed_form(title="Outlet Daily"))

    # then
    assert response.status_code == 302
    feed.refresh_from_db()
    assert (feed.title, feed.lease_token, feed.error_count) == ("Outlet Daily", token, 2)


def test_it_pauses_and_resumes_with_the_admin_actions(staff_client):
    feed, _ = feed_create(url="https://outlet.example/rss")
    Feed.objects.filter(pk=feed.pk).update(disabled_at=timezone.now(), disabled_reason="410 Gone", error_count=3)

    staff_client.post("/admin/tracker/feed/", {"action": "pause", "_selected_action": [feed.pk]})
    feed.refresh_from_db()
    assert feed.is_paused

    staff_client.post("/admin/tracker/feed/", {"action": "resume", "_selected_action": [feed.pk]})
    feed.refresh_from_db()
    assert (feed.is_paused, feed.disabled_at, feed.error_count, feed.disabled_reason) == (False, None, 0, "")
