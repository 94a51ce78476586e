from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.models import OutletTier
from tracker.services import FeedError, feed_create


class Command(BaseCommand):
    help = "Add a feed to poll (idempotent: an existing URL is reported, not duplicated)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="The RSS or Atom feed URL (http or https).")
        parser.add_argument("--title", default="", help="Outlet name; taken from the feed if omitted.")
        parser.add_argument("--language", default="", help="BCP 47 tag, e.g. en, id, ko, zh-cn.")
        parser.add_argument(
            "--tier", type=int, default=OutletTier.NATIONAL, choices=OutletTier.values,
            help="1 wire/major daily, 2 national outlet (default), 3 trade press or blog.",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            feed, created = feed_create(
                url=options["url"], title=options["title"], language=options["language"], tier=options["tier"]
            )
        except FeedError as exc:
            raise CommandError(str(exc)) from None
        verb = "Added" if created else "Already present:"
        self.stdout.write(f"{verb} feed {feed.pk} {feed.url}")
