"""The same payloads leave through the API, the Atom feed, the CSV export and the emails:
as plain data in JSON, as text in HTML and XML, and never as a spreadsheet formula."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from rumours.api.exports import CSV_COLUMNS
from rumours.digests import rendering
from rumours.digests.services import digest_preview
from rumours.models import ApiScope, Rumour, StatusChange
from rumours.services import api_key_create
from tests.hostile.conftest import FORMULA, HOSTILE, HostileWorld, assert_escaped, hostile

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def api(hostile_world: HostileWorld) -> APIClient:
    from django.core.cache import cache

    cache.clear()  # throttle counts
    key = api_key_create(user=hostile_world.analyst, name="reader", scope=ApiScope.ANALYST, created_by=None)[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def get_json(api: APIClient, url: str) -> Any:
    response = api.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    return json.loads(response.content)


# --- JSON ------------------------------------------------------------------------------------------


def test_it_returns_rumours_sources_quotes_and_history_as_plain_data(hostile_world, api, settings):
    # given
    settings.API_SYNC_SETTLE_SECONDS = 0
    w = hostile_world

    # when
    detail = get_json(api, f"/api/v1/rumours/{w.rumour.pk}/")
    listed = get_json(api, "/api/v1/rumours/")
    quotes = get_json(api, "/api/v1/quotes/")
    sync = get_json(api, "/api/v1/status-changes/?since=2000-01-01T00:00:00Z")

    # then: byte for byte what was stored, neither escaped nor stripped
    assert detail["title"] == hostile("Merger")
    assert detail["summary"] == HOSTILE
    assert {p["company"]["name"] for p in detail["parties"]} == {hostile("Grab"), FORMULA}
    (source,) = detail["sources"]
    assert (source["title"], source["outlet"], source["excerpt"]) == (hostile("Source"), hostile("Outlet"), HOSTILE)
    assert source["url"] == w.source.url
    (quote,) = detail["quotes"]
    assert (quote["text"], quote["translation"]) == (HOSTILE, hostile("Translation"))
    assert quote["speaker"]["name"] == hostile("Speaker")
    assert quote["speaker"]["role"] == hostile("Role")
    notes = {change["note"] for change in detail["status_history"]}
    assert notes == {hostile("Note"), hostile("Wrong note")}
    assert hostile("Reason") in {change["retraction_reason"] for change in detail["status_history"]}
    assert listed["results"][0]["title"] == hostile("Merger")
    assert quotes["results"][0]["text"] == HOSTILE
    assert hostile("Note") in {row["note"] for row in sync["results"]}


def test_it_returns_companies_mentions_and_webhook_answers_as_plain_data(hostile_world, api):
    w = hostile_world

    companies = get_json(api, "/api/v1/companies/")
    mention = get_json(api, f"/api/v1/mentions/{w.mention.pk}/")

    grab = next(c for c in companies["results"] if c["id"] == w.grab.pk)
    assert grab["name"] == hostile("Grab")
    assert HOSTILE in grab["aliases"]
    assert grab["tickers"] == [FORMULA]
    assert hostile("Grab") in mention["companies"]
    assert any(HOSTILE in quote["text"] for quote in mention["quotes"])
    assert mention["entry"]["title"] == w.entries[0].title


def test_it_escapes_payloads_in_the_browsable_api(hostile_world, client: Client):
    # given: a staff member browsing the API from the admin session
    client.force_login(hostile_world.analyst)

    # when
    response = client.get(f"/api/v1/rumours/{hostile_world.rumour.pk}/", HTTP_ACCEPT="text/html")

    # then: the JSON is shown as text (its strings JSON-escaped), nothing in it runs
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    shown = [json.dumps(text, ensure_ascii=False)[1:-1] for text in (hostile("Merger"), hostile("Note"))]
    assert_escaped(response.content.decode(), *shown)


# --- Atom ------------------------------------------------------------------------------------------


def test_it_writes_payloads_into_the_atom_feed_as_text(hostile_world, client: Client):
    # when
    response = client.get("/api/v1/status-changes.atom")

    # then: well-formed XML whose titles are the stored text
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    entries = root.findall(f"{ATOM}entry")
    assert entries
    titles = [entry.findtext(f"{ATOM}title") or "" for entry in entries]
    assert all(title.startswith(hostile("Merger") + ": ") for title in titles)
    # a summary declared type="html" is HTML to a feed reader: the note must arrive as text in it
    (entry,) = entries  # the retracted change is left out
    summary = entry.find(f"{ATOM}summary")
    assert summary is not None
    if summary.get("type") == "html":
        assert_escaped(summary.text or "", hostile("Note"), hostile("Source"))
    else:
        assert hostile("Note") in (summary.text or "")


# --- CSV -------------------------------------------------------------------------------------------


def test_it_neutralises_formulas_and_keeps_markup_as_data_in_the_csv(hostile_world, api):
    # given: a rumour whose title and party names a spreadsheet would run as formulas
    w = hostile_world
    Rumour.objects.filter(pk=w.rumour.pk).update(title=FORMULA)

    # when
    response = api.get("/api/v1/rumours.csv")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == CSV_COLUMNS
    (row,) = rows
    for column in ["title", "parties"]:
        assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), row[column]
    assert FORMULA in row["title"]  # kept, only made inert
    assert FORMULA in row["parties"]
    assert hostile("Grab") in row["parties"]


def test_it_neutralises_every_cell_start_a_spreadsheet_reads_as_a_formula(hostile_world, api):
    for start in ["=", "+", "-", "@", "\t", "\r"]:
        Rumour.objects.filter(pk=hostile_world.rumour.pk).update(title=f"{start}1+1 cmd|' /C calc'!A0")

        rows = list(csv.DictReader(io.StringIO(api.get("/api/v1/rumours.csv").content.decode())))

        assert rows[0]["title"].endswith(f"{start}1+1 cmd|' /C calc'!A0")
        assert not rows[0]["title"].startswith(start), repr(start)


# --- Email ------------------------------------------------------------------------------------------


def html_part(message: object) -> str:
    alternatives = getattr(message, "alternatives", [])
    return next(content for content, mimetype in alternatives if mimetype == "text/html")


def test_it_escapes_payloads_in_the_digest_email(hostile_world):
    # given
    digest = digest_preview(subscription=hostile_world.subscription)
    assert digest.updates, "the hostile rumour is in the subscriber's digest"

    # when
    message = rendering.digest_message(digest)

    # then
    assert_escaped(
        html_part(message), hostile("Merger"), hostile("Note"), HOSTILE, hostile("Speaker"), hostile("Translation")
    )
    assert hostile("Merger") in message.body  # the plain-text part says it as it is


def test_it_escapes_payloads_in_the_status_alert_email(hostile_world):
    message = rendering.alert_message(hostile_world.subscription, hostile_world.change)

    assert_escaped(html_part(message), hostile("Merger"), hostile("Note"), HOSTILE)


def test_it_keeps_a_title_with_line_breaks_out_of_the_email_headers(hostile_world):
    for breaker in ["\n", "\r\n", "\r", "\u2028"]:
        # given: a title that would start a new header (Bcc:) if written into Subject as it is
        Rumour.objects.filter(pk=hostile_world.rumour.pk).update(title=f"Merger{breaker}Bcc: victim@example.invalid")
        change = StatusChange.objects.select_related("rumour").get(pk=hostile_world.change.pk)

        # when
        digest = rendering.digest_message(digest_preview(subscription=hostile_world.subscription))
        alert = rendering.alert_message(hostile_world.subscription, change)

        # then: both messages serialise, with one Subject line and no Bcc header
        for message in (digest, alert):
            sent = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
            assert sent["Bcc"] is None
            assert "Merger Bcc: victim@example.invalid" in str(sent["Subject"]), repr(breaker)
