"""Entry retention: old entries that never became sources are deleted, in batches.

The policy
----------
An entry is *old* when it was published more than ``TRACKER_ENTRY_RETENTION_DAYS``
days ago (default 365) **and** first seen by us more than that many days ago. The
second condition keeps a freshly imported archive (old dates, stored today) for a
full window, long enough for detection and an analyst to look at it. ``0`` turns
retention off.

An old entry is deleted unless something still needs it. What needs an entry is read
from the model registry, not from a list of names (``tracker`` never imports
``rumours``):

* Any row that refers to the entry by a key which does **not** cascade (``PROTECT``,
  ``RESTRICT``, ``SET_NULL``, …) or by a many-to-many relation cites it, and the entry
  stays. Today that is ``rumours.Source.entry`` (``on_delete=PROTECT``): an entry a
  rumour cites is never deleted. A relation added later is covered without a change
  here.
* A row that refers to the entry by a cascading key is detection output that goes
  with the entry, unless its model says which of its rows keep the entry, in a class
  attribute ``entry_retention_keeps`` (a ``Q``). ``rumours.Mention`` keeps the entry
  when the mention was *accepted*: the analyst put the article on a thread, even in
  the rare case where the thread's source was typed in by URL and so does not point
  at the entry. *New* (never decided) and *dismissed* mentions are deleted with their
  entry, with their parties, story bands and company links; a story cluster they
  leave empty stays (an empty cluster is harmless).

Three layers hold the "never touch anything a rumour cites" rule: the selection
query excludes cited entries; the delete re-applies the same condition inside its
own transaction; and should a rumour cite an entry between that and the commit,
``PROTECT`` makes the ORM refuse (``ProtectedError``) and the database's foreign key
refuses the commit (``IntegrityError``). Either way the batch is rolled back and
retried without the newly cited entry.

Batches
-------
Each batch (``batch_size`` entries, 1,000 by default) is its own short transaction,
so a prune of a million entries never holds locks on the table for long and can be
interrupted at any point: what was committed stays deleted, the rest waits for the
next run. Batches walk the ``published_at`` index from the oldest entry up.

A caveat: a feed that still lists an item older than the window brings it back on
the next poll after it was pruned (as a new entry, seen today), and detection scans
it again. Feeds rarely carry year-old items; if one does, raise the window.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from tracker.models import Entry

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 365
DEFAULT_BATCH_SIZE = 1000
MAX_BATCH_SIZE = 10_000
# Batches in a row that may fail because a rumour cited one of their entries meanwhile.
MAX_RETRIES = 3


class RetentionError(Exception):
    """A bad retention argument or setting; the message says which and why."""


@dataclass
class PruneReport:
    cutoff: datetime
    dry_run: bool
    deleted: int = 0  # entries deleted (or, in a dry run, that would be)
    kept: int = 0  # old entries kept because something cites them
    batches: int = 0
    retries: int = 0
    cascaded: Counter[str] = field(default_factory=Counter)  # other rows deleted with the entries, by model label


def retention_days() -> int:
    """``TRACKER_ENTRY_RETENTION_DAYS`` (default 365); ``0`` means entries are kept forever."""
    days = getattr(settings, "TRACKER_ENTRY_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise RetentionError(f"TRACKER_ENTRY_RETENTION_DAYS must be a whole number of days (0 = off), not {days!r}.")
    return days


def entry_is_needed() -> Q:
    """A condition over ``Entry``: true for an entry that something still cites (see the module docstring)."""
    needed = Q(pk__in=[])  # false: nothing needs an entry until a relation says so
    for relation in Entry._meta.related_objects:
        related = relation.related_model
        assert isinstance(related, type)
        assert issubclass(related, models.Model)
        rows = related._base_manager.filter(**{relation.field.name: OuterRef("pk")})
        if relation.many_to_many or relation.on_delete is not models.CASCADE:
            needed |= Q(Exists(rows))
            continue
        keeps = getattr(related, "entry_retention_keeps", None)
        if keeps is not None:
            needed |= Q(Exists(rows.filter(keeps)))
    return needed


def old_entries(*, cutoff: datetime) -> QuerySet[Entry]:
    """Entries published and first seen before ``cutoff``, cited or not."""
    return Entry.objects.filter(published_at__lt=cutoff, first_seen_at__lt=cutoff)


def prunable_entries(*, cutoff: datetime) -> QuerySet[Entry]:
    """Old entries that nothing cites: what a prune deletes."""
    return old_entries(cutoff=cutoff).exclude(entry_is_needed())


def entries_prune(
    *,
    older_than_days: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PruneReport:
    """Delete old entries nothing cites, ``batch_size`` per transaction; a dry run only counts.

    ``older_than_days`` defaults to ``TRACKER_ENTRY_RETENTION_DAYS``; with retention
    off (0) and no explicit window, nothing is deleted.
    """
    days = retention_days() if older_than_days is None else older_than_days
    if older_than_days is not None and older_than_days < 1:
        raise RetentionError(f"Keep entries for at least 1 day, not {older_than_days}.")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise RetentionError(f"The batch size must be between 1 and {MAX_BATCH_SIZE:,}, not {batch_size}.")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    report = PruneReport(cutoff=cutoff, dry_run=dry_run)
    if days == 0:
        return report
    report.kept = old_entries(cutoff=cutoff).filter(entry_is_needed()).count()
    if dry_run:
        report.deleted = prunable_entries(cutoff=cutoff).count()
        return report

    # Keyset walk up the published_at index: everything before ``boundary`` was
    # deleted or is needed, so no batch rescans it (ties at the boundary are re-read).
    boundary: datetime | None = None
    failures = 0
    while True:
        candidates = prunable_entries(cutoff=cutoff)
        if boundary is not None:
            candidates = candidates.filter(published_at__gte=boundary)
        batch = list(candidates.order_by("published_at", "pk").values_list("pk", "published_at")[:batch_size])
        if not batch:
            break
        try:
            with transaction.atomic():
                # The condition again, inside the transaction that deletes: a rumour
                # that cited one of these since the selection keeps it.
                _, per_model = (
                    prunable_entries(cutoff=cutoff).filter(pk__in=[pk for pk, _ in batch]).only("pk").delete()
                )
        except (models.ProtectedError, models.RestrictedError, IntegrityError) as exc:
            # Cited between the re-check and the commit: rolled back; the next pass leaves it out.
            failures += 1
            report.retries += 1
            logger.warning("entry prune batch rolled back (%s); retrying", type(exc).__name__)
            if failures > MAX_RETRIES:
                raise
            continue
        failures = 0
        report.batches += 1
        deleted = per_model.pop(Entry._meta.label, 0)
        report.deleted += deleted
        report.cascaded.update({label: n for label, n in per_model.items() if n})
        boundary = batch[-1][1]
    if report.deleted:
        logger.info("pruned %d entries older than %s in %d batch(es)", report.deleted, cutoff, report.batches)
    return report
