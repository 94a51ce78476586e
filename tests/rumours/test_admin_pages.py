"""The analyst's desk in the admin, through Django's test client as a superuser: list pages
at a fixed query cost, the rumour page, and the curation pages that call the services."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from rumours.mentions import mentions_scan
from rumours.models import (
    Mention,
    MentionState,
    Party,
    PartyRole,
    PersonAlias,
    Quote,
    Rumour,
    Source,
    Stance,
    Status,
    StatusChange,
)
from rumours.services import (
    AliasSpec,
    CompanySpec,
    InvalidTransitionError,
    company_upsert,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
)
from tests.rumours.conftest import CompanyFactory, PersonFactory, RumourMaker, make_entry

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/rumours/rumour/"


def days_ago(days: int) -> datetime:
    return timezone.now().replace(microsecond=0) - timedelta(days=days)


def split(moment: datetime, name: str) -> dict[str, str]:
    """The two inputs of an admin split date-time widget."""
    return {f"{name}_0": f"{moment:%Y-%m-%d}", f"{name}_1": f"{moment:%H:%M:%S}"}


@dataclass
class Thread:
    rumour: Rumour
    source: Source
    change: StatusChange


@pytest.fixture
def thread(make_rumour, goto, grab, analyst) -> Thread:
    """GoTo–Grab, rumoured ten days ago on the strength of one wire story."""
    rumour = make_rumour(title="GoTo–Grab merger", companies=[goto, grab])
    source = rumour_attach_source(
        rumour=rumour,
        added_by=analyst,
        url="https://wire.example/goto-grab-talks",
        title="GoTo and Grab revive merger talks",
        outlet="Wire",
        published_at=days_ago(10),
    )
    change = rumour_change_status(
        rumour=rumour, status=Status.RUMOURED, effective_at=days_ago(10), recorded_by=analyst, evidence_source=source
    )
    rumour.refresh_from_db()
    return Thread(rumour, source, change)


def written() -> dict[str, Any]:
    """Everything a curation page could write, to show that a refused POST wrote nothing."""
    return {
        "rumours": list(Rumour.objects.values_list("pk", "title", "status", "credibility", "merged_into")),
        "parties": Party.objects.count(),
        "sources": Source.objects.count(),
        "quotes": Quote.objects.count(),
        "changes": list(StatusChange.objects.values_list("pk", "retracted_at")),
        "mentions": list(Mention.objects.values_list("pk", "state")),
    }


# --- List pages cost a fixed number of queries ------------------------------------------------


SEQUENCE = itertools.count()


def add_rumours(count: int, make_rumour: RumourMaker, analyst: Any) -> None:
    """Rumours with two parties, a source and a status change each."""
    for _ in range(count):
        rumour = make_rumour(title="Deal")
        source = rumour_attach_source(
            rumour=rumour, added_by=analyst, url="https://wire.example/deal", published_at=days_ago(3)
        )
        rumour_change_status(
            rumour=rumour, status=Status.IN_TALKS, effective_at=days_ago(3), recorded_by=analyst, evidence_source=source
        )


def add_companies(count: int, make_rumour: RumourMaker, analyst: Any) -> None:
    """Companies with tickers, two aliases and a rumour each."""
    for _ in range(count):
        n = next(SEQUENCE)
        spec = CompanySpec(
            f"Watchlist {n}",
            "ID",
            "fintech",
            tickers=(f"IDX:W{n}",),
            aliases=(AliasSpec(f"Watch {n}"), AliasSpec(f"워치{n}", "ko", ambiguous=True)),
        )
        company, _ = company_upsert(spec=spec)
        make_rumour(title="Deal", companies=[company])


def add_mentions(count: int, make_rumour: RumourMaker, analyst: Any) -> None:
    """Inbox articles naming two companies each, with a suggested rumour."""
    for _ in range(count):
        buyer, target = CompanyFactory.create(), CompanyFactory.create()
        make_rumour(title="Deal", companies=[buyer, target])
        entry = make_entry(f"{buyer.name} to buy {target.name}")
        mentions_scan(entry_ids=[entry.pk])


def add_people(count: int, make_rumour: RumourMaker, analyst: Any) -> None:
    """Executives with a company and an alias each."""
    for _ in range(count):
        person = PersonFactory.create()
        PersonAlias(person=person, alias=f"{person.name} (ko)", language="ko").save()


def changelist_queries(client: Any, url: str, *, rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == rows  # every row is on the page measured
    return len(queries)


N = 3


@pytest.mark.parametrize(
    ("url", "add"),
    [
        pytest.param(CHANGELIST, add_rumours, id="rumours"),
        pytest.param("/admin/rumours/company/", add_companies, id="companies"),
        pytest.param("/admin/rumours/mention/?deal=all&copies=show", add_mentions, id="inbox"),
        pytest.param("/admin/rumours/person/", add_people, id="people"),
    ],
)
def test_it_lists_at_a_query_cost_that_does_not_grow_with_rows(
    staff_client, make_rumour, analyst, url: str, add: Callable[..., None]
):
    # given: N rows, and a first visit so per-process caches are warm
    add(N, make_rumour, analyst)
    staff_client.get(url)
    few = changelist_queries(staff_client, url, rows=N)

    # when
    add(2 * N, make_rumour, analyst)
    many = changelist_queries(staff_client, url, rows=3 * N)

    # then
    assert many == few


# --- The rumour page ---------------------------------------------------------------------------


def test_it_shows_the_timeline_credibility_and_history_on_the_rumour_page(staff_client, thread, analyst):
    # when
    response = staff_client.get(reverse("admin:rumours_rumour_change", args=[thread.rumour.pk]))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="rumour-timeline"' in html
    assert f"<strong style='font-size:1.4em'>{thread.rumour.credibility}</strong> / 100" in html
    assert thread.rumour.credibility_breakdown  # something to show
    for part in thread.rumour.credibility_breakdown:
        assert escape(part["label"]) in html
    assert "class='status-history'" in html
    assert f"by {analyst.username}" in html
    assert escape(thread.source.title) in html
    assert reverse("admin:rumours_statuschange_retract", args=[thread.change.pk]) in html


def test_it_redirects_add_rumour_to_the_create_page(staff_client):
    response = staff_client.get("/admin/rumours/rumour/add/")

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rumours_rumour_create")


def change_form(rumour: Rumour, **overrides: str) -> dict[str, Any]:
    """What the change form posts, including the management forms of its three inlines."""
    data: dict[str, Any] = {
        "title": rumour.title,
        "deal_type": rumour.deal_type,
        "summary": rumour.summary,
        "value_amount": "" if rumour.value_amount is None else str(rumour.value_amount),
        "value_currency": rumour.value_currency,
        "stake_percent": "" if rumour.stake_percent is None else str(rumour.stake_percent),
    }
    inlines: dict[str, list[dict[str, Any]]] = {
        "parties": [{"id": p.pk, "company": p.company_id, "role": p.role} for p in rumour.parties.order_by("pk")],
        "sources": [{"id": s.pk} for s in rumour.sources.order_by("pk")],
        "quotes": [{"id": q.pk} for q in rumour.quotes.order_by("pk")],
    }
    for prefix, rows in inlines.items():
        data |= {
            f"{prefix}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-INITIAL_FORMS": str(len(rows)),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
        for n, row in enumerate(rows):
            data |= {f"{prefix}-{n}-{name}": value for name, value in (row | {"rumour": rumour.pk}).items()}
    return data | overrides


def test_it_edits_the_title_and_leaves_the_derived_fields_alone(staff_client, thread, analyst):
    # given: a quote makes the credibility breakdown richer
    quote_add(
        rumour=thread.rumour,
        text="We are in talks.",
        said_at=days_ago(5),
        added_by=analyst,
        speaker_name="CEO",
        speaker_company=thread.rumour.parties.first().company,
        stance=Stance.CONFIRMS,
    )
    before = Rumour.objects.get(pk=thread.rumour.pk)
    derived = ("status", "status_effective_at", "last_evidence_at", "credibility", "credibility_breakdown")
    url = reverse("admin:rumours_rumour_change", args=[before.pk])
    assert staff_client.get(url).status_code == 200

    # when
    response = staff_client.post(url, change_form(before, title="GoTo–Grab merger (2025 round)"))

    # then
    assert response.status_code == 302, response.context and response.context["errors"]
    after = Rumour.objects.get(pk=before.pk)
    assert after.title == "GoTo–Grab merger (2025 round)"
    assert [getattr(after, name) for name in derived] == [getattr(before, name) for name in derived]
    assert (after.slug, after.created_by, after.deal_type) == (before.slug, before.created_by, before.deal_type)
    assert set(after.parties.values_list("company_id", "role")) == set(before.parties.values_list("company_id", "role"))
    assert (after.sources.count(), after.quotes.count(), after.status_changes.count()) == (1, 1, 1)


def test_it_merges_the_selected_duplicates_into_the_oldest(staff_client, make_rumour, goto, grab):
    # given: the oldest thread is neither the first nor the last created
    first, oldest, last = (make_rumour(title=t, companies=[goto, grab]) for t in ("One", "Two", "Three"))
    Rumour.objects.filter(pk=oldest.pk).update(created_at=days_ago(400))

    # when
    response = staff_client.post(
        CHANGELIST, {"action": "merge_selected", "_selected_action": [first.pk, oldest.pk, last.pk]}
    )

    # then
    assert response.status_code == 302
    merged = dict(Rumour.objects.values_list("pk", "merged_into"))
    assert merged == {first.pk: oldest.pk, oldest.pk: None, last.pk: oldest.pk}


def test_it_merges_nothing_when_one_rumour_is_selected(staff_client, make_rumour):
    rumour = make_rumour()

    response = staff_client.post(CHANGELIST, {"action": "merge_selected", "_selected_action": [rumour.pk]}, follow=True)

    assert "Select at least two rumours to merge." in response.content.decode()
    assert not Rumour.objects.filter(merged_into__isnull=False).exists()


# --- The curation pages: GET ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("admin:rumours_rumour_create", None),
        ("admin:rumours_rumour_status", "rumour"),
        ("admin:rumours_rumour_source", "rumour"),
        ("admin:rumours_rumour_quote", "rumour"),
        ("admin:rumours_statuschange_retract", "change"),
        ("admin:rumours_entry_attach", "entry"),
    ],
)
def test_it_renders_each_curation_page(staff_client, thread, name, target):
    entry = make_entry("GoTo and Grab close in on a deal")
    args = {None: [], "rumour": [thread.rumour.pk], "change": [thread.change.pk], "entry": [entry.pk]}[target]

    response = staff_client.get(reverse(name, args=args))

    assert response.status_code == 200
    assert response.context["form"] is not None
    assert not response.context["form"].is_bound


def test_it_shows_the_article_on_the_create_page_from_the_inbox(staff_client):
    entry = make_entry("GoTo and Grab close in on a deal")

    response = staff_client.get(reverse("admin:rumours_rumour_create"), {"entry": entry.pk})

    assert response.status_code == 200
    assert response.context["entry"] == entry
    assert "GoTo and Grab close in on a deal" in response.content.decode()


# --- The curation pages: refused POSTs --------------------------------------------------------


def first_party(thread: Thread) -> int:
    return thread.rumour.parties.values_list("company_id", flat=True)[0]


@dataclass
class BadPost:
    name: str
    target: str
    data: Callable[[Thread], dict[str, Any]]
    error: str


BAD_POSTS = [
    BadPost(
        "admin:rumours_rumour_status",
        "rumour",
        lambda t: {"status": Status.IN_TALKS, **split(days_ago(2), "effective_at")},
        "Give the evidence: a source or a quote of this rumour.",
    ),
    BadPost(
        "admin:rumours_rumour_status",
        "rumour",
        lambda t: {
            "status": Status.IN_TALKS,
            "evidence_source": t.source.pk,
            **split(timezone.now() + timedelta(days=3), "effective_at"),
        },
        "A status change cannot take effect in the future.",
    ),
    BadPost(
        "admin:rumours_rumour_source",
        "rumour",
        lambda t: {
            "url": "not a url",
            "title": "Talks",
            "outlet": "Wire",
            "outlet_tier": "1",
            **split(days_ago(1), "published_at"),
        },
        "Enter a valid URL.",
    ),
    BadPost(
        "admin:rumours_rumour_create",
        "none",
        lambda t: {
            "title": "GoTo buys GoTo",
            "deal_type": "merger",
            "party_1": first_party(t),
            "role_1": PartyRole.ACQUIRER,
            "party_2": first_party(t),
            "role_2": PartyRole.TARGET,
        },
        "Each company can be a party only once.",
    ),
    BadPost(
        "admin:rumours_rumour_create",
        "none",
        lambda t: {"title": "Mystery deal", "deal_type": "merger"},
        "This field is required.",
    ),
    BadPost(
        "admin:rumours_rumour_quote",
        "rumour",
        lambda t: {"speaker_name": "Patrick Walujo", "stance": Stance.CONFIRMS, **split(days_ago(1), "said_at")},
        "This field is required.",
    ),
    BadPost(
        "admin:rumours_rumour_quote",
        "rumour",
        lambda t: {"text": "We are in talks.", "stance": Stance.CONFIRMS, **split(days_ago(1), "said_at")},
        "A quote needs a speaker: a known person or the name as attributed.",
    ),
    BadPost("admin:rumours_statuschange_retract", "change", lambda t: {"reason": "   "}, "This field is required."),
    BadPost("admin:rumours_entry_attach", "entry", lambda t: {}, "This field is required."),
]


@pytest.mark.parametrize(
    "bad",
    BAD_POSTS,
    ids=[
        "status-without-evidence",
        "status-in-the-future",
        "source-with-a-bad-url",
        "create-with-a-company-twice",
        "create-without-parties",
        "quote-without-text",
        "quote-without-speaker",
        "retract-without-reason",
        "attach-without-rumour",
    ],
)
def test_it_answers_a_bad_post_with_the_form_and_its_error_and_writes_nothing(staff_client, thread, bad: BadPost):
    # given
    entry = make_entry("GoTo and Grab close in on a deal")
    mentions_scan(entry_ids=[entry.pk])
    args = {"none": [], "rumour": [thread.rumour.pk], "change": [thread.change.pk], "entry": [entry.pk]}[bad.target]
    before = written()

    # when
    response = staff_client.post(reverse(bad.name, args=args), bad.data(thread) | {"_save": "Save"})

    # then
    assert response.status_code == 200
    assert response.context["form"].errors
    assert escape(bad.error) in response.content.decode()
    assert written() == before


def test_it_shows_why_a_transition_is_refused_and_writes_nothing(staff_client, thread, analyst):
    # given: the deal completed; completed deals are final
    completed_on = days_ago(5)
    rumour_change_status(
        rumour=thread.rumour,
        status=Status.COMPLETED,
        effective_at=completed_on,
        recorded_by=analyst,
        evidence_source=thread.source,
    )
    before = written()
    effective = days_ago(1)

    # when
    response = staff_client.post(
        reverse("admin:rumours_rumour_status", args=[thread.rumour.pk]),
        {"status": Status.RUMOURED, "evidence_source": thread.source.pk, **split(effective, "effective_at")},
    )

    # then
    assert response.status_code == 200
    message = str(InvalidTransitionError(Status.COMPLETED, Status.RUMOURED, when=f" on {effective:%Y-%m-%d}"))
    assert escape(message) in response.content.decode()
    assert written() == before


def test_it_refuses_to_retract_a_change_twice(staff_client, thread):
    url = reverse("admin:rumours_statuschange_retract", args=[thread.change.pk])
    assert staff_client.post(url, {"reason": "Wrong article."}).status_code == 302
    before = written()

    response = staff_client.post(url, {"reason": "Again."})

    assert response.status_code == 200
    assert "This change was already retracted." in response.content.decode()
    assert written() == before


# --- The curation pages: good POSTs write through the services ---------------------------------


def test_it_creates_a_rumour_from_the_create_page(staff_client, goto, grab):
    # when
    response = staff_client.post(
        reverse("admin:rumours_rumour_create"),
        {
            "title": "GoTo–Grab merger",
            "deal_type": "merger",
            "summary": "",
            "party_1": goto.pk,
            "role_1": PartyRole.TARGET,
            "party_2": grab.pk,
            "role_2": PartyRole.ACQUIRER,
        },
    )

    # then
    rumour = Rumour.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rumours_rumour_change", args=[rumour.pk])
    assert (rumour.title, rumour.created_by) == ("GoTo–Grab merger", staff_client.user)
    assert set(rumour.parties.values_list("company__name", "role")) == {
        ("GoTo", PartyRole.TARGET),
        ("Grab", PartyRole.ACQUIRER),
    }


def test_it_creates_a_rumour_from_an_inbox_article(staff_client, goto, grab):
    # given
    entry = make_entry("GoTo and Grab close in on a deal")
    mentions_scan(entry_ids=[entry.pk])

    # when
    response = staff_client.post(
        reverse("admin:rumours_rumour_create") + f"?entry={entry.pk}",
        {"title": "GoTo–Grab merger", "deal_type": "merger", "party_1": goto.pk, "party_2": grab.pk},
    )

    # then
    assert response.status_code == 302
    rumour = Rumour.objects.get()
    source = rumour.sources.get()
    assert (source.entry, source.url, source.added_by) == (entry, entry.link, staff_client.user)
    mention = Mention.objects.get()
    assert (mention.state, mention.rumour, mention.state_changed_by) == (
        MentionState.ACCEPTED,
        rumour,
        staff_client.user,
    )


def test_it_records_a_status_change_from_the_status_page(staff_client, thread):
    # when
    response = staff_client.post(
        reverse("admin:rumours_rumour_status", args=[thread.rumour.pk]),
        {
            "status": Status.IN_TALKS,
            "evidence_source": thread.source.pk,
            "note": "Both confirmed.",
            **split(days_ago(2), "effective_at"),
        },
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rumours_rumour_change", args=[thread.rumour.pk])
    change = StatusChange.objects.exclude(pk=thread.change.pk).get()
    assert (change.status, change.recorded_by, change.evidence_source, change.note) == (
        Status.IN_TALKS,
        staff_client.user,
        thread.source,
        "Both confirmed.",
    )
    thread.rumour.refresh_from_db()
    assert thread.rumour.status == Status.IN_TALKS


def test_it_attaches_a_source_from_the_source_page(staff_client, thread):
    # when
    response = staff_client.post(
        reverse("admin:rumours_rumour_source", args=[thread.rumour.pk]),
        {
            "url": "https://daily.example/goto-grab",
            "title": "Talks resume",
            "outlet": "Daily",
            "outlet_tier": "1",
            "language": "en",
            **split(days_ago(1), "published_at"),
        },
    )

    # then
    assert response.status_code == 302
    source = thread.rumour.sources.get(url="https://daily.example/goto-grab")
    assert (source.title, source.outlet, source.outlet_tier, source.added_by) == (
        "Talks resume",
        "Daily",
        1,
        staff_client.user,
    )


def test_it_adds_a_quote_from_the_quote_page(staff_client, thread):
    # when
    response = staff_client.post(
        reverse("admin:rumours_rumour_quote", args=[thread.rumour.pk]),
        {
            "speaker_name": "Patrick Walujo",
            "speaker_role": "CEO",
            "text": "We are in talks.",
            "stance": Stance.CONFIRMS,
            "source": thread.source.pk,
            **split(days_ago(1), "said_at"),
        },
    )

    # then
    assert response.status_code == 302
    quote = Quote.objects.get()
    assert (quote.rumour, quote.speaker_name, quote.text, quote.source, quote.added_by) == (
        thread.rumour,
        "Patrick Walujo",
        "We are in talks.",
        thread.source,
        staff_client.user,
    )


def test_it_retracts_a_status_change_from_the_retract_page(staff_client, thread):
    # when
    response = staff_client.post(
        reverse("admin:rumours_statuschange_retract", args=[thread.change.pk]), {"reason": "Wrong article."}
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rumours_rumour_change", args=[thread.rumour.pk])
    change = StatusChange.objects.get(pk=thread.change.pk)
    assert (change.retracted_by, change.retraction_reason) == (staff_client.user, "Wrong article.")
    assert change.retracted_at is not None
    thread.rumour.refresh_from_db()
    assert thread.rumour.status == ""


def test_it_attaches_an_inbox_article_to_a_rumour(staff_client, thread):
    # given
    entry = make_entry("GoTo and Grab close in on a deal")
    mentions_scan(entry_ids=[entry.pk])

    # when
    response = staff_client.post(reverse("admin:rumours_entry_attach", args=[entry.pk]), {"rumour": thread.rumour.pk})

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:rumours_rumour_change", args=[thread.rumour.pk])
    source = thread.rumour.sources.get(entry=entry)
    assert source.added_by == staff_client.user
    mention = Mention.objects.get()
    assert (mention.state, mention.rumour) == (MentionState.ACCEPTED, thread.rumour)
