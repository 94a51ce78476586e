"""Small factories and fixtures for the rumours tests.

Rumours are always opened through ``services.rumour_create`` so the tests exercise
the same path the admin and commands use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import factory
import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.text import slugify

from rumours.models import Company, PartyRole, Person, Rumour
from rumours.services import PartySpec, rumour_create
from tracker.models import Entry, Feed
from tracker.services import feed_create


def at(year: int, month: int = 1, day: int = 1, hour: int = 0) -> datetime:
    """A UTC moment; the history tests read better with plain dates."""
    return datetime(year, month, day, hour, tzinfo=UTC)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"analyst{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class CompanyFactory(factory.django.DjangoModelFactory[Company]):
    class Meta:
        model = Company
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Company {n}")
    slug = factory.LazyAttribute(lambda c: slugify(c.name))
    country = "SG"


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Executive {n}")
    company = factory.SubFactory(CompanyFactory)
    role = "CEO"


@pytest.fixture
def analyst(db) -> User:
    return UserFactory.create(username="analyst")


@pytest.fixture
def goto(db) -> Company:
    return CompanyFactory.create(name="GoTo", country="ID")


@pytest.fixture
def grab(db) -> Company:
    return CompanyFactory.create(name="Grab", country="SG")


RumourMaker = Callable[..., Rumour]


@pytest.fixture
def make_rumour(db, analyst) -> RumourMaker:
    """Open a rumour through the service; two fresh parties unless ``companies`` are given."""

    def make(title: str = "GoTo–Grab merger", companies: Sequence[Company] | None = None, **kwargs) -> Rumour:
        if companies is None:
            companies = [CompanyFactory.create(), CompanyFactory.create()]
        parties = [PartySpec(company=c, role=PartyRole.MERGER_PARTY) for c in companies]
        kwargs.setdefault("created_by", analyst)
        return rumour_create(title=title, parties=parties, **kwargs)

    return make


def make_entry(
    title: str,
    summary: str = "<p>Sources familiar with the matter said…</p>",
    *,
    feed: Feed | None = None,
    days_ago: int = 1,
) -> Entry:
    """An ingested article, as tracker would have stored it."""
    if feed is None:
        feed, _ = feed_create(url="https://wire.example/rss", title="Wire", language="en")
    key = hashlib.sha256(title.encode()).hexdigest()
    return Entry.objects.create(
        feed=feed,
        identity_key=key,
        link=f"https://wire.example/{key[:12]}",
        title=title,
        summary=summary,
        language=feed.language,
        published_at=timezone.now() - timedelta(days=days_ago),
        content_hash=key,
    )


@pytest.fixture
def staff_client(client, django_user_model):
    """A test client logged in as a superuser (``client.user``)."""
    user = django_user_model.objects.create_superuser("curator", "c@example.invalid", "a-long-password-1")
    client.force_login(user)
    client.user = user
    return client
