from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from rumours.mentions import entries_to_scan, mentions_scan
from tracker.models import Entry


class Command(BaseCommand):
    help = (
        "Run detection over stored entries again (after the watchlist or the lexicon changed): "
        "language, companies, deal signals, quotes, story clusters and the suggested rumour. "
        "Idempotent: mentions still new are rewritten, decided ones keep their decision."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help="Scan every entry.")
        which.add_argument("--days", type=int, help="Scan the entries that changed in the last N days.")
        which.add_argument("--entry", type=int, nargs="+", metavar="ID", help="Scan these entries.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["entry"]:
            ids = list(options["entry"])
            missing = sorted(set(ids) - set(Entry.objects.filter(pk__in=ids).values_list("pk", flat=True)))
            if missing:
                raise CommandError(f"No entry with id {', '.join(map(str, missing))}.")
        elif options["days"] is not None:
            if options["days"] < 1:
                raise CommandError("--days must be at least 1.")
            ids = entries_to_scan(since=timezone.now() - timedelta(days=options["days"]))
        else:
            ids = entries_to_scan()
        summary = mentions_scan(entry_ids=ids)
        self.stdout.write(
            f"Scanned {summary.scanned} entries: {summary.flagged} in the inbox "
            f"({summary.deal_candidates} deal candidates), {summary.removed} removed."
        )
