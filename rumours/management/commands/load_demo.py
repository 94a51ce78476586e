from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rumours.demo import demo_subscriber, demo_threads, demo_watchlist
from rumours.mentions import mentions_scan
from tracker.demo import DEMO_FEEDS
from tracker.models import Entry
from tracker.parsing import FeedParseError
from tracker.services import feed_create, feed_ingest_document

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105  (a documented demo login, created only with DEBUG on)


class Command(BaseCommand):
    help = (
        "Load the demo: the bundled sample feeds (ingested offline through the normal "
        "parse-and-store path), the default watchlist and its executives, demo rumour threads "
        "built through the services, and (with DEBUG on) a demo admin login. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-user", action="store_true", help="Do not create the demo admin login.")

    def handle(self, *args: Any, **options: Any) -> None:
        analyst = self._demo_user(no_user=options["no_user"])
        companies, people = demo_watchlist()
        self.stdout.write(f"Watchlist: {companies} companies, {people} people.")
        for demo in DEMO_FEEDS:
            feed, _ = feed_create(url=demo.url, title=demo.title, language=demo.language, tier=demo.tier)
            try:
                report = feed_ingest_document(feed=feed, body=demo.path.read_bytes())
            except (OSError, FeedParseError) as exc:
                raise CommandError(f"Demo feed {demo.name} could not be loaded: {exc}") from None
            self.stdout.write(f"{demo.name}: {report.entries_new} new, {report.entries_updated} updated entries")
        # Entries ingested before the watchlist existed (an older demo) reach the inbox too.
        demo_entries = list(
            Entry.objects.filter(feed__url__in=[d.url for d in DEMO_FEEDS]).values_list("pk", flat=True)
        )
        flagged = mentions_scan(entry_ids=demo_entries).flagged
        built = demo_threads(analyst=analyst)
        mentions_scan(entry_ids=demo_entries)  # now that the threads exist, suggest them
        self.stdout.write(f"Inbox: {flagged} flagged article(s); {built} demo rumour thread(s) built.")
        subscriber = demo_subscriber()
        self.stdout.write(
            f"Digests: {subscriber.email} follows Grab and GoTo (daily, 08:00 Asia/Singapore); mail goes to "
            f"{settings.EMAIL_FILE_PATH if 'filebased' in settings.EMAIL_BACKEND else settings.EMAIL_BACKEND}. "
            f"Send one now: manage.py send_digests --user {subscriber.email} --now"
        )

    def _demo_user(self, *, no_user: bool) -> Any:
        if no_user or not settings.DEBUG:
            if not no_user:
                self.stdout.write("DEBUG is off: no demo login created (create one with createsuperuser).")
            # The demo history is still a person's work, not the system's: attribute it
            # to an account that cannot log in.
            analyst, created = get_user_model().objects.get_or_create(
                username="demo-analyst", defaults={"is_active": False}
            )
            if created:
                analyst.set_unusable_password()
                analyst.save(update_fields=["password"])
            return analyst
        user_model = get_user_model()
        user = user_model.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            user = user_model.objects.create_superuser(DEMO_USERNAME, "admin@example.invalid", DEMO_PASSWORD)
            self.stdout.write(f"Created demo login {DEMO_USERNAME} / {DEMO_PASSWORD}.")
        return user
