"""The receiving end of tracker's one hand-off (``TRACKER_ENTRIES_HANDLER``).

Tracker calls :func:`entries_ingested` after the transaction that stored new or
changed entries commits. Detection runs on a Celery task (``rumours.scan_entries``)
so a slow scan never holds up polling; ids go in batches of
:data:`SCAN_BATCH` so one task stays short.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

SCAN_BATCH = 100


def entries_ingested(*, feed_id: int, new_entry_ids: list[int], changed_entry_ids: list[int]) -> None:
    from rumours.tasks import scan_entries

    entry_ids = [*new_entry_ids, *changed_entry_ids]
    for start in range(0, len(entry_ids), SCAN_BATCH):
        scan_entries.delay(entry_ids[start : start + SCAN_BATCH])
    logger.info(
        "feed %s: %d new and %d changed entries handed to detection",
        feed_id,
        len(new_entry_ids),
        len(changed_entry_ids),
    )
