from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.retention import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, RetentionError, entries_prune, retention_days


class Command(BaseCommand):
    help = (
        "Delete entries published and first seen more than N days ago (TRACKER_ENTRY_RETENTION_DAYS, "
        "default 365) that no rumour cites, in batches. Entries a rumour source cites, or whose mention "
        "an analyst accepted, are never deleted; new and dismissed mentions go with their entry. "
        "The policy: tracker/retention.py."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Keep this many days instead of TRACKER_ENTRY_RETENTION_DAYS.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Entries per transaction (1 to {MAX_BATCH_SIZE:,}; default {DEFAULT_BATCH_SIZE:,}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["days"] is None and retention_days() == 0:
                self.stdout.write("Entry retention is off (TRACKER_ENTRY_RETENTION_DAYS=0): nothing deleted.")
                return
            report = entries_prune(
                older_than_days=options["days"], batch_size=options["batch_size"], dry_run=options["dry_run"]
            )
        except RetentionError as exc:
            raise CommandError(str(exc)) from None
        cutoff = f"{report.cutoff:%Y-%m-%d %H:%M} UTC"
        kept = f"{report.kept:,} older entr{'y' if report.kept == 1 else 'ies'} kept: cited by a rumour."
        if report.dry_run:
            self.stdout.write(f"Dry run: would delete {report.deleted:,} entries from before {cutoff}. {kept}")
            return
        with_them = ", ".join(f"{count:,} {label}" for label, count in sorted(report.cascaded.items()))
        self.stdout.write(
            f"Deleted {report.deleted:,} entries from before {cutoff} in {report.batches:,} batch(es)"
            + (f", with {with_them}" if with_them else "")
            + f". {kept}"
        )
