"""The filters investors use on rumours and companies."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import django_filters
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError

from rumours.models import Company, DealType, Rumour, Sector, Status, normalise_alias


def is_row_id(value: str) -> bool:
    """Whether a query parameter can name a row: ASCII digits ("²" passes ``str.isdigit``),
    at most 18 of them (beyond that no database id column holds the number)."""
    return re.fullmatch(r"[0-9]{1,18}", value) is not None


def companies_matching(value: str) -> list[int]:
    """Company ids for an id, slug, name, ticker (``IDX:GOTO`` or ``GOTO``) or any alias."""
    value = value.strip()
    if "\x00" in value or len(value) > 200:  # no name holds a NUL (PostgreSQL refuses it) or is that long
        return []
    if is_row_id(value):
        return [int(value)]
    folded = normalise_alias(value)
    ids = set(
        Company.objects.filter(Q(slug=value) | Q(name__iexact=value) | Q(aliases__normalised=folded)).values_list(
            "pk", flat=True
        )
    )
    upper = value.upper()
    for pk, tickers in Company.objects.exclude(tickers=[]).values_list("pk", "tickers"):
        if any(upper in (ticker.upper(), ticker.upper().split(":")[-1]) for ticker in tickers):
            ids.add(pk)
    return sorted(ids)


class RumourFilter(django_filters.FilterSet):
    company = django_filters.CharFilter(
        method="filter_company",
        max_length=200,
        help_text="A party: id, slug, name, ticker (IDX:GOTO or GOTO) or any alias (그랩).",
    )
    status = django_filters.CharFilter(
        method="filter_status", help_text="One or more statuses, comma-separated or repeated: status=denied,in_talks."
    )
    country = django_filters.CharFilter(method="filter_country", help_text="A party's country (ISO code), e.g. ID.")
    sector = django_filters.ChoiceFilter(choices=Sector.choices, method="filter_sector", help_text="A party's sector.")
    deal_type = django_filters.ChoiceFilter(choices=DealType.choices)
    min_credibility = django_filters.NumberFilter(
        field_name="credibility", lookup_expr="gte", help_text="Credibility score at least this (0–100)."
    )
    updated_since = django_filters.IsoDateTimeFilter(
        method="filter_updated_since", help_text="Changed at or after this ISO 8601 moment."
    )
    q = django_filters.CharFilter(
        method="filter_text", max_length=200, help_text="Free text: titles, company names and aliases, quotes."
    )

    class Meta:
        model = Rumour
        fields = ["company", "status", "country", "sector", "deal_type", "min_credibility", "updated_since", "q"]

    def filter_updated_since(self, queryset: QuerySet[Rumour], name: str, value: datetime) -> QuerySet[Rumour]:
        try:
            moment = value.astimezone(UTC)  # PostgreSQL refuses offsets beyond ±15:59
        except (OverflowError, ValueError):
            raise ValidationError({"updated_since": ["That moment is out of range."]}) from None
        return queryset.filter(updated_at__gte=moment)

    def filter_company(self, queryset: QuerySet[Rumour], name: str, value: str) -> QuerySet[Rumour]:
        ids = companies_matching(value)
        if not ids:
            raise ValidationError({"company": [f"No company is called {value!r}; try its ticker or slug."]})
        return queryset.filter(parties__company_id__in=ids).distinct()

    def filter_status(self, queryset: QuerySet[Rumour], name: str, value: str) -> QuerySet[Rumour]:
        wanted = {part.strip() for raw in self.data.getlist("status") for part in raw.split(",") if part.strip()}
        unknown = sorted(wanted - set(Status.values))
        if unknown:
            raise ValidationError({"status": [f"Unknown status {unknown[0]!r}; use {', '.join(Status.values)}."]})
        field = "status_as_of" if self.request is not None and getattr(self.request, "as_of", None) else "status"
        return queryset.filter(**{f"{field}__in": wanted})

    def filter_country(self, queryset: QuerySet[Rumour], name: str, value: str) -> QuerySet[Rumour]:
        return queryset.filter(parties__company__country=value.upper()).distinct()

    def filter_sector(self, queryset: QuerySet[Rumour], name: str, value: str) -> QuerySet[Rumour]:
        return queryset.filter(parties__company__sector=value).distinct()

    def filter_text(self, queryset: QuerySet[Rumour], name: str, value: str) -> QuerySet[Rumour]:
        folded = normalise_alias(value)
        return queryset.filter(
            Q(title__icontains=value)
            | Q(parties__company__name__icontains=value)
            | Q(parties__company__aliases__normalised__contains=folded)
            | Q(quotes__text__icontains=value)
        ).distinct()


class CompanyFilter(django_filters.FilterSet):
    country = django_filters.CharFilter(field_name="country", help_text="ISO code, e.g. SG.")
    sector = django_filters.ChoiceFilter(choices=Sector.choices)
    q = django_filters.CharFilter(method="filter_text", max_length=200, help_text="Name, alias or ticker.")

    class Meta:
        model = Company
        fields = ["country", "sector", "q"]

    def filter_text(self, queryset: QuerySet[Company], name: str, value: str) -> QuerySet[Company]:
        ids = companies_matching(value)
        return queryset.filter(Q(pk__in=ids) | Q(name__icontains=value)).distinct()
