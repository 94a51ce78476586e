"""The Atom feed of status changes and the CSV export."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree

import pytest
from rest_framework.test import APIClient

from rumours.models import Status
from rumours.services import api_key_create, rumour_change_status, status_change_retract
from tests.rumours.conftest import UserFactory, at

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def threads(make_rumour, analyst, goto, grab):
    merger = make_rumour(title="GoTo–Grab merger", companies=[goto, grab])
    other = make_rumour(title="Elsewhere")
    rumour_change_status(
        rumour=merger, status=Status.RUMOURED, effective_at=at(2024), recorded_by=analyst, note="Talks."
    )
    wrong = rumour_change_status(rumour=merger, status=Status.DENIED, effective_at=at(2024, 2), recorded_by=analyst)
    status_change_retract(change=wrong, retracted_by=analyst, reason="Misread.")
    rumour_change_status(
        rumour=other, status=Status.COMPLETED, effective_at=at(2023), recorded_at=at(2023), recorded_by=analyst
    )
    return merger, other


def keyed_client() -> APIClient:
    client = APIClient()
    key = api_key_create(user=UserFactory.create(), name="t", created_by=None)[1]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def entries(response) -> list[str | None]:
    root = ElementTree.fromstring(response.content)
    return [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]


def test_it_publishes_status_changes_as_atom_for_anyone(client, threads):
    response = client.get("/api/v1/status-changes.atom")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    titles = entries(response)
    assert "GoTo–Grab merger: Rumoured (2024-01-01)" in titles
    assert not any("Denied" in (title or "") for title in titles)  # retracted changes are not news


def test_it_filters_the_feed_by_any_name_of_a_company(client, threads):
    assert entries(client.get("/api/v1/status-changes.atom", {"company": "Grab"})) == [
        "GoTo–Grab merger: Rumoured (2024-01-01)"
    ]
    assert client.get("/api/v1/status-changes.atom", {"company": "Nobody Inc"}).status_code == 404


def test_it_exports_rumours_as_csv_with_the_vendor_vocabulary(threads):
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=UserFactory.create(), name='t', created_by=None)[1]}"
    )

    response = api.get("/api/v1/rumours.csv", {"status": "completed"})

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert [(r["title"], r["status"], r["vendor_status"]) for r in rows] == [("Elsewhere", "completed", "Complete")]


def test_it_exports_as_of_a_past_date(threads):
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=UserFactory.create(), name='t', created_by=None)[1]}"
    )

    rows = list(csv.DictReader(io.StringIO(api.get("/api/v1/rumours.csv", {"as_of": "2023-06-01"}).content.decode())))

    assert [(r["title"], r["status"]) for r in rows] == [("Elsewhere", "completed")]


def test_it_wants_a_key_for_the_csv(threads):
    assert APIClient().get("/api/v1/rumours.csv").status_code == 401
