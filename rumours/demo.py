"""The demo: the default watchlist, its executives, and deal threads built through the
services from the bundled demo feed entries, so every feature has something true-to-life
to show. Sample data: the outlets are invented (``.example``) and so are their stories.

Idempotent: companies and people are upserted; the threads are built once (found by
slug afterwards).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from rumours.models import Company, DealType, PartyRole, Person, Rumour, Source, Stance, Status, Subscription
from rumours.services import (
    AliasSpec,
    PartySpec,
    company_upsert,
    person_upsert,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
    rumour_create,
    rumours_expire_stale,
)
from rumours.watchlist import DEFAULT_PEOPLE, DEFAULT_WATCHLIST, read_companies
from tracker.models import Entry

GOTO_GRAB_SLUG = "goto-grab-merger"
SAMPLE_WIRE = "https://dealstreet-asia.example/news"


def demo_watchlist() -> tuple[int, int]:
    """Upsert the default watchlist and its executives; returns (companies, people)."""
    with transaction.atomic():
        specs = read_companies(DEFAULT_WATCHLIST.read_bytes(), name=DEFAULT_WATCHLIST.name)
        for spec in specs:
            company_upsert(spec=spec)
        people = json.loads(DEFAULT_PEOPLE.read_text())
        for row in people:
            person_upsert(
                name=row["name"],
                company=Company.objects.filter(name=row["company"]).first(),
                role=row.get("role", ""),
                aliases=[AliasSpec(a["alias"], a.get("language", "")) for a in row.get("aliases", [])],
            )
    return len(specs), len(people)


def demo_threads(*, analyst: User | None) -> int:
    """Build the demo rumour threads from the demo entries (once); returns how many were built."""
    with transaction.atomic():
        created = 0
        if not Rumour.objects.filter(slug=GOTO_GRAB_SLUG).exists():
            _goto_grab(analyst)
            created += 1
        if not Rumour.objects.filter(slug="tiktok-tokopedia-stake").exists():
            _tiktok_tokopedia(analyst)
            created += 1
        for title, company, fragment, deal_type in [
            (
                "Private equity offer for Carousell",
                "Carousell",
                "carousell-dilaporkan-terima-tawaran",
                DealType.TAKEOVER,
            ),
            (
                "Majority stake sale in Traveloka",
                "Traveloka",
                "rumor-akuisisi-traveloka-kembali-mencuat",
                DealType.STAKE,
            ),
        ]:
            if not Rumour.objects.filter(title=title).exists() and _single_report(
                analyst, title, company, fragment, deal_type
            ):
                created += 1
    # The Traveloka report is old enough for the nightly expiry: show it done by the system.
    rumours_expire_stale()
    return created


def _single_report(analyst: User | None, title: str, company_name: str, fragment: str, deal_type: str) -> bool:
    """A thread opened from one article, rumoured as of its date; False if the demo data lacks either."""
    company, entry = Company.objects.filter(name=company_name).first(), _entry(fragment)
    if company is None or entry is None:
        return False
    rumour = rumour_create(
        title=title,
        parties=[PartySpec(company, PartyRole.TARGET)],
        deal_type=deal_type,
        created_by=analyst,
        entry=entry,
    )
    rumour_change_status(
        rumour=rumour,
        status=Status.RUMOURED,
        effective_at=entry.published_at,
        recorded_at=entry.published_at,
        recorded_by=analyst,
        evidence_source=rumour.sources.get(),
        note="Early-stage report from people familiar with the matter.",
    )
    return True


def _entry(link_fragment: str) -> Entry | None:
    return Entry.objects.filter(link__contains=link_fragment).select_related("feed").first()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _goto_grab(analyst: User | None) -> None:
    goto, grab = Company.objects.get(name="GoTo"), Company.objects.get(name="Grab")
    rumour = rumour_create(
        title="GoTo–Grab merger",
        parties=[PartySpec(goto, PartyRole.MERGER_PARTY), PartySpec(grab, PartyRole.MERGER_PARTY)],
        deal_type=DealType.MERGER,
        summary=(
            "Southeast Asia's two super-apps have been reported in merger talks on and off since 2020; "
            "each round has been denied, and each has come back. (Sample data.)"
        ),
        created_by=analyst,
    )

    def source(link: str, **typed: object) -> Source:
        if typed:  # an article an analyst typed in
            return rumour_attach_source(rumour=rumour, url=link, added_by=analyst, **typed)  # type: ignore[arg-type]
        entry = _entry(link)
        if entry is None:
            raise LookupError(f"The demo feeds have no entry with {link!r} in its link; run load_demo's feed step.")
        return rumour_attach_source(rumour=rumour, entry=entry, added_by=analyst)

    def change(status: str, when: str, evidence: Source, note: str) -> None:
        moment = _at(when)
        rumour_change_status(
            rumour=rumour,
            status=status,
            effective_at=moment,
            recorded_at=moment.replace(hour=23),  # entered the same day: point-in-time answers stay honest
            recorded_by=analyst,
            evidence_source=evidence,
            note=note,
        )

    first = source(
        f"{SAMPLE_WIRE}/2020/09/grab-gojek-advanced-merger-talks",
        title="Grab and Gojek said to be in advanced talks to merge",
        outlet="DealStreet Asia (sample)",
        outlet_tier=1,
        published_at=_at("2020-09-01T08:00:00"),
        language="en",
    )
    change(Status.RUMOURED, "2020-09-01T08:00:00", first, "First reports of advanced talks.")
    denial_2020 = source(
        f"{SAMPLE_WIRE}/2020/10/gojek-no-merger-agreement",
        title="Gojek says there is no merger agreement with Grab",
        outlet="DealStreet Asia (sample)",
        outlet_tier=1,
        published_at=_at("2020-10-20T06:30:00"),
        language="en",
    )
    change(Status.DENIED, "2020-10-20T06:30:00", denial_2020, "Gojek denied an agreement.")
    revived = source("goto-grab-said-to-revisit-merger-talks")
    for syndicated in ("grab-goto-merger-talks-resume", "grab-goto-dilaporkan-berunding-semula"):
        source(syndicated)
    change(Status.RUMOURED, "2024-02-07T02:00:00", revived, "Talks said to be revisited.")
    denied = source("goto-denies-merger-discussions-with-grab")
    walujo = Person.objects.filter(name="Patrick Walujo").first()
    denial = quote_add(
        rumour=rumour,
        source=denied,
        speaker=walujo,
        speaker_name="Patrick Walujo",
        text="We remain focused on our own path to profitability, and there is no agreement of any kind",
        stance=Stance.DENIES,
        said_at=_at("2024-02-09T03:00:00"),
        added_by=analyst,
    )
    rumour_change_status(
        rumour=rumour,
        status=Status.DENIED,
        effective_at=_at("2024-02-09T03:00:00"),
        recorded_at=_at("2024-02-09T12:00:00"),
        recorded_by=analyst,
        evidence_source=denied,
        evidence_quote=denial,
        note="GoTo filing: not in discussions.",
    )
    source("goto-membantah-pembicaraan-merger-grab")
    source("grab-goto-lai-ro-tin-dam-phan-sap-nhap")
    talks = source("goto-grab-merger-talk-reignites")
    source("grab-goto-talks-revived")
    hungate = Person.objects.filter(name="Alex Hungate").first()
    quote_add(
        rumour=rumour,
        source=talks,
        speaker=hungate,
        speaker_name="알렉스 헝가테",
        text="이런 거래에 대한 기준이 매우 높다",
        translation="The bar for such a deal is very high.",
        language="ko",
        stance=Stance.NEUTRAL,
        said_at=_at("2025-05-12T00:00:00"),
        added_by=analyst,
    )
    change(Status.IN_TALKS, "2025-05-12T00:00:00", talks, "Talks re-ignited; the state fund weighs a role.")
    denied_again = source("goto-phu-nhan-dam-phan-sap-nhap-grab")
    change(Status.DENIED, "2025-06-12T00:00:00", denied_again, "GoTo's CEO denied any agreement again.")
    # A later denial in the Japanese press, kept as a source (the status is already denied).
    # The Korean report of June 2026 is left in the inbox for the analyst.
    source("keizai-asia.example/news/2026/04/goto-denies-grab-merger-again")


def _tiktok_tokopedia(analyst: User | None) -> None:
    goto = Company.objects.get(name="GoTo")
    buyer = Company.objects.filter(name__in=["ByteDance", "TikTok"]).order_by("name").first()
    if buyer is None:
        return
    rumour = rumour_create(
        title="TikTok takes control of Tokopedia",
        parties=[PartySpec(buyer, PartyRole.ACQUIRER), PartySpec(goto, PartyRole.SELLER)],
        deal_type=DealType.STAKE,
        stake_percent=Decimal("75.00"),
        summary="TikTok's Southeast Asian e-commerce business combined with Tokopedia. (Sample data.)",
        created_by=analyst,
    )
    Rumour.objects.filter(pk=rumour.pk).update(slug="tiktok-tokopedia-stake")
    rumour.refresh_from_db()
    report = rumour_attach_source(
        rumour=rumour,
        url=f"{SAMPLE_WIRE}/2023/10/tiktok-said-to-weigh-tokopedia-stake",
        title="TikTok said to weigh a stake in Tokopedia",
        outlet="DealStreet Asia (sample)",
        outlet_tier=1,
        published_at=_at("2023-10-20T05:00:00"),
        language="en",
        added_by=analyst,
    )
    for status, when, evidence, note in [
        (Status.RUMOURED, "2023-10-20T05:00:00", report, "First reports."),
        (Status.AGREED, "2023-12-11T05:00:00", None, "Definitive agreement announced."),
    ]:
        moment = _at(when)
        rumour_change_status(
            rumour=rumour, status=status, effective_at=moment, recorded_at=moment, recorded_by=analyst,
            evidence_source=evidence, note=note,
        )  # fmt: skip
    closed = None
    for fragment in ("tokopedia-resmi-bergabung-tiktok-shop", "tiktok-tokopedia-75-percent"):
        entry = _entry(fragment)
        if entry is not None:
            closed = rumour_attach_source(rumour=rumour, entry=entry, added_by=analyst)
    moment = _at("2024-01-31T09:00:00")
    rumour_change_status(
        rumour=rumour, status=Status.COMPLETED, effective_at=moment, recorded_at=moment, recorded_by=analyst,
        evidence_source=closed, note="Completed: 75 % of Tokopedia now held by TikTok.",
    )  # fmt: skip


DEMO_SUBSCRIBER = "demo-subscriber@example.invalid"


def demo_subscriber() -> Subscription:
    """A subscriber following Grab and GoTo, daily at 08:00 in Singapore, with instant alerts.

    Created after the demo threads, so their back-filled history raises no alerts.
    """
    subscription, _ = Subscription.objects.get_or_create(
        email=DEMO_SUBSCRIBER,
        defaults={"time_zone": "Asia/Singapore", "send_hour": 8, "instant_alerts": True},
    )
    subscription.companies.add(*Company.objects.filter(name__in=["Grab", "GoTo"]))
    return subscription
