"""Read-only endpoints. Thin: parse ``as_of``, pick a selector, let serializers speak.

Each list costs a fixed number of queries whatever the page size: parties,
sources, quotes and history are prefetched, filtered to what was known at
``as_of`` when one is given.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from rumours.api.auth import AnalystScope, HasApiKeyOrStaff
from rumours.api.exports import rumours_csv
from rumours.api.filters import CompanyFilter, RumourFilter, companies_matching, is_row_id
from rumours.api.serializers import (
    CompanySerializer,
    MentionSerializer,
    QuoteSerializer,
    RumourDetailSerializer,
    RumourSerializer,
    StatusChangePageSerializer,
    StatusChangeSerializer,
    WebhookEndpointSerializer,
)
from rumours.models import (
    Company,
    Mention,
    MentionState,
    Party,
    Quote,
    Rumour,
    Source,
    Stance,
    StatusChange,
    WebhookEndpoint,
)
from rumours.selectors import rumours_as_of, status_changes_for_sync

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
    try:
        moment = parse_datetime(raw)
        if moment is None and (day := parse_date(raw)) is not None:
            moment = datetime(day.year, day.month, day.day)
    except ValueError:  # well formed but impossible: month 13, an offset of 99 hours
        moment = None
    if moment is None:
        raise ValidationError({"as_of": [f"{raw!r} is not an ISO 8601 date or date-time, e.g. 2024-02-10T00:00:00Z."]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return to_utc(moment, name="as_of")


def to_utc(moment: datetime, *, name: str) -> datetime:
    """In UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 parsers accept."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationError({name: ["That moment is out of range."]}) from None


class Pages(CursorPagination):
    """Opaque cursors over a stable order (the id breaks ties); subclasses name the order."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError):
            # A cursor decodes to any position a client writes; one its column cannot hold is not ours.
            if not request.query_params.get(self.cursor_query_param):
                raise
            raise NotFound(self.invalid_cursor_message) from None


class UpdatedCursorPagination(Pages):
    ordering = ("-updated_at", "-id")
    page_size = 50


class CompanyCursorPagination(Pages):
    ordering = ("name", "id")


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
        parameters=[
            AS_OF,
            OpenApiParameter(
                "company",
                OpenApiTypes.STR,
                description="A party: id, slug, name, ticker or any alias.",
                examples=[
                    OpenApiExample("By name", value="Grab"),
                    OpenApiExample("By ticker", value="IDX:GOTO"),
                    OpenApiExample("By a Korean alias", value="그랩"),
                ],
            ),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                description="One or more statuses.",
                examples=[OpenApiExample("Open threads", value="rumoured,in_talks,denied")],
            ),
        ],
    ),
    retrieve=extend_schema(
        summary="One rumour, with sources, quotes and status history",
        description="Everything known about one deal thread; with `as_of`, as it was known then.",
        parameters=[AS_OF],
    ),
)
class RumourViewSet(viewsets.ReadOnlyModelViewSet[Rumour]):
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = RumourFilter
    pagination_class = UpdatedCursorPagination
    ordering_fields = ["updated_at", "created_at", "credibility"]
    ordering = ["-updated_at", "-id"]

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        request.as_of = parse_as_of(request.query_params.get("as_of"))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "as_of": getattr(self.request, "as_of", None)}

    def get_serializer_class(self) -> type[BaseSerializer[Rumour]]:
        return RumourDetailSerializer if self.action == "retrieve" else RumourSerializer

    @extend_schema(
        summary="Rumours as CSV",
        description="The same filters and `as_of` as the list; one row per rumour, with the status also in the "
        "vocabulary data vendors use (Rumor, Pending, Complete, Withdrawn).",
        parameters=[AS_OF],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def export_csv(self, request: Any) -> HttpResponse:
        rumours = self.filter_queryset(self.get_queryset()).order_by("-updated_at", "-id")
        return rumours_csv(rumours, as_of=getattr(request, "as_of", None))

    def get_queryset(self) -> QuerySet[Rumour]:
        as_of: datetime | None = getattr(self.request, "as_of", None)
        rumours = rumours_as_of(as_of) if as_of else Rumour.objects.filter(merged_into__isnull=True)
        parties = Party.objects.select_related("company").order_by("role", "company__name")
        rumours = rumours.prefetch_related(Prefetch("parties", queryset=parties))
        if (as_of is None and self.action != "retrieve") or self.action == "export_csv":
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


# --- Incremental sync of the status history ---------------------------------------------------


class SyncPage:
    """``since`` tokens: the (changed_at, id) of the last row a client has seen."""

    @staticmethod
    def encode(moment: datetime, pk: int) -> str:
        return base64.urlsafe_b64encode(f"{moment.isoformat()}|{pk}".encode()).decode().rstrip("=")

    @staticmethod
    def decode(raw: str) -> tuple[datetime, int]:
        try:
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
            moment_text, pk_text = text.split("|")
            moment = datetime.fromisoformat(moment_text)
            return to_utc(moment, name="since"), int(pk_text)
        except (ValueError, UnicodeDecodeError):
            pass
        moment_or_none = parse_as_of(raw)  # a plain ISO date-time is accepted too (returned in UTC)
        assert moment_or_none is not None
        return moment_or_none, 0


@extend_schema(
    summary="Status changes, for incremental sync",
    description=(
        "Every status change and retraction in the order they were written here. Poll with `since` set to the "
        "`next_since` of your previous answer and upsert by `id`: a retraction re-sends its change with "
        "`retracted: true`. Nothing is missed or sent twice: rows appear once they are "
        f"{settings.API_SYNC_SETTLE_SECONDS} s old, after any transaction that wrote them has committed."
    ),
    parameters=[
        OpenApiParameter(
            "since",
            OpenApiTypes.STR,
            description="`next_since` from your last answer, or an ISO date-time.",
            examples=[OpenApiExample("From a date", value="2026-01-01T00:00:00Z")],
        ),
        OpenApiParameter("rumour", OpenApiTypes.INT, description="Only this rumour."),
        OpenApiParameter("page_size", OpenApiTypes.INT, description="Up to 1000 (default 200)."),
        AS_OF,
    ],
    responses=StatusChangePageSerializer,
)
class StatusChangeListView(generics.GenericAPIView[StatusChange]):
    serializer_class = StatusChangeSerializer

    def get(self, request: Any) -> Response:
        as_of = parse_as_of(request.query_params.get("as_of"))
        rumour = rumour_id_param(request.query_params.get("rumour", ""))
        since = request.query_params.get("since", "")
        changes = status_changes_for_sync(
            settled_before=timezone.now() - timedelta(seconds=settings.API_SYNC_SETTLE_SECONDS),
            since=SyncPage.decode(since) if since else None,
            as_of=as_of,
            rumour_id=rumour,
        )
        size = _page_size(request, default=200, maximum=1000)
        page = list(changes[: size + 1])
        has_more = len(page) > size
        page = page[:size]
        context = {**self.get_serializer_context(), "as_of": as_of}
        last = page[-1] if page else None
        return Response(
            {
                "results": StatusChangeSerializer(page, many=True, context=context).data,
                "next_since": SyncPage.encode(last.changed_at, last.pk) if last else since,
                "has_more": has_more,
            }
        )


def rumour_id_param(raw: str) -> int | None:
    """The ``rumour`` query parameter as an id (None when absent); 400 unless it could be one."""
    if not raw:
        return None
    if not is_row_id(raw):
        raise ValidationError({"rumour": ["Give a rumour id, e.g. rumour=12."]})
    return int(raw)


def _page_size(request: Any, *, default: int, maximum: int) -> int:
    raw = request.query_params.get("page_size", "")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise ValidationError({"page_size": [f"Use a whole number from 1 to {maximum}."]})
    return int(raw)


class MentionCursorPagination(Pages):
    ordering = ("-created_at", "-id")


class SinceCursorPagination(Pages):
    ordering = ("-said_at", "-id")


@extend_schema_view(
    list=extend_schema(
        summary="Executives' quotes",
        description="Verbatim, with speaker, role and company at the time. Filter by rumour, company or stance.",
        parameters=[
            OpenApiParameter("rumour", OpenApiTypes.INT),
            OpenApiParameter(
                "company", OpenApiTypes.STR, description="The speaker's company or a party to the rumour."
            ),
            OpenApiParameter("stance", OpenApiTypes.STR, enum=Stance.values),
            AS_OF,
        ],
    ),
    retrieve=extend_schema(summary="One quote"),
)
class QuoteViewSet(viewsets.ReadOnlyModelViewSet[Quote]):
    serializer_class = QuoteSerializer
    pagination_class = SinceCursorPagination

    def get_queryset(self) -> QuerySet[Quote]:
        params = self.request.query_params
        quotes = Quote.objects.filter(rumour__merged_into__isnull=True).select_related("speaker_company")
        as_of = parse_as_of(params.get("as_of"))
        if as_of is not None:
            quotes = quotes.filter(added_at__lte=as_of, said_at__lte=as_of)
        if (rumour := rumour_id_param(params.get("rumour", ""))) is not None:
            quotes = quotes.filter(rumour_id=rumour)
        if params.get("company"):
            ids = companies_matching(params["company"])
            quotes = quotes.filter(Q(speaker_company_id__in=ids) | Q(rumour__parties__company_id__in=ids)).distinct()
        if params.get("stance"):
            if params["stance"] not in Stance.values:
                raise ValidationError({"stance": [f"Use one of {', '.join(Stance.values)}."]})
            quotes = quotes.filter(stance=params["stance"])
        return quotes


@extend_schema_view(
    list=extend_schema(
        summary="Flagged articles (analyst keys only)",
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=MentionState.values),
            OpenApiParameter("deal", OpenApiTypes.BOOL, description="Only deal candidates (true) or the rest (false)."),
            OpenApiParameter("company", OpenApiTypes.STR, description="Names this company (name, slug or alias)."),
            OpenApiParameter("cluster", OpenApiTypes.INT, description="Only copies of this story."),
        ],
    ),
    retrieve=extend_schema(summary="One flagged article (analyst keys only)"),
)
class MentionViewSet(viewsets.ReadOnlyModelViewSet[Mention]):
    serializer_class = MentionSerializer
    permission_classes = [HasApiKeyOrStaff, AnalystScope]
    pagination_class = MentionCursorPagination

    def get_queryset(self) -> QuerySet[Mention]:
        mentions = (
            Mention.objects.select_related("entry__feed")
            .defer("signature")
            .prefetch_related(
                Prefetch("companies", queryset=Company.objects.order_by("name")),
                "mentionparty_set__company",
            )
        )
        params = self.request.query_params
        state = params.get("state")
        if state:
            if state not in MentionState.values:
                raise ValidationError({"state": [f"Use one of {', '.join(MentionState.values)}."]})
            mentions = mentions.filter(state=state)
        deal = params.get("deal")
        if deal is not None:
            if deal not in {"true", "false"}:
                raise ValidationError({"deal": ["Use true or false."]})
            mentions = mentions.filter(is_deal_candidate=deal == "true")
        if params.get("company"):
            ids = companies_matching(params["company"])
            if not ids:
                raise ValidationError(
                    {"company": [f"No company is called {params['company']!r}; try its ticker or slug."]}
                )
            mentions = mentions.filter(companies__in=ids).distinct()
        cluster = params.get("cluster")
        if cluster is not None:
            if not is_row_id(cluster):
                raise ValidationError({"cluster": ["A cluster id is a whole number."]})
            mentions = mentions.filter(cluster_id=int(cluster))
        return mentions


@extend_schema_view(
    list=extend_schema(
        summary="Your webhook endpoints and their recent deliveries",
        description="Endpoints are registered by your account manager (they will send you the signing secret). "
        "Deliveries are signed per the Standard Webhooks convention: verify `webhook-signature` with your "
        "secret and de-duplicate on `webhook-id`.",
    ),
    retrieve=extend_schema(summary="One webhook endpoint"),
)
class WebhookEndpointViewSet(viewsets.ReadOnlyModelViewSet[WebhookEndpoint]):
    serializer_class = WebhookEndpointSerializer
    pagination_class = MentionCursorPagination

    queryset = WebhookEndpoint.objects.none()  # typed for the schema; get_queryset narrows to the caller's

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real caller
            return WebhookEndpoint.objects.none()
        owner = self.request.user.pk or 0  # no user, no endpoints
        return WebhookEndpoint.objects.filter(user_id=owner).prefetch_related("deliveries")
