"""The Atom feed of status changes and the CSV export of rumours."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from rumours.api.filters import companies_matching
from rumours.models import Rumour, Status, StatusChange

# The vocabularies data vendors use, for spreadsheets that expect them.
VENDOR_STATUS: dict[str, str] = {
    Status.RUMOURED: "Rumor",
    Status.IN_TALKS: "Pending",
    Status.AGREED: "Pending",
    Status.COMPLETED: "Complete",
    Status.ABANDONED: "Withdrawn",
    Status.DENIED: "Rumor",
    Status.EXPIRED: "Withdrawn",
}


class StatusChangeFeed(Feed):
    """Atom: the latest status changes, optionally for one company (``?company=Grab``)."""

    feed_type = Atom1Feed
    limit = 50

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> list[int] | None:
        company = request.GET.get("company", "").strip()
        if not company:
            return None
        ids = companies_matching(company)
        if not ids:
            raise Http404(f"No company is called {company!r}.")
        return ids

    def title(self, obj: list[int] | None) -> str:
        return "Deal rumour status changes" + (" (filtered by company)" if obj else "")

    def link(self, obj: list[int] | None) -> str:
        return reverse("api-docs")

    def subtitle(self, obj: list[int] | None) -> str:
        return "Southeast Asian tech M&A: rumoured, in talks, agreed, completed, abandoned, denied, expired."

    def items(self, obj: list[int] | None) -> QuerySet[StatusChange]:
        changes = StatusChange.objects.filter(retracted_at__isnull=True, rumour__merged_into__isnull=True)
        if obj:
            changes = changes.filter(rumour__parties__company_id__in=obj).distinct()
        return changes.select_related("rumour", "evidence_source").order_by("-changed_at", "-id")[: self.limit]

    def item_title(self, change: StatusChange) -> str:
        return f"{change.rumour.title}: {change.get_status_display()} ({change.effective_at:%Y-%m-%d})"

    def item_description(self, change: StatusChange) -> str:
        # Atom's <summary type="html"> is read as HTML: a note is text, so it goes in escaped.
        evidence = f" Evidence: {change.evidence_source.title}." if change.evidence_source else ""
        return escape(f"{change.note}{evidence}".strip())

    def item_link(self, change: StatusChange) -> str:
        return reverse("rumour-detail", args=[change.rumour_id])

    def item_guid(self, change: StatusChange) -> str:
        return f"urn:sea-deal-rumours:status-change:{change.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, change: StatusChange) -> Any:
        return change.effective_at

    def item_updateddate(self, change: StatusChange) -> Any:
        return change.changed_at


CSV_COLUMNS = [
    "id", "title", "deal_type", "status", "vendor_status", "status_effective_at", "credibility", "parties",
    "value_amount", "value_currency", "stake_percent", "updated_at",
]  # fmt: skip


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """Text a spreadsheet shows rather than runs: a leading apostrophe before a formula start."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def rumours_csv(rumours: QuerySet[Rumour], *, as_of: Any) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rumours.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for rumour in rumours:
        status = str(getattr(rumour, "status_as_of", "")) if as_of else rumour.status
        effective = getattr(rumour, "status_effective_as_of", None) if as_of else rumour.status_effective_at
        parties = "; ".join(f"{p.company.name} ({p.role})" for p in rumour.parties.all())
        writer.writerow(
            [
                rumour.pk,
                inert(rumour.title),
                rumour.deal_type,
                status,
                VENDOR_STATUS.get(status, ""),
                effective.isoformat() if effective else "",
                rumour.credibility,
                inert(parties),
                rumour.value_amount or "",
                rumour.value_currency,
                rumour.stake_percent or "",
                rumour.updated_at.isoformat(),
            ]
        )
    return response
