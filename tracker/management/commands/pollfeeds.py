from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.fetching import build_client
from tracker.models import Feed
from tracker.services import feed_poll, feeds_claim, feeds_claim_due, fetch_policy


class Command(BaseCommand):
    help = (
        "Poll feeds now, in this process, and print a summary. Without options polls the "
        "feeds that are due; feeds another poll holds are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--feed", type=int, action="append", default=[], metavar="ID", help="Feed id (repeatable).")
        parser.add_argument("--all", action="store_true", help="Every active feed, due or not.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["feed"]:
            missing = set(options["feed"]) - set(
                Feed.objects.filter(pk__in=options["feed"]).values_list("pk", flat=True)
            )
            if missing:
                raise CommandError(f"No feed with id {', '.join(map(str, sorted(missing)))}.")
            claims = feeds_claim(feed_ids=options["feed"])
        elif options["all"]:
            active = Feed.objects.filter(is_paused=False, disabled_at__isnull=True).values_list("pk", flat=True)
            claims = feeds_claim(feed_ids=list(active))
        else:
            claims = feeds_claim_due()
        totals = {"new": 0, "updated": 0, "errors": 0}
        with build_client(fetch_policy()) as client:
            for claim in claims:
                report = feed_poll(feed_id=claim.feed_id, claim_token=claim.token, client=client)
                totals["new"] += report.entries_new
                totals["updated"] += report.entries_updated
                totals["errors"] += bool(report.error)
                line = f"feed {report.feed_id}: {report.outcome}"
                if report.status_code:
                    line += f" (HTTP {report.status_code})"
                line += f", {report.entries_new} new, {report.entries_updated} updated"
                if report.error:
                    line += f" — {report.error}"
                self.stdout.write(line)
        self.stdout.write(
            f"Polled {len(claims)} feed(s): {totals['new']} new entries, "
            f"{totals['updated']} updated, {totals['errors']} error(s)."
        )
