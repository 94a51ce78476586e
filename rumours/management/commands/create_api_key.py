from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rumours.models import ApiScope
from rumours.services import RumourError, api_key_create


class Command(BaseCommand):
    help = "Issue an API key for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The investor's (or analyst's) user account.")
        parser.add_argument("--name", default="", help="What the key is for, e.g. 'backtests'.")
        parser.add_argument("--scope", default=ApiScope.INVESTOR, choices=ApiScope.values)
        parser.add_argument("--create-user", action="store_true", help="Create the (non-staff) user if missing.")

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        user = users.objects.filter(username=options["username"]).first()
        if user is None:
            if not options["create_user"]:
                raise CommandError(f"No user {options['username']!r}; add --create-user to create one.")
            user = users.objects.create_user(options["username"])
            user.set_unusable_password()
            user.save(update_fields=["password"])
        try:
            record, key = api_key_create(user=user, name=options["name"], scope=options["scope"], created_by=None)
        except RumourError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"API key {record.prefix}… ({record.scope}) for {user.get_username()}. Shown once:")
        self.stdout.write(key)
