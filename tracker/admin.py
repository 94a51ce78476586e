"""Admin for feeds (with their health), entries and poll logs.

Built for a million entries and tens of millions of poll logs: no list counts a
whole table (:class:`LargeTablePaginator`), no filter reads every row to list its
choices, every filter and the default order are served by an index, and the entry
search is served by trigram indexes on PostgreSQL (migration 0003).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.timesince import timesince

from tracker import services
from tracker.models import Entry, Feed, PollLog
from tracker.parsing import normalise_language
from tracker.tasks import poll_feed

POLL_LOG_FIELDS = [
    "started_at",
    "outcome",
    "status_code",
    "bytes_received",
    "entries_new",
    "entries_updated",
    "duration_ms",
    "error",
    "warning",
]


# A URL typed without a scheme is read as https:// (Django 6's default, chosen now).
HTTPS_BY_DEFAULT: dict[type[models.Field[Any, Any]], dict[str, Any]] = {models.URLField: {"assume_scheme": "https"}}


class LargeTablePaginator(Paginator):
    """A changelist paginator that never counts a big table row by row.

    * Unfiltered, on PostgreSQL: the table's row estimate from ``pg_class.reltuples``
      (kept by autovacuum), once it is past ``exact_up_to``; no scan at all.
    * Filtered or searched: an exact count of at most ``exact_up_to + 1`` rows
      (``COUNT(*)`` over a ``LIMIT`` subquery). Past that, on PostgreSQL, the
      planner's estimate for the query; elsewhere (the embedded SQLite set-up, small
      by design) the exact count.

    So the page links are exact for the first ``exact_up_to`` rows and approximate
    beyond; use it with ``show_full_result_count = False``.
    """

    exact_up_to = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if not queryset.query.has_filters():
            estimate = table_row_estimate(queryset)
            if estimate is not None and estimate > self.exact_up_to:
                return estimate
        bounded: int = queryset.order_by()[: self.exact_up_to + 1].count()
        if bounded <= self.exact_up_to:
            return bounded
        estimate = query_row_estimate(queryset)
        return max(bounded, estimate) if estimate is not None else queryset.count()


def table_row_estimate(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's estimate of the rows in the queryset's table; None elsewhere or before the first ANALYZE."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [queryset.model._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


def query_row_estimate(queryset: QuerySet[Any]) -> int | None:
    """The PostgreSQL planner's estimate of the rows a queryset returns (EXPLAIN: planned, not run)."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    plan = json.loads(queryset.order_by().explain(format="json"))
    if isinstance(plan, list):  # as PostgreSQL writes it; Django may have unwrapped the one-item list
        plan = plan[0]
    return int(plan["Plan"]["Plan Rows"])


def entry_languages(using: str = "default") -> list[str]:
    """The distinct non-empty entry languages, read by a loose index scan.

    ``SELECT DISTINCT language`` would read a million rows; this asks the
    (language, published_at) index for the next language after the last one, once
    per language, on PostgreSQL and SQLite alike.
    """
    connection = connections[using]
    table = connection.ops.quote_name(Entry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE languages(language) AS (
                SELECT MIN(language) FROM {table}
                UNION ALL
                SELECT (SELECT MIN(e.language) FROM {table} e WHERE e.language > languages.language)
                FROM languages WHERE languages.language IS NOT NULL
            )
            SELECT language FROM languages WHERE language IS NOT NULL AND language <> ''
            """  # noqa: S608  (the table name is our own, quoted)
        )
        return [row[0] for row in cursor.fetchall()]


class EntryLanguageFilter(admin.SimpleListFilter):
    """Entries by language; the choices come from the index, not from a scan of the entries."""

    title = "language"
    parameter_name = "language"
    field_path = "language"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, code) for code in entry_languages()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(**{self.field_path: self.value()}) if self.value() is not None else queryset


class EntryFeedFilter(admin.SimpleListFilter):
    """Entries of one feed (linked from the feed list): listing 10,000 feeds here would help no one."""

    title = "feed"
    parameter_name = "feed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        if not value or not _is_id(value):
            return []
        return [(str(feed.pk), str(feed)) for feed in Feed.objects.filter(pk=value)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Entry]) -> QuerySet[Entry]:
        value = self.value()
        if value is None:
            return queryset
        return queryset.filter(feed_id=value) if _is_id(value) else queryset.none()


def _is_id(value: str) -> bool:
    """A row id as a URL can carry it: ASCII digits ("²" is a digit to ``str.isdigit``), 18 at most."""
    return value.isascii() and value.isdigit() and len(value) <= 18


class StatusClassFilter(admin.SimpleListFilter):
    """HTTP status by class, a fixed list: listing the distinct codes would scan every poll log."""

    title = "HTTP status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("2", "2xx"), ("3", "3xx"), ("4", "4xx"), ("5", "5xx"), ("none", "No response")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[PollLog]) -> QuerySet[PollLog]:
        value = self.value()
        if value == "none":
            return queryset.filter(status_code__isnull=True)
        if value in {"2", "3", "4", "5"}:
            low = int(value) * 100
            return queryset.filter(status_code__gte=low, status_code__lt=low + 100)
        return queryset


class HealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("healthy", "Healthy"),
            ("failing", "Failing"),
            ("disabled", "Disabled"),
            ("paused", "Paused"),
            ("new", "Never polled"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Feed]) -> QuerySet[Feed]:
        active = queryset.filter(is_paused=False, disabled_at__isnull=True)
        match self.value():
            case "healthy":
                return active.filter(error_count=0, last_success_at__isnull=False)
            case "failing":
                return active.filter(error_count__gt=0)
            case "disabled":
                return queryset.filter(disabled_at__isnull=False)
            case "paused":
                return queryset.filter(is_paused=True)
            case "new":
                return active.filter(last_success_at__isnull=True, error_count=0)
        return queryset


class PollLogInline(admin.TabularInline):
    formfield_overrides = HTTPS_BY_DEFAULT
    model = PollLog
    extra = 0
    max_num = 0
    can_delete = False
    fields = tuple(POLL_LOG_FIELDS)
    readonly_fields = POLL_LOG_FIELDS
    ordering = ["-started_at"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[PollLog]:
        # The ten latest; the full history is in Poll logs.
        latest = PollLog.objects.order_by("-started_at").values_list("pk", flat=True)
        queryset: QuerySet[PollLog] = super().get_queryset(request)
        object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        if object_id:
            return queryset.filter(pk__in=list(latest.filter(feed_id=object_id)[:10]))
        return queryset.none()


class FeedForm(forms.ModelForm):
    # A URL typed without a scheme means https (Django 6's default, adopted now).
    url = forms.URLField(max_length=2000, assume_scheme="https")
    site_url = forms.URLField(max_length=2000, assume_scheme="https", required=False)

    class Meta:
        model = Feed
        fields = ["url", "title", "site_url", "language", "tier", "is_paused"]

    def clean_language(self) -> str:
        value: str = self.cleaned_data["language"]
        if value and not normalise_language(value):
            raise forms.ValidationError("Use a language tag such as 'en', 'id', 'ko' or 'zh-cn'.")
        return normalise_language(value)


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_BY_DEFAULT
    form = FeedForm
    list_display = [
        "__str__",
        "language",
        "tier_short",
        "health_badge",
        "last_success",
        "error_count",
        "next_poll",
        "interval",
        "entries_link",
    ]
    list_filter = [HealthFilter, "language", "tier"]
    search_fields = ["title", "url", "site_url"]
    actions = ["poll_now", "pause", "resume"]
    inlines = [PollLogInline]
    readonly_fields = [
        "health_badge", "created_at", "last_polled_at", "last_success_at", "last_status_code", "last_error",
        "error_count", "first_error_at", "next_poll_at", "poll_interval", "etag", "last_modified",
        "redirect_target", "redirect_streak", "disabled_at", "disabled_reason",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["url", "title", "site_url", "language", "tier", "is_paused"]}),
        (
            "Health",
            {
                "fields": [
                    "health_badge",
                    "last_success_at",
                    "last_polled_at",
                    "last_status_code",
                    "last_error",
                    "error_count",
                    "first_error_at",
                    "disabled_at",
                    "disabled_reason",
                ]
            },
        ),
        (
            "Schedule and caching",
            {
                "fields": [
                    "next_poll_at",
                    "poll_interval",
                    "etag",
                    "last_modified",
                    "redirect_target",
                    "redirect_streak",
                    "created_at",
                ]
            },
        ),
    ]

    @admin.display(description="Health", ordering="error_count")
    def health_badge(self, feed: Feed) -> str:
        colours = {
            "healthy": "#2e7d32",
            "failing": "#c62828",
            "disabled": "#6d4c41",
            "paused": "#757575",
            "new": "#1565c0",
        }
        label = feed.health
        if label == "failing":
            label = f"failing ({feed.error_count})"
        title = feed.disabled_reason or feed.last_error
        return format_html(
            '<span title="{}" style="color:#fff;background:{};padding:1px 6px;border-radius:8px;'
            'white-space:nowrap">{}</span>',
            title, colours[feed.health], label,
        )  # fmt: skip

    @admin.display(description="Tier", ordering="tier")
    def tier_short(self, feed: Feed) -> str:
        return f"T{feed.tier}"

    @admin.display(description="Last success", ordering="last_success_at")
    def last_success(self, feed: Feed) -> str:
        return f"{timesince(feed.last_success_at)} ago" if feed.last_success_at else "never"

    @admin.display(description="Next poll", ordering="next_poll_at")
    def next_poll(self, feed: Feed) -> str:
        if not feed.is_active:
            return "—"
        if feed.next_poll_at <= timezone.now():
            return "due"
        return f"in {timesince(timezone.now(), feed.next_poll_at)}"

    @admin.display(description="Interval", ordering="poll_interval")
    def interval(self, feed: Feed) -> str:
        return f"{feed.poll_interval // 60} min"

    @admin.display(description="Entries")
    def entries_link(self, feed: Feed) -> str:
        # A link, not a count: counting each feed's entries would cost a query per row.
        url = reverse("admin:tracker_entry_changelist") + f"?feed={feed.pk}"
        return format_html('<a href="{}">entries</a>', url)

    @admin.action(description="Poll selected feeds now", permissions=["change"])
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        claims = services.feeds_claim(feed_ids=queryset.values_list("pk", flat=True))
        for claim in claims:
            poll_feed.delay(claim.feed_id, str(claim.token))
        busy = queryset.count() - len(claims)
        self.message_user(request, f"Queued {len(claims)} feed(s) for polling.", messages.SUCCESS)
        if busy:
            self.message_user(request, f"{busy} feed(s) are being polled already.", messages.WARNING)

    @admin.action(description="Pause selected feeds", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        count = services.feed_pause(feed_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Paused {count} feed(s).", messages.SUCCESS)

    @admin.action(description="Resume selected feeds (also re-enables disabled ones)", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Feed]) -> None:
        count = services.feed_resume(feed_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Resumed {count} feed(s); they are due now.", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: Feed, form: Any, change: bool) -> None:
        # Through the services, like addfeed: an edit writes only the edited columns,
        # so it cannot overwrite the lease or health of a poll running meanwhile.
        if change:
            services.feed_update(feed_id=obj.pk, changes={name: form.cleaned_data[name] for name in form.changed_data})
            obj.refresh_from_db()
            return
        feed, _ = services.feed_create(
            url=obj.url,
            title=obj.title,
            language=obj.language,
            tier=obj.tier,
            site_url=obj.site_url,
            paused=obj.is_paused,
        )
        obj.pk = feed.pk
        obj.refresh_from_db()


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_BY_DEFAULT
    list_display = ["title", "feed", "language", "published_at", "first_seen_at", "update_count", "open_link"]
    # Each filter is served by an index: (language, published_at), published_at,
    # the partial date_estimated index, (feed, published_at). No date_hierarchy: its
    # year links are a DISTINCT over every row.
    list_filter = [EntryLanguageFilter, ("published_at", admin.DateFieldListFilter), "date_estimated", EntryFeedFilter]
    # Served on PostgreSQL by the trigram indexes on UPPER(title) and UPPER(link)
    # (icontains compiles to UPPER(col) LIKE UPPER(%term%)). The guid is not searched:
    # it is usually the link, and a third trigram index would cost more than it finds.
    search_fields = ["title", "link"]
    list_select_related = ["feed"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    readonly_fields = [f.name for f in Entry._meta.fields]
    raw_id_fields = ["feed"]

    @admin.display(description="Link")
    def open_link(self, entry: Entry) -> str:
        return (
            format_html('<a href="{}" rel="noopener noreferrer" target="_blank">open ↗</a>', entry.link)
            if entry.link
            else ""
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PollLog)
class PollLogAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_BY_DEFAULT
    list_display = ["started_at", "feed", *POLL_LOG_FIELDS[1:-1]]  # all but the long warning
    list_filter = ["outcome", StatusClassFilter]
    list_select_related = ["feed"]
    # The feed's title and URL: the (small) feed table is searched, then its logs by
    # the (feed, started_at) index. Error text is not searched (tens of millions of
    # rows); filter by outcome, or read a feed's last error on its page.
    search_fields = ["feed__title", "feed__url"]
    raw_id_fields = ["feed"]
    paginator = LargeTablePaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
