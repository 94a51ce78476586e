from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RumoursConfig(AppConfig):
    name = "rumours"
    verbose_name = "Deal rumours"

    def ready(self) -> None:
        from rumours.permissions import ensure_groups

        # After every migrate, so the groups follow the permissions the code defines.
        post_migrate.connect(ensure_groups, sender=self, dispatch_uid="rumours.ensure_groups")
