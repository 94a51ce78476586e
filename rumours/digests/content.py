"""What goes into a digest: selectors that build many subscribers' digests at once.

:func:`digests_build` loads everything that happened in the union of the periods it
is asked about with a fixed number of queries (status changes, new rumours, quotes,
sources, the rumours and their parties), then picks each subscriber's share in
Python. The cost in queries does not grow with the number of subscribers.

A rumour is in a subscriber's digest when its credibility reaches their minimum and,
if they follow companies, countries or sectors, one of its parties matches any of
them. Its updates in the period are grouped under it: status changes in force (with
their evidence and effective date), whether the thread is new, on-record quotes
(original text and translation) and the strongest new sources (by outlet tier, three
at most). Rumours are ordered by what happened to them (a completed deal before a
new source), then by credibility.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from rumours.models import Party, Quote, Rumour, Source, Status, StatusChange, Subscription

SOURCES_PER_RUMOUR = 3
# An email past ~100 kB is clipped by Gmail, and no one reads forty rumours on a phone.
RUMOURS_PER_DIGEST = 20
_STATUS_WEIGHT: dict[str, int] = {
    Status.COMPLETED: 100,
    Status.AGREED: 90,
    Status.ABANDONED: 80,
    Status.DENIED: 70,
    Status.IN_TALKS: 60,
    Status.RUMOURED: 50,
    Status.EXPIRED: 20,
}


@dataclass
class RumourUpdate:
    rumour: Rumour
    changes: list[StatusChange] = field(default_factory=list)
    is_new: bool = False
    quotes: list[Quote] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    @property
    def importance(self) -> tuple[int, int]:
        weight = max((_STATUS_WEIGHT.get(change.status, 0) for change in self.changes), default=0)
        weight += 40 * self.is_new + 10 * min(len(self.quotes), 3) + 5 * min(len(self.sources), 3)
        return weight, self.rumour.credibility

    @property
    def headline(self) -> str:
        """What happened, in a few words: “now Denied”, “new rumour”, “2 quotes”."""
        if self.changes:
            return f"now {self.changes[-1].get_status_display()}"
        if self.is_new:
            return "new rumour"
        if self.quotes:
            return f"{len(self.quotes)} new quote{'s' * (len(self.quotes) > 1)}"
        return f"{len(self.sources)} new source{'s' * (len(self.sources) > 1)}"


@dataclass
class Digest:
    subscription: Subscription
    kind: str
    start: datetime
    end: datetime
    updates: list[RumourUpdate]  # the most important RUMOURS_PER_DIGEST
    more: int = 0  # how many less important rumours moved too

    @property
    def is_empty(self) -> bool:
        return not self.updates


@dataclass(frozen=True)
class DigestRequest:
    subscription: Subscription
    kind: str
    start: datetime
    end: datetime


def digests_build(requests: Sequence[DigestRequest]) -> list[Digest]:
    """Every requested digest, in order. Subscriptions should come with ``companies`` prefetched."""
    if not requests:
        return []
    start = min(request.start for request in requests)
    end = max(request.end for request in requests)
    events = _Events.load(start, end)
    digests = []
    for request in requests:
        updates = events.updates_for(request)
        digests.append(
            Digest(
                request.subscription,
                request.kind,
                request.start,
                request.end,
                updates[:RUMOURS_PER_DIGEST],
                more=max(0, len(updates) - RUMOURS_PER_DIGEST),
            )
        )
    return digests


class _Events:
    """What happened between two moments, indexed by rumour."""

    def __init__(
        self,
        rumours: dict[int, Rumour],
        changes: list[StatusChange],
        quotes: list[Quote],
        sources: list[Source],
    ) -> None:
        self.rumours = rumours
        self.changes: dict[int, list[StatusChange]] = defaultdict(list)
        self.quotes: dict[int, list[Quote]] = defaultdict(list)
        self.sources: dict[int, list[Source]] = defaultdict(list)
        for change in changes:
            self.changes[change.rumour_id].append(change)
        for quote in quotes:
            self.quotes[quote.rumour_id].append(quote)
        for source in sources:
            self.sources[source.rumour_id].append(source)
        self.party_keys = {
            rumour.pk: [(p.company_id, p.company.country, p.company.sector) for p in rumour.parties.all()]
            for rumour in rumours.values()
        }

    @classmethod
    def load(cls, start: datetime, end: datetime) -> _Events:
        live = {"rumour__merged_into__isnull": True}
        changes = list(
            StatusChange.objects.in_force()
            .filter(changed_at__gte=start, changed_at__lt=end, **live)
            .select_related("evidence_source", "evidence_quote")
            .order_by("effective_at", "recorded_at", "id")
        )
        quotes = list(
            Quote.objects.filter(added_at__gte=start, added_at__lt=end, **live)
            .select_related("speaker_company")
            .order_by("said_at", "id")
        )
        sources = list(
            Source.objects.filter(added_at__gte=start, added_at__lt=end, **live).order_by(
                "outlet_tier", "-published_at", "id"
            )
        )
        new_ids = set(
            Rumour.objects.filter(created_at__gte=start, created_at__lt=end, merged_into__isnull=True).values_list(
                "pk", flat=True
            )
        )
        ids = new_ids | {c.rumour_id for c in changes} | {q.rumour_id for q in quotes} | {s.rumour_id for s in sources}
        rumours = Rumour.objects.filter(pk__in=ids).prefetch_related(
            Prefetch("parties", queryset=Party.objects.select_related("company").order_by("role", "company__name"))
        )
        return cls({rumour.pk: rumour for rumour in rumours}, changes, quotes, sources)

    def updates_for(self, request: DigestRequest) -> list[RumourUpdate]:
        subscription = request.subscription
        follows = Follows.of(subscription)
        updates = []
        for rumour in self.rumours.values():
            if rumour.credibility < subscription.min_credibility or not follows.match(self.party_keys[rumour.pk]):
                continue
            update = RumourUpdate(
                rumour,
                changes=_within(self.changes[rumour.pk], "changed_at", request),
                is_new=request.start <= rumour.created_at < request.end,
                quotes=_within(self.quotes[rumour.pk], "added_at", request),
                sources=_within(self.sources[rumour.pk], "added_at", request)[:SOURCES_PER_RUMOUR],
            )
            if update.changes or update.is_new or update.quotes or update.sources:
                updates.append(update)
        updates.sort(key=lambda update: update.importance, reverse=True)
        return updates


def _within(rows: Iterable[Any], moment: str, request: DigestRequest) -> list[Any]:
    return [row for row in rows if request.start <= getattr(row, moment) < request.end]


@dataclass(frozen=True)
class Follows:
    """What a subscription follows; ``match`` is the one rule digests and alerts share."""

    companies: frozenset[int]
    countries: frozenset[str]
    sectors: frozenset[str]

    @classmethod
    def of(cls, subscription: Subscription) -> Follows:
        return cls(
            frozenset(company.pk for company in subscription.companies.all()),
            frozenset(str(code).upper() for code in subscription.countries or []),
            frozenset(str(code) for code in subscription.sectors or []),
        )

    def match(self, parties: list[tuple[int, str, str]]) -> bool:
        if not (self.companies or self.countries or self.sectors):
            return True
        return any(
            company in self.companies or country in self.countries or sector in self.sectors
            for company, country, sector in parties
        )
