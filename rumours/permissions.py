"""The three staff roles, kept in sync after every ``migrate``.

* **Analysts** curate: create rumours, attach sources, add quotes, record status
  changes, edit companies and people.
* **Editors** can do all that, and also retract status changes and merge duplicate
  rumours, and manage feeds.
* **Read-only staff** see everything and change nothing.

Every write is attributed: services take the acting user, and the admin's own log
records the rest.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

VIEW_MODELS = {
    "rumours": [
        "company",
        "companyalias",
        "person",
        "personalias",
        "rumour",
        "party",
        "source",
        "quote",
        "statuschange",
    ],
    "tracker": ["feed", "entry", "polllog"],
}
ANALYST_CODENAMES = {
    "rumours": [
        "add_rumour", "change_rumour", "record_status",
        "add_party", "change_party", "delete_party",
        "add_source", "add_quote", "add_statuschange",
        "add_company", "change_company", "add_companyalias", "change_companyalias", "delete_companyalias",
        "add_person", "change_person", "add_personalias", "change_personalias", "delete_personalias",
    ],
}  # fmt: skip
EDITOR_EXTRA = {
    # Subscribers' addresses are personal data: editors manage them, analysts and read-only staff do not see them.
    "rumours": [
        "retract_status", "merge_rumours",
        "view_subscription", "add_subscription", "change_subscription", "view_digestdelivery",
    ],
    "tracker": ["add_feed", "change_feed"],
}  # fmt: skip

GROUPS = {
    "Read-only staff": [VIEW_MODELS],
    "Analysts": [VIEW_MODELS, ANALYST_CODENAMES],
    "Editors": [VIEW_MODELS, ANALYST_CODENAMES, EDITOR_EXTRA],
}


def _permissions(spec: dict[str, list[str]], *, view: bool) -> Q:
    query = Q(pk__in=[])
    for app, names in spec.items():
        codenames = [f"view_{name}" for name in names] if view else names
        query |= Q(content_type__app_label=app, codename__in=codenames)
    return query


def ensure_groups(**kwargs: Any) -> None:
    for name, specs in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        query = Q(pk__in=[])
        for spec in specs:
            query |= _permissions(spec, view=spec is VIEW_MODELS)
        group.permissions.set(Permission.objects.filter(query))
