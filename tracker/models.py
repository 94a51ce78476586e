"""Feeds, their entries, and the trace every poll leaves."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutletTier(models.IntegerChoices):
    """How much an outlet's word is worth; credibility scoring reads this."""

    WIRE = 1, "Tier 1: wire service or major financial daily"
    NATIONAL = 2, "Tier 2: national business or tech outlet"
    TRADE = 3, "Tier 3: trade press, blog or aggregator"


class Feed(models.Model):
    url = models.URLField(max_length=2000, unique=True)
    title = models.CharField(max_length=1000, blank=True)
    site_url = models.URLField(max_length=2000, blank=True)
    language = models.CharField(
        max_length=35, blank=True, help_text="BCP 47 tag such as 'ko' or 'zh-cn'. Overrides what the feed declares."
    )
    tier = models.PositiveSmallIntegerField(choices=OutletTier.choices, default=OutletTier.NATIONAL)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # Conditional GET: stored verbatim, sent back verbatim.
    etag = models.CharField(max_length=1000, blank=True, editable=False)
    last_modified = models.CharField(max_length=200, blank=True, editable=False)
    body_hash = models.CharField(max_length=64, blank=True, editable=False)

    # Scheduling. The dispatcher claims a due feed by writing a lease token and
    # pushing next_poll_at past the lease, so no one else picks it while it is out.
    poll_interval = models.PositiveIntegerField(default=30 * 60, help_text="Seconds; adapts to the feed.")
    next_poll_at = models.DateTimeField(default=timezone.now)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)

    # Health.
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    error_count = models.PositiveIntegerField(default=0, editable=False, help_text="Consecutive failed polls.")
    first_error_at = models.DateTimeField(null=True, blank=True, editable=False)

    # A permanent redirect is adopted only after it has been seen this many polls in a row.
    redirect_target = models.URLField(max_length=2000, blank=True, editable=False)
    redirect_streak = models.PositiveSmallIntegerField(default=0, editable=False)

    is_paused = models.BooleanField(default=False, help_text="Paused by a person; not polled until resumed.")
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["title", "url"]
        indexes = [
            # The dispatcher's only query: due, active feeds in order.
            models.Index(
                fields=["next_poll_at"],
                condition=Q(is_paused=False, disabled_at__isnull=True),
                name="feed_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.url

    @property
    def is_active(self) -> bool:
        return not self.is_paused and self.disabled_at is None

    @property
    def health(self) -> str:
        if self.disabled_at:
            return "disabled"
        if self.is_paused:
            return "paused"
        if self.error_count:
            return "failing"
        if self.last_success_at is None:
            return "new"
        return "healthy"

    def is_due(self, now: datetime | None = None) -> bool:
        return self.is_active and self.next_poll_at <= (now or timezone.now())


class Entry(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="entries")
    identity_key = models.CharField(max_length=64, help_text="SHA-256 of the guid, else the link, else title and date.")
    guid = models.CharField(max_length=2000, blank=True)
    link = models.URLField(max_length=2000, blank=True)
    title = models.CharField(max_length=1000, blank=True)
    summary = models.TextField(blank=True, help_text="Sanitised HTML.")
    content = models.TextField(blank=True, help_text="Sanitised HTML.")
    author = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=35, blank=True)
    published_at = models.DateTimeField(db_index=True)
    date_estimated = models.BooleanField(
        default=False, help_text="The feed gave no plausible date; published_at is when we first saw it."
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, help_text="Last time the content changed.")
    update_count = models.PositiveIntegerField(default=0, help_text="How often the content changed after first seen.")
    content_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name_plural = "entries"
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["feed", "identity_key"], name="entry_unique_identity_per_feed"),
        ]
        indexes = [
            models.Index(fields=["feed", "-published_at"], name="entry_feed_published_idx"),
            models.Index(fields=["feed", "link"], name="entry_feed_link_idx"),
            # The admin's language filter (and its list of languages, read by a loose index scan).
            models.Index(fields=["language", "-published_at"], name="entry_language_published_idx"),
            # The admin's "date estimated" filter: few rows, so a small partial index.
            models.Index(
                fields=["-published_at"], condition=Q(date_estimated=True), name="entry_estimated_published_idx"
            ),
            # On PostgreSQL the admin's search is served by trigram indexes on UPPER(title)
            # and UPPER(link), created by migration 0003 outside the model state (they
            # do not exist on SQLite); see tracker.admin.EntryAdmin.
        ]

    def __str__(self) -> str:
        return self.title or self.link or f"Entry {self.pk}"

    @property
    def was_updated(self) -> bool:
        return self.update_count > 0


class PollOutcome(models.TextChoices):
    FETCHED = "fetched", "Fetched and parsed"
    NOT_MODIFIED = "not_modified", "Not modified (304)"
    UNCHANGED = "unchanged", "Same body as last time"
    IMPORTED = "imported", "Imported from a file"
    ERROR = "error", "Error"


class PollLog(models.Model):
    """One poll of one feed, for the operator. Pruned after TRACKER_POLL_LOG_DAYS."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="polls")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    url = models.URLField(max_length=2000)
    outcome = models.CharField(max_length=20, choices=PollOutcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    bytes_received = models.PositiveBigIntegerField(default=0)
    entries_new = models.PositiveIntegerField(default=0)
    entries_updated = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    warning = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["feed", "-started_at"], name="polllog_feed_started_idx")]

    def __str__(self) -> str:
        return f"{self.feed_id} {self.outcome} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class Heartbeat(models.Model):
    """The last time a periodic process proved it was alive (``beat``: the dispatcher's tick)."""

    name = models.CharField(max_length=50, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
