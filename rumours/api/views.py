"""Read-only endpoints. Thin: parse ``as_of``, pick a selector, let serializers speak.

Each list costs a fixed number of queries whatever the page size: parties,
sources, quotes and history are prefetched, filtered to what was known at
``as_of`` when one is given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.serializers import BaseSerializer

from rumours.api.filters import CompanyFilter, RumourFilter
from rumours.api.serializers import CompanySerializer, RumourDetailSerializer, RumourSerializer
from rumours.models import Company, Party, Quote, Rumour, Source, StatusChange
from rumours.selectors import rumours_as_of

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATETIME,
    description="Answer as known at this moment (ISO 8601, UTC if no offset): changes recorded later and "
    "retractions made later are invisible. Omit for now.",
    examples=[OpenApiExample("Before the 2024 revival", value="2023-06-30T00:00:00Z")],
)


def parse_as_of(raw: str | None) -> datetime | None:
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None and (day := parse_date(raw)) is not None:
        moment = datetime(day.year, day.month, day.day)
    if moment is None:
        raise ValidationError({"as_of": [f"{raw!r} is not an ISO 8601 date or date-time, e.g. 2024-02-10T00:00:00Z."]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


class UpdatedCursorPagination(CursorPagination):
    """Stable order (most recently updated first, id breaking ties) and opaque cursors."""

    ordering = ("-updated_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CompanyCursorPagination(CursorPagination):
    ordering = ("name", "id")
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


@extend_schema_view(
    list=extend_schema(summary="Companies on the watchlist", description="Filter by country, sector or text."),
    retrieve=extend_schema(summary="One company"),
)
class CompanyViewSet(viewsets.ReadOnlyModelViewSet[Company]):
    serializer_class = CompanySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CompanyFilter
    pagination_class = CompanyCursorPagination
    queryset = Company.objects.prefetch_related("aliases")


@extend_schema_view(
    list=extend_schema(
        summary="Deal rumours",
        description="Threads between parties, with status and credibility. Add `as_of` for a point-in-time answer.",
        parameters=[AS_OF],
    ),
    retrieve=extend_schema(
        summary="One rumour, with sources, quotes and status history",
        description="Everything known about one deal thread; with `as_of`, as it was known then.",
        parameters=[AS_OF],
    ),
)
class RumourViewSet(viewsets.ReadOnlyModelViewSet[Rumour]):
    filter_backends = [DjangoFilterBackend]
    filterset_class = RumourFilter
    pagination_class = UpdatedCursorPagination

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        request.as_of = parse_as_of(request.query_params.get("as_of"))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "as_of": getattr(self.request, "as_of", None)}

    def get_serializer_class(self) -> type[BaseSerializer[Rumour]]:
        return RumourDetailSerializer if self.action == "retrieve" else RumourSerializer

    def get_queryset(self) -> QuerySet[Rumour]:
        as_of: datetime | None = getattr(self.request, "as_of", None)
        rumours = rumours_as_of(as_of) if as_of else Rumour.objects.filter(merged_into__isnull=True)
        parties = Party.objects.select_related("company").order_by("role", "company__name")
        rumours = rumours.prefetch_related(Prefetch("parties", queryset=parties))
        if as_of is None and self.action != "retrieve":
            return rumours
        sources = Source.objects.order_by("-published_at", "-id")
        quotes = Quote.objects.select_related("speaker_company").order_by("-said_at", "-id")
        history = StatusChange.objects.all()
        if as_of is not None:
            sources = sources.filter(added_at__lte=as_of, published_at__lte=as_of)
            quotes = quotes.filter(added_at__lte=as_of, said_at__lte=as_of)
            # as known then: recorded by then, and rows merged in only once the merge happened
            history = history.filter(recorded_at__lte=as_of, effective_at__lte=as_of).filter(
                Q(origin_rumour_id=F("rumour_id")) | Q(origin_rumour__merged_at__lte=as_of)
            )
        return rumours.prefetch_related(
            Prefetch("sources", queryset=sources),
            Prefetch("quotes", queryset=quotes),
            Prefetch("status_changes", queryset=history),
        )
