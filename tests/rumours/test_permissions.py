"""The three staff roles (rumours.permissions) on the rumour admin: who may open and post each
curation page, who may merge, and that every write names the user who made it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from rumours.mentions import mentions_scan
from rumours.models import Mention, MentionState, Party, PartyRole, Quote, Rumour, Source, Stance, Status, StatusChange
from rumours.permissions import ensure_groups
from rumours.services import rumour_attach_source, rumour_change_status
from tests.rumours.conftest import CompanyFactory
from tracker.models import Entry
from tracker.services import feed_create

pytestmark = pytest.mark.django_db

READ_ONLY, ANALYSTS, EDITORS = "Read-only staff", "Analysts", "Editors"
CHANGELIST = "/admin/rumours/rumour/"


def days_ago(days: int) -> datetime:
    return timezone.now().replace(microsecond=0) - timedelta(days=days)


def split(moment: datetime, name: str) -> dict[str, str]:
    return {f"{name}_0": f"{moment:%Y-%m-%d}", f"{name}_1": f"{moment:%H:%M:%S}"}


@pytest.fixture
def member(db, client) -> Callable[[str], User]:
    """Log the client in as a staff member of one group (and nothing else)."""
    ensure_groups()

    def login(group: str) -> User:
        user = User.objects.create_user(group.split()[0].lower(), is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        client.force_login(user)
        return user

    return login


@dataclass
class Desk:
    rumour: Rumour
    source: Source
    change: StatusChange
    entry: Entry


@pytest.fixture
def desk(make_rumour, goto, grab, analyst) -> Desk:
    """A rumoured GoTo–Grab thread, and an inbox article about it."""
    rumour = make_rumour(title="GoTo–Grab merger", companies=[goto, grab])
    source = rumour_attach_source(
        rumour=rumour, added_by=analyst, url="https://wire.example/talks", title="Talks", published_at=days_ago(10)
    )
    change = rumour_change_status(
        rumour=rumour, status=Status.RUMOURED, effective_at=days_ago(10), recorded_by=analyst, evidence_source=source
    )
    feed, _ = feed_create(url="https://wire.example/rss", title="Wire")
    entry = Entry.objects.create(
        feed=feed,
        identity_key=hashlib.sha256(b"deal").hexdigest(),
        link="https://wire.example/deal",
        title="GoTo and Grab close in on a deal",
        summary="<p>People familiar with the matter said…</p>",
        published_at=days_ago(1),
        content_hash="c" * 64,
    )
    mentions_scan(entry_ids=[entry.pk])
    return Desk(rumour, source, change, entry)


def written() -> dict[str, Any]:
    return {
        "rumours": list(Rumour.objects.values_list("pk", "title", "status", "merged_into")),
        "parties": Party.objects.count(),
        "sources": Source.objects.count(),
        "quotes": Quote.objects.count(),
        "changes": list(StatusChange.objects.values_list("pk", "retracted_at")),
        "mentions": list(Mention.objects.values_list("pk", "state")),
    }


# --- Each curation page: its URL, a good POST, and the row that POST writes -------------------


@dataclass(frozen=True)
class Page:
    url: Callable[[Desk], str]
    data: Callable[[Desk], dict[str, Any]]
    written_by: Callable[[Desk, User], bool]


def _new_party(desk: Desk) -> int:
    return CompanyFactory.create(name="Emtek").pk


PAGES = {
    "create": Page(
        url=lambda d: reverse("admin:rumours_rumour_create"),
        data=lambda d: {
            "title": "Grab–Emtek stake",
            "deal_type": "stake",
            "party_1": _new_party(d),
            "role_1": PartyRole.TARGET,
        },
        written_by=lambda d, user: Rumour.objects.filter(title="Grab–Emtek stake", created_by=user).exists(),
    ),
    "status": Page(
        url=lambda d: reverse("admin:rumours_rumour_status", args=[d.rumour.pk]),
        data=lambda d: {
            "status": Status.IN_TALKS,
            "evidence_source": d.source.pk,
            **split(days_ago(2), "effective_at"),
        },
        written_by=lambda d, user: StatusChange.objects.filter(status=Status.IN_TALKS, recorded_by=user).exists(),
    ),
    "source": Page(
        url=lambda d: reverse("admin:rumours_rumour_source", args=[d.rumour.pk]),
        data=lambda d: {
            "url": "https://daily.example/deal",
            "title": "Deal near",
            "outlet": "Daily",
            "outlet_tier": "2",
            **split(days_ago(1), "published_at"),
        },
        written_by=lambda d, user: Source.objects.filter(url="https://daily.example/deal", added_by=user).exists(),
    ),
    "quote": Page(
        url=lambda d: reverse("admin:rumours_rumour_quote", args=[d.rumour.pk]),
        data=lambda d: {
            "speaker_name": "Patrick Walujo",
            "text": "We are in talks.",
            "stance": Stance.CONFIRMS,
            **split(days_ago(1), "said_at"),
        },
        written_by=lambda d, user: Quote.objects.filter(text="We are in talks.", added_by=user).exists(),
    ),
    "retract": Page(
        url=lambda d: reverse("admin:rumours_statuschange_retract", args=[d.change.pk]),
        data=lambda d: {"reason": "Wrong article."},
        written_by=lambda d, user: StatusChange.objects.filter(pk=d.change.pk, retracted_by=user).exists(),
    ),
    "attach": Page(
        url=lambda d: reverse("admin:rumours_entry_attach", args=[d.entry.pk]),
        data=lambda d: {"rumour": d.rumour.pk},
        written_by=lambda d, user: (
            Source.objects.filter(entry=d.entry, added_by=user).exists()
            and Mention.objects.filter(entry=d.entry, state=MentionState.ACCEPTED, state_changed_by=user).exists()
        ),
    ),
}
ALLOWED = {
    READ_ONLY: set(),
    ANALYSTS: {"create", "status", "source", "quote", "attach"},
    EDITORS: set(PAGES),
}
ROLE_PAGES = [pytest.param(role, page, id=f"{role.split()[0].lower()}-{page}") for role in ALLOWED for page in PAGES]


@pytest.mark.parametrize(("role", "page"), ROLE_PAGES)
def test_it_opens_a_curation_page_only_for_the_roles_allowed_to_use_it(client, member, desk, role, page):
    member(role)

    response = client.get(PAGES[page].url(desk))

    assert response.status_code == (200 if page in ALLOWED[role] else 403)


@pytest.mark.parametrize(("role", "page"), ROLE_PAGES)
def test_it_writes_a_curation_post_only_for_the_roles_allowed_and_attributes_it(client, member, desk, role, page):
    # given
    user = member(role)
    before = written()

    # when
    response = client.post(PAGES[page].url(desk), PAGES[page].data(desk) | {"_save": "Save"})

    # then
    if page in ALLOWED[role]:
        assert response.status_code == 302
        assert PAGES[page].written_by(desk, user)
    else:
        assert response.status_code == 403
        assert written() == before


# --- The rumour list and change page ------------------------------------------------------------


@pytest.mark.parametrize("role", [READ_ONLY, ANALYSTS, EDITORS])
def test_it_shows_every_role_the_rumour_list_and_page(client, member, desk, role):
    member(role)

    listing = client.get(CHANGELIST)
    page = client.get(reverse("admin:rumours_rumour_change", args=[desk.rumour.pk]))

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [desk.rumour]
    assert page.status_code == 200
    assert "GoTo–Grab merger" in page.content.decode()


def change_form(rumour: Rumour, **overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {"title": rumour.title, "deal_type": rumour.deal_type, "summary": rumour.summary}
    parties = list(rumour.parties.order_by("pk"))
    for prefix, count in (("parties", len(parties)), ("sources", 0), ("quotes", 0)):
        data |= {
            f"{prefix}-TOTAL_FORMS": str(count),
            f"{prefix}-INITIAL_FORMS": str(count),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    for n, party in enumerate(parties):
        data |= {
            f"parties-{n}-id": party.pk,
            f"parties-{n}-rumour": rumour.pk,
            f"parties-{n}-company": party.company_id,
            f"parties-{n}-role": party.role,
        }
    return data | overrides


@pytest.mark.parametrize(("role", "allowed"), [(READ_ONLY, False), (ANALYSTS, True), (EDITORS, True)])
def test_it_lets_only_analysts_and_editors_edit_a_rumour(client, member, desk, role, allowed):
    # given
    member(role)
    before = written()

    # when
    response = client.post(
        reverse("admin:rumours_rumour_change", args=[desk.rumour.pk]), change_form(desk.rumour, title="Renamed")
    )

    # then
    if allowed:
        assert response.status_code == 302
        assert Rumour.objects.get(pk=desk.rumour.pk).title == "Renamed"
    else:
        assert response.status_code == 403
        assert written() == before


# --- Merging -------------------------------------------------------------------------------------


def offered_actions(client: Any) -> set[str]:
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered at all
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


@pytest.mark.parametrize(("role", "offered"), [(READ_ONLY, False), (ANALYSTS, False), (EDITORS, True)])
def test_it_offers_the_merge_action_only_to_editors(client, member, desk, role, offered):
    member(role)

    assert ("merge_selected" in offered_actions(client)) is offered


@pytest.mark.parametrize(("role", "merges"), [(READ_ONLY, False), (ANALYSTS, False), (EDITORS, True)])
def test_it_merges_only_for_editors(client, member, make_rumour, goto, grab, role, merges):
    # given
    older = make_rumour(title="GoTo–Grab merger", companies=[goto, grab])
    Rumour.objects.filter(pk=older.pk).update(created_at=days_ago(30))
    newer = make_rumour(title="Grab–GoTo deal", companies=[goto, grab])
    member(role)

    # when
    client.post(CHANGELIST, {"action": "merge_selected", "_selected_action": [older.pk, newer.pk]})

    # then
    newer.refresh_from_db()
    assert newer.merged_into == (older if merges else None)


# --- The inbox's dismiss action ---------------------------------------------------------------


@pytest.mark.parametrize(("role", "may_dismiss"), [(READ_ONLY, False), (ANALYSTS, True), (EDITORS, True)])
def test_it_lets_only_curators_dismiss_inbox_articles_and_records_who(client, member, desk, role, may_dismiss):
    # given
    user = member(role)
    mention = Mention.objects.get()
    assert client.get("/admin/rumours/mention/").status_code == 200

    # when
    client.post("/admin/rumours/mention/?deal=all", {"action": "dismiss", "_selected_action": [mention.pk]})

    # then
    mention.refresh_from_db()
    if may_dismiss:
        assert (mention.state, mention.state_changed_by) == (MentionState.DISMISSED, user)
    else:
        assert (mention.state, mention.state_changed_by) == (MentionState.NEW, None)


# --- Anonymous visitors ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", [*PAGES, "changelist", "change", "inbox"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, desk, page):
    url = {
        "changelist": CHANGELIST,
        "change": reverse("admin:rumours_rumour_change", args=[desk.rumour.pk]),
        "inbox": "/admin/rumours/mention/",
    }.get(page) or PAGES[page].url(desk)
    before = written()

    response = client.post(url, PAGES[page].data(desk)) if page in PAGES else client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login") + "?next=")
    assert written() == before
