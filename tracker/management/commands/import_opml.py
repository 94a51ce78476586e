from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from tracker.models import OutletTier
from tracker.opml import OpmlError, read_opml
from tracker.services import FeedError, feed_create


class Command(BaseCommand):
    help = "Import feeds from an OPML file. All or nothing: one bad outline imports none."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="OPML file, or - for standard input.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["path"]
        try:
            data = self.stdin_bytes() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            rows = read_opml(data)
        except OpmlError as exc:
            raise CommandError(f"{path}: {exc}") from None
        created = existing = 0
        errors: list[str] = []
        with transaction.atomic():
            for row in rows:
                try:
                    _, was_created = feed_create(
                        url=row.url, site_url=row.site_url, title=row.title, language=row.language,
                        tier=row.tier if row.tier is not None else OutletTier.NATIONAL,
                    )  # fmt: skip
                except FeedError as exc:
                    errors.append(f"{row.title or row.url}: {exc}")
                    continue
                created += was_created
                existing += not was_created
            if errors:
                transaction.set_rollback(True)
        if errors:
            raise CommandError(f"{path}: nothing imported; fix these outlines:\n" + "\n".join(errors))
        self.stdout.write(f"Imported {created} new feed(s); {existing} already present.")

    def stdin_bytes(self) -> bytes:
        import sys

        return sys.stdin.buffer.read()
