from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from rumours.services import company_upsert
from rumours.watchlist import DEFAULT_WATCHLIST, WatchlistError, read_companies


class Command(BaseCommand):
    help = (
        "Import companies from JSON or CSV (see rumours/watchlist.py for the formats), upserting by "
        "name. All or nothing: a file with any bad row imports none and lists every problem. "
        "Without PATH, imports the bundled default watchlist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="JSON or CSV file, or - for standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["path"] or str(DEFAULT_WATCHLIST)
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            specs = read_companies(data, name=path)
        except WatchlistError as exc:
            raise CommandError(f"{path}: nothing imported; fix these rows:\n{exc}") from None
        created = 0
        with transaction.atomic():
            for spec in specs:
                created += company_upsert(spec=spec)[1]
        self.stdout.write(f"Imported {len(specs)} companies: {created} new, {len(specs) - created} updated.")
