"""Who may reach what: every API endpoint and every admin page, for every role.

The roles are the ones the tracker knows: an anonymous visitor, an investor key, an
analyst-scope key, a revoked key, a logged-in user who is not staff, the three staff
groups of :mod:`rumours.permissions` and a superuser. One small world holds one row of
every admin-registered model, and webhooks and subscriptions owned by the investor
and by another user.

What a staff role may do is derived from the groups' codenames in
``rumours.permissions.GROUPS`` and from what each ModelAdmin offers at all (what a
superuser is offered), so a new model or a new permission is covered without editing
this file. The few places where the admin grants a page by another permission than
the model's own are listed once, in ``GRANTED_ALSO_BY`` and ``CUSTOM_VIEWS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db.models import Model
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from rumours.mentions import mentions_scan
from rumours.models import (
    ApiScope,
    DeliveryKind,
    DigestDelivery,
    Mention,
    PartyRole,
    Quote,
    Rumour,
    Source,
    Status,
    StatusChange,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from rumours.permissions import GROUPS, VIEW_MODELS, ensure_groups
from rumours.services import (
    PartySpec,
    api_key_create,
    api_key_revoke,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
    rumour_create,
)
from rumours.webhooks import new_secret
from tests.rumours.conftest import CompanyFactory, PersonFactory, UserFactory
from tracker.models import Entry, Feed, PollLog, PollOutcome
from tracker.services import feed_create

if TYPE_CHECKING:
    from rest_framework.response import _MonkeyPatchedResponse as Answer  # what APIClient returns

pytestmark = pytest.mark.django_db

# --- Roles ------------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
INVESTOR_KEY = "investor-key"
ANALYST_KEY = "analyst-key"
REVOKED_KEY = "revoked-key"
NON_STAFF = "non-staff"
READ_ONLY = "Read-only staff"
ANALYSTS = "Analysts"
EDITORS = "Editors"
SUPERUSER = "superuser"

KEYS = [INVESTOR_KEY, ANALYST_KEY, REVOKED_KEY]
STAFF_GROUPS = [READ_ONLY, ANALYSTS, EDITORS]
STAFF = [*STAFF_GROUPS, SUPERUSER]
SESSIONS = [NON_STAFF, *STAFF]
API_ROLES = [ANONYMOUS, *KEYS, *SESSIONS]
ADMIN_ROLES = [ANONYMOUS, NON_STAFF, *STAFF]


def granted(spec: dict[str, list[str]]) -> set[str]:
    view = spec is VIEW_MODELS  # VIEW_MODELS lists model names, the others codenames
    return {f"{app}.view_{name}" if view else f"{app}.{name}" for app, names in spec.items() for name in names}


# What each staff group holds, read from the groups' definition (not from the database).
PERMISSIONS: dict[str, set[str]] = {group: set().union(*map(granted, specs)) for group, specs in GROUPS.items()}
# Pages the admin opens on another permission than the model's own.
GRANTED_ALSO_BY = {
    "rumours.view_mention": "rumours.view_rumour",  # the inbox is part of reading rumours (InboxAdmin)
}


def may(role: str, *needed: str) -> bool:
    """Whether a staff role holds any of ``needed`` (a superuser holds everything)."""
    if role == SUPERUSER:
        return True
    held = PERMISSIONS.get(role, set())
    return any(perm in held or GRANTED_ALSO_BY.get(perm) in held for perm in needed)


# --- The world ----------------------------------------------------------------------------------


@dataclass
class World:
    rumour: Rumour
    source: Source
    quote: Quote
    change: StatusChange
    entry: Entry
    mention: Mention
    own_webhook: WebhookEndpoint
    others_webhook: WebhookEndpoint
    own_subscription: Subscription
    others_subscription: Subscription
    logins: dict[str, Callable[[], APIClient]] = field(default_factory=dict)
    clients: dict[str, APIClient] = field(default_factory=dict)

    def client(self, role: str) -> APIClient:
        """A client for ``role``, made on first use (logging every role in costs more than the test)."""
        if role not in self.clients:
            self.clients[role] = self.logins[role]()
        return self.clients[role]

    def sample(self, model: type[Model]) -> Model:
        """One row of ``model``, for its change page."""
        row = model._default_manager.order_by("pk").first()
        assert row is not None, f"Add a {model._meta.label} to the world so its admin pages are checked."
        return row


def days_ago(days: int) -> Any:
    return timezone.now().replace(microsecond=0) - timedelta(days=days)


@pytest.fixture(autouse=True)
def fresh_throttle_counts() -> Iterator[None]:
    """Throttle counts live in the cache, keyed by ids a rolled-back test may reuse."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db) -> World:
    ensure_groups()
    curator = UserFactory.create(username="curator")
    investor = UserFactory.create(username="fund")
    rival = UserFactory.create(username="rival-fund")
    quant = UserFactory.create(username="quant")

    goto = CompanyFactory.create(name="GoTo", country="ID")
    grab = CompanyFactory.create(name="Grab", country="SG")
    walujo = PersonFactory.create(name="Patrick Walujo", company=goto)
    rumour = rumour_create(
        title="GoTo–Grab merger",
        parties=[PartySpec(company=goto, role=PartyRole.MERGER_PARTY), PartySpec(grab, PartyRole.MERGER_PARTY)],
        created_by=curator,
    )
    source = rumour_attach_source(
        rumour=rumour, added_by=curator, url="https://wire.example/talks", title="Talks", published_at=days_ago(10)
    )
    quote = quote_add(
        rumour=rumour, text="We are in talks.", said_at=days_ago(9), speaker=walujo, added_by=curator, source=source
    )
    change = rumour_change_status(
        rumour=rumour, status=Status.RUMOURED, effective_at=days_ago(10), recorded_by=curator, evidence_source=source
    )

    feed, _ = feed_create(url="https://wire.example/rss", title="Wire", language="en")
    PollLog.objects.create(feed=feed, url=feed.url, outcome=PollOutcome.FETCHED, status_code=200)
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

    own_webhook = WebhookEndpoint.objects.create(user=investor, url="https://fund.example/hook", secret=new_secret())
    others_webhook = WebhookEndpoint.objects.create(user=rival, url="https://rival.example/hook", secret=new_secret())
    WebhookDelivery.objects.create(
        endpoint=own_webhook, event_id="evt_1", event_type=WebhookEvent.STATUS_CHANGED, payload={}
    )
    # A locked-out login (django-axes): its admin pages are the superuser's alone.
    attempt = {"ip_address": "203.0.113.9", "username": "analyst", "user_agent": "curl", "path_info": "/admin/login/"}
    AccessAttempt.objects.create(**attempt, get_data="", post_data="username=analyst", failures_since_start=5)
    AccessFailureLog.objects.create(**attempt, locked_out=True)
    AccessLog.objects.create(**attempt)
    own_subscription = Subscription.objects.create(user=investor, email="fund@example.com")
    others_subscription = Subscription.objects.create(user=rival, email="rival@example.com")
    DigestDelivery.objects.create(
        subscription=own_subscription, kind=DeliveryKind.DAILY, period_start=days_ago(2), period_end=days_ago(1)
    )

    made = World(
        rumour=rumour,
        source=source,
        quote=quote,
        change=change,
        entry=entry,
        mention=Mention.objects.get(entry=entry),
        own_webhook=own_webhook,
        others_webhook=others_webhook,
        own_subscription=own_subscription,
        others_subscription=others_subscription,
    )
    made.logins = _logins(investor=investor, quant=quant)
    return made


def _logins(*, investor: User, quant: User) -> dict[str, Callable[[], APIClient]]:
    def with_key(key: str) -> Callable[[], APIClient]:
        def make() -> APIClient:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
            return client

        return make

    def logged_in(user: Callable[[], User]) -> Callable[[], APIClient]:
        def make() -> APIClient:
            client = APIClient()
            client.force_login(user())
            return client

        return make

    def member(group: str) -> User:
        user = UserFactory.create(username=group.split()[0].lower(), is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        return user

    revoked, revoked_key = api_key_create(user=investor, name="old laptop", created_by=None)
    api_key_revoke(api_key=revoked)
    return {
        ANONYMOUS: APIClient,
        INVESTOR_KEY: with_key(api_key_create(user=investor, name="fund", created_by=None)[1]),
        ANALYST_KEY: with_key(api_key_create(user=quant, name="quant", scope=ApiScope.ANALYST, created_by=None)[1]),
        REVOKED_KEY: with_key(revoked_key),
        NON_STAFF: logged_in(lambda: UserFactory.create(username="visitor")),
        SUPERUSER: logged_in(lambda: User.objects.create_superuser("root", "root@example.com", "a-long-password-1")),
        **{group: logged_in(lambda group=group: member(group)) for group in STAFF_GROUPS},  # type: ignore[misc]
    }


# --- Asking, and what an answer may be ------------------------------------------------------------

LOGIN = "redirect to the login page"
Expected = int | frozenset[int] | str
UrlOf = Callable[[World], str]


def ask(world: World, role: str, method: str, url: str, data: dict[str, Any] | None = None) -> Answer:
    client = world.client(role)
    if method == "GET":
        response: Answer = client.get(url)
    else:
        as_json = {"format": "json"} if url.startswith("/api/") else {}
        response = getattr(client, method.lower())(url, data or {}, **as_json)
    assert response.status_code < 500, f"{role} {method} {url} → {response.status_code}"
    return response


def check(response: Answer, expected: Expected) -> None:
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login") + "?next=")
    elif isinstance(expected, frozenset):
        assert response.status_code in expected
    else:
        assert response.status_code == expected


def case(role: str, method: str, name: str, *rest: Any, holes: dict[tuple[str, str, str], str]) -> Any:
    """A pytest.param; a known authorisation hole is kept as a strict xfail with its reason."""
    hole = holes.get((role, method, name))
    marks = [pytest.mark.xfail(strict=True, reason=hole)] if hole else []
    return pytest.param(role, method, name, *rest, id=f"{role.split()[0].lower()}-{method}-{name}", marks=marks)


# --- API --------------------------------------------------------------------------------------------

API_READS: dict[str, UrlOf] = {
    "root": lambda w: "/api/v1/",
    "companies": lambda w: "/api/v1/companies/",
    "company": lambda w: f"/api/v1/companies/{w.rumour.parties.first().company_id}/",  # type: ignore[union-attr]
    "rumours": lambda w: "/api/v1/rumours/",
    "rumour": lambda w: f"/api/v1/rumours/{w.rumour.pk}/",
    "status-changes": lambda w: "/api/v1/status-changes/",
    "rumours.csv": lambda w: "/api/v1/rumours.csv",
    "quotes": lambda w: "/api/v1/quotes/",
    "quote": lambda w: f"/api/v1/quotes/{w.quote.pk}/",
    "mentions": lambda w: "/api/v1/mentions/",
    "mention": lambda w: f"/api/v1/mentions/{w.mention.pk}/",
    "webhooks": lambda w: "/api/v1/webhooks/",
    "own-webhook": lambda w: f"/api/v1/webhooks/{w.own_webhook.pk}/",
    "others-webhook": lambda w: f"/api/v1/webhooks/{w.others_webhook.pk}/",
    "subscriptions": lambda w: "/api/v1/subscriptions/",
    "own-subscription": lambda w: f"/api/v1/subscriptions/{w.own_subscription.pk}/",
    "others-subscription": lambda w: f"/api/v1/subscriptions/{w.others_subscription.pk}/",
}
ANALYST_ONLY = {"mentions", "mention"}
OWN = {"own-webhook", "own-subscription"}  # owned by the investor key's user
OTHERS = {"others-webhook", "others-subscription"}  # owned by a user no role here is
LISTS = ["root", "companies", "rumours", "status-changes", "rumours.csv", "quotes", "mentions", "webhooks"]
DETAILS = ["company", "rumour", "quote", "mention", "own-webhook"]
PUBLIC_ATOM = "/api/v1/status-changes.atom"  # public by design (docs/api.md): any role, any key or none


def api_read_expected(role: str, name: str) -> Expected:
    if role in {ANONYMOUS, REVOKED_KEY}:
        return 401
    if role == NON_STAFF:
        return 403  # logged in, but neither a key nor staff
    if name in ANALYST_ONLY and role == INVESTOR_KEY:
        return 403
    if name in OTHERS or (name in OWN and role != INVESTOR_KEY):
        return 404  # someone else's: not even its existence shows
    return 200


def api_write_expected(role: str, method: str, name: str) -> Expected:
    """Writes to the read-only endpoints: refused to keys and non-staff, not allowed for staff."""
    if role in {ANONYMOUS, REVOKED_KEY}:
        return 401
    if role in STAFF:
        return 405  # past the permission check, the endpoint has no such method
    return 403


def subscription_write_expected(role: str, method: str, name: str) -> Expected:
    """Subscriptions are writable with a key only, each user's own only (rumours.api.subscriptions)."""
    if role in {ANONYMOUS, REVOKED_KEY}:
        return 401
    if role not in KEYS:
        return 403  # a session, staff or not, only reads: writes are the key owner's own
    if name in OTHERS or (name in OWN and role != INVESTOR_KEY):
        return 404
    return {"POST": 201, "PUT": 200, "PATCH": 200, "DELETE": 204}[method]


def subscription_data(role: str, method: str) -> dict[str, Any]:
    slug = role.split()[0].lower()
    data: dict[str, dict[str, Any]] = {
        "POST": {"email": f"{slug}@new.example", "frequency": "weekly"},
        "PUT": {"email": f"{slug}@put.example", "frequency": "daily"},
        "PATCH": {"send_hour": 9},
        "DELETE": {},
    }
    return data[method]


API_HOLES: dict[tuple[str, str, str], str] = {}  # none known: add a case here (strict xfail) when one is found


API_READ_CASES = [case(role, "GET", name, holes=API_HOLES) for role in API_ROLES for name in API_READS]
API_WRITE_CASES = [
    *(case(role, "POST", name, holes=API_HOLES) for role in API_ROLES for name in LISTS),
    *(
        case(role, method, name, holes=API_HOLES)
        for role in API_ROLES
        for method in ["PUT", "PATCH", "DELETE"]
        for name in DETAILS
    ),
]
SUBSCRIPTION_WRITE_CASES = [
    *(case(role, "POST", "subscriptions", holes=API_HOLES) for role in API_ROLES),
    *(
        case(role, method, name, holes=API_HOLES)
        for role in API_ROLES
        for method in ["PUT", "PATCH", "DELETE"]
        for name in ["own-subscription", "others-subscription"]
    ),
]


@pytest.mark.parametrize(("role", "method", "name"), API_READ_CASES)
def test_it_answers_each_api_read_only_within_each_roles_rights(world, role, method, name):
    response = ask(world, role, method, API_READS[name](world))

    check(response, api_read_expected(role, name))


@pytest.mark.parametrize(("role", "method", "name"), API_WRITE_CASES)
def test_it_refuses_writes_to_the_read_only_api(world, role, method, name):
    response = ask(world, role, method, API_READS[name](world), {})

    check(response, api_write_expected(role, method, name))


@pytest.mark.parametrize(("role", "method", "name"), SUBSCRIPTION_WRITE_CASES)
def test_it_lets_only_a_key_write_subscriptions_and_only_its_own(world, role, method, name):
    # given
    before = list(Subscription.objects.order_by("pk").values())

    # when
    response = ask(world, role, method, API_READS[name](world), subscription_data(role, method))

    # then
    expected = subscription_write_expected(role, method, name)
    check(response, expected)
    if response.status_code >= 300:
        assert list(Subscription.objects.order_by("pk").values()) == before


@pytest.mark.parametrize("role", API_ROLES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_it_serves_the_public_atom_feed_to_anyone_and_writes_nothing(world, role, method):
    before = StatusChange.objects.count()

    response = ask(world, role, method, PUBLIC_ATOM)

    # a POST is answered as a GET would be (a plain Django feed view): harmless, nothing is written
    assert response.status_code in ({200} if method == "GET" else {200, 405})
    assert StatusChange.objects.count() == before


@pytest.mark.parametrize("role", [INVESTOR_KEY, ANALYST_KEY, *STAFF])
def test_it_lists_only_the_callers_own_webhooks_and_subscriptions(world, role):
    webhooks = ask(world, role, "GET", "/api/v1/webhooks/").json()["results"]
    subscriptions = ask(world, role, "GET", "/api/v1/subscriptions/").json()["results"]

    mine = role == INVESTOR_KEY
    assert [hook["id"] for hook in webhooks] == ([world.own_webhook.pk] if mine else [])
    assert [sub["id"] for sub in subscriptions] == ([world.own_subscription.pk] if mine else [])


# --- Admin ------------------------------------------------------------------------------------------


def _offer_request() -> Any:
    request = RequestFactory().get("/admin/")
    request.user = User(username="offer", is_superuser=True, is_staff=True, is_active=True)
    return request


# What the admin offers at all is what a superuser is offered; a staff role gets the part of
# that its permissions cover.
OFFER = _offer_request()


@dataclass(frozen=True)
class AdminPage:
    url: UrlOf
    needs: tuple[str, ...] = ()  # any one of these opens the page; none: any staff member
    offered: bool = True  # False: the admin has no such page here, for anyone
    method: str = "GET"


def _url(model: type[Model], view: str, *, row: bool) -> UrlOf:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    return lambda w: reverse(name, args=[w.sample(model).pk] if row else [])


def _model_pages() -> dict[str, AdminPage]:
    """The standard pages of every registered model (a model registered tomorrow is in here too)."""
    pages = {"index": AdminPage(lambda w: reverse("admin:index"))}
    for model, model_admin in admin.site._registry.items():
        app, name = model._meta.app_label, model._meta.model_name
        label = f"{app}.{name}"
        reads = (f"{app}.view_{name}", f"{app}.change_{name}")
        readable = model_admin.has_view_or_change_permission(OFFER)
        pages |= {
            f"{label}:changelist": AdminPage(_url(model, "changelist", row=False), reads, readable),
            f"{label}:change": AdminPage(_url(model, "change", row=True), reads, readable),
            f"{label}:history": AdminPage(_url(model, "history", row=True), reads, readable),
            f"{label}:add": AdminPage(
                _url(model, "add", row=False), (f"{app}.add_{name}",), model_admin.has_add_permission(OFFER)
            ),
            f"{label}:delete": AdminPage(
                _url(model, "delete", row=True), (f"{app}.delete_{name}",), model_admin.has_delete_permission(OFFER)
            ),
            f"{label}:save": AdminPage(
                _url(model, "change", row=True),
                (f"{app}.change_{name}",),
                model_admin.has_change_permission(OFFER),
                method="POST",
            ),
        }
    return pages


ADMIN_PAGES = _model_pages()
# The rumour add page hands over to the create page (checked with the curation pages below).
ADD_HANDED_OVER = {"rumours.rumour:add": "admin:rumours_rumour_create"}

# The curation pages, with the permission each checks (rumours/admin.py).
CUSTOM_VIEWS = {
    "rumour-create": AdminPage(lambda w: reverse("admin:rumours_rumour_create"), ("rumours.add_rumour",)),
    "rumour-status": AdminPage(
        lambda w: reverse("admin:rumours_rumour_status", args=[w.rumour.pk]), ("rumours.record_status",)
    ),
    "rumour-source": AdminPage(
        lambda w: reverse("admin:rumours_rumour_source", args=[w.rumour.pk]), ("rumours.add_source",)
    ),
    "rumour-quote": AdminPage(
        lambda w: reverse("admin:rumours_rumour_quote", args=[w.rumour.pk]), ("rumours.add_quote",)
    ),
    "status-change-retract": AdminPage(
        lambda w: reverse("admin:rumours_statuschange_retract", args=[w.change.pk]), ("rumours.retract_status",)
    ),
    "entry-attach": AdminPage(
        lambda w: reverse("admin:rumours_entry_attach", args=[w.entry.pk]), ("rumours.add_source",)
    ),
    "mention-review": AdminPage(
        lambda w: reverse("admin:rumours_mention_review", args=[w.mention.pk]), ("rumours.add_source",)
    ),
    "subscription-preview": AdminPage(
        lambda w: reverse("admin:rumours_subscription_preview", args=[w.own_subscription.pk]),
        ("rumours.view_subscription",),
    ),
}


def admin_expected(role: str, page: AdminPage) -> Expected:
    if role not in STAFF:
        return LOGIN  # the admin is for staff: everyone else is sent to log in
    if not page.offered or (page.needs and not may(role, *page.needs)):
        return 403
    return frozenset({200, 302}) if page.method == "POST" else 200  # a save with no fields: errors or done


ADMIN_HOLES: dict[tuple[str, str, str], str] = {}
ADMIN_CASES = [
    case(role, page.method, name, holes=ADMIN_HOLES) for role in ADMIN_ROLES for name, page in ADMIN_PAGES.items()
]
CUSTOM_CASES = [
    case(role, method, name, holes=ADMIN_HOLES)
    for role in ADMIN_ROLES
    for name in CUSTOM_VIEWS
    for method in ["GET", "POST"]
]


@pytest.mark.parametrize(("role", "method", "name"), ADMIN_CASES)
def test_it_opens_each_admin_page_only_within_each_roles_rights(world, role, method, name):
    page = ADMIN_PAGES[name]

    response = ask(world, role, method, page.url(world))

    if name in ADD_HANDED_OVER and role in STAFF:
        assert response.status_code == 302
        assert response["Location"] == reverse(ADD_HANDED_OVER[name])
    else:
        check(response, admin_expected(role, page))


@pytest.mark.parametrize(("role", "method", "name"), CUSTOM_CASES)
def test_it_opens_each_curation_page_only_within_each_roles_rights(world, role, method, name):
    page = CUSTOM_VIEWS[name]
    posting = AdminPage(page.url, page.needs, page.offered, method)

    response = ask(world, role, method, page.url(world))

    check(response, admin_expected(role, posting))


# --- Admin actions: an action is a write, offered only to those who may make it -------------------

# Actions that declare a permission of their own (ModelAdmin.has_<name>_permission in rumours/admin.py).
ACTION_PERMISSIONS = {"merge": "rumours.merge_rumours", "curate": "rumours.add_source"}


def action_needs(model: type[Model], action: Callable[..., Any]) -> tuple[str, ...]:
    app, name = model._meta.app_label, model._meta.model_name
    declared = getattr(action, "allowed_permissions", None)
    if not declared:
        return (f"{app}.change_{name}",)  # Django offers an undeclared action to every viewer; it writes
    return tuple(ACTION_PERMISSIONS.get(perm, f"{app}.{perm}_{name}") for perm in declared)


ACTIONS = {
    model._meta.label_lower: {
        action_name: action_needs(model, offer[0])
        for action_name, offer in model_admin.get_actions(OFFER).items()
        if offer is not None
    }
    for model, model_admin in admin.site._registry.items()
}
ACTION_HOLES: dict[tuple[str, str, str], str] = {}  # none known (the feed actions needed change_feed: fixed)
ACTION_CASES = [
    case(role, "GET", label, holes=ACTION_HOLES)
    for role in STAFF
    for label in ACTIONS
    if admin_expected(role, ADMIN_PAGES[f"{label}:changelist"]) == 200
]


@pytest.mark.parametrize(("role", "method", "name"), ACTION_CASES)
def test_it_offers_each_admin_action_only_to_the_roles_that_may_make_it(world, role, method, name):
    response = ask(world, role, method, ADMIN_PAGES[f"{name}:changelist"].url(world))

    form = response.context["action_form"]  # None when no action is offered at all
    offered = {choice for choice, _ in form.fields["action"].choices if choice} if form else set()
    assert offered == {action for action, needs in ACTIONS[name].items() if may(role, *needs)}


@pytest.mark.parametrize(
    "role",
    [
        pytest.param(role, marks=[pytest.mark.xfail(strict=True, reason=reason)] if reason else [])
        for role in STAFF
        for reason in [ACTION_HOLES.get((role, "GET", "tracker.feed"))]
    ],
)
def test_it_pauses_a_feed_from_the_admin_only_for_roles_that_may_change_feeds(world, role):
    feed = Feed.objects.get()

    ask(world, role, "POST", reverse("admin:tracker_feed_changelist"), {"action": "pause", "_selected_action": feed.pk})

    feed.refresh_from_db()
    assert feed.is_paused is may(role, "tracker.change_feed")
