from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from rumours.digests.content import DigestRequest, digests_build
from rumours.digests.rendering import subject_of
from rumours.digests.services import deliveries_plan, deliveries_send, deliveries_sweep, digests_due, subscriptions_live
from rumours.models import DigestFrequency


class Command(BaseCommand):
    help = (
        "Plan and send the digests that are due now, in-process (beat does this every 15 minutes). Each "
        "(subscriber, period) is sent at most once, however often this runs. --dry-run prints what would be "
        "sent; --now ends the period now instead of at the subscriber's send hour."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Print the digests due; send and record nothing.")
        parser.add_argument("--frequency", choices=DigestFrequency.values, help="Only daily or only weekly.")
        parser.add_argument("--user", help="Only this subscriber: a username or an email address.")
        parser.add_argument("--now", action="store_true", help="Cover up to this moment (an off-schedule digest).")

    def handle(self, *args: Any, **options: Any) -> None:
        subscriptions = subscriptions_live()
        if options["frequency"]:
            subscriptions = subscriptions.filter(frequency=options["frequency"])
        if options["user"]:
            who = options["user"]
            subscriptions = subscriptions.filter(Q(email__iexact=who) | Q(user__username=who))
            if not subscriptions.exists():
                raise CommandError(f"No active subscription for {who!r} (a username or an email address).")
        now = timezone.now()
        due = digests_due(now=now, subscriptions=subscriptions, ad_hoc=options["now"])
        if options["dry_run"]:
            digests = digests_build([DigestRequest(d.subscription, d.kind, d.start, d.end) for d in due])
            for digest in digests:
                self.stdout.write(
                    f"{digest.subscription.email}: {digest.kind}, {digest.start:%Y-%m-%d %H:%M} – "
                    f"{digest.end:%Y-%m-%d %H:%M} UTC, {len(digest.updates)} rumour(s): {subject_of(digest)}"
                )
            self.stdout.write(f"{len(digests)} digest(s) due; nothing sent (dry run).")
            return
        if options["now"]:
            # Off-schedule: a digest only for those with something new (a second run a minute later sends nothing).
            built = digests_build([DigestRequest(d.subscription, d.kind, d.start, d.end) for d in due])
            due = [planned for planned, digest in zip(due, built, strict=True) if not digest.is_empty]
        deliveries_sweep(now=now)
        ready = deliveries_plan(now=now, digests=due, subscriptions=subscriptions)
        outcome = deliveries_send(delivery_ids=ready, now=now)
        summary = ", ".join(f"{count} {state}" for state, count in sorted(outcome.items())) or "nothing to send"
        self.stdout.write(f"{len(due)} digest(s) due: {summary}.")
