"""Detection's ORM side: the analyst inbox. Services for scanning entries into
mentions, story clusters, and accepting or dismissing what was found.

:func:`mentions_scan` runs :func:`rumours.detection.pipeline.detect` over entries
and stores the result. It is idempotent: scanning an entry again (after the entry
changed, or the watchlist did) rewrites what detection found on a mention still
waiting for a decision, and leaves an accepted or dismissed one's decision alone.
Entries that name no watchlist company get their language stored and no mention.

Story clusters: a mention joins the cluster of any stored mention whose MinHash
signature is at least :data:`~rumours.detection.fingerprint.SAME_STORY` similar,
published within :data:`COPY_WINDOW` (found through the indexed LSH band keys in
:class:`~rumours.models.StoryBand`); clusters it bridges are merged. Failing that,
deal news in another language about the same parties at the same stage within
:data:`TRANSLATION_WINDOW` joins that coverage's cluster. Sources whose entries
share a cluster share a ``story_key``, so credibility counts the story once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from rumours import services
from rumours.detection import fingerprint
from rumours.detection.names import Alias, NameIndex
from rumours.detection.pipeline import Detection, Document, Watchlist, detect
from rumours.detection.quotes import People
from rumours.models import (
    Company,
    CompanyAlias,
    DealType,
    Mention,
    MentionParty,
    MentionState,
    PartyRole,
    Person,
    PersonAlias,
    Rumour,
    Source,
    Status,
    StoryBand,
    StoryCluster,
    transition_allowed,
)
from tracker.models import Entry
from tracker.services import entry_set_language

logger = logging.getLogger(__name__)

COPY_WINDOW = timedelta(days=7)
CLUSTERING_LOCK = 7_418_113  # any fixed number: the advisory lock's name
TRANSLATION_WINDOW = timedelta(days=3)
SCAN_CHUNK = 200


@dataclass
class ScanSummary:
    scanned: int = 0
    flagged: int = 0  # entries with a mention (they name a watchlist company)
    deal_candidates: int = 0
    removed: int = 0  # mentions dropped because an edited entry no longer names anyone


# --- The watchlist, as detection reads it ----------------------------------------------------

_cached: tuple[str, Watchlist] | None = None


def watchlist_current() -> Watchlist:
    """The companies and people detection matches, rebuilt only when they changed.

    The stamp is a digest of the rows detection reads (names, aliases and their
    ambiguity, people's roles and companies): four narrow queries, a few milliseconds
    for the bundled watchlist, about a tenth of a second for 10,000 companies. Building
    the automata costs more (up to a second), so it is done only when the stamp moves.
    """
    global _cached
    digest = hashlib.blake2b(digest_size=16)
    for rows in (
        Company.objects.order_by("pk").values_list("pk", "name"),
        CompanyAlias.objects.order_by("pk").values_list("pk", "company_id", "alias", "is_ambiguous"),
        Person.objects.order_by("pk").values_list("pk", "name", "role", "company_id"),
        PersonAlias.objects.order_by("pk").values_list("pk", "person_id", "alias"),
    ):
        for row in rows.iterator(chunk_size=5000):
            digest.update(repr(row).encode())
        digest.update(b"|")
    stamp = digest.hexdigest()
    if _cached is None or _cached[0] != stamp:
        _cached = (stamp, watchlist_build())
    return _cached[1]


def watchlist_build() -> Watchlist:
    names = dict(Company.objects.values_list("pk", "name"))
    aliases = [
        Alias(company_id, alias, ambiguous)
        for company_id, alias, ambiguous in CompanyAlias.objects.values_list("company_id", "alias", "is_ambiguous")
    ]
    # A company's own name is an alias too, unless an alias spells it (and says whether it is ambiguous).
    spelled = {(alias.owner_id, alias.text.casefold()) for alias in aliases}
    aliases += [Alias(pk, name) for pk, name in names.items() if (pk, name.casefold()) not in spelled]
    people = list(Person.objects.values_list("pk", "name", "role", "company_id"))
    person_aliases = [Alias(pk, name) for pk, name, _role, _company in people]
    person_aliases += [Alias(pid, alias) for pid, alias in PersonAlias.objects.values_list("person_id", "alias")]
    return Watchlist(
        companies=NameIndex(aliases),
        company_names=names,
        people=People(
            index=NameIndex(person_aliases),
            names={pk: name for pk, name, _role, _company in people},
            roles={pk: role for pk, _name, role, _company in people},
            companies={pk: company for pk, _name, _role, company in people},
        ),
    )


# --- Scanning -----------------------------------------------------------------------------


def mentions_scan(*, entry_ids: Sequence[int]) -> ScanSummary:
    """Detect over the entries and put what names watchlist companies in the inbox. Idempotent.

    Entries are scanned oldest first, each in its own transaction, so a later copy
    of a story finds the earlier one's cluster even within one batch.
    """
    summary = ScanSummary()
    watchlist = watchlist_current()
    ids = list(entry_ids)
    for offset in range(0, len(ids), SCAN_CHUNK):
        chunk = Entry.objects.filter(pk__in=ids[offset : offset + SCAN_CHUNK]).select_related("feed")
        for entry in chunk.order_by("published_at", "pk"):
            detection = detect(
                Document(
                    title=entry.title,
                    body=entry.content or entry.summary,
                    language=entry.language,
                    published_at=entry.published_at,
                ),
                watchlist,
            )
            summary.scanned += 1
            with transaction.atomic():
                outcome = _store(entry, detection, watchlist)
            if outcome == "removed":
                summary.removed += 1
            elif outcome is not None:
                summary.flagged += 1
                summary.deal_candidates += detection.is_deal_candidate
    return summary


def _store(entry: Entry, detection: Detection, watchlist: Watchlist) -> str | None:
    entry_set_language(entry=entry, language=detection.language)
    if not detection.companies:
        # edited so that it no longer names anyone: it leaves the inbox unless decided
        deleted, _ = Mention.objects.filter(entry=entry, state=MentionState.NEW).delete()
        return "removed" if deleted else None
    mention, created = _mention_for(entry)
    # A decided mention keeps what the analyst saw when deciding; a new one (even one accepted
    # at once because a rumour already cites its entry) gets what detection found.
    if mention.state == MentionState.NEW or created:
        mention.is_deal_candidate = detection.is_deal_candidate
        mention.deal_score = detection.deal_score
        mention.stage_hint = detection.stage_hint
        mention.deal_type = detection.deal_type
        mention.signals = detection.signals
        mention.suggested_quotes = [_quote_as_json(quote, watchlist) for quote in detection.quotes]
        mention.suggested_rumour = _open_rumour_for(set(detection.parties), set(detection.companies))
        mention.companies.set(detection.companies)
        MentionParty.objects.filter(mention=mention).delete()
        MentionParty.objects.bulk_create(
            [
                MentionParty(mention=mention, company_id=company, position=n)
                for n, company in enumerate(detection.parties)
            ]
        )
    mention.signature = detection.signature
    mention.scanned_at = timezone.now()
    mention.save()
    _cluster(mention, entry)
    return "flagged"


def _mention_for(entry: Entry) -> tuple[Mention, bool]:
    """The entry's mention, locked, and whether it is new (accepted at once if a rumour already cites the entry)."""
    try:
        with transaction.atomic():
            mention, created = Mention.objects.get_or_create(entry=entry)
    except IntegrityError:  # a duplicate scan created it a moment ago
        created = False
    mention = Mention.objects.select_for_update().get(entry=entry)
    if created:
        cited = Source.objects.filter(entry=entry).select_related("rumour").first()
        if cited is not None:  # already on a thread: nothing left to decide
            mention.state, mention.rumour, mention.state_changed_at = (
                MentionState.ACCEPTED,
                cited.rumour,
                timezone.now(),
            )
    return mention, created


def _quote_as_json(quote: Any, watchlist: Watchlist) -> dict[str, Any]:
    return {
        "speaker": quote.speaker,
        "person": quote.person_id,
        "role": quote.role,
        "company": watchlist.company_names.get(quote.company_id, "") if quote.company_id else "",
        "company_id": quote.company_id,
        "text": quote.text,
        "stance": quote.stance,
    }


def _open_rumour_for(parties: set[int], named: set[int]) -> Rumour | None:
    """The open thread with exactly the deal's parties; else the most recently active one
    whose parties (two or more) the article all names."""
    open_threads = Rumour.objects.filter(merged_into__isnull=True).exclude(
        status__in=[Status.COMPLETED, Status.ABANDONED]
    )
    if parties:
        exact = (
            open_threads.annotate(
                party_count=Count("parties", distinct=True),
                matched=Count("parties", filter=Q(parties__company_id__in=parties), distinct=True),
            )
            .filter(party_count=len(parties), matched=len(parties))
            .order_by("-updated_at")
            .first()
        )
        if exact is not None:
            return exact
    if len(named) < 2:
        return None
    # Threads none of whose parties the article leaves out: no party outside the named companies.
    return (
        open_threads.annotate(
            party_count=Count("parties", distinct=True),
            matched=Count("parties", filter=Q(parties__company_id__in=named), distinct=True),
        )
        .filter(party_count__gte=2, matched=F("party_count"))
        .order_by("-updated_at")
        .first()
    )


# --- Story clusters ----------------------------------------------------------------------------


def _cluster(mention: Mention, entry: Entry) -> None:
    _serialise_clustering()
    signature = bytes(mention.signature)
    keys = fingerprint.band_keys(signature)
    published = entry.published_at
    similar_clusters: set[int] = set()
    if keys:
        # Candidates: other outlets' articles sharing a band key, most keys first. The same feed's
        # entries share its boilerplate (a footer, a disclaimer), not its stories.
        candidates = (
            StoryBand.objects.filter(
                key__in=keys, mention__entry__published_at__range=(published - COPY_WINDOW, published + COPY_WINDOW)
            )
            .exclude(mention=mention)
            .exclude(mention__entry__feed_id=entry.feed_id)
            .values("mention_id")
            .annotate(shared=Count("pk"))
            .order_by("-shared")
            .values_list("mention_id", flat=True)[:200]
        )
        named = set(mention.companies.values_list("pk", flat=True))
        rows = Mention.objects.filter(pk__in=list(candidates), companies__in=named).distinct()
        for other_signature, cluster_id in rows.values_list("signature", "cluster_id"):
            if cluster_id and fingerprint.similarity(signature, bytes(other_signature)) >= fingerprint.SAME_STORY:
                similar_clusters.add(cluster_id)
    target = min(similar_clusters) if similar_clusters else None
    if len(similar_clusters) > 1:  # this article bridges two clusters: they were one story
        others = similar_clusters - {target}
        Mention.objects.filter(cluster_id__in=others).update(cluster_id=target)
        StoryCluster.objects.filter(pk__in=others).delete()
    if target is None and mention.is_deal_candidate:
        target = _translated_coverage(mention, entry)
    if target is None:
        target = mention.cluster_id or StoryCluster.objects.create().pk
    if target != mention.cluster_id:
        left = mention.cluster_id
        Mention.objects.filter(pk=mention.pk).update(cluster_id=target)
        mention.cluster_id = target
        if left is not None:
            StoryCluster.objects.filter(pk=left, mentions__isnull=True).delete()
    StoryBand.objects.filter(mention=mention).delete()
    StoryBand.objects.bulk_create([StoryBand(mention=mention, key=key) for key in set(keys)])
    _sources_follow_cluster(target)


def _serialise_clustering() -> None:
    """One clusterer at a time, until this entry's transaction commits.

    Two workers scanning two outlets' copies of a wire story at once would otherwise
    each miss the other's uncommitted bands and open two clusters. On PostgreSQL a
    transaction-level advisory lock orders them; SQLite serialises writers anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLUSTERING_LOCK])


def _translated_coverage(mention: Mention, entry: Entry) -> int | None:
    """The cluster of deal news in another language on the same parties and stage, days apart."""
    parties = set(mention.parties.values_list("pk", flat=True))
    if not parties:
        return None
    published = entry.published_at
    candidates = (
        Mention.objects.filter(
            is_deal_candidate=True,
            stage_hint=mention.stage_hint,
            cluster__isnull=False,
            parties__in=parties,
            entry__published_at__range=(published - TRANSLATION_WINDOW, published + TRANSLATION_WINDOW),
        )
        .exclude(pk=mention.pk)
        .exclude(entry__language=entry.language)
        .prefetch_related("parties")
        .select_related("entry")
        .distinct()[:50]
    )
    matching = [other for other in candidates if {c.pk for c in other.parties.all()} == parties]
    if not matching:
        return None
    closest = min(matching, key=lambda other: abs(other.entry.published_at - published))
    return closest.cluster_id


def _sources_follow_cluster(cluster_id: int) -> None:
    """Sources citing entries of one cluster share its story key (credibility counts it once)."""
    key = f"cluster:{cluster_id}"
    stale = Source.objects.filter(entry__mention__cluster_id=cluster_id).exclude(story_key=key)
    rumour_ids = set(stale.values_list("rumour_id", flat=True))
    if rumour_ids:
        stale.update(story_key=key)
        for rumour in Rumour.objects.filter(pk__in=rumour_ids):
            services.rumour_refresh(rumour=rumour)


# --- Decisions -----------------------------------------------------------------------------


def mentions_dismiss(*, mention_ids: Iterable[int], by: User) -> int:
    return Mention.objects.filter(pk__in=list(mention_ids), state=MentionState.NEW).update(
        state=MentionState.DISMISSED, state_changed_at=timezone.now(), state_changed_by=by
    )


def mention_accept(
    *,
    mention: Mention,
    by: User,
    rumour: Rumour | None = None,
    quote_indexes: Sequence[int] = (),
    title: str = "",
) -> Rumour:
    """Accept an article: onto ``rumour`` (an existing thread), or onto a new thread opened
    from detection's proposal (its parties, deal type and stage). The article becomes a
    source and the chosen suggested quotes (by position) become quotes, all through the
    rumours services."""
    with transaction.atomic():
        # Locked, so two analysts accepting at once cannot both get past the check.
        mention = Mention.objects.select_for_update().select_related("entry__feed").get(pk=mention.pk)
        if mention.state != MentionState.NEW:
            raise services.RumourError(f"This article was already {mention.get_state_display().lower()}.")
        suggestions = mention.suggested_quotes or []
        bad = [index for index in quote_indexes if not 0 <= index < len(suggestions)]
        if bad:
            raise services.RumourError(f"There is no suggested quote number {bad[0] + 1}.")
        if rumour is None:
            rumour = _rumour_from_proposal(mention, by=by, title=title)
        else:
            services.rumour_attach_source(rumour=rumour, entry=mention.entry, added_by=by)
        source = Source.objects.get(rumour=rumour, url=mention.entry.link)
        people = Person.objects.in_bulk([s["person"] for s in suggestions if s.get("person")])
        companies = Company.objects.in_bulk([s["company_id"] for s in suggestions if s.get("company_id")])
        for index in quote_indexes:
            suggestion = suggestions[index]
            services.quote_add(
                rumour=rumour,
                text=suggestion["text"],
                said_at=mention.entry.published_at,
                added_by=by,
                speaker=people.get(suggestion.get("person") or 0),
                speaker_name=suggestion.get("speaker", ""),
                speaker_role=suggestion.get("role", ""),
                speaker_company=companies.get(suggestion.get("company_id") or 0),
                stance=suggestion.get("stance") or "neutral",
                source=source,
                language=mention.entry.language,
            )
    return rumour


def _rumour_from_proposal(mention: Mention, *, by: User, title: str) -> Rumour:
    parties = mention.party_list or list(mention.companies.all())
    if not parties:
        raise services.RumourError("Detection found no parties here; create the rumour by hand.")
    deal_type = mention.deal_type if mention.deal_type in DealType.values else DealType.ACQUISITION
    role = PartyRole.MERGER_PARTY if deal_type == DealType.MERGER else PartyRole.ACQUIRER
    specs = [services.PartySpec(company=parties[0], role=role)]
    other_role = PartyRole.MERGER_PARTY if deal_type == DealType.MERGER else PartyRole.TARGET
    specs += [services.PartySpec(company=company, role=other_role) for company in parties[1:]]
    title = title.strip() or proposal_title(parties=[c.name for c in parties], deal_type=deal_type)
    rumour = services.rumour_create(title=title, parties=specs, created_by=by, deal_type=deal_type, entry=mention.entry)
    status = mention.stage_hint or Status.RUMOURED
    source = Source.objects.get(rumour=rumour, url=mention.entry.link)
    effective_at = min(mention.entry.published_at, timezone.now())
    steps = [status] if transition_allowed(None, status) else [Status.RUMOURED, status]
    for step in steps:
        # A deal first heard of as abandoned was rumoured before: the thread opens with that,
        # from the same article, and then records what the article reports.
        services.rumour_change_status(
            rumour=rumour,
            status=step,
            effective_at=effective_at,
            recorded_by=by,
            evidence_source=source,
            note="Opened from the inbox." if step == steps[0] else "",
        )
    return rumour


def proposal_title(*, parties: Sequence[str], deal_type: str) -> str:
    """“GoTo–Grab merger”, “Lazada–Tiki acquisition”: the title a proposed thread gets."""
    label = DealType(deal_type).label.split(" ")[0].lower() if deal_type in DealType.values else "deal"
    return f"{'–'.join(parties)} {label}"


def entries_to_scan(*, since: datetime | None = None) -> list[int]:
    """Entry ids for ``scan_entries``: all entries, or those changed since a moment."""
    entries = Entry.objects.all()
    if since is not None:
        entries = entries.filter(updated_at__gte=since)
    return list(entries.order_by("published_at", "pk").values_list("pk", flat=True))
