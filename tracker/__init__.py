"""Feeds and entries: fetch (HTTP), parse (feedparser), schedule, store.

This app never imports ``rumours``; new entries leave it through the one hand-off
configured by ``TRACKER_ENTRIES_HANDLER`` (see :func:`tracker.services._hand_off`).
"""
