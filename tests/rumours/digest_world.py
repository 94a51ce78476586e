"""The GoTo–Grab story the digest tests tell, built through ``rumours.services``.

The services stamp every row with the real clock (``created_at``, ``added_at``,
``changed_at``), and a digest selects rows by those stamps. :func:`happened_at` moves
rows to when they are meant to have been written, so a test can put them inside or
outside a digest's period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User

from rumours.models import Company, Person, Quote, Rumour, Source, Stance, Status, StatusChange, Subscription
from rumours.services import (
    CompanySpec,
    PartySpec,
    company_upsert,
    person_upsert,
    quote_add,
    rumour_attach_source,
    rumour_change_status,
    rumour_create,
)

HUNGATE_SAYS = "이런 거래에 대한 기준이 매우 높다"
HUNGATE_MEANS = "The bar for such a deal is very high."
DENIAL_URL = "https://jakarta-daily.example/2026/goto-denies-merger-discussions-with-grab"
DENIAL_OUTLET = "Jakarta Daily (sample)"


def happened_at(moment: datetime, *rows: Rumour | StatusChange | Quote | Source) -> None:
    """Re-stamp rows as written at ``moment`` (the clock the digest selects by)."""
    for row in rows:
        if isinstance(row, Rumour):
            Rumour.objects.filter(pk=row.pk).update(created_at=moment)
        elif isinstance(row, StatusChange):
            # ``changed_at`` is the one history column the append-only trigger lets move.
            StatusChange.objects.filter(pk=row.pk).update(changed_at=moment)
        elif isinstance(row, Quote):
            Quote.objects.filter(pk=row.pk).update(added_at=moment)
        else:
            Source.objects.filter(pk=row.pk).update(added_at=moment)


def company(name: str, country: str, sector: str) -> Company:
    return company_upsert(spec=CompanySpec(name=name, country=country, sector=sector))[0]


@dataclass
class GotoGrab:
    goto: Company
    grab: Company
    hungate: Person
    rumour: Rumour
    denial: Source
    quote: Quote
    change: StatusChange


def goto_grab_denial(*, analyst: User, during: datetime, before: datetime) -> GotoGrab:
    """The GoTo–Grab thread, in talks since ``before``; at ``during`` GoTo denies it
    (reported by a tier-1 outlet, the evidence) and Alex Hungate speaks, in Korean."""
    goto = company("GoTo", "ID", "super_app")
    grab = company("Grab", "SG", "super_app")
    hungate, _ = person_upsert(name="Alex Hungate", company=grab, role="President and COO")
    rumour = rumour_create(
        title="GoTo–Grab merger",
        parties=[PartySpec(goto, "merger_party"), PartySpec(grab, "merger_party")],
        created_by=analyst,
    )
    talks = rumour_attach_source(
        rumour=rumour,
        url="https://wire.example/2026/goto-grab-merger-talk-reignites",
        title="GoTo, Grab merger talk reignites",
        outlet="Wire (sample)",
        outlet_tier=1,
        published_at=before,
        language="en",
        added_by=analyst,
    )
    in_talks = rumour_change_status(
        rumour=rumour, status=Status.IN_TALKS, effective_at=before, recorded_by=analyst, evidence_source=talks
    )
    happened_at(before, rumour, talks, in_talks)

    denial = rumour_attach_source(
        rumour=rumour,
        url=DENIAL_URL,
        title="GoTo denies merger discussions with Grab",
        outlet=DENIAL_OUTLET,
        outlet_tier=1,
        published_at=during,
        language="en",
        added_by=analyst,
    )
    quote = quote_add(
        rumour=rumour,
        speaker=hungate,
        text=HUNGATE_SAYS,
        translation=HUNGATE_MEANS,
        language="ko",
        stance=Stance.NEUTRAL,
        said_at=during,
        added_by=analyst,
    )
    change = rumour_change_status(
        rumour=rumour,
        status=Status.DENIED,
        effective_at=during,
        recorded_by=analyst,
        evidence_source=denial,
        note="GoTo's CEO denied any agreement.",
    )
    happened_at(during, denial, quote, change)
    rumour.refresh_from_db()
    return GotoGrab(goto, grab, hungate, rumour, denial, quote, change)


def emtek_bukalapak_source(*, analyst: User, during: datetime) -> Rumour:
    """A thread nobody following Grab should hear about: one new source at ``during``."""
    emtek = company("Emtek", "ID", "media")
    bukalapak = company("Bukalapak", "ID", "e_commerce")
    rumour = rumour_create(
        title="Emtek raises its Bukalapak stake",
        parties=[PartySpec(emtek, "acquirer"), PartySpec(bukalapak, "target")],
        created_by=analyst,
    )
    source = rumour_attach_source(
        rumour=rumour,
        url="https://wire.example/2026/emtek-bukalapak-stake",
        title="Emtek said to weigh a larger Bukalapak stake",
        outlet="Wire (sample)",
        outlet_tier=2,
        published_at=during,
        added_by=analyst,
    )
    happened_at(during - timedelta(days=30), rumour)
    happened_at(during, source)
    return rumour


def subscriber(email: str, *, since: datetime, follows: Sequence[Company] = (), **fields: Any) -> Subscription:
    """A subscription created at ``since`` (a digest only covers periods after that)."""
    subscription = Subscription.objects.create(email=email, created_at=since, **fields)
    subscription.companies.set(follows)
    return subscription
