"""What the API says about companies and rumours. Every field is described for the schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rest_framework import serializers

from rumours.models import Company, Mention, Party, Quote, Rumour, Source, StatusChange
from rumours.selectors import credibility_of


class CompanySerializer(serializers.ModelSerializer[Company]):
    aliases = serializers.SerializerMethodField(help_text="Other names the press uses, in any script.")

    class Meta:
        model = Company
        fields = ["id", "slug", "name", "country", "sector", "tickers", "website", "aliases"]
        extra_kwargs = {
            "country": {"help_text": "ISO 3166-1 alpha-2 code of the headquarters."},
            "tickers": {"help_text": "Listings as exchange:symbol, e.g. IDX:GOTO."},
        }

    def get_aliases(self, company: Company) -> list[str]:
        return [alias.alias for alias in company.aliases.all()]


class CompanyBriefSerializer(serializers.ModelSerializer[Company]):
    class Meta:
        model = Company
        fields = ["id", "slug", "name", "country", "sector", "tickers"]


class PartySerializer(serializers.ModelSerializer[Party]):
    company = CompanyBriefSerializer()

    class Meta:
        model = Party
        fields = ["company", "role"]
        extra_kwargs = {"role": {"help_text": "acquirer, target, merger_party, seller or investor."}}


class SourceSerializer(serializers.ModelSerializer[Source]):
    class Meta:
        model = Source
        fields = ["id", "url", "title", "outlet", "outlet_tier", "published_at", "language", "excerpt"]
        extra_kwargs = {
            "url": {"help_text": "The article."},
            "outlet_tier": {"help_text": "1 wire or major daily, 2 national outlet, 3 trade press or blog."},
            "published_at": {"help_text": "When the article was published."},
            "language": {"help_text": "BCP 47 tag of the article, e.g. ko."},
        }


class QuoteSerializer(serializers.ModelSerializer[Quote]):
    speaker = serializers.SerializerMethodField(help_text="Who said it, with role and company at the time.")
    source_id = serializers.IntegerField(allow_null=True, help_text="The source the quote was taken from.")

    class Meta:
        model = Quote
        fields = ["id", "rumour_id", "speaker", "text", "translation", "language", "stance", "said_at", "source_id"]
        extra_kwargs = {"text": {"help_text": "The exact words, in the original language."}}

    def get_speaker(self, quote: Quote) -> dict[str, Any]:
        return {
            "name": quote.speaker_name,
            "person_id": quote.speaker_id,
            "role": quote.speaker_role,
            "company": quote.speaker_company.name if quote.speaker_company else None,
        }


class StatusChangeSerializer(serializers.ModelSerializer[StatusChange]):
    retracted = serializers.SerializerMethodField(help_text="Whether the change was retracted (as known then).")
    recorded_by = serializers.SerializerMethodField(help_text="“analyst” or “system” (expiry).")

    class Meta:
        model = StatusChange
        fields = [
            "id", "rumour_id", "status", "effective_at", "recorded_at", "recorded_by", "evidence_source_id",
            "evidence_quote_id", "note", "retracted", "retracted_at", "retraction_reason",
        ]  # fmt: skip

    def get_retracted(self, change: StatusChange) -> bool:
        return self._retracted(change)

    def get_recorded_by(self, change: StatusChange) -> str:
        return "system" if change.recorded_by_id is None else "analyst"

    def to_representation(self, change: StatusChange) -> dict[str, Any]:
        data = super().to_representation(change)
        if not self._retracted(change):  # a retraction made after as_of is not known yet
            data["retracted_at"] = None
            data["retraction_reason"] = ""
        return data

    def _retracted(self, change: StatusChange) -> bool:
        as_of: datetime | None = self.context.get("as_of")
        return change.retracted_at is not None and (as_of is None or change.retracted_at <= as_of)


class RumourSerializer(serializers.ModelSerializer[Rumour]):
    parties = PartySerializer(many=True)
    status = serializers.SerializerMethodField(
        help_text="rumoured, in_talks, agreed, completed, abandoned, denied or expired."
    )
    status_effective_at = serializers.SerializerMethodField(help_text="When the current status took effect.")
    credibility = serializers.SerializerMethodField(help_text="Score 0–100 and the parts it is made of.")
    as_of = serializers.SerializerMethodField(help_text="The moment this answer is as known at (null: now).")

    class Meta:
        model = Rumour
        fields = [
            "id", "slug", "title", "deal_type", "summary", "value_amount", "value_currency", "stake_percent",
            "status", "status_effective_at", "credibility", "parties", "created_at", "updated_at", "as_of",
        ]  # fmt: skip
        extra_kwargs = {
            "id": {"help_text": "Stable identifier of the deal thread."},
            "slug": {"help_text": "Readable identifier, e.g. goto-grab-merger."},
            "title": {"help_text": "Human title, e.g. “GoTo–Grab merger”."},
            "deal_type": {"help_text": "merger, acquisition, stake, takeover, divestment or joint_venture."},
            "summary": {"help_text": "The analysts' summary of the thread."},
            "value_amount": {"help_text": "Reported deal value, if any, in value_currency."},
            "value_currency": {"help_text": "ISO 4217 code of value_amount."},
            "stake_percent": {"help_text": "Reported stake, for stake purchases."},
            "created_at": {"help_text": "When the thread was opened here."},
            "updated_at": {"help_text": "Last change to anything in the thread (cursor order)."},
        }

    def _as_of(self) -> datetime | None:
        return self.context.get("as_of")

    def get_as_of(self, rumour: Rumour) -> datetime | None:
        return self._as_of()

    def get_status(self, rumour: Rumour) -> str:
        if self._as_of():
            return str(getattr(rumour, "status_as_of", ""))  # never today's status: no look-ahead
        return rumour.status

    def get_status_effective_at(self, rumour: Rumour) -> datetime | None:
        if self._as_of():
            return getattr(rumour, "status_effective_as_of", None)
        return rumour.status_effective_at

    def get_credibility(self, rumour: Rumour) -> dict[str, Any]:
        as_of = self._as_of()
        if as_of is None:
            return {"score": rumour.credibility, "breakdown": rumour.credibility_breakdown}
        # Recomputed from what was known then (sources and quotes prefetched up to as_of).
        sources, quotes = list(rumour.sources.all()), list(rumour.quotes.all())
        moments = [s.published_at for s in sources] + [q.said_at for q in quotes]
        score, parts = credibility_of(
            sources=sources,
            quotes=quotes,
            party_company_ids={p.company_id for p in rumour.parties.all()},
            status=self.get_status(rumour),
            last_evidence_at=max(moments) if moments else None,
            now=as_of,
        )
        return {"score": score, "breakdown": [part.as_dict() for part in parts]}


class RumourDetailSerializer(RumourSerializer):
    sources = SourceSerializer(many=True)
    quotes = QuoteSerializer(many=True)
    status_history = serializers.SerializerMethodField(
        help_text="Every change in effective order, retracted ones marked."
    )

    class Meta(RumourSerializer.Meta):
        fields = [*RumourSerializer.Meta.fields, "sources", "quotes", "status_history"]

    def get_status_history(self, rumour: Rumour) -> list[dict[str, Any]]:
        changes = sorted(rumour.status_changes.all(), key=lambda c: (c.effective_at, c.recorded_at, c.pk))
        return StatusChangeSerializer(changes, many=True, context=self.context).data  # type: ignore[return-value]


class StatusChangePageSerializer(serializers.Serializer[Any]):
    results = StatusChangeSerializer(many=True)
    next_since = serializers.CharField(help_text="Send as `since` next time to get only what is new.")
    has_more = serializers.BooleanField(help_text="More rows are waiting: ask again with `next_since` at once.")


class MentionEntrySerializer(serializers.Serializer[Any]):
    """The article, read off the mention (``source="*"``) so the cluster comes with it."""

    url = serializers.URLField(source="entry.link")
    title = serializers.CharField(source="entry.title")
    feed = serializers.CharField(source="entry.feed.title")
    published_at = serializers.DateTimeField(source="entry.published_at")
    language = serializers.CharField(source="entry.language")
    cluster = serializers.IntegerField(
        source="cluster_id", allow_null=True, help_text="Story cluster: copies of one story share it."
    )


class MentionQuoteSerializer(serializers.Serializer[Any]):
    speaker = serializers.CharField()
    person = serializers.IntegerField(allow_null=True, help_text="The known person's id, if resolved.")
    role = serializers.CharField(allow_blank=True)
    company = serializers.CharField(allow_blank=True)
    text = serializers.CharField(help_text="Verbatim, in the original language.")
    stance = serializers.CharField(help_text="confirms, denies, no_comment or neutral.")


class MentionSerializer(serializers.ModelSerializer[Mention]):
    entry = MentionEntrySerializer(source="*")
    companies = serializers.SerializerMethodField(help_text="Names of the watchlist companies the article names.")
    parties = serializers.SerializerMethodField(help_text="Names of the companies that are parties to the deal.")
    quotes = MentionQuoteSerializer(source="suggested_quotes", many=True, help_text="Suggested direct quotes.")
    rumour = serializers.SerializerMethodField(help_text="The rumour it was attached to, else the suggested one.")

    class Meta:
        model = Mention
        fields = [
            "id",
            "entry",
            "companies",
            "parties",
            "is_deal_candidate",
            "deal_score",
            "stage_hint",
            "deal_type",
            "quotes",
            "rumour",
            "state",
        ]

    def get_companies(self, mention: Mention) -> list[str]:
        return [company.name for company in mention.companies.all()]

    def get_parties(self, mention: Mention) -> list[str]:
        return [company.name for company in mention.party_list]

    def get_rumour(self, mention: Mention) -> int | None:
        return mention.rumour_id or mention.suggested_rumour_id


class WebhookDeliverySerializer(serializers.ModelSerializer[Any]):
    class Meta:
        from rumours.models import WebhookDelivery

        model = WebhookDelivery
        fields = [
            "event_id", "event_type", "state", "attempts", "last_attempt_at", "last_status_code", "last_error",
            "next_attempt_at", "created_at", "delivered_at",
        ]  # fmt: skip


class WebhookEndpointSerializer(serializers.ModelSerializer[Any]):
    recent_deliveries = serializers.SerializerMethodField(help_text="The 10 latest deliveries, newest first.")

    class Meta:
        from rumours.models import WebhookEndpoint

        model = WebhookEndpoint
        fields = ["id", "url", "events", "is_active", "created_at", "recent_deliveries"]

    def get_recent_deliveries(self, endpoint: Any) -> list[dict[str, Any]]:
        latest = sorted(endpoint.deliveries.all(), key=lambda d: (d.created_at, d.pk), reverse=True)[:10]
        return WebhookDeliverySerializer(latest, many=True).data  # type: ignore[return-value]
