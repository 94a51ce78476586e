"""Every write to companies, rumours, sources, quotes and status history.

The admin, management commands, tasks and (later) the API call these functions;
nothing else writes this state. Each is one transaction with keyword-only
arguments. A status change or retraction re-derives the rumour's cached status and
credibility from the history in the same transaction.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from rumours import webhooks
from rumours.models import (
    ApiKey,
    ApiScope,
    Company,
    CompanyAlias,
    DealType,
    Mention,
    MentionState,
    Party,
    PartyRole,
    Person,
    PersonAlias,
    Quote,
    Rumour,
    Source,
    Stance,
    Status,
    StatusChange,
    transition_allowed,
)
from rumours.selectors import credibility_of
from tracker.models import Entry

logger = logging.getLogger(__name__)


class RumourError(Exception):
    """A write the domain rules refuse; ``str()`` is for people."""


class InvalidTransitionError(RumourError):
    def __init__(self, current: str | None, new: str, *, when: str = "") -> None:
        self.current, self.new = current, new
        before = Status(current).label if current else "no status yet"
        super().__init__(
            f"A rumour cannot move from {before} to {Status(new).label}{when}. "
            "Completed deals are final; denied, abandoned and expired rumours can revive."
        )


# --- Companies and people ---------------------------------------------------------------


@dataclass(frozen=True)
class AliasSpec:
    alias: str
    language: str = ""
    ambiguous: bool = False


@dataclass(frozen=True)
class CompanySpec:
    name: str
    country: str
    sector: str
    tickers: Sequence[str] = ()
    website: str = ""
    aliases: Sequence[AliasSpec] = field(default_factory=tuple)


def company_upsert(*, spec: CompanySpec) -> tuple[Company, bool]:
    """Create or update a company by name, replacing its aliases with ``spec.aliases``."""
    with transaction.atomic():
        company, created = Company.objects.get_or_create(
            name=spec.name,
            defaults={"slug": _unique_slug(Company, spec.name), "country": spec.country, "sector": spec.sector},
        )
        company.country, company.sector = spec.country, spec.sector
        company.tickers, company.website = list(spec.tickers), spec.website
        company.updated_at = timezone.now()
        company.save(update_fields=["country", "sector", "tickers", "website", "updated_at"])
        wanted = {unicodedata.normalize("NFKC", a.alias).casefold().strip(): a for a in spec.aliases}
        company.aliases.exclude(normalised__in=list(wanted)).delete()
        existing = {alias.normalised: alias for alias in company.aliases.all()}
        for normalised, alias_spec in wanted.items():
            alias = existing.get(normalised) or CompanyAlias(company=company)
            alias.alias, alias.language, alias.is_ambiguous = (
                alias_spec.alias,
                alias_spec.language,
                alias_spec.ambiguous,
            )
            alias.save()
    return company, created


def person_upsert(
    *, name: str, company: Company | None, role: str = "", aliases: Iterable[AliasSpec] = ()
) -> tuple[Person, bool]:
    with transaction.atomic():
        person, created = Person.objects.get_or_create(name=name, company=company, defaults={"role": role})
        if role and person.role != role:
            person.role = role
            person.save(update_fields=["role"])
        known = set(person.aliases.values_list("normalised", flat=True))
        for spec in aliases:
            if unicodedata.normalize("NFKC", spec.alias).casefold().strip() not in known:
                PersonAlias(person=person, alias=spec.alias, language=spec.language).save()
    return person, created


# --- Rumours ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartySpec:
    company: Company
    role: str


def rumour_create(
    *,
    title: str,
    parties: Sequence[PartySpec],
    created_by: User | None,
    deal_type: str = DealType.MERGER,
    summary: str = "",
    value_amount: Decimal | None = None,
    value_currency: str = "",
    stake_percent: Decimal | None = None,
    entry: Entry | None = None,
) -> Rumour:
    """Open a deal thread; with ``entry``, the article it came from becomes its first source."""
    if not title.strip():
        raise RumourError("A rumour needs a title, e.g. “GoTo–Grab merger”.")
    if len(parties) < 1:
        raise RumourError("A rumour needs at least one party.")
    if len({p.company.pk for p in parties}) != len(parties):
        raise RumourError("A company can be a party only once per rumour.")
    if deal_type not in DealType.values:
        raise RumourError(f"Unknown deal type {deal_type!r}; use one of {', '.join(DealType.values)}.")
    bad_roles = sorted({p.role for p in parties} - set(PartyRole.values))
    if bad_roles:
        raise RumourError(f"Unknown party role {bad_roles[0]!r}; use one of {', '.join(PartyRole.values)}.")
    with transaction.atomic():
        rumour = Rumour.objects.create(
            title=title.strip(),
            slug=_unique_slug(Rumour, title),
            deal_type=deal_type,
            summary=summary,
            value_amount=value_amount,
            value_currency=value_currency.upper(),
            stake_percent=stake_percent,
            created_by=created_by,
        )
        Party.objects.bulk_create([Party(rumour=rumour, company=p.company, role=p.role) for p in parties])
        if entry is not None:
            rumour_attach_source(rumour=rumour, entry=entry, added_by=created_by)
        webhooks.event_rumour_created(rumour)
    return rumour


EDITABLE_RUMOUR_FIELDS = frozenset({"title", "deal_type", "summary", "value_amount", "value_currency", "stake_percent"})


def rumour_update(*, rumour: Rumour, changes: dict[str, Any]) -> Rumour:
    """Change a rumour's descriptive fields (never its derived status or credibility)."""
    unknown = set(changes) - EDITABLE_RUMOUR_FIELDS
    if unknown:
        raise RumourError(f"These rumour fields are not editable: {', '.join(sorted(unknown))}.")
    if "title" in changes and not str(changes["title"]).strip():
        raise RumourError("A rumour needs a title.")
    if "value_currency" in changes:
        changes["value_currency"] = str(changes["value_currency"] or "").upper()
    with transaction.atomic():
        Rumour.objects.filter(pk=rumour.pk).update(**changes, updated_at=timezone.now())
        rumour.refresh_from_db()
    return rumour


def rumour_attach_source(
    *,
    rumour: Rumour,
    added_by: User | None,
    entry: Entry | None = None,
    url: str = "",
    title: str = "",
    outlet: str = "",
    outlet_tier: int | None = None,
    published_at: datetime | None = None,
    language: str = "",
    excerpt: str = "",
) -> Source:
    """Attach an article (an ingested entry, or a URL typed in). Idempotent per URL."""
    if entry is not None:
        url = url or entry.link
        title = title or entry.title
        outlet = outlet or entry.feed.title
        outlet_tier = outlet_tier or entry.feed.tier
        published_at = published_at or entry.published_at
        language = language or entry.language
    if not url:
        raise RumourError("A source needs a URL (or an ingested entry that has one).")
    if published_at is None:
        raise RumourError("A source typed in needs its publication date.")
    if not url.lower().startswith(("http://", "https://")):
        raise RumourError(f"A source's URL must be http(s), not {url[:40]!r}.")
    _refuse_merged(rumour)
    with transaction.atomic():
        source, created = Source.objects.get_or_create(
            rumour=rumour,
            url=url,
            defaults={
                "entry": entry,
                "title": title[:1000],
                "outlet": outlet[:300],
                "outlet_tier": outlet_tier or 2,
                "published_at": published_at,
                "language": language,
                "excerpt": excerpt,
                "story_key": _story_key_of(entry) or story_key(title or url),
                "added_by": added_by,
            },
        )
        if created:
            _touch(rumour)
        if entry is not None:  # the article leaves the inbox, accepted onto this thread
            Mention.objects.filter(entry=entry).exclude(state=MentionState.ACCEPTED).update(
                state=MentionState.ACCEPTED, state_changed_at=timezone.now(), state_changed_by=added_by, rumour=rumour
            )
    return source


def api_key_create(
    *, user: User, name: str, scope: str = ApiScope.INVESTOR, created_by: User | None
) -> tuple[ApiKey, str]:
    """Issue a key; returns (record, the key itself). The key is not stored and cannot be shown again."""
    if scope not in ApiScope.values:
        raise RumourError(f"Unknown scope {scope!r}; use one of {', '.join(ApiScope.values)}.")
    if not user.is_active:
        raise RumourError(f"{user.get_username()} is not an active user.")
    prefix = secrets.token_hex(4)
    key = f"srt_{prefix}_{secrets.token_urlsafe(32)}"
    record = ApiKey.objects.create(
        user=user, name=name.strip() or "API key", prefix=prefix, key_hash=api_key_hash(key), scope=scope,
        created_by=created_by,
    )  # fmt: skip
    return record, key


def api_key_hash(key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db()
    return api_key


def _story_key_of(entry: Entry | None) -> str | None:
    """An entry detection put in a story cluster counts as that story (see rumours.mentions)."""
    if entry is None:
        return None
    cluster_id = Mention.objects.filter(entry=entry).values_list("cluster_id", flat=True).first()
    return f"cluster:{cluster_id}" if cluster_id else None


def story_key(title: str) -> str:
    """For a source detection has not clustered (a URL typed in): syndicated copies
    usually keep the wire's headline, so same words, same story.

    The key is the place where "count a story once" is decided; clustered entries
    use ``cluster:<id>`` instead (see :mod:`rumours.mentions`).
    """
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", title).casefold())
    return hashlib.sha256(" ".join(words).encode()).hexdigest()


def quote_add(
    *,
    rumour: Rumour,
    text: str,
    said_at: datetime,
    added_by: User | None,
    speaker: Person | None = None,
    speaker_name: str = "",
    speaker_role: str = "",
    speaker_company: Company | None = None,
    stance: str = Stance.NEUTRAL,
    source: Source | None = None,
    translation: str = "",
    language: str = "",
) -> Quote:
    """Record an executive's exact words. The speaker's role and company are kept as
    they were when the words were said (from the person record unless given)."""
    if not text.strip():
        raise RumourError("A quote needs its exact text.")
    if stance not in Stance.values:
        raise RumourError(f"Unknown stance {stance!r}; use one of {', '.join(Stance.values)}.")
    if speaker is None and not speaker_name.strip():
        raise RumourError("A quote needs a speaker: a known person or the name as attributed.")
    if source is not None and source.rumour_id != rumour.pk:
        raise RumourError("The quote's source belongs to another rumour.")
    _refuse_merged(rumour)
    with transaction.atomic():
        quote = Quote.objects.create(
            rumour=rumour,
            source=source,
            speaker=speaker,
            speaker_name=speaker_name.strip() or (speaker.name if speaker else ""),
            speaker_role=speaker_role or (speaker.role if speaker else ""),
            speaker_company=speaker_company or (speaker.company if speaker else None),
            text=text,
            translation=translation,
            language=language or (source.language if source else ""),
            stance=stance,
            said_at=said_at,
            added_by=added_by,
        )
        _touch(rumour)
        webhooks.event_quote_added(quote)
    return quote


def rumour_change_status(
    *,
    rumour: Rumour,
    status: str,
    effective_at: datetime,
    recorded_by: User | None,
    evidence_source: Source | None = None,
    evidence_quote: Quote | None = None,
    note: str = "",
    recorded_at: datetime | None = None,
) -> StatusChange:
    """Append a status change, checked against the history around ``effective_at``.

    The change must be a valid move from the status in force just before it, and
    the next change already recorded after it must still be a valid move from it.
    ``recorded_at`` defaults to now; set it only when loading historical records.
    """
    now = timezone.now()
    recorded_at = recorded_at or now
    if status not in Status.values:
        raise RumourError(f"Unknown status {status!r}.")
    if effective_at > now + timedelta(minutes=5):
        raise RumourError("A status change cannot take effect in the future.")
    if recorded_at > now + timedelta(minutes=5):
        raise RumourError("A status change cannot be recorded in the future.")
    for evidence in (evidence_source, evidence_quote):
        if evidence is not None and evidence.rumour_id != rumour.pk:
            raise RumourError("The evidence belongs to another rumour.")
    with transaction.atomic():
        rumour = Rumour.objects.select_for_update().get(pk=rumour.pk)
        _refuse_merged(rumour)
        # Neighbours by the same key that decides the current status: (effective_at, recorded_at);
        # the new change sorts after every change with an earlier key.
        history = StatusChange.objects.filter(rumour=rumour).in_force()
        earlier = Q(effective_at__lt=effective_at) | Q(effective_at=effective_at, recorded_at__lte=recorded_at)
        before = history.filter(earlier).latest_first().first()
        after = history.exclude(earlier).order_by("effective_at", "recorded_at", "id").first()
        current = before.status if before else None
        if not transition_allowed(current, status):
            raise InvalidTransitionError(current, status, when=f" on {effective_at:%Y-%m-%d}")
        if after is not None and not transition_allowed(status, after.status):
            raise InvalidTransitionError(
                status, after.status, when=f" (the change already recorded for {after.effective_at:%Y-%m-%d})"
            )
        change = StatusChange.objects.create(
            rumour=rumour,
            status=status,
            effective_at=effective_at,
            recorded_at=recorded_at,
            changed_at=timezone.now(),
            recorded_by=recorded_by,
            evidence_source=evidence_source,
            evidence_quote=evidence_quote,
            note=note,
        )
        rumour_refresh(rumour=rumour)
        webhooks.event_status_changed(change)
        _alert_subscribers(change)
    return change


def _alert_subscribers(change: StatusChange) -> None:
    """Plan the instant alerts in this transaction (an outbox: beat's digest tick sends any the
    broker missed), and hand them to a worker once it commits."""
    from rumours.digests.services import alerts_plan

    ready = alerts_plan(status_change_id=change.pk)
    if ready:
        transaction.on_commit(lambda: _enqueue_alerts(ready))


def _enqueue_alerts(delivery_ids: list[int]) -> None:
    from rumours.tasks import send_digests

    try:
        send_digests.delay(delivery_ids)
    except Exception:  # the broker is down: the rows stay planned and the next digest tick sends them
        logger.warning("could not enqueue %d alert(s); the digest tick will send them", len(delivery_ids))


def status_change_retract(*, change: StatusChange, retracted_by: User, reason: str) -> StatusChange:
    """Correct the record: the change stays in the history, marked retracted and why."""
    if not reason.strip():
        raise RumourError("Say why the change is retracted; the reason stays in the record.")
    with transaction.atomic():
        Rumour.objects.select_for_update().filter(pk=change.rumour_id).exists()
        change = StatusChange.objects.select_for_update().get(pk=change.pk)
        if change.retracted_at is not None:
            raise RumourError("This change was already retracted.")
        now = timezone.now()
        change.retracted_at, change.retracted_by, change.retraction_reason = now, retracted_by, reason
        change.changed_at = now
        change.save(update_fields=["retracted_at", "retracted_by", "retraction_reason", "changed_at"])
        rumour_refresh(rumour=change.rumour)
    return change


def rumours_merge(*, keep: Rumour, duplicate: Rumour, merged_by: User) -> Rumour:
    """Fold a duplicate thread into ``keep``: parties, sources, quotes and history move.

    The duplicate stays, marked ``merged_into``, so links to it still resolve.
    """
    if keep.pk == duplicate.pk:
        raise RumourError("A rumour cannot be merged into itself.")
    with transaction.atomic():
        # Lock both in primary-key order, so two opposite merges cannot deadlock.
        locked = {
            r.pk: r for r in Rumour.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk]).order_by("pk")
        }
        keep, duplicate = locked[keep.pk], locked[duplicate.pk]
        if duplicate.merged_into_id or keep.merged_into_id:
            raise RumourError("One of these rumours was already merged.")
        kept_companies = set(keep.parties.values_list("company_id", flat=True))
        duplicate.parties.exclude(company_id__in=kept_companies).update(rumour=keep)
        kept_sources = {s.url: s for s in keep.sources.all()}
        for source in duplicate.sources.all():
            twin = kept_sources.get(source.url)
            if twin is None:
                Source.objects.filter(pk=source.pk).update(rumour=keep)
            else:  # the same article on both threads: keep one, re-point what cited the other
                Quote.objects.filter(source=source).update(source=twin)
                StatusChange.objects.filter(evidence_source=source).update(evidence_source=twin)
        Quote.objects.filter(rumour=duplicate).update(rumour=keep)
        StatusChange.objects.filter(rumour=duplicate).update(rumour=keep)
        duplicate.merged_into, duplicate.merged_at = keep, timezone.now()
        duplicate.summary = (duplicate.summary + f"\n\nMerged into #{keep.pk} by {merged_by}.").strip()
        duplicate.save(update_fields=["merged_into", "merged_at", "summary"])
        rumour_refresh(rumour=duplicate)
        rumour_refresh(rumour=keep)
    return keep


def rumours_expire_stale(*, now: datetime | None = None) -> list[Rumour]:
    """Mark open rumours with no new evidence for RUMOURS_EXPIRE_AFTER_DAYS as expired.

    Recorded by the system (``recorded_by`` empty), effective now.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RUMOURS_EXPIRE_AFTER_DAYS)
    stale_statuses = {Status.RUMOURED, Status.IN_TALKS, Status.DENIED}
    stale = Rumour.objects.filter(
        merged_into__isnull=True, status__in=stale_statuses, last_evidence_at__lt=cutoff
    ).only("pk")
    expired = []
    for candidate in stale:
        with transaction.atomic():
            # Re-check under the lock: an analyst may have moved it on since the query.
            rumour = Rumour.objects.select_for_update().get(pk=candidate.pk)
            still_stale = (
                rumour.status in stale_statuses and rumour.last_evidence_at and rumour.last_evidence_at < cutoff
            )
            if not still_stale:
                continue
            days = (now - rumour.last_evidence_at).days if rumour.last_evidence_at else 0
            try:
                rumour_change_status(
                    rumour=rumour,
                    status=Status.EXPIRED,
                    effective_at=now,
                    recorded_by=None,
                    note=f"No new evidence for {days} days "
                    f"(RUMOURS_EXPIRE_AFTER_DAYS={settings.RUMOURS_EXPIRE_AFTER_DAYS}).",
                )
            except RumourError as exc:  # one odd history must not stop the night's run
                logger.warning("rumour %s not expired: %s", rumour.pk, exc)
                continue
        expired.append(rumour)
    return expired


def rumours_refresh_credibility(*, now: datetime | None = None) -> int:
    """Re-score every live rumour (the age part moves daily); returns how many."""
    now = now or timezone.now()
    live = Rumour.objects.filter(merged_into__isnull=True).exclude(status__in=[Status.COMPLETED, ""])
    count = 0
    for rumour in live.iterator():
        with transaction.atomic():
            rumour_refresh(rumour=rumour, now=now)
        count += 1
    return count


def rumour_refresh(*, rumour: Rumour, now: datetime | None = None) -> Rumour:
    """Re-derive the cached status, last evidence and credibility from the records.

    Locks the rumour row first, so two analysts writing at once cannot leave it
    showing a status its history does not have (the later refresh sees both writes).
    """
    now = now or timezone.now()
    with transaction.atomic():
        Rumour.objects.select_for_update().filter(pk=rumour.pk).exists()
        return _refresh_locked(rumour, now=now)


def _refresh_locked(rumour: Rumour, *, now: datetime) -> Rumour:
    latest = StatusChange.objects.filter(rumour=rumour).in_force().latest_first().first()
    rumour.status = latest.status if latest else ""
    rumour.status_effective_at = latest.effective_at if latest else None
    moments = [
        rumour.sources.order_by("-published_at").values_list("published_at", flat=True).first(),
        rumour.quotes.order_by("-said_at").values_list("said_at", flat=True).first(),
        StatusChange.objects.filter(rumour=rumour, recorded_by__isnull=False)
        .in_force()
        .order_by("-effective_at")
        .values_list("effective_at", flat=True)
        .first(),
    ]
    rumour.last_evidence_at = max((m for m in moments if m is not None), default=None)
    points, parts = credibility_of(
        sources=rumour.sources.only("story_key", "url", "outlet_tier"),
        quotes=rumour.quotes.only("stance", "speaker_company_id", "speaker_name").order_by("-said_at"),
        party_company_ids=set(rumour.parties.values_list("company_id", flat=True)),
        status=rumour.status,
        last_evidence_at=rumour.last_evidence_at,
        now=now,
    )
    rumour.credibility, rumour.credibility_breakdown = points, [part.as_dict() for part in parts]
    rumour.credibility_updated_at = rumour.updated_at = now
    rumour.save(
        update_fields=[
            "status",
            "status_effective_at",
            "last_evidence_at",
            "credibility",
            "credibility_breakdown",
            "credibility_updated_at",
            "updated_at",
        ]
    )
    return rumour


def _refuse_merged(rumour: Rumour) -> None:
    if rumour.merged_into_id is not None:
        raise RumourError(f"This rumour was merged into #{rumour.merged_into_id}; record it there.")


def _touch(rumour: Rumour) -> None:
    rumour_refresh(rumour=rumour)


def _unique_slug(model: type[Company] | type[Rumour], text: str) -> str:
    # Dashes join names in titles ("GoTo–Grab"); slugify would drop them and glue the words.
    base = slugify(re.sub(r"[\u2010-\u2015]", "-", text), allow_unicode=False)[:180] or "item"
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug
