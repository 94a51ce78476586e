"""Forms behind the curation pages; each one's ``save`` calls a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime, AutocompleteSelect
from django.contrib.auth.models import User

from rumours import services
from rumours.models import (
    Company,
    DealType,
    Party,
    PartyRole,
    Person,
    Quote,
    Rumour,
    Source,
    Stance,
    Status,
    StatusChange,
)
from tracker.models import Entry, OutletTier

PARTY_ROWS = 4


def _autocomplete(model: type[Party] | type[Quote], field: str) -> AutocompleteSelect:
    return AutocompleteSelect(model._meta.get_field(field), admin.site)


class ServiceForm(forms.Form):
    """A form whose ``save`` calls one service; domain errors become form errors."""

    def save(self, *, user: User) -> Any:
        try:
            return self.perform(user=user)
        except services.RumourError as exc:
            self.add_error(None, str(exc))
            return None

    def perform(self, *, user: User) -> Any:
        raise NotImplementedError


class RumourCreateForm(ServiceForm):
    title = forms.CharField(max_length=300, help_text="A human title, e.g. “GoTo–Grab merger”.")
    deal_type = forms.ChoiceField(choices=DealType.choices)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, entry: Entry | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entry = entry
        for n in range(1, PARTY_ROWS + 1):
            self.fields[f"party_{n}"] = forms.ModelChoiceField(
                Company.objects.all(), required=n == 1, widget=_autocomplete(Party, "company"), label=f"Party {n}"
            )
            self.fields[f"role_{n}"] = forms.ChoiceField(
                choices=PartyRole.choices, initial=PartyRole.MERGER_PARTY, required=False, label=f"Role {n}"
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        parties = [
            services.PartySpec(cleaned[f"party_{n}"], cleaned.get(f"role_{n}") or PartyRole.MERGER_PARTY)
            for n in range(1, PARTY_ROWS + 1)
            if cleaned.get(f"party_{n}")
        ]
        if len({p.company.pk for p in parties}) != len(parties):
            raise forms.ValidationError("Each company can be a party only once.")
        cleaned["parties"] = parties
        return cleaned

    def perform(self, *, user: User) -> Rumour:
        data = self.cleaned_data
        return services.rumour_create(
            title=data["title"],
            deal_type=data["deal_type"],
            summary=data["summary"],
            parties=data["parties"],
            created_by=user,
            entry=self.entry,
        )


class AttachEntryForm(ServiceForm):
    rumour = forms.ModelChoiceField(
        Rumour.objects.filter(merged_into__isnull=True),
        widget=_autocomplete(Quote, "rumour"),
        help_text="The thread this article belongs to.",
    )

    def __init__(self, *args: Any, entry: Entry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entry = entry

    def perform(self, *, user: User) -> Source:
        return services.rumour_attach_source(rumour=self.cleaned_data["rumour"], entry=self.entry, added_by=user)


class StatusChangeForm(ServiceForm):
    status = forms.ChoiceField(choices=[c for c in Status.choices if c[0] != Status.EXPIRED])
    effective_at = forms.SplitDateTimeField(
        widget=AdminSplitDateTime, help_text="When it happened in the world: usually the source's date (UTC)."
    )
    evidence_source = forms.ModelChoiceField(Source.objects.none(), required=False)
    evidence_quote = forms.ModelChoiceField(Quote.objects.none(), required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, rumour: Rumour, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rumour = rumour
        self.fields["evidence_source"].queryset = rumour.sources.order_by("-published_at")  # type: ignore[attr-defined]
        self.fields["evidence_quote"].queryset = rumour.quotes.order_by("-said_at")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("evidence_source") and not cleaned.get("evidence_quote"):
            raise forms.ValidationError("Give the evidence: a source or a quote of this rumour.")
        return cleaned

    def perform(self, *, user: User) -> StatusChange:
        data = self.cleaned_data
        return services.rumour_change_status(
            rumour=self.rumour,
            status=data["status"],
            effective_at=data["effective_at"],
            recorded_by=user,
            evidence_source=data["evidence_source"],
            evidence_quote=data["evidence_quote"],
            note=data["note"],
        )


class RetractForm(ServiceForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="Stays in the record.")

    def __init__(self, *args: Any, change: StatusChange, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.change = change

    def perform(self, *, user: User) -> StatusChange:
        return services.status_change_retract(change=self.change, retracted_by=user, reason=self.cleaned_data["reason"])


class SourceForm(ServiceForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    title = forms.CharField(max_length=1000)
    outlet = forms.CharField(max_length=300)
    outlet_tier = forms.TypedChoiceField(choices=OutletTier.choices, coerce=int, initial=OutletTier.NATIONAL)
    published_at = forms.SplitDateTimeField(widget=AdminSplitDateTime)
    language = forms.CharField(max_length=35, required=False, help_text="e.g. en, id, ko")
    excerpt = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: Any, rumour: Rumour, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rumour = rumour

    def perform(self, *, user: User) -> Source:
        return services.rumour_attach_source(rumour=self.rumour, added_by=user, **self.cleaned_data)


class QuoteForm(ServiceForm):
    speaker = forms.ModelChoiceField(
        Person.objects.all(), required=False, widget=_autocomplete(Quote, "speaker"), help_text="A known executive."
    )
    speaker_name = forms.CharField(
        max_length=200, required=False, help_text="As attributed in the article (defaults to the person's name)."
    )
    speaker_role = forms.CharField(
        max_length=200, required=False, help_text="The role when it was said (defaults to the person's role)."
    )
    speaker_company = forms.ModelChoiceField(
        Company.objects.all(),
        required=False,
        widget=_autocomplete(Quote, "speaker_company"),
        help_text="The company they spoke for (defaults to the person's); a party's word moves credibility.",
    )
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The exact words, in the original.")
    translation = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    language = forms.CharField(max_length=35, required=False)
    stance = forms.ChoiceField(choices=Stance.choices, initial=Stance.NEUTRAL)
    said_at = forms.SplitDateTimeField(widget=AdminSplitDateTime)
    source = forms.ModelChoiceField(Source.objects.none(), required=False)

    def __init__(self, *args: Any, rumour: Rumour, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rumour = rumour
        self.fields["source"].queryset = rumour.sources.order_by("-published_at")  # type: ignore[attr-defined]

    def perform(self, *, user: User) -> Quote:
        return services.quote_add(rumour=self.rumour, added_by=user, **self.cleaned_data)


class MentionReviewForm(ServiceForm):
    """Accept a flagged article: onto the suggested thread, another one, or a new one from
    detection's proposal; with the suggested quotes the analyst keeps."""

    SUGGESTED, OTHER, NEW = "suggested", "other", "new"

    decision = forms.ChoiceField(widget=forms.RadioSelect, label="Accept onto")
    rumour = forms.ModelChoiceField(
        Rumour.objects.filter(merged_into__isnull=True),
        widget=_autocomplete(Quote, "rumour"),
        required=False,
        label="Other rumour",
    )
    title = forms.CharField(max_length=300, required=False, label="New rumour's title")
    quotes = forms.TypedMultipleChoiceField(
        coerce=int, widget=forms.CheckboxSelectMultiple, required=False, label="Quotes to record",
        help_text="Kept verbatim; untick any the article does not attribute as shown.",
    )  # fmt: skip

    def __init__(self, *args: Any, mention: Any, proposal_title: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mention = mention
        choices = []
        if mention.suggested_rumour_id:
            choices.append((self.SUGGESTED, f"The suggested rumour: {mention.suggested_rumour}"))
        choices += [(self.OTHER, "Another rumour (choose below)"), (self.NEW, f"A new rumour: {proposal_title}")]
        decision, quotes = self.fields["decision"], self.fields["quotes"]
        assert isinstance(decision, forms.ChoiceField)
        assert isinstance(quotes, forms.TypedMultipleChoiceField)
        decision.choices = choices
        decision.initial = self.SUGGESTED if mention.suggested_rumour_id else self.NEW
        quotes.choices = [(index, _quote_label(quote)) for index, quote in enumerate(mention.suggested_quotes or [])]
        quotes.initial = list(range(len(mention.suggested_quotes or [])))
        self.fields["title"].initial = proposal_title

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == self.OTHER and not cleaned.get("rumour"):
            raise forms.ValidationError("Choose the rumour to attach the article to.")
        return cleaned

    def perform(self, *, user: User) -> Rumour:
        from rumours.mentions import mention_accept

        data = self.cleaned_data
        target = {
            self.SUGGESTED: self.mention.suggested_rumour,
            self.OTHER: data.get("rumour"),
            self.NEW: None,
        }[data["decision"]]
        return mention_accept(
            mention=self.mention, by=user, rumour=target, quote_indexes=data.get("quotes") or [], title=data["title"]
        )


def _quote_label(quote: dict[str, Any]) -> str:
    who = ", ".join(part for part in (quote.get("role"), quote.get("company")) if part)
    return f"{quote.get('speaker', '?')}{f' ({who})' if who else ''}: “{quote.get('text', '')}” [{quote.get('stance')}]"
