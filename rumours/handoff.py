"""The receiving end of tracker's one hand-off (``TRACKER_ENTRIES_HANDLER``).

Tracker calls :func:`entries_ingested` after the transaction that stored new or
changed entries commits. Detection (matching companies, deal signals, quotes) is
built on this in the detection issue; until then it records what arrived so an
operator can see the hand-off working in the logs.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def entries_ingested(*, feed_id: int, new_entry_ids: list[int], changed_entry_ids: list[int]) -> None:
    logger.info(
        "feed %s: %d new and %d changed entries handed to rumours",
        feed_id,
        len(new_entry_ids),
        len(changed_entry_ids),
    )
