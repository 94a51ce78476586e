"""Admin for feeds (with their health), entries and poll logs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
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
    list_display = ["title", "feed", "language", "published_at", "first_seen_at", "update_count", "open_link"]
    list_filter = ["language", "date_estimated", ("feed", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["title", "link", "guid"]
    list_select_related = ["feed"]
    date_hierarchy = "published_at"
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
    list_display = ["started_at", "feed", *POLL_LOG_FIELDS[1:-1]]  # all but the long warning
    list_filter = ["outcome", "status_code"]
    list_select_related = ["feed"]
    search_fields = ["feed__title", "feed__url", "error"]
    raw_id_fields = ["feed"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
