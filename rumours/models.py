"""Companies, people, deal rumours, their sources, quotes and status history.

The status history (:class:`StatusChange`) is append-only and bitemporal: each row
says when a change happened in the world (``effective_at``) and when we learned it
(``recorded_at``). Corrections retract a row; nothing is edited or deleted. A
rumour's ``status`` column is a cache of its history, rewritten only by
:func:`rumours.services.rumour_refresh_status`.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


def normalise_alias(text: str) -> str:
    """NFKC, case- and width-folded: the form aliases are compared and searched in."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


class Sector(models.TextChoices):
    E_COMMERCE = "e_commerce", "E-commerce"
    RIDE_HAILING = "ride_hailing", "Ride-hailing"
    SUPER_APP = "super_app", "Super app"
    FINTECH = "fintech", "Fintech"
    PAYMENTS = "payments", "Payments"
    BANKING = "banking", "Digital banking"
    TRAVEL = "travel", "Travel"
    GAMING = "gaming", "Gaming"
    LOGISTICS = "logistics", "Logistics"
    FOOD_DELIVERY = "food_delivery", "Food delivery"
    PROPTECH = "proptech", "Property tech"
    AUTOMOTIVE = "automotive", "Automotive"
    MEDIA = "media", "Media"
    TELECOM = "telecom", "Telecom"
    SOFTWARE = "software", "Software"
    CRYPTO = "crypto", "Crypto"
    CONGLOMERATE = "conglomerate", "Conglomerate"
    INVESTOR = "investor", "Investor"
    OTHER = "other", "Other"


class Company(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. ID, SG, KR.")
    sector = models.CharField(max_length=20, choices=Sector.choices, default=Sector.OTHER)
    tickers = models.JSONField(default=list, blank=True, help_text='Exchange:symbol, e.g. ["IDX:GOTO"].')
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "companies"
        indexes = [models.Index(fields=["country", "sector"], name="company_country_sector_idx")]

    def __str__(self) -> str:
        return self.name


class CompanyAlias(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200)
    normalised = models.CharField(max_length=200, editable=False, db_index=True)
    language = models.CharField(max_length=35, blank=True, help_text="BCP 47 tag; blank if language-neutral.")
    is_ambiguous = models.BooleanField(
        default=False, help_text="An ordinary word too (Sea, Grab, Line, Bolt): needs context to mean the company."
    )

    class Meta:
        verbose_name_plural = "company aliases"
        ordering = ["alias"]
        constraints = [models.UniqueConstraint(fields=["company", "normalised"], name="alias_unique_per_company")]

    def __str__(self) -> str:
        return self.alias

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.normalised = normalise_alias(self.alias)
        if kwargs.get("update_fields") is not None and "alias" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "normalised"}
        super().save(*args, **kwargs)


class Person(models.Model):
    name = models.CharField(max_length=200)
    company = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="people")
    role = models.CharField(
        max_length=200, blank=True, help_text="Current role; each quote keeps the role it was said in."
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        constraints = [models.UniqueConstraint(fields=["name", "company"], name="person_unique_per_company")]

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, {self.company})" if self.company else self.name


class PersonAlias(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200)
    normalised = models.CharField(max_length=200, editable=False, db_index=True)
    language = models.CharField(max_length=35, blank=True)

    class Meta:
        verbose_name_plural = "person aliases"
        constraints = [models.UniqueConstraint(fields=["person", "normalised"], name="person_alias_unique")]

    def __str__(self) -> str:
        return self.alias

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.normalised = normalise_alias(self.alias)
        super().save(*args, **kwargs)


class Status(models.TextChoices):
    """The status vocabulary (contract, DESIGN.md)."""

    RUMOURED = "rumoured", "Rumoured"
    IN_TALKS = "in_talks", "In talks"
    AGREED = "agreed", "Agreed"
    COMPLETED = "completed", "Completed"
    ABANDONED = "abandoned", "Abandoned"
    DENIED = "denied", "Denied"
    EXPIRED = "expired", "Expired"


# Which status may follow which. Rumours revive: denied, abandoned and expired can go
# back to rumoured or in_talks. A completed deal is final. The first change of a
# rumour may be anything but expired.
TRANSITIONS: dict[str | None, frozenset[str]] = {
    None: frozenset({Status.RUMOURED, Status.IN_TALKS, Status.AGREED, Status.COMPLETED, Status.DENIED}),
    Status.RUMOURED: frozenset(
        {Status.IN_TALKS, Status.AGREED, Status.COMPLETED, Status.ABANDONED, Status.DENIED, Status.EXPIRED}
    ),
    Status.IN_TALKS: frozenset({Status.AGREED, Status.COMPLETED, Status.ABANDONED, Status.DENIED, Status.EXPIRED}),
    Status.AGREED: frozenset({Status.COMPLETED, Status.ABANDONED}),
    Status.COMPLETED: frozenset(),
    Status.ABANDONED: frozenset({Status.RUMOURED, Status.IN_TALKS}),
    Status.DENIED: frozenset({Status.RUMOURED, Status.IN_TALKS, Status.AGREED, Status.ABANDONED, Status.EXPIRED}),
    Status.EXPIRED: frozenset({Status.RUMOURED, Status.IN_TALKS, Status.AGREED, Status.DENIED}),
}
OPEN_STATUSES = frozenset({Status.RUMOURED, Status.IN_TALKS, Status.DENIED})


def transition_allowed(current: str | None, new: str) -> bool:
    return new in TRANSITIONS[current]


class DealType(models.TextChoices):
    MERGER = "merger", "Merger"
    ACQUISITION = "acquisition", "Acquisition"
    STAKE = "stake", "Stake purchase / investment"
    TAKEOVER = "takeover", "Takeover offer"
    DIVESTMENT = "divestment", "Divestment"
    JOINT_VENTURE = "joint_venture", "Joint venture"


class Rumour(models.Model):
    """A deal thread between parties; one thread carries the whole saga across years."""

    title = models.CharField(max_length=300, help_text="A human title, e.g. “GoTo–Grab merger”.")
    slug = models.SlugField(max_length=300, unique=True)
    deal_type = models.CharField(max_length=20, choices=DealType.choices, default=DealType.MERGER)
    summary = models.TextField(blank=True)
    value_amount = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    value_currency = models.CharField(max_length=3, blank=True, help_text="ISO 4217, e.g. USD, IDR.")
    stake_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    # Derived from the status history; written only by rumour_refresh_status.
    status = models.CharField(max_length=20, choices=Status.choices, blank=True, editable=False)
    status_effective_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_evidence_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Derived: the score and how it was reached (rumours.credibility).
    credibility = models.PositiveSmallIntegerField(default=0, editable=False)
    credibility_breakdown = models.JSONField(default=list, blank=True, editable=False)
    credibility_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_rumours", editable=False
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    companies: models.ManyToManyField[Company, Party] = models.ManyToManyField(
        Company, through="Party", related_name="rumours"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        permissions = [
            ("record_status", "Can record status changes"),
            ("retract_status", "Can retract status changes"),
            ("merge_rumours", "Can merge duplicate rumours"),
        ]
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="rumour_status_updated_idx"),
            models.Index(fields=["-updated_at", "-id"], name="rumour_updated_idx"),  # the API's cursor order
            models.Index(fields=["-credibility"], name="rumour_credibility_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def can_move_to(self, status: str) -> bool:
        return transition_allowed(self.status or None, status)


class PartyRole(models.TextChoices):
    ACQUIRER = "acquirer", "Acquirer"
    TARGET = "target", "Target"
    MERGER_PARTY = "merger_party", "Merger party"
    SELLER = "seller", "Seller"
    INVESTOR = "investor", "Investor"


class Party(models.Model):
    rumour = models.ForeignKey(Rumour, on_delete=models.CASCADE, related_name="parties")
    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="parties")
    role = models.CharField(max_length=20, choices=PartyRole.choices)

    class Meta:
        verbose_name_plural = "parties"
        constraints = [models.UniqueConstraint(fields=["rumour", "company"], name="party_unique_per_rumour")]

    def __str__(self) -> str:
        return f"{self.company} ({self.get_role_display()})"


class Source(models.Model):
    """An article supporting a rumour: an ingested entry, or a URL an analyst typed in."""

    rumour = models.ForeignKey(Rumour, on_delete=models.CASCADE, related_name="sources")
    # PROTECT: an entry a rumour cites is never deleted (tracker's retention relies on it).
    entry = models.ForeignKey(
        "tracker.Entry", on_delete=models.PROTECT, null=True, blank=True, related_name="rumour_sources"
    )
    url = models.URLField(max_length=2000)
    title = models.CharField(max_length=1000, blank=True)
    outlet = models.CharField(max_length=300, blank=True)
    outlet_tier = models.PositiveSmallIntegerField(default=2, help_text="1 wire/major daily, 2 national, 3 trade/blog.")
    published_at = models.DateTimeField()
    language = models.CharField(max_length=35, blank=True)
    excerpt = models.TextField(blank=True)
    story_key = models.CharField(
        max_length=64, blank=True, help_text="Copies of one story (syndication) share this key and count once."
    )
    added_at = models.DateTimeField(default=timezone.now, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rumour", "url"], name="source_unique_url_per_rumour")]

    def __str__(self) -> str:
        return self.title or self.url


class Stance(models.TextChoices):
    CONFIRMS = "confirms", "Confirms"
    DENIES = "denies", "Denies"
    NO_COMMENT = "no_comment", "No comment"
    NEUTRAL = "neutral", "Neutral"


class Quote(models.Model):
    """An executive's exact words, kept verbatim in the original language."""

    rumour = models.ForeignKey(Rumour, on_delete=models.CASCADE, related_name="quotes")
    source = models.ForeignKey(Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="quotes")
    speaker = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="quotes")
    speaker_name = models.CharField(max_length=200, help_text="As attributed, even when the person is known.")
    speaker_role = models.CharField(max_length=200, blank=True, help_text="The role when the words were said.")
    speaker_company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="quotes"
    )
    text = models.TextField(help_text="Exact words in the original language.")
    translation = models.TextField(blank=True)
    language = models.CharField(max_length=35, blank=True)
    stance = models.CharField(max_length=20, choices=Stance.choices, default=Stance.NEUTRAL)
    said_at = models.DateTimeField()
    added_at = models.DateTimeField(default=timezone.now, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-said_at", "-id"]

    def __str__(self) -> str:
        return f"{self.speaker_name}: “{self.text[:60]}”"


class StatusChangeQuerySet(models.QuerySet["StatusChange"]):
    def known_at(self, moment: Any) -> StatusChangeQuerySet:
        """The changes someone looking at ``moment`` would have seen (no look-ahead)."""
        return self.filter(recorded_at__lte=moment, effective_at__lte=moment).exclude(retracted_at__lte=moment)

    def in_force(self) -> StatusChangeQuerySet:
        return self.filter(retracted_at__isnull=True)

    def latest_first(self) -> StatusChangeQuerySet:
        return self.order_by("-effective_at", "-recorded_at", "-id")


class AppendOnlyError(Exception):
    pass


RETRACTION_FIELDS = frozenset({"retracted_at", "retracted_by", "retraction_reason", "changed_at"})


class StatusChange(models.Model):
    # PROTECT: a rumour with history is never deleted (merge duplicates instead). On
    # PostgreSQL a trigger also refuses edits and deletes that bypass the model
    # (migration 0003).
    rumour = models.ForeignKey(Rumour, on_delete=models.PROTECT, related_name="status_changes")
    # The rumour it was recorded on; unlike ``rumour`` it never changes, not even in a
    # merge, so answers "as known at D" before the merge stay what they were.
    origin_rumour = models.ForeignKey(
        Rumour, on_delete=models.PROTECT, related_name="+", null=True, blank=True, editable=False
    )
    status = models.CharField(max_length=20, choices=Status.choices)
    effective_at = models.DateTimeField(help_text="When it happened in the world (usually the source's date).")
    recorded_at = models.DateTimeField(default=timezone.now, help_text="When it was entered here.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system recorded it (e.g. expiry).",
    )
    evidence_source = models.ForeignKey(Source, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    evidence_quote = models.ForeignKey(Quote, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.TextField(blank=True)
    retracted_at = models.DateTimeField(null=True, blank=True)
    retracted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retraction_reason = models.TextField(blank=True)
    # When the row was last written here (insert or retraction), for incremental sync.
    # Unlike recorded_at it can never be back-dated, so a client syncing by it misses nothing.
    changed_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    objects = StatusChangeQuerySet.as_manager()

    class Meta:
        ordering = ["effective_at", "recorded_at", "id"]
        indexes = [
            models.Index(fields=["rumour", "effective_at"], name="statuschange_rumour_eff_idx"),
            models.Index(fields=["recorded_at", "id"], name="statuschange_recorded_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(retracted_at__isnull=True) | ~Q(retraction_reason=""),
                name="statuschange_retraction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rumour}: {self.get_status_display()} ({self.effective_at:%Y-%m-%d})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only: a row is written once; afterwards only its retraction may be set.
        update_fields = kwargs.get("update_fields")
        written = self.pk is not None and not self._state.adding
        if written and (update_fields is None or not set(update_fields) <= RETRACTION_FIELDS):
            raise AppendOnlyError("Status changes are append-only; retract this one and record a new one.")
        if not written and self.origin_rumour_id is None:
            self.origin_rumour_id = self.rumour_id
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Status changes are never deleted; retract instead.")

    @property
    def is_retracted(self) -> bool:
        return self.retracted_at is not None

    @property
    def is_system(self) -> bool:
        return self.recorded_by_id is None


class MentionState(models.TextChoices):
    NEW = "new", "New"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"


class StoryCluster(models.Model):
    """Copies of one story: syndicated wire copy, rewrites, and the same deal event
    reported in other languages. Credibility counts a cluster once."""

    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "story cluster"

    def __str__(self) -> str:
        return f"story #{self.pk}"


class Mention(models.Model):
    """What detection found in one entry that names a watchlist company: the analyst inbox row."""

    entry = models.OneToOneField("tracker.Entry", on_delete=models.CASCADE, related_name="mention")
    companies = models.ManyToManyField(Company, related_name="mentions")
    is_deal_candidate = models.BooleanField(default=False)
    deal_score = models.FloatField(default=0.0)
    stage_hint = models.CharField(max_length=20, choices=Status.choices, blank=True)
    deal_type = models.CharField(max_length=20, choices=DealType.choices, blank=True)
    parties: models.ManyToManyField[Company, MentionParty] = models.ManyToManyField(
        Company, through="MentionParty", related_name="party_mentions", blank=True,
        help_text="The companies that are parties to the deal (not every company named), first the likely buyer.",
    )  # fmt: skip
    signals = models.JSONField(default=list, blank=True, help_text="Deal terms found: kind, term, sentence.")
    suggested_quotes = models.JSONField(default=list, blank=True)
    cluster = models.ForeignKey(StoryCluster, on_delete=models.SET_NULL, null=True, blank=True, related_name="mentions")
    signature = models.BinaryField(default=b"", blank=True, editable=False, help_text="MinHash of the text.")
    scanned_at = models.DateTimeField(null=True, blank=True)
    suggested_rumour = models.ForeignKey(
        Rumour, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggested_mentions"
    )
    state = models.CharField(max_length=20, choices=MentionState.choices, default=MentionState.NEW, db_index=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    state_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rumour = models.ForeignKey(
        Rumour, on_delete=models.SET_NULL, null=True, blank=True, related_name="mentions",
        help_text="The rumour the article was attached to, once accepted.",
    )  # fmt: skip
    created_at = models.DateTimeField(default=timezone.now)

    # Entry retention (tracker.retention) deletes a mention with its old entry, but an
    # accepted one keeps the entry: the analyst put the article on a thread.
    entry_retention_keeps = Q(state=MentionState.ACCEPTED)

    class Meta:
        verbose_name = "flagged article"
        verbose_name_plural = "inbox: flagged articles"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "-created_at"], name="mention_state_created_idx")]

    def __str__(self) -> str:
        return str(self.entry)

    @property
    def party_list(self) -> list[Company]:
        """The parties in detection's order (prefetch ``mentionparty_set__company`` for lists)."""
        return [link.company for link in self.mentionparty_set.all()]


class MentionParty(models.Model):
    """A deal party detection found, in its order: the first is the likeliest buyer or initiator."""

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE)
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["mention", "company"], name="mentionparty_unique_company")]

    def __str__(self) -> str:
        return f"{self.company} in {self.mention_id}"


class StoryBand(models.Model):
    """One LSH band key of a mention's signature: the index near-duplicates are found through."""

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="bands")
    key = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mention", "key"], name="storyband_unique_key")]

    def __str__(self) -> str:
        return f"band {self.key} of mention {self.mention_id}"


class ApiScope(models.TextChoices):
    INVESTOR = "investor", "Investor: read rumours, companies, quotes and history"
    ANALYST = "analyst", "Analyst: also the mentions inbox"


class ApiKey(models.Model):
    """A key for the REST API. Only its SHA-256 is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. “backtest cluster”.")
    prefix = models.CharField(max_length=12, unique=True, editable=False, help_text="Shown to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(max_length=20, choices=ApiScope.choices, default=ApiScope.INVESTOR)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name}, {self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookEvent(models.TextChoices):
    RUMOUR_CREATED = "rumour.created", "A rumour was opened"
    STATUS_CHANGED = "rumour.status_changed", "A rumour's status changed"
    QUOTE_ADDED = "quote.added", "A quote was added"


class WebhookEndpoint(models.Model):
    """Where an investor wants events pushed; signed per the Standard Webhooks convention."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000, help_text="HTTPS; checked against the same address guard as feeds.")
    events = models.JSONField(default=list, help_text="Event types to send; empty means all.")
    companies = models.ManyToManyField(
        Company, blank=True, related_name="+", help_text="Only rumours with these parties; empty means all."
    )
    secret = models.CharField(max_length=100, editable=False, help_text="whsec_… key the receiver verifies with.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.url} ({self.user})"

    def wants(self, event: str) -> bool:
        return self.is_active and (not self.events or event in self.events)


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(models.Model):
    """One event for one endpoint (an outbox row): written with the change, sent after commit."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=64, help_text="The webhook-id header: receivers de-duplicate on it.")
    event_type = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    state = models.CharField(max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="delivery_unique_event")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint.url} ({self.state})"


# --- Digests ------------------------------------------------------------------------------------


class DigestFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"


def validate_time_zone(name: str) -> None:
    """A model validator, so the admin, the subscriber's page and the API all refuse the same way."""
    from rumours.digests.schedule import UnknownTimeZoneError, zone

    try:
        zone(name)
    except UnknownTimeZoneError as exc:
        raise ValidationError(str(exc)) from None


class Subscription(models.Model):
    """Who gets digests of what: a user's, or an address a staff member added.

    Empty ``companies``, ``countries`` and ``sectors`` mean everything; otherwise a
    rumour is in the digest when one of its parties matches any of them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    email = models.EmailField(help_text="Where the digests go.")
    frequency = models.CharField(max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.DAILY)
    instant_alerts = models.BooleanField(default=False, help_text="Also an email at once for each status change.")
    companies = models.ManyToManyField(Company, blank=True, related_name="subscriptions")
    countries = models.JSONField(default=list, blank=True, help_text='ISO codes, e.g. ["ID", "SG"].')
    sectors = models.JSONField(default=list, blank=True, help_text='Sector codes, e.g. ["fintech"].')
    min_credibility = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)], help_text="Leave out rumours scored below this (0-100)."
    )
    time_zone = models.CharField(
        max_length=64, default="Asia/Singapore", validators=[validate_time_zone],
        help_text="IANA name, e.g. Asia/Jakarta.",
    )  # fmt: skip
    send_hour = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(23)], help_text="Local hour the digest is sent (0-23)."
    )
    send_weekday = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(6)], help_text="For weekly digests: 0 = Monday … 6 = Sunday."
    )
    skip_empty = models.BooleanField(
        default=False, help_text="Send nothing when nothing changed (otherwise a short 'nothing new' digest)."
    )
    is_active = models.BooleanField(default=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(fields=["email"], name="subscription_unique_email"),
            models.CheckConstraint(condition=Q(send_hour__lte=23), name="subscription_send_hour_valid"),
            models.CheckConstraint(condition=Q(send_weekday__lte=6), name="subscription_send_weekday_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_frequency_display().lower()})"


class DeliveryKind(models.TextChoices):
    DAILY = "daily", "Daily digest"
    WEEKLY = "weekly", "Weekly digest"
    ALERT = "alert", "Status-change alert"


class DigestState(models.TextChoices):
    PLANNED = "planned", "Planned"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped: nothing new"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown: the worker stopped while sending"


class DigestDelivery(models.Model):
    """One email to one subscriber for one period (or one status change): sent at most once.

    The unique constraints make planning idempotent; the conditional claim
    (planned → sending) makes sending single; a row left in *sending* by a worker that
    died is marked *unknown* and never sent again, since the mail may have gone.
    """

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, choices=DeliveryKind.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    status_change = models.ForeignKey(
        StatusChange, on_delete=models.CASCADE, null=True, blank=True, related_name="alert_deliveries"
    )
    state = models.CharField(max_length=10, choices=DigestState.choices, default=DigestState.PLANNED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "digest deliveries"
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "kind", "period_end"],
                condition=Q(status_change__isnull=True),
                name="delivery_once_per_period",
            ),
            models.UniqueConstraint(
                fields=["subscription", "status_change"],
                condition=Q(status_change__isnull=False),
                name="delivery_once_per_status_change",
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="digest_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.subscription.email}, {self.period_end:%Y-%m-%d %H:%M}"
