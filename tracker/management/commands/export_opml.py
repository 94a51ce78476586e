from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from tracker.models import Feed
from tracker.opml import OpmlFeed, write_opml


class Command(BaseCommand):
    help = "Write every feed as OPML 2.0 to standard output (or --output FILE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", help="File to write instead of standard output.")
        parser.add_argument("--active-only", action="store_true", help="Leave out paused and disabled feeds.")

    def handle(self, *args: Any, **options: Any) -> None:
        feeds = Feed.objects.order_by("pk")
        if options["active_only"]:
            feeds = feeds.filter(is_paused=False, disabled_at__isnull=True)
        document = write_opml(
            (
                OpmlFeed(url=f.url, title=f.title, site_url=f.site_url, language=f.language, tier=f.tier)
                for f in feeds.iterator()
            ),
            title="SEA deal rumour tracker feeds",
            created=timezone.now(),
        )
        if options["output"]:
            with open(options["output"], "wb") as handle:
                handle.write(document)
        else:
            self.stdout.write(document.decode(), ending="")
