"""A TRACKER_ENTRIES_HANDLER for tests: remembers each call."""

from __future__ import annotations

calls: list[dict[str, object]] = []


def record(*, feed_id: int, new_entry_ids: list[int], changed_entry_ids: list[int]) -> None:
    calls.append({"feed_id": feed_id, "new": list(new_entry_ids), "changed": list(changed_entry_ids)})
