"""The analyst's desk: companies, people and rumours, with curation pages that call services."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django import forms as django_forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import smart_split, unescape_string_literal

from rumours import forms, mentions, services, timeline, webhooks
from rumours.api.filters import is_row_id
from rumours.detection.text import plain_text
from rumours.digests import rendering as digest_rendering
from rumours.digests import services as digest_services
from rumours.models import (
    ApiKey,
    Company,
    CompanyAlias,
    DealType,
    DigestDelivery,
    Mention,
    MentionState,
    Party,
    Person,
    PersonAlias,
    Quote,
    Rumour,
    Sector,
    Source,
    Status,
    StatusChange,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from rumours.selectors import status_history
from tracker.admin import HTTPS_BY_DEFAULT, EntryLanguageFilter, LargeTablePaginator
from tracker.models import Entry

STATUS_COLOURS = timeline.COLOURS
# The request being rendered, for read-only panels that depend on the user's rights
# (ModelAdmin instances are shared between threads, so not an attribute).
_request: ContextVar[HttpRequest | None] = ContextVar("rumour_admin_request", default=None)


def status_badge(status: str) -> SafeString:
    if not status:
        return format_html('<span style="color:#999">{}</span>', "no status")
    return format_html(
        '<span style="color:#fff;background:{};padding:1px 7px;border-radius:8px;white-space:nowrap">{}</span>',
        STATUS_COLOURS.get(status, "#999"),
        Status(status).label,
    )


# --- Companies and people --------------------------------------------------------------


class CompanyAliasInline(admin.TabularInline):
    model = CompanyAlias
    extra = 1
    fields = ["alias", "language", "is_ambiguous"]


class RecordAdmin(admin.ModelAdmin):
    """For rows the system writes (the inbox, deliveries): listed and read, never added or edited here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "sector", "ticker_list", "alias_list", "rumour_count"]
    list_filter = ["country", "sector"]
    search_fields = ["name", "aliases__alias", "tickers"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CompanyAliasInline]
    formfield_overrides = HTTPS_BY_DEFAULT

    def get_queryset(self, request: HttpRequest) -> QuerySet[Company]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("aliases")
            .annotate(rumour_total=Count("parties__rumour", distinct=True))
            .order_by("name")  # Meta.ordering does not apply to GROUP BY queries
        )

    @admin.display(description="Tickers")
    def ticker_list(self, company: Company) -> str:
        return ", ".join(company.tickers)

    @admin.display(description="Aliases")
    def alias_list(self, company: Company) -> SafeString:
        aliases = sorted(company.aliases.all(), key=lambda a: a.alias)
        return format_html_join(
            ", ",
            "{}{}",
            ((a.alias, "*" if a.is_ambiguous else "") for a in aliases),
        )

    @admin.display(description="Rumours", ordering="rumour_total")
    def rumour_count(self, company: Company) -> int:
        return company.rumour_total  # type: ignore[attr-defined]


class PersonAliasInline(admin.TabularInline):
    model = PersonAlias
    extra = 1
    fields = ["alias", "language"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "company"]
    list_select_related = ["company"]
    list_filter = [("company", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "aliases__alias", "company__name"]
    autocomplete_fields = ["company"]
    inlines = [PersonAliasInline]


# --- Rumours ----------------------------------------------------------------------------


class PartyInline(admin.TabularInline):
    model = Party
    extra = 0
    autocomplete_fields = ["company"]
    fields = ["company", "role"]


class SourceInline(admin.TabularInline):
    formfield_overrides = HTTPS_BY_DEFAULT
    model = Source
    extra = 0
    can_delete = False
    fields = ("published_at", "title_link", "outlet", "outlet_tier", "language")
    readonly_fields = fields
    ordering = ["-published_at"]
    verbose_name_plural = "Sources (add with “Attach a source”)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Title")
    def title_link(self, source: Source) -> SafeString:
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', source.url, source.title or source.url
        )


class QuoteInline(admin.TabularInline):
    model = Quote
    extra = 0
    can_delete = False
    fields = ("said_at", "speaker_name", "speaker_role", "stance", "text", "translation")
    readonly_fields = fields
    ordering = ["-said_at"]
    verbose_name_plural = "Quotes (add with “Add a quote”)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PartyCountryFilter(admin.SimpleListFilter):
    title = "party country"
    parameter_name = "country"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        countries = set(Company.objects.filter(parties__isnull=False).values_list("country", flat=True))
        return [(c, c) for c in sorted(countries)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Rumour]) -> QuerySet[Rumour]:
        return queryset.filter(parties__company__country=self.value()) if self.value() else queryset


class PartySectorFilter(admin.SimpleListFilter):
    title = "party sector"
    parameter_name = "sector"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        sectors = set(Company.objects.filter(parties__isnull=False).values_list("sector", flat=True))
        return [(s, Sector(s).label) for s in sorted(sectors)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Rumour]) -> QuerySet[Rumour]:
        return queryset.filter(parties__company__sector=self.value()) if self.value() else queryset


@admin.register(Rumour)
class RumourAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "status_display",
        "credibility",
        "party_names",
        "deal_type",
        "last_evidence_at",
        "updated_at",
    ]
    list_filter = [
        "status",
        "deal_type",
        PartyCountryFilter,
        PartySectorFilter,
        ("parties__company", admin.RelatedOnlyFieldListFilter),
        "updated_at",
    ]
    search_fields = ["title", "parties__company__name", "parties__company__aliases__alias", "quotes__text"]
    fields = ["title", "deal_type", "summary", ("value_amount", "value_currency", "stake_percent")]
    readonly_fields = ["curation_links", "status_display", "credibility_panel", "timeline_svg", "history_table"]
    inlines = [PartyInline, SourceInline, QuoteInline]
    show_full_result_count = False

    def get_fieldsets(self, request: HttpRequest, obj: Rumour | None = None) -> Any:
        if obj is None:
            return [(None, {"fields": self.fields})]
        return [
            (
                None,
                {
                    "fields": [
                        "curation_links",
                        "title",
                        "deal_type",
                        "summary",
                        ("value_amount", "value_currency", "stake_percent"),
                    ]
                },
            ),
            (
                "Status and credibility",
                {"fields": ["status_display", "credibility_panel", "timeline_svg", "history_table"]},
            ),
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rumour]:
        return (
            super()
            .get_queryset(request)
            .filter(merged_into__isnull=True)
            .prefetch_related(
                Prefetch("parties", queryset=Party.objects.select_related("company").order_by("role", "company__name"))
            )
        )

    # --- list columns and read-only panels -------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_display(self, rumour: Rumour) -> SafeString:
        return status_badge(rumour.status)

    @admin.display(description="Parties")
    def party_names(self, rumour: Rumour) -> str:
        return " · ".join(f"{p.company.name} ({p.get_role_display().lower()})" for p in rumour.parties.all())

    @admin.display(description="Credibility")
    def credibility_panel(self, rumour: Rumour) -> SafeString:
        rows = format_html_join(
            "", "<tr><td>{}</td><td style='text-align:right'>{}</td></tr>",
            ((part["label"], f"{part['points']:+d}") for part in rumour.credibility_breakdown),
        )  # fmt: skip
        return format_html(
            "<strong style='font-size:1.4em'>{}</strong> / 100<table style='margin-top:6px'>{}</table>",
            rumour.credibility,
            rows,
        )

    @admin.display(description="Timeline")
    def timeline_svg(self, rumour: Rumour) -> SafeString:
        points = [
            timeline.Point(c.status, c.get_status_display(), c.effective_at, c.is_retracted)
            for c in status_history(rumour)
        ]
        return mark_safe(timeline.render(points, now=timezone.now()))  # noqa: S308  (timeline escapes every label)

    @admin.display(description="History")
    def history_table(self, rumour: Rumour) -> SafeString:
        rows = []
        request = _request.get()
        can_retract = request is not None and request.user.has_perm("rumours.retract_status")
        for change in status_history(rumour):
            evidence = ""
            source = change.evidence_source
            if source:
                evidence = format_html(
                    '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
                    source.url,
                    source.title or source.url,
                )
            if change.evidence_quote:
                evidence = format_html("{} “{}”", evidence, change.evidence_quote.text[:120])
            who = change.recorded_by.get_username() if change.recorded_by else "system"
            retraction = ""
            if change.is_retracted:
                retraction = format_html(
                    "<em>retracted {} by {}: {}</em>",
                    f"{change.retracted_at:%Y-%m-%d}",
                    change.retracted_by.get_username() if change.retracted_by else "?",
                    change.retraction_reason,
                )
            elif can_retract:
                retraction = format_html(
                    '<a href="{}">retract…</a>', reverse("admin:rumours_statuschange_retract", args=[change.pk])
                )
            style = "opacity:.55;text-decoration:line-through" if change.is_retracted else ""
            rows.append(
                format_html(
                    "<tr><td style='{}'>{}</td><td style='{}'>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    style,
                    f"{change.effective_at:%Y-%m-%d}",
                    style,
                    status_badge(change.status),
                    format_html("{} by {}", f"{change.recorded_at:%Y-%m-%d %H:%M}", who),
                    evidence,
                    change.note,
                    retraction,
                )
            )
        head = "<tr><th>Effective</th><th>Status</th><th>Recorded</th><th>Evidence</th><th>Note</th><th></th></tr>"
        return format_html("<table class='status-history'>{}{}</table>", mark_safe(head), mark_safe("".join(rows)))  # noqa: S308

    @admin.display(description="Curate")
    def curation_links(self, rumour: Rumour) -> SafeString:
        links = [
            ("Record a status change", "admin:rumours_rumour_status"),
            ("Attach a source", "admin:rumours_rumour_source"),
            ("Add a quote", "admin:rumours_rumour_quote"),
        ]
        return format_html_join(
            " ",
            '<a class="button" href="{}">{}</a>',
            ((reverse(name, args=[rumour.pk]), label) for label, name in links),
        )

    # --- writes go through the services ------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Rumour, form: Any, change: bool) -> None:
        if not change:
            raise PermissionDenied("Create rumours with the “Create a rumour” page.")
        services.rumour_update(rumour=obj, changes={name: form.cleaned_data[name] for name in form.changed_data})

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.rumour_refresh(rumour=form.instance)  # party changes move credibility

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        token = _request.set(request)
        try:
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # while the request is known to the panels
            return response
        finally:
            _request.reset(token)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the history is append-only; duplicates are merged, mistakes retracted

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:rumours_rumour_create"))

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("create/", wrap(self.create_view), name="rumours_rumour_create"),
            path("<int:pk>/status/", wrap(self.status_view), name="rumours_rumour_status"),
            path("<int:pk>/source/", wrap(self.source_view), name="rumours_rumour_source"),
            path("<int:pk>/quote/", wrap(self.quote_view), name="rumours_rumour_quote"),
            path("change/<int:pk>/retract/", wrap(self.retract_view), name="rumours_statuschange_retract"),
            path("from-entry/<int:entry_pk>/attach/", wrap(self.attach_entry_view), name="rumours_entry_attach"),
            *super().get_urls(),
        ]

    def _require(self, request: HttpRequest, permission: str) -> None:
        if not request.user.has_perm(permission):
            raise PermissionDenied

    def _form_page(
        self, request: HttpRequest, form: forms.ServiceForm, *, title: str, submit: str, rumour: Rumour | None = None,
        entry: Entry | None = None, intro: str = "", success: Any = None,
    ) -> HttpResponse:  # fmt: skip
        if request.method == "POST" and form.is_valid():
            assert isinstance(request.user, User)
            result = form.save(user=request.user)
            if result is not None:
                self.message_user(request, f"{title}: done.", messages.SUCCESS)
                target = (
                    success(result)
                    if success
                    else reverse("admin:rumours_rumour_change", args=[rumour.pk if rumour else result.pk])
                )
                return HttpResponseRedirect(target)
        context = {
            **self.admin_site.each_context(request),
            "title": title, "form": form, "media": self.media + form.media, "rumour": rumour,
            "entry": entry, "intro": intro, "submit_label": submit, "opts": self.opts,
        }  # fmt: skip
        return TemplateResponse(request, "admin/rumours/form_page.html", context)

    def create_view(self, request: HttpRequest) -> HttpResponse:
        self._require(request, "rumours.add_rumour")
        entry = None
        if request.GET.get("entry"):
            if not is_row_id(request.GET["entry"]):
                raise Http404("No such article.")
            entry = get_object_or_404(Entry.objects.select_related("feed"), pk=request.GET["entry"])
        form = forms.RumourCreateForm(request.POST or None, entry=entry)
        return self._form_page(
            request, form, title="Create a rumour", submit="Create rumour", entry=entry,
            intro="A deal thread between its parties; the article (if any) becomes its first source.",
        )  # fmt: skip

    def attach_entry_view(self, request: HttpRequest, entry_pk: int) -> HttpResponse:
        self._require(request, "rumours.add_source")
        entry = get_object_or_404(Entry.objects.select_related("feed"), pk=entry_pk)
        form = forms.AttachEntryForm(request.POST or None, entry=entry)
        return self._form_page(
            request, form, title="Attach to a rumour", submit="Attach", entry=entry,
            success=lambda source: reverse("admin:rumours_rumour_change", args=[source.rumour_id]),
        )  # fmt: skip

    def status_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require(request, "rumours.record_status")
        rumour = get_object_or_404(Rumour, pk=pk, merged_into__isnull=True)
        form = forms.StatusChangeForm(request.POST or None, rumour=rumour)
        return self._form_page(
            request, form, title="Record a status change", submit="Record", rumour=rumour,
            intro=f"Now: {rumour.get_status_display() or 'no status'}. The change is checked against the history "
            "around its effective date.",
        )  # fmt: skip

    def source_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require(request, "rumours.add_source")
        rumour = get_object_or_404(Rumour, pk=pk, merged_into__isnull=True)
        form = forms.SourceForm(request.POST or None, rumour=rumour)
        return self._form_page(request, form, title="Attach a source", submit="Attach source", rumour=rumour)

    def quote_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require(request, "rumours.add_quote")
        rumour = get_object_or_404(Rumour, pk=pk, merged_into__isnull=True)
        form = forms.QuoteForm(request.POST or None, rumour=rumour)
        return self._form_page(request, form, title="Add a quote", submit="Add quote", rumour=rumour)

    def retract_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require(request, "rumours.retract_status")
        change = get_object_or_404(StatusChange.objects.select_related("rumour"), pk=pk)
        form = forms.RetractForm(request.POST or None, change=change)
        return self._form_page(
            request, form, title="Retract a status change", submit="Retract", rumour=change.rumour,
            intro=f"{change.get_status_display()} effective {change.effective_at:%Y-%m-%d}. "
            "The change stays in the history, marked retracted.",
        )  # fmt: skip

    @admin.action(description="Merge the selected duplicates into the oldest", permissions=["merge"])
    def merge_selected(self, request: HttpRequest, queryset: QuerySet[Rumour]) -> None:
        rumours = list(queryset.order_by("created_at", "pk"))
        if len(rumours) < 2:
            self.message_user(request, "Select at least two rumours to merge.", messages.WARNING)
            return
        keep, *duplicates = rumours
        assert isinstance(request.user, User)
        for duplicate in duplicates:
            try:
                services.rumours_merge(keep=keep, duplicate=duplicate, merged_by=request.user)
            except services.RumourError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
        self.message_user(request, f"Merged {len(duplicates)} rumour(s) into “{keep}”.", messages.SUCCESS)

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("rumours.merge_rumours")

    actions = ["merge_selected"]


# --- The inbox ------------------------------------------------------------------------------


class CompanyMentionFilter(admin.SimpleListFilter):
    title = "company"
    parameter_name = "company"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # One index probe per company, not a DISTINCT over every mention's links.
        linked = Mention.companies.through.objects.filter(company_id=OuterRef("pk"))
        named = Company.objects.filter(Exists(linked)).order_by("name")
        return [(str(c.pk), c.name) for c in named]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Mention]) -> QuerySet[Mention]:
        value = self.value()
        return queryset.filter(companies__pk=value) if value else queryset


class StateFilter(admin.SimpleListFilter):
    """New articles by default: the inbox shows what still needs a decision."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*MentionState.choices, ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or MentionState.NEW) == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Mention]) -> QuerySet[Mention]:
        value = self.value() or MentionState.NEW
        return queryset if value == "all" else queryset.filter(state=value)


class DealFilter(admin.SimpleListFilter):
    """Deal news by default: the few articles that matter, not every one naming a company."""

    title = "deal news"
    parameter_name = "deal"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Deal news"), ("no", "Other mentions"), ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "yes") == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Mention]) -> QuerySet[Mention]:
        value = self.value() or "yes"
        return queryset if value == "all" else queryset.filter(is_deal_candidate=value == "yes")


class CopiesFilter(admin.SimpleListFilter):
    """One row per story by default: copies of a story (its cluster) fold into its first article."""

    title = "copies"
    parameter_name = "copies"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("fold", "One row per story"), ("show", "Every copy")]

    def choices(self, changelist: Any) -> Any:
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "fold") == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    # Any of these narrows the list to rows the fold could not see: then every row shows.
    NARROWING = ("cluster", "q", "stage_hint__exact", "company", "entry__language__exact", "entry__language")

    def queryset(self, request: HttpRequest, queryset: QuerySet[Mention]) -> QuerySet[Mention]:
        if (self.value() or "fold") == "show" or any(request.GET.get(name) for name in self.NARROWING):
            return queryset
        # The story's first copy among those the state and deal filters let through.
        first_copy = (
            Mention.objects.filter(
                cluster_id=OuterRef("cluster_id"),
                state=OuterRef("state"),
                is_deal_candidate=OuterRef("is_deal_candidate"),
            )
            .order_by("entry__published_at", "pk")
            .values("pk")[:1]
        )
        return queryset.filter(Q(cluster__isnull=True) | Q(pk=Subquery(first_copy)))


class MentionLanguageFilter(EntryLanguageFilter):
    """The article's language; choices from the entries' language index (a DISTINCT over a join would scan)."""

    parameter_name = "entry__language"
    field_path = "entry__language"


@admin.register(Mention)
class InboxAdmin(RecordAdmin):
    list_display = ["article", "deal", "parties_or_companies", "quote_count", "copies", "suggestion", "decide"]
    list_filter = [StateFilter, DealFilter, CopiesFilter, "stage_hint", CompanyMentionFilter, MentionLanguageFilter]
    search_fields = ["entry__title", "companies__name", "companies__aliases__alias"]  # see get_search_results
    actions = ["dismiss"]
    ordering = ["-entry__published_at", "-id"]
    paginator = LargeTablePaginator
    show_full_result_count = False
    list_per_page = 50

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Mention], search_term: str
    ) -> tuple[QuerySet[Mention], bool]:
        """Every word must be in the article's title or name a company the article names (by name or alias).

        Both sides are subqueries the database runs once: the entries whose title has the
        word (a trigram index on UPPER(title) serves it on PostgreSQL), and the mentions
        of the companies whose name or alias has it (small tables, then the link table's
        index). No join multiplies the rows, so no EXISTS per mention folds them again,
        as Django's default search over these many-to-many fields would need.
        """
        for word in smart_split(search_term):
            if word.startswith(('"', "'")) and word[0] == word[-1]:
                word = unescape_string_literal(word)
            titled = Entry.objects.filter(title__icontains=word).values("pk")
            companies = Company.objects.filter(
                Q(name__icontains=word) | Q(pk__in=CompanyAlias.objects.filter(alias__icontains=word).values("company"))
            )
            naming = Mention.companies.through.objects.filter(company__in=companies).values("mention_id")
            queryset = queryset.filter(Q(entry__in=titled) | Q(pk__in=naming))
        return queryset, False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Mention]:
        copies = Mention.objects.filter(cluster_id=OuterRef("cluster_id")).values("cluster_id").annotate(n=Count("pk"))
        return (
            super()
            .get_queryset(request)
            .defer("signature")
            .select_related("entry__feed", "suggested_rumour", "rumour")
            .prefetch_related(
                Prefetch("companies", queryset=Company.objects.order_by("name")),
                "mentionparty_set__company",
            )
            .annotate(copy_count=Subquery(copies.values("n")[:1]))
            .order_by("-entry__published_at", "-id")
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path("<int:pk>/review/", self.admin_site.admin_view(self.review_view), name="rumours_mention_review"),
            *super().get_urls(),
        ]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("rumours.view_mention") or request.user.has_perm("rumours.view_rumour")

    @admin.display(description="Article", ordering="entry__published_at")
    def article(self, mention: Mention) -> SafeString:
        entry = mention.entry
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>'
            '<div class="help">{} · {} · {}</div>',
            entry.link, entry.title, entry.feed, entry.language or "?", f"{entry.published_at:%Y-%m-%d %H:%M}",
        )  # fmt: skip

    @admin.display(description="Deal", ordering="deal_score")
    def deal(self, mention: Mention) -> SafeString:
        stage = mention.get_stage_hint_display() if mention.stage_hint else "—"
        kind = mention.get_deal_type_display() if mention.deal_type else ""
        return format_html(
            '<strong>{}</strong> <span class="help">{}</span><div class="help">{}</div>',
            stage, f"{mention.deal_score:.2f}", kind,
        )  # fmt: skip

    @admin.display(description="Parties (companies named)")
    def parties_or_companies(self, mention: Mention) -> SafeString:
        parties = mention.party_list
        others = [c for c in mention.companies.all() if c not in parties]
        return format_html(
            "<strong>{}</strong>{}",
            " – ".join(c.name for c in parties),
            format_html('<div class="help">{}</div>', ", ".join(c.name for c in others)) if others else "",
        )

    @admin.display(description="Quotes")
    def quote_count(self, mention: Mention) -> str:
        return str(len(mention.suggested_quotes or [])) if mention.suggested_quotes else "—"

    @admin.display(description="Copies")
    def copies(self, mention: Mention) -> SafeString | str:
        count = getattr(mention, "copy_count", None) or 0
        if count <= 1:
            return "—"
        url = reverse("admin:rumours_mention_changelist") + f"?cluster={mention.cluster_id}&state=all&deal=all"
        return format_html('<a href="{}">{} copies</a>', url, count)

    @admin.display(description="Rumour")
    def suggestion(self, mention: Mention) -> SafeString | str:
        rumour = mention.rumour or mention.suggested_rumour
        if rumour is None:
            return "new thread" if mention.is_deal_candidate and mention.state == MentionState.NEW else "—"
        prefix = "" if mention.rumour else "suggested: "
        return format_html(
            '{}<a href="{}">{}</a>', prefix, reverse("admin:rumours_rumour_change", args=[rumour.pk]), rumour.title
        )

    @admin.display(description="")
    def decide(self, mention: Mention) -> SafeString | str:
        if mention.state != MentionState.NEW:
            return mention.get_state_display()
        return format_html(
            '<a class="button" href="{}">Review…</a>', reverse("admin:rumours_mention_review", args=[mention.pk])
        )

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup == "cluster" or super().lookup_allowed(lookup, value, request)

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("rumours.add_source"):
            raise PermissionDenied
        mention = get_object_or_404(
            Mention.objects.select_related("entry__feed", "suggested_rumour", "rumour", "cluster").prefetch_related(
                "mentionparty_set__company", "companies"
            ),
            pk=pk,
        )
        assert isinstance(request.user, User)
        if request.method == "POST" and "_dismiss" in request.POST:
            if mentions.mentions_dismiss(mention_ids=[mention.pk], by=request.user):
                self.message_user(request, f"Dismissed “{mention.entry.title}”.", messages.SUCCESS)
            else:
                self.message_user(request, "This article was already decided.", messages.WARNING)
            return HttpResponseRedirect(reverse("admin:rumours_mention_changelist"))
        if request.method == "POST" and not self._may_accept(request):
            raise PermissionDenied
        names = [c.name for c in mention.party_list] or [c.name for c in mention.companies.all()]
        proposal = mentions.proposal_title(parties=names, deal_type=mention.deal_type or DealType.ACQUISITION)
        form = forms.MentionReviewForm(request.POST or None, mention=mention, proposal_title=proposal)
        if mention.state == MentionState.NEW and request.method == "POST" and form.is_valid():
            rumour = form.save(user=request.user)
            if rumour is not None:
                self.message_user(request, f"Accepted onto “{rumour}”.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:rumours_rumour_change", args=[rumour.pk]))
        copies = (
            Mention.objects.filter(cluster_id=mention.cluster_id).exclude(pk=mention.pk).select_related("entry__feed")
            if mention.cluster_id
            else Mention.objects.none()
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Review a flagged article", "mention": mention, "entry": mention.entry, "form": form,
            "copies": copies.order_by("entry__published_at")[:20], "media": self.media + form.media,
            "opts": self.opts, "decided": mention.state != MentionState.NEW,
            "article_text": plain_text(mention.entry.content or mention.entry.summary),
        }  # fmt: skip
        return TemplateResponse(request, "admin/rumours/mention_review.html", context)

    def _may_accept(self, request: HttpRequest) -> bool:
        """Accepting may open a thread, record its first status and quotes: the analyst needs all of that."""
        needed = ["rumours.add_source"]
        if request.POST.get("decision") == forms.MentionReviewForm.NEW:
            needed += ["rumours.add_rumour", "rumours.record_status"]
        if request.POST.getlist("quotes"):
            needed.append("rumours.add_quote")
        return request.user.has_perms(needed)

    @admin.action(description="Dismiss the selected articles", permissions=["curate"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Mention]) -> None:
        assert isinstance(request.user, User)
        count = mentions.mentions_dismiss(mention_ids=queryset.values_list("pk", flat=True), by=request.user)
        self.message_user(request, f"Dismissed {count} article(s).", messages.SUCCESS)

    def has_curate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("rumours.add_source")


# --- API keys -------------------------------------------------------------------------------


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["prefix", "name", "user__username", "user__email"]
    autocomplete_fields = ["user"]
    fields = ["user", "name", "scope"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # keys are issued and revoked, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        assert isinstance(request.user, User)
        record, key = services.api_key_create(user=obj.user, name=obj.name, scope=obj.scope, created_by=request.user)
        obj.pk = record.pk
        obj.refresh_from_db()
        self.message_user(request, f"The key, shown this once, copy it now: {key}", messages.WARNING)

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


# --- Webhooks ---------------------------------------------------------------------------------


class WebhookEndpointForm(django_forms.ModelForm):
    url = django_forms.URLField(max_length=2000, assume_scheme="https")
    events = django_forms.MultipleChoiceField(
        choices=WebhookEvent.choices, required=False, widget=django_forms.CheckboxSelectMultiple,
        help_text="None ticked: all events.",
    )  # fmt: skip

    class Meta:
        model = WebhookEndpoint
        fields = ["user", "url", "events", "companies", "is_active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("url"):
            try:
                webhooks.webhook_endpoint_validate(url=cleaned["url"], events=list(cleaned.get("events") or []))
            except webhooks.WebhookEndpointError as exc:
                raise django_forms.ValidationError(str(exc)) from None
        return cleaned


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("created_at", "event_type", "state", "attempts", "last_status_code", "last_error", "delivered_at")
    readonly_fields = fields
    ordering = ["-created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).order_by("-created_at")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    formfield_overrides = HTTPS_BY_DEFAULT
    form = WebhookEndpointForm
    list_display = ["url", "user", "event_list", "is_active", "created_at"]
    list_filter = ["is_active"]
    list_select_related = ["user"]
    search_fields = ["url", "user__username"]
    autocomplete_fields = ["user", "companies"]
    readonly_fields = ["secret"]
    inlines = [WebhookDeliveryInline]

    @admin.display(description="Events")
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.events) or "all"

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        if not obj.secret:
            obj.secret = webhooks.new_secret()
        obj.events = list(form.cleaned_data.get("events") or [])
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(RecordAdmin):
    list_display = ["created_at", "event_type", "endpoint", "state", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["state", "event_type"]
    list_select_related = ["endpoint"]
    search_fields = ["event_id", "endpoint__url"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    show_full_result_count = False


# --- Digests ------------------------------------------------------------------------------------


class DigestDeliveryInline(admin.TabularInline):
    model = DigestDelivery
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("kind", "period_end", "state", "attempts", "subject", "sent_at", "last_error")
    readonly_fields = fields
    ordering = ["-period_end", "-id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestDelivery]:
        return super().get_queryset(request).order_by("-period_end", "-id")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["email", "user", "frequency", "instant_alerts", "time_zone", "send_hour", "is_active", "preview"]
    list_filter = ["frequency", "instant_alerts", "is_active"]
    search_fields = ["email", "user__username"]
    autocomplete_fields = ["user", "companies"]
    readonly_fields = ["unsubscribed_at", "created_at", "updated_at"]
    inlines = [DigestDeliveryInline]
    fieldsets = [
        (None, {"fields": ["email", "user", "is_active", "unsubscribed_at"]}),
        ("What", {"fields": ["frequency", "instant_alerts", "companies", "countries", "sectors", "min_credibility"]}),
        ("When", {"fields": ["time_zone", "send_hour", "send_weekday", "skip_empty"]}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="rumours_subscription_preview",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="")
    def preview(self, subscription: Subscription) -> SafeString:
        url = reverse("admin:rumours_subscription_preview", args=[subscription.pk])
        return format_html('<a class="button" href="{}">Preview next digest</a>', url)

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any, change: bool) -> None:
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The subscriber's next digest as it stands now, rendered as the email's HTML part."""
        subscription = get_object_or_404(Subscription.objects.prefetch_related("companies"), pk=pk)
        if not self.has_view_permission(request, subscription):
            raise PermissionDenied
        digest = digest_services.digest_preview(subscription=subscription)
        message = digest_rendering.digest_message(digest)
        html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
        return HttpResponse(html)  # our own template, escaped and inlined: not user HTML


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(RecordAdmin):
    list_display = ["period_end", "kind", "subscription", "state", "attempts", "subject", "sent_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["subscription"]
    search_fields = ["subscription__email", "message_id", "subject"]
    readonly_fields = [f.name for f in DigestDelivery._meta.fields]
    show_full_result_count = False
