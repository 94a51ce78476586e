"""The receiving end of tracker's one hand-off (``TRACKER_ENTRIES_HANDLER``).

Tracker calls :func:`entries_ingested` after the transaction that stored new or
changed entries commits. For now it flags entries that name watchlist companies
into the analyst inbox, in-process (the matching is cheap); the detection issue
moves this onto a Celery task with deal signals, quotes and clusters.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def entries_ingested(*, feed_id: int, new_entry_ids: list[int], changed_entry_ids: list[int]) -> None:
    from rumours.services import mentions_scan

    flagged = mentions_scan(entry_ids=[*new_entry_ids, *changed_entry_ids])
    logger.info(
        "feed %s: %d new and %d changed entries handed to rumours; %d flagged for the inbox",
        feed_id,
        len(new_entry_ids),
        len(changed_entry_ids),
        flagged,
    )
