"""Oversized and malformed input to the API and the subscriber's page: a 4xx that says what is
wrong, never a server error, and nothing written.

The writable endpoint is ``subscriptions/`` (every other API endpoint only reads); the
subscriber's manage page takes a form. The read endpoints get hostile query strings.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from rumours.digests.rendering import manage_token
from rumours.models import Company, Subscription
from rumours.services import (
    CompanySpec,
    PartySpec,
    api_key_create,
    company_upsert,
    rumour_attach_source,
    rumour_change_status,
    rumour_create,
)

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/api/v1/subscriptions/"


@pytest.fixture
def world(db, django_user_model) -> Iterator[dict[str, Any]]:
    from django.core.cache import cache

    cache.clear()
    analyst = django_user_model.objects.create_superuser("curator", "curator@example.invalid", "a-long-password-1")
    investor = django_user_model.objects.create_user("fund", "fund@example.invalid")
    grab = company_upsert(spec=CompanySpec("Grab", "SG", "super_app"))[0]
    goto = company_upsert(spec=CompanySpec("GoTo", "ID", "super_app"))[0]
    rumour = rumour_create(
        title="GoTo–Grab merger",
        parties=[PartySpec(goto, "merger_party"), PartySpec(grab, "merger_party")],
        created_by=analyst,
    )
    source = rumour_attach_source(
        rumour=rumour, url="https://wire.example/a", title="Talks", published_at=timezone.now() - timedelta(days=1),
        added_by=analyst,
    )  # fmt: skip
    rumour_change_status(
        rumour=rumour, status="rumoured", effective_at=timezone.now() - timedelta(days=1), recorded_by=analyst,
        evidence_source=source,
    )  # fmt: skip
    own = Subscription.objects.create(user=investor, email="fund@example.invalid", time_zone="Asia/Jakarta")
    own.companies.set([grab])
    key = api_key_create(user=investor, name="t", scope="analyst", created_by=None)[1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    yield {"api": api, "own": own, "rumour": rumour, "analyst": analyst}
    cache.clear()


def stored() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [dict(row) for row in Subscription.objects.order_by("pk").values()]
    for row in rows:
        row["companies"] = sorted(Company.objects.filter(subscriptions__pk=row["id"]).values_list("slug", flat=True))
    return rows


def send(api: APIClient, method: str, url: str, body: bytes, content_type: str = "application/json") -> Any:
    return getattr(api, method.lower())(url, data=body, content_type=content_type)


def assert_clear_refusal(response: Any, *statuses: int, mentions: str = "") -> dict[str, Any]:
    assert response.status_code in statuses, (response.status_code, response.content[:400])
    assert response["Content-Type"] == "application/json"
    error = json.loads(response.content)["error"]
    assert error["status"] == response.status_code
    text = json.dumps(error, ensure_ascii=False)
    assert mentions.lower() in text.lower(), text
    return error


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


# --- Bodies ----------------------------------------------------------------------------------------

VALID = {"email": "new@example.invalid", "frequency": "weekly"}
BAD_BODIES: dict[str, tuple[bytes, str, str]] = {
    # name: (body, content type, what the message must mention)
    "deeply-nested": (b'{"email": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", "nested"),
    "not-json": (b"{email: new@example.invalid", "application/json", "JSON parse error"),
    "invalid-utf8": (b'{"email": "\xff\xfe\xc3\x28@example.invalid"}', "application/json", "JSON parse error"),
    "nan": (b'{"email": "new@example.invalid", "min_credibility": NaN}', "application/json", "JSON parse error"),
    "list": (as_json([VALID]), "application/json", "dictionary"),
    "string": (as_json("new@example.invalid"), "application/json", "dictionary"),
    "null": (b"null", "application/json", ""),
    "wrong-types": (
        as_json(
            {
                "email": 5,
                "frequency": ["daily"],
                "companies": "grab",
                "countries": "ID",
                "sectors": {"a": 1},
                "send_hour": "nine",
                "min_credibility": [],
                "instant_alerts": "maybe",
                "time_zone": 7,
            }
        ),
        "application/json",
        "send_hour",
    ),
    "out-of-range": (
        as_json({**VALID, "send_hour": 10**30, "send_weekday": -1, "min_credibility": 101}),
        "application/json",
        "send_hour",
    ),
    "null-bytes": (
        as_json({**VALID, "email": "new\x00@example.invalid", "time_zone": "Asia/Jakarta\x00", "countries": ["I\x00"]}),
        "application/json",
        "null",
    ),
    "overlong": (
        as_json({**VALID, "email": "a" * 100_000 + "@example.invalid", "time_zone": "Asia/" + "x" * 100_000}),
        "application/json",
        "email",
    ),
    "unknown-company": (as_json({**VALID, "companies": ["no-such-company", 7, None]}), "application/json", "companies"),
    "bad-choices": (
        as_json({**VALID, "frequency": "hourly", "sectors": ["<script>"], "countries": ["Indonesia", "١٢"]}),
        "application/json",
        "frequency",
    ),
    "time-zone-path": (as_json({**VALID, "time_zone": "../../../../etc/passwd"}), "application/json", "time zone"),
    "xml": (b"<subscription><email>x@example.invalid</email></subscription>", "application/xml", "media type"),
    "text": (b"email=x@example.invalid", "text/plain", "media type"),
    "form-bad-utf8": (b"email=%FF%FE&frequency=daily", "application/x-www-form-urlencoded", "email"),
}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_it_refuses_a_bad_body_clearly_and_writes_nothing(world, method, name):
    # given
    body, content_type, mentions = BAD_BODIES[name]
    url = SUBSCRIPTIONS if method == "POST" else f"{SUBSCRIPTIONS}{world['own'].pk}/"
    before = stored()

    # when
    response = send(world["api"], method, url, body, content_type)

    # then
    assert_clear_refusal(response, 400, 415, mentions=mentions)
    assert stored() == before


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_it_refuses_a_body_over_the_upload_limit(world, settings, method):
    # given: a body of valid JSON, just over the limit Django applies to request bodies
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = as_json({**VALID, "countries": ["ID"] * 20_000})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    url = SUBSCRIPTIONS if method == "POST" else f"{SUBSCRIPTIONS}{world['own'].pk}/"
    before = stored()

    # when
    response = send(world["api"], method, url, body)

    # then
    assert_clear_refusal(response, 400, 413, mentions="limit")
    assert stored() == before


def test_it_still_takes_a_good_body(world):
    # control: the refusals above are about the bodies, not the endpoint
    response = send(world["api"], "POST", SUBSCRIPTIONS, as_json({**VALID, "countries": ["id"], "companies": ["grab"]}))

    assert response.status_code == 201, response.content
    assert stored()[-1]["countries"] == ["ID"]
    assert stored()[-1]["companies"] == ["grab"]


# --- Query strings ---------------------------------------------------------------------------------


def cursor(position: str) -> str:
    return base64.b64encode(f"o=0&p={position}".encode()).decode()


BAD_QUERIES = [
    # url, the statuses that are acceptable
    ("/api/v1/rumours/?page=-1", {200}),
    ("/api/v1/rumours/?page_size=1000000000", {200}),
    ("/api/v1/rumours/?page_size=-1", {200}),
    ("/api/v1/rumours/?page_size=%D9%A1%D9%A0", {200}),  # Arabic-Indic digits
    ("/api/v1/rumours/?page_size=%C2%B2", {200}),  # superscript two: a "digit" int() refuses
    ("/api/v1/rumours/?cursor=garbage", {404}),
    (f"/api/v1/rumours/?cursor={cursor('not-a-date')}", {404}),
    (f"/api/v1/companies/?cursor={cursor('x' * 5000)}", {200, 404}),
    ("/api/v1/rumours/?as_of=2024-13-01", {400}),
    ("/api/v1/rumours/?as_of=2024-02-30T00:00:00Z", {400}),
    ("/api/v1/rumours/?as_of=2024-01-01T00:00:00%2B99:00", {400}),
    ("/api/v1/rumours/?as_of=" + "9" * 10_000, {400}),
    ("/api/v1/rumours/?updated_since=yesterday", {400}),
    ("/api/v1/rumours/?min_credibility=abc", {400}),
    ("/api/v1/rumours/?min_credibility=1e999", {200, 400}),
    ("/api/v1/rumours/?status=rumoured,%3Cscript%3E", {400}),
    ("/api/v1/rumours/?company=Gr%00ab", {400}),
    ("/api/v1/rumours/?q=%00", {400}),
    ("/api/v1/rumours/?q=" + "x" * 50_000, {400}),  # 200 characters at most
    ("/api/v1/rumours/?company=" + "x" * 50_000, {400}),
    ("/api/v1/rumours/?sector=%F0%9F%92%A3", {400}),
    ("/api/v1/rumours/?ordering=-password", {200}),
    ("/api/v1/rumours/%C2%B2/", {404}),
    ("/api/v1/rumours/99999999999999999999999/", {404}),
    ("/api/v1/rumours.csv?as_of=2024-13-01", {400}),
    ("/api/v1/companies/?country=%00", {400}),
    ("/api/v1/companies/?q=%00", {400}),
    ("/api/v1/status-changes/?page_size=%C2%B2", {400}),
    ("/api/v1/status-changes/?page_size=99999999999999999999999", {400}),
    ("/api/v1/status-changes/?rumour=%C2%B2", {400}),
    ("/api/v1/status-changes/?rumour=99999999999999999999999", {400}),  # no id column holds it
    ("/api/v1/status-changes/?since=garbage", {400}),
    ("/api/v1/status-changes/?since=2024-13-01", {400}),
    ("/api/v1/status-changes/?as_of=2024-13-01", {400}),
    ("/api/v1/quotes/?rumour=%C2%B2", {400}),
    ("/api/v1/quotes/?rumour=99999999999999999999999", {400}),
    ("/api/v1/quotes/?company=" + "x" * 50_000, {200}),  # names no company: nothing
    ("/api/v1/companies/?q=" + "x" * 50_000, {400}),
    ("/api/v1/quotes/?stance=%3Cscript%3E", {400}),
    ("/api/v1/quotes/?company=Gr%00ab", {200, 400}),
    ("/api/v1/quotes/?as_of=2024-13-01", {400}),
    ("/api/v1/mentions/?cluster=%C2%B2", {400}),
    ("/api/v1/mentions/?deal=maybe", {400}),
    ("/api/v1/mentions/?state=%00", {400}),
    ("/api/v1/mentions/?company=Gr%00ab", {400}),
    ("/api/v1/subscriptions/?cursor=garbage", {404}),
]


@pytest.mark.parametrize(("url", "statuses"), BAD_QUERIES, ids=[url[:60] for url, _ in BAD_QUERIES])
def test_it_answers_a_hostile_query_string_without_a_server_error(world, url, statuses):
    response = world["api"].get(url)

    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    if response.status_code >= 400:
        assert body["error"]["message"]
    elif "results" in body:
        assert len(body["results"]) <= 500


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/status-changes.atom?company=Gr%00ab",
        "/api/v1/status-changes.atom?company=" + "x" * 50_000,
        "/admin/rumours/rumour/create/?entry=%C2%B2",
        "/admin/rumours/rumour/create/?entry=99999999999999999999999",
        "/admin/rumours/rumour/%C2%B2/change/",
        "/admin/rumours/rumour/?q=%00",
        "/admin/rumours/mention/?q=%00&state=all",
        "/admin/rumours/mention/?cluster=%C2%B2",
        "/admin/tracker/entry/?q=%00",
        "/admin/tracker/entry/?feed=%C2%B2",
        "/admin/tracker/entry/?feed=99999999999999999999999",
        "/admin/tracker/feed/?q=%00",
        "/admin/rumours/company/?q=%00",
    ],
)
def test_it_answers_hostile_admin_and_feed_queries_without_a_server_error(world, client: Client, url):
    client.force_login(world["analyst"])

    response = client.get(url)

    assert response.status_code in {200, 302, 400, 404}, (response.status_code, response.content[:300])


# --- The subscriber's manage page ------------------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        {"frequency": "hourly", "time_zone": "Asia", "send_hour": "99", "send_weekday": "-1", "min_credibility": "x"},
        {"frequency": "daily", "time_zone": "../../etc/passwd", "send_hour": "²", "send_weekday": "0"},
        {"frequency": "daily", "time_zone": "Asia/Jakarta\x00", "send_hour": "7", "countries": "I\x00, SG"},
        {"frequency": "daily", "time_zone": "x" * 100_000, "send_hour": "7", "countries": "Indonesia"},
        {"frequency": "daily", "time_zone": "UTC", "send_hour": "7", "companies": ["²", "99999999999999999999", "x"]},
        {"frequency": "daily", "time_zone": "UTC", "send_hour": "7", "sectors": ["<script>"]},
    ],
    ids=["choices", "path-and-superscript", "null-bytes", "overlong", "bad-company-ids", "bad-sector"],
)
def test_it_refuses_a_bad_manage_form_and_keeps_the_subscription(world, client: Client, form):
    # given
    url = f"/digests/manage/{manage_token(world['own'])}/"
    before = stored()

    # when
    response = client.post(url, form)

    # then: the page again, with the errors, and the subscription as it was
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert stored() == before


@pytest.mark.parametrize("token", ["garbage", "x" * 10_000, "%00", signing.dumps(1, salt="another.salt")])
def test_it_answers_a_forged_manage_or_unsubscribe_link_with_not_found(world, client: Client, token):
    for url in (f"/digests/manage/{token}/", f"/digests/unsubscribe/{token}/"):
        response = client.post(url, {"frequency": "daily"})

        assert response.status_code == 404
    assert Subscription.objects.get(pk=world["own"].pk).is_active
