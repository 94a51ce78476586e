"""Reads about rumours that are more than a one-liner, each at a fixed query cost."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Case, F, OuterRef, Prefetch, Q, QuerySet, Subquery, When

from rumours import credibility
from rumours.models import Party, Quote, Rumour, Source, StatusChange


def rumours_as_of(moment: datetime) -> QuerySet[Rumour]:
    """Every rumour as known at ``moment``, with ``status_as_of`` and ``status_effective_as_of``.

    Point-in-time with no look-ahead: a change counts if it was recorded by then,
    took effect by then, and had not been retracted by then (a retraction made later
    is invisible; one made before is applied). Rumours with no such change did not
    exist yet and are left out. Merges are applied as of when they happened: before
    it, a duplicate answers with its own history and the thread it went into without
    it. One query, whatever the number of rumours.
    """
    # A rumour's rows live under its ``home``: itself, or (for a duplicate merged after D)
    # the thread it went into. Filtering on rumour_id = home keeps the (rumour, effective_at)
    # index in play; the origin test only matters for the rare rows a merge moved.
    visible = (
        StatusChange.objects.filter(rumour_id=OuterRef("home"))
        .filter(Q(origin_rumour_id=OuterRef("pk")) | Q(rumour_id=OuterRef("pk"), origin_rumour__merged_at__lte=moment))
        .known_at(moment)
        .order_by("-effective_at", "-recorded_at", "-id")
    )
    return (
        Rumour.objects.filter(Q(merged_into__isnull=True) | Q(merged_at__gt=moment))
        .annotate(home=Case(When(merged_at__gt=moment, then=F("merged_into_id")), default=F("pk")))
        .annotate(
            status_as_of=Subquery(visible.values("status")[:1]),
            status_effective_as_of=Subquery(visible.values("effective_at")[:1]),
        )
        .filter(status_as_of__isnull=False)
    )


def statuses_as_of(moment: datetime) -> dict[int, str]:
    """``{rumour id: status}`` as known at ``moment``; one query."""
    # django-stubs cannot see fields added by annotate() in another function.
    return dict(rumours_as_of(moment).values_list("pk", "status_as_of"))  # type: ignore[misc]


def status_history(rumour: Rumour, *, as_of: datetime | None = None) -> QuerySet[StatusChange]:
    """A rumour's changes in effective order, retracted ones included (and marked)."""
    changes = StatusChange.objects.filter(rumour=rumour)
    if as_of is not None:
        changes = changes.filter(recorded_at__lte=as_of, effective_at__lte=as_of)
    return changes.select_related("recorded_by", "retracted_by", "evidence_source", "evidence_quote").order_by(
        "effective_at", "recorded_at", "id"
    )


def rumour_list() -> QuerySet[Rumour]:
    """Open threads (not merged away) with their parties, for lists: three queries."""
    return Rumour.objects.filter(merged_into__isnull=True).prefetch_related(
        Prefetch("parties", queryset=Party.objects.select_related("company").order_by("role", "company__name"))
    )


def credibility_of(
    *,
    sources: Iterable[Source],
    quotes: Iterable[Quote],
    party_company_ids: set[int],
    status: str,
    last_evidence_at: datetime | None,
    now: datetime,
) -> tuple[int, list[credibility.Part]]:
    """Score a rumour from its records: the one place model rows become credibility facts.

    The service stores the result; the API recomputes it for ``as_of`` from what was known then.
    """
    return credibility.score(
        sources=[credibility.SourceFact(story_key=s.story_key or s.url, tier=s.outlet_tier) for s in sources],
        quotes=[
            credibility.QuoteFact(
                stance=q.stance, by_party=q.speaker_company_id in party_company_ids, speaker=q.speaker_name
            )
            for q in quotes
        ],
        status=status,
        last_evidence_at=last_evidence_at,
        now=now,
    )


def status_changes_for_sync(
    *, settled_before: datetime, since: tuple[datetime, int] | None, as_of: datetime | None, rumour_id: int | None
) -> QuerySet[StatusChange]:
    """Rows for incremental sync, in the order they were written: (changed_at, id) after ``since``."""
    changes = StatusChange.objects.filter(changed_at__lte=settled_before, rumour__merged_into__isnull=True)
    if as_of is not None:
        # recorded by then; a later retraction shows as not (yet) retracted
        changes = changes.filter(recorded_at__lte=as_of, effective_at__lte=as_of)
    if rumour_id is not None:
        changes = changes.filter(rumour_id=rumour_id)
    if since is not None:
        moment, pk = since
        changes = changes.filter(Q(changed_at__gt=moment) | Q(changed_at=moment, pk__gt=pk))
    return changes.order_by("changed_at", "id")
