"""Every write to feeds and entries goes through here.

Admin actions, management commands and Celery tasks call these functions; nothing
else writes feed scheduling state or entries. The poll of one feed is
:func:`feed_poll`; the rest are the ways feeds are created, claimed, paused and
resumed.

Concurrency: a feed is *claimed* (``lease_token`` set, ``next_poll_at`` pushed past
the lease) by a conditional UPDATE, and a poll task must swap the claim token for a
fresh run token, again by a conditional UPDATE, before it fetches. Two dispatchers,
a duplicated task or a redelivered message therefore never poll one feed at once,
on any database. The unique (feed, identity_key) constraint is the last line:
entries are inserted with ``ignore_conflicts``, so nothing is ever stored twice.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from tracker import scheduling
from tracker.fetching import FetchError, FetchPolicy, FetchResult, fetch
from tracker.models import Entry, Feed, Heartbeat, OutletTier, PollLog, PollOutcome
from tracker.parsing import FeedParseError, ParsedEntry, ParsedFeed, normalise_language, parse_feed

logger = logging.getLogger(__name__)

ENTRY_UPDATE_FIELDS = [
    "identity_key",
    "guid", "link", "title", "summary", "content", "author", "language",
    "published_at", "date_estimated", "updated_at", "update_count", "content_hash",
]  # fmt: skip


class FeedError(Exception):
    """A feed could not be created or changed; ``str()`` is for people."""


def fetch_policy() -> FetchPolicy:
    return FetchPolicy(
        user_agent=settings.TRACKER_USER_AGENT,
        max_body_bytes=settings.TRACKER_MAX_BODY_BYTES,
        connect_timeout=settings.TRACKER_CONNECT_TIMEOUT,
        read_timeout=settings.TRACKER_READ_TIMEOUT,
        total_timeout=settings.TRACKER_TOTAL_TIMEOUT,
        max_redirects=settings.TRACKER_MAX_REDIRECTS,
        allow_private_addresses=settings.TRACKER_ALLOW_PRIVATE_ADDRESSES,
    )


def interval_policy() -> scheduling.IntervalPolicy:
    return scheduling.IntervalPolicy(
        min_interval=settings.TRACKER_MIN_INTERVAL,
        max_interval=settings.TRACKER_MAX_INTERVAL,
        max_backoff=settings.TRACKER_MAX_BACKOFF,
    )


# --- Creating and changing feeds ------------------------------------------------------


def feed_create(
    *,
    url: str,
    title: str = "",
    language: str = "",
    tier: int = OutletTier.NATIONAL,
    site_url: str = "",
    paused: bool = False,
) -> tuple[Feed, bool]:
    """Add a feed (or return the existing one with that URL). Returns (feed, created)."""
    url = url.strip()
    _validate_feed_fields(url=url, language=language, tier=tier)
    try:
        with transaction.atomic():
            feed, created = Feed.objects.get_or_create(
                url=url,
                defaults={
                    "title": title.strip(),
                    "language": normalise_language(language),
                    "tier": tier,
                    "site_url": site_url.strip() if _is_http_url(site_url.strip()) else "",
                    "is_paused": paused,
                },
            )
    except IntegrityError:  # created concurrently
        return Feed.objects.get(url=url), False
    return feed, created


EDITABLE_FEED_FIELDS = frozenset({"url", "title", "site_url", "language", "tier", "is_paused"})


def feed_update(*, feed_id: int, changes: dict[str, Any]) -> None:
    """Change what a person may change about a feed, and nothing else.

    An UPDATE of just those columns: a poll running at the same time keeps its lease,
    validators and health fields.
    """
    unknown = set(changes) - EDITABLE_FEED_FIELDS
    if unknown:
        raise FeedError(f"These feed fields are not editable: {', '.join(sorted(unknown))}.")
    if "url" in changes:
        changes["url"] = changes["url"].strip()
    _validate_feed_fields(url=changes.get("url"), language=changes.get("language"), tier=changes.get("tier"))
    if "language" in changes:
        changes["language"] = normalise_language(changes["language"])
    try:
        Feed.objects.filter(pk=feed_id).update(**changes)
    except IntegrityError:
        raise FeedError(f"Another feed already has the URL {changes.get('url')!r}.") from None


def _validate_feed_fields(*, url: str | None, language: str | None, tier: int | None) -> None:
    if url is not None and not _is_http_url(url):
        raise FeedError(f"{url!r} is not an http(s) URL.")
    if language and not normalise_language(language):
        raise FeedError(f"{language!r} is not a language tag such as 'en', 'id' or 'zh-cn'.")
    if tier is not None and tier not in OutletTier.values:
        raise FeedError(f"Tier must be one of {', '.join(map(str, OutletTier.values))}, not {tier!r}.")


def _is_http_url(value: str) -> bool:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return False
    return True


def feed_pause(*, feed_ids: Iterable[int]) -> int:
    return Feed.objects.filter(pk__in=list(feed_ids), is_paused=False).update(is_paused=True)


def feed_resume(*, feed_ids: Iterable[int]) -> int:
    """Un-pause and re-enable feeds; they are due at once, with a clean error record."""
    return Feed.objects.filter(pk__in=list(feed_ids)).update(
        is_paused=False,
        disabled_at=None,
        disabled_reason="",
        error_count=0,
        first_error_at=None,
        next_poll_at=timezone.now(),
    )


# --- Claiming -------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    feed_id: int
    token: uuid.UUID


def feeds_claim_due(*, limit: int | None = None, now: datetime | None = None) -> list[Claim]:
    """Claim up to ``limit`` due, active feeds (oldest due first) for polling."""
    now = now or timezone.now()
    due = (
        Feed.objects.filter(is_paused=False, disabled_at__isnull=True, next_poll_at__lte=now)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[: limit or settings.TRACKER_DISPATCH_BATCH]
    )
    return _claim(list(due), now=now, due_only=True)


def feeds_claim(*, feed_ids: Iterable[int], now: datetime | None = None) -> list[Claim]:
    """Claim the given feeds now, due or not ("poll now"), unless another poll holds them."""
    return _claim(list(feed_ids), now=now or timezone.now())


def _claim(feed_ids: list[int], *, now: datetime, due_only: bool = False) -> list[Claim]:
    if not feed_ids:
        return []
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=settings.TRACKER_LEASE_SECONDS)
    # Conditional: a feed another dispatcher claimed (or even polled and rescheduled)
    # since we read the due list is skipped here.
    claimable = Feed.objects.filter(pk__in=feed_ids).filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
    if due_only:
        claimable = claimable.filter(is_paused=False, disabled_at__isnull=True, next_poll_at__lte=now)
    claimable.update(lease_token=token, lease_until=lease_until, next_poll_at=lease_until)
    claimed = set(Feed.objects.filter(pk__in=feed_ids, lease_token=token).values_list("pk", flat=True))
    # In the order asked for: the dispatcher passes the most overdue first.
    return [Claim(feed_id, token) for feed_id in feed_ids if feed_id in claimed]


def _start_run(feed_id: int, claim_token: uuid.UUID, now: datetime) -> uuid.UUID | None:
    """Swap the claim token for a run token; None if the claim is gone (a duplicate task)."""
    run_token = uuid.uuid4()
    taken = Feed.objects.filter(pk=feed_id, lease_token=claim_token).update(
        lease_token=run_token,
        lease_until=now + timedelta(seconds=settings.TRACKER_LEASE_SECONDS),
    )
    return run_token if taken else None


# --- Polling --------------------------------------------------------------------------


@dataclass
class PollReport:
    feed_id: int
    outcome: str
    status_code: int | None = None
    entries_new: int = 0
    entries_updated: int = 0
    error: str = ""
    skipped: bool = False
    new_entry_ids: list[int] = field(default_factory=list)
    changed_entry_ids: list[int] = field(default_factory=list)


def feed_poll(*, feed_id: int, claim_token: uuid.UUID, client: httpx.Client | None = None) -> PollReport:
    """Poll one claimed feed: fetch, parse, store, reschedule, log.

    Returns a report; a duplicate (the claim was already taken) returns
    ``skipped=True`` and touches nothing. Never raises for a bad feed: every
    failure is recorded on the feed and in its poll log.
    """
    started = timezone.now()
    clock = time.monotonic()
    run_token = _start_run(feed_id, claim_token, started)
    if run_token is None:
        logger.info("feed %s: claim %s already taken; duplicate poll skipped", feed_id, claim_token)
        return PollReport(feed_id=feed_id, outcome="skipped", skipped=True)
    feed = Feed.objects.get(pk=feed_id)
    try:
        return _poll_claimed(feed, run_token, started=started, clock=clock, client=client)
    except LeaseLostError:
        logger.warning("feed %s: lease lost during the poll; its results were discarded", feed_id)
        return PollReport(feed_id=feed_id, outcome="skipped", skipped=True)
    except (DataError, IntegrityError) as exc:
        # The feed sent something the database refuses (the transaction rolled back).
        # Record it like any failure so the feed backs off and an operator sees why.
        logger.exception("feed %s: the database refused the poll's data", feed_id)
        return _record_failure(
            feed, run_token, started=started, clock=clock, error=f"The database refused this feed's data: {exc}"
        )
    except DatabaseError:
        # Transient (connection lost, lock timeout): hand the claim back so the task's
        # retry can take it; if even that fails, the lease expires and the dispatcher
        # claims the feed again. Nothing partial was committed.
        _return_claim(feed_id, run_token=run_token, claim_token=claim_token)
        raise
    except Exception as exc:
        # A bug must not leave the feed leased and retried every lease period:
        # record it like any failure, so it backs off and shows in the admin.
        logger.exception("feed %s: unexpected error while polling", feed_id)
        return _record_failure(
            feed, run_token, started=started, clock=clock, error=f"Unexpected error while polling: {exc!r}"
        )


class LeaseLostError(Exception):
    """The poll's lease was taken over (it outlived TRACKER_LEASE_SECONDS); write nothing."""


def _holds_lease(feed_id: int, run_token: uuid.UUID) -> None:
    """Inside a transaction: lock the feed row while we still hold its lease, or raise."""
    if not Feed.objects.select_for_update().filter(pk=feed_id, lease_token=run_token).exists():
        raise LeaseLostError


def _return_claim(feed_id: int, *, run_token: uuid.UUID, claim_token: uuid.UUID) -> None:
    try:
        Feed.objects.filter(pk=feed_id, lease_token=run_token).update(lease_token=claim_token)
    except DatabaseError:
        logger.warning("feed %s: could not hand the claim back; the lease will expire", feed_id)


def _poll_claimed(
    feed: Feed, run_token: uuid.UUID, *, started: datetime, clock: float, client: httpx.Client | None
) -> PollReport:
    try:
        result = fetch(feed.url, policy=fetch_policy(), etag=feed.etag, last_modified=feed.last_modified, client=client)
    except FetchError as exc:
        return _record_failure(feed, run_token, started=started, clock=clock, error=str(exc))

    hint = scheduling.freshness_hint(result.headers, now=started)
    if result.status_code == 410:
        return _record_failure(
            feed, run_token, started=started, clock=clock, result=result,
            error="410 Gone: the publisher says this feed is gone for good.", disable=True,
        )  # fmt: skip
    if result.status_code == 304:
        return _record_success(
            feed, run_token, started=started, clock=clock, result=result,
            outcome=PollOutcome.NOT_MODIFIED, hint=hint,
        )  # fmt: skip
    if result.status_code != 200:
        reason = httpx.codes.get_reason_phrase(result.status_code) or "error"
        error = f"HTTP {result.status_code} {reason}."
        if result.status_code in (429, 503) and scheduling.retry_after_seconds(
            result.headers.get("retry-after", ""), now=started
        ):
            error += f" The server asked us to retry after {result.headers['retry-after']}."
        return _record_failure(feed, run_token, started=started, clock=clock, result=result, error=error, hint=hint)

    assert result.body is not None
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == feed.body_hash:
        return _record_success(
            feed, run_token, started=started, clock=clock, result=result,
            outcome=PollOutcome.UNCHANGED, hint=hint,
        )  # fmt: skip
    try:
        parsed = parse_feed(
            result.body,
            content_type=result.headers.get("content-type", ""),
            base_url=result.url,
            now=started,
            language=feed.language,
        )
    except FeedParseError as exc:
        return _record_failure(feed, run_token, started=started, clock=clock, result=result, error=str(exc))
    return _record_success(
        feed, run_token, started=started, clock=clock, result=result,
        outcome=PollOutcome.FETCHED, hint=hint, parsed=parsed, body_hash=body_hash,
    )  # fmt: skip


def feed_ingest_document(*, feed: Feed, body: bytes, content_type: str = "") -> PollReport:
    """Store a feed document read from a file, through the same parse and store path.

    Used by ``load_demo`` to ingest the bundled sample feeds offline. Raises
    :class:`~tracker.parsing.FeedParseError` for a body that is not a feed.
    """
    now = timezone.now()
    parsed = parse_feed(body, content_type=content_type, base_url=feed.url, now=now, language=feed.language)
    with transaction.atomic():
        report = _store_entries(feed, parsed, now=now)
        Feed.objects.filter(pk=feed.pk).update(
            title=feed.title or parsed.title,
            site_url=feed.site_url or parsed.site_url,
            body_hash=hashlib.sha256(body).hexdigest(),
        )
        PollLog.objects.create(
            feed=feed, started_at=now, url=feed.url, outcome=PollOutcome.IMPORTED,
            bytes_received=len(body), entries_new=report.entries_new,
            entries_updated=report.entries_updated, warning="\n".join(parsed.warnings),
        )  # fmt: skip
        _hand_off(report)
    report.outcome = PollOutcome.IMPORTED
    return report


def _record_success(
    feed: Feed,
    run_token: uuid.UUID,
    *,
    started: datetime,
    clock: float,
    result: FetchResult,
    outcome: str,
    hint: int | None,
    parsed: ParsedFeed | None = None,
    body_hash: str = "",
) -> PollReport:
    now = timezone.now()
    report = PollReport(feed_id=feed.pk, outcome=outcome, status_code=result.status_code)
    updates: dict[str, Any] = {
        "last_polled_at": now,
        "last_success_at": now,
        "last_status_code": result.status_code,
        "last_error": "",
        "error_count": 0,
        "first_error_at": None,
        "lease_token": None,
        "lease_until": None,
    }
    # Keep validators only when the server sent them; an empty value would throw away a good one.
    if result.etag or result.status_code == 200:
        updates["etag"] = result.etag[:1000]
    if result.last_modified or result.status_code == 200:
        updates["last_modified"] = result.last_modified[:200]
    published: list[datetime] = []
    with transaction.atomic():
        _holds_lease(feed.pk, run_token)
        if parsed is not None:
            report = _store_entries(feed, parsed, now=started)
            report.outcome, report.status_code = outcome, result.status_code
            updates["body_hash"] = body_hash
            updates["title"] = feed.title or parsed.title
            updates["site_url"] = feed.site_url or parsed.site_url
            published = [e.published_at for e in parsed.entries if not e.date_estimated]
            hint = max(hint or 0, parsed.ttl_seconds or 0) or None
        updates.update(_redirect_updates(feed, result))
        updates["poll_interval"] = scheduling.next_interval(
            policy=interval_policy(),
            current=feed.poll_interval,
            published=published,
            found_new=bool(report.entries_new),
            hint=hint,
        )
        updates["next_poll_at"] = now + timedelta(seconds=updates["poll_interval"])
        Feed.objects.filter(pk=feed.pk, lease_token=run_token).update(**updates)
        PollLog.objects.create(
            feed=feed, started_at=started, duration_ms=_elapsed_ms(clock), url=result.url,
            outcome=outcome, status_code=result.status_code, bytes_received=result.bytes_received,
            entries_new=report.entries_new, entries_updated=report.entries_updated,
            warning="\n".join(parsed.warnings) if parsed else "",
        )  # fmt: skip
        _hand_off(report)
    return report


def _record_failure(
    feed: Feed,
    run_token: uuid.UUID,
    *,
    started: datetime,
    clock: float,
    error: str,
    result: FetchResult | None = None,
    hint: int | None = None,
    disable: bool = False,
) -> PollReport:
    now = timezone.now()
    first_error_at = feed.first_error_at or started
    error_count = feed.error_count + 1
    updates: dict[str, Any] = {
        "last_polled_at": now,
        "last_status_code": result.status_code if result else None,
        "last_error": error,
        "error_count": error_count,
        "first_error_at": first_error_at,
        "lease_token": None,
        "lease_until": None,
    }
    delay = scheduling.error_backoff(policy=interval_policy(), error_count=error_count, hint=hint)
    updates["next_poll_at"] = now + timedelta(seconds=delay)
    failing_for = now - first_error_at
    if disable:
        updates["disabled_at"], updates["disabled_reason"] = now, error
    elif failing_for >= timedelta(days=settings.TRACKER_DISABLE_AFTER_DAYS):
        updates["disabled_at"] = now
        updates["disabled_reason"] = (
            f"Failing since {first_error_at:%Y-%m-%d %H:%M} UTC ({error_count} polls in a row). Last error: {error}"
        )
    with transaction.atomic():
        _holds_lease(feed.pk, run_token)
        Feed.objects.filter(pk=feed.pk, lease_token=run_token).update(**updates)
        PollLog.objects.create(
            feed=feed, started_at=started, duration_ms=_elapsed_ms(clock),
            url=result.url if result else feed.url, outcome=PollOutcome.ERROR,
            status_code=result.status_code if result else None,
            bytes_received=result.bytes_received if result else 0, error=error,
        )  # fmt: skip
    logger.warning("feed %s (%s) failed: %s", feed.pk, feed.url, error)
    return PollReport(feed_id=feed.pk, outcome=PollOutcome.ERROR, status_code=updates["last_status_code"], error=error)


def _redirect_updates(feed: Feed, result: FetchResult) -> dict[str, Any]:
    """Adopt a permanent redirect once it has been stable for N polls in a row."""
    target = result.permanent_redirect
    if not target:
        return {"redirect_target": "", "redirect_streak": 0} if feed.redirect_streak else {}
    streak = feed.redirect_streak + 1 if target == feed.redirect_target else 1
    if streak >= settings.TRACKER_REDIRECT_ADOPT_AFTER and not Feed.objects.filter(url=target).exists():
        logger.info("feed %s: adopting permanent redirect %s -> %s", feed.pk, feed.url, target)
        return {"url": target, "redirect_target": "", "redirect_streak": 0}
    return {"redirect_target": target, "redirect_streak": streak}


def _store_entries(feed: Feed, parsed: ParsedFeed, *, now: datetime) -> PollReport:
    """Idempotent upsert keyed on (feed, identity_key); returns counts and ids."""
    report = PollReport(feed_id=feed.pk, outcome="")
    if not parsed.entries:
        return report
    keys = [item.identity_key for item in parsed.entries]
    existing = {e.identity_key: e for e in Entry.objects.filter(feed=feed, identity_key__in=keys)}
    # A feed that changed an entry's guid keeps its link: match the newcomer by link.
    # Only when the link is unambiguous (one stored entry has it) and the story is the
    # same (title or date): feeds that point every item at their home page must not
    # have one story overwrite another.
    by_link: dict[str, Entry] = {}
    unmatched_links = [item.link for item in parsed.entries if item.identity_key not in existing and item.link]
    if unmatched_links:
        matched_pks = {e.pk for e in existing.values()}
        candidates: dict[str, list[Entry]] = {}
        for entry in Entry.objects.filter(feed=feed, link__in=unmatched_links):
            candidates.setdefault(entry.link, []).append(entry)
        by_link = {
            link: entries[0]
            for link, entries in candidates.items()
            if len(entries) == 1 and entries[0].pk not in matched_pks
        }

    to_create: list[Entry] = []
    to_update: list[Entry] = []
    to_rekey: list[Entry] = []
    for item in parsed.entries:
        match = existing.get(item.identity_key)
        if match is None and item.link in by_link and _same_story(by_link[item.link], item):
            # Same story, new guid: adopt the new identity so the next poll finds it directly.
            match = by_link.pop(item.link)
            match.identity_key, match.guid = item.identity_key, item.guid
            to_rekey.append(match)
        if match is None:
            to_create.append(_new_entry(feed, item, now=now))
        elif match.content_hash != item.content_hash:
            _apply(match, item, now=now)
            to_update.append(match)
    rekeyed_only = [entry for entry in to_rekey if entry not in to_update]
    if rekeyed_only:
        Entry.objects.bulk_update(rekeyed_only, ["identity_key", "guid"])
    if to_create:
        Entry.objects.bulk_create(to_create, batch_size=500, ignore_conflicts=True)
        report.new_entry_ids = list(
            Entry.objects.filter(
                feed=feed, identity_key__in=[e.identity_key for e in to_create], first_seen_at=now
            ).values_list("pk", flat=True)
        )
    if to_update:
        Entry.objects.bulk_update(to_update, ENTRY_UPDATE_FIELDS, batch_size=500)
        report.changed_entry_ids = [e.pk for e in to_update]
    report.entries_new = len(report.new_entry_ids)
    report.entries_updated = len(report.changed_entry_ids)
    return report


def _same_story(entry: Entry, item: ParsedEntry) -> bool:
    same_date = not item.date_estimated and not entry.date_estimated and entry.published_at == item.published_at
    return entry.title == item.title or same_date


def _new_entry(feed: Feed, item: ParsedEntry, *, now: datetime) -> Entry:
    return Entry(
        feed=feed, identity_key=item.identity_key, guid=item.guid, link=item.link, title=item.title,
        summary=item.summary, content=item.content, author=item.author, language=item.language,
        published_at=item.published_at, date_estimated=item.date_estimated, first_seen_at=now,
        updated_at=now, content_hash=item.content_hash,
    )  # fmt: skip


def _apply(entry: Entry, item: ParsedEntry, *, now: datetime) -> None:
    entry.guid, entry.link, entry.title = item.guid, item.link, item.title
    entry.summary, entry.content, entry.author = item.summary, item.content, item.author
    entry.language = item.language
    if not item.date_estimated:  # a real date may replace an estimate; an estimate replaces nothing
        entry.published_at, entry.date_estimated = item.published_at, False
    entry.updated_at = now
    entry.update_count += 1
    entry.content_hash = item.content_hash


def _hand_off(report: PollReport) -> None:
    """Tell the rest of the product about new and changed entries, after commit."""
    if not (report.new_entry_ids or report.changed_entry_ids):
        return
    handler: Callable[..., Any] = import_string(settings.TRACKER_ENTRIES_HANDLER)
    new_ids, changed_ids, feed_id = list(report.new_entry_ids), list(report.changed_entry_ids), report.feed_id
    transaction.on_commit(
        lambda: handler(feed_id=feed_id, new_entry_ids=new_ids, changed_entry_ids=changed_ids),
        robust=True,
    )


def _elapsed_ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)


def poll_logs_prune(*, older_than_days: int | None = None) -> int:
    """Delete poll logs older than the retention window; returns how many."""
    days = older_than_days if older_than_days is not None else settings.TRACKER_POLL_LOG_DAYS
    deleted, _ = PollLog.objects.filter(started_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted


def heartbeat_record(*, name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


def entry_set_language(*, entry: Entry, language: str) -> None:
    """Record the language detection read for an entry (only the column: a running poll's edits stay)."""
    if language and language != entry.language:
        Entry.objects.filter(pk=entry.pk).update(language=language)
        entry.language = language
