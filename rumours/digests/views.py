"""The subscriber's own pages, reached from links in every email; no login needed.

* ``digests/unsubscribe/<token>/``: GET shows a one-button page, POST unsubscribes.
  Mail clients that honour ``List-Unsubscribe-Post`` POST ``List-Unsubscribe=One-Click``
  to the same address (RFC 8058), without a CSRF token, so that view is exempt:
  the signed token is the proof.
* ``digests/manage/<token>/``: change frequency, alerts, what to follow, time zone
  and send hour.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from rumours.digests.rendering import MANAGE_LINK_DAYS, MANAGE_SALT, UNSUBSCRIBE_SALT
from rumours.digests.services import subscription_unsubscribe
from rumours.models import Company, Sector, Subscription


def _subscription(token: str, *, salt: str, max_age_days: int | None = None) -> Subscription:
    try:
        pk = signing.loads(token, salt=salt, max_age=max_age_days * 86400 if max_age_days else None)
    except signing.BadSignature:
        raise Http404("This link is not valid (or has expired): use the one in your latest email.") from None
    subscription = Subscription.objects.filter(pk=pk).first()
    if subscription is None:
        raise Http404("This subscription no longer exists.")
    return subscription


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscription = _subscription(token, salt=UNSUBSCRIBE_SALT)
    if request.method == "POST":
        subscription_unsubscribe(subscription=subscription)
        return render(request, "digests/unsubscribed.html", {"subscription": subscription})
    return render(request, "digests/unsubscribe.html", {"subscription": subscription})


class ManageForm(forms.ModelForm):
    companies = forms.ModelMultipleChoiceField(
        Company.objects.order_by("name"), required=False, widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text="None chosen: every company (narrowed by countries and sectors, if any).",
    )  # fmt: skip
    countries = forms.CharField(required=False, help_text="ISO codes separated by commas, e.g. ID, SG.")
    sectors = forms.MultipleChoiceField(choices=Sector.choices, required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Subscription
        fields = [
            "frequency", "instant_alerts", "companies", "countries", "sectors", "min_credibility", "time_zone",
            "send_hour", "send_weekday", "skip_empty", "is_active",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["countries"] = ", ".join(self.instance.countries or [])

    def clean_countries(self) -> list[str]:
        codes = [code.strip().upper() for code in self.cleaned_data["countries"].split(",") if code.strip()]
        bad = [code for code in codes if len(code) != 2 or not code.isalpha()]
        if bad:
            raise forms.ValidationError(f"{bad[0]!r} is not a two-letter country code.")
        return codes


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    subscription = _subscription(token, salt=MANAGE_SALT, max_age_days=MANAGE_LINK_DAYS)
    form = ManageForm(request.POST or None, instance=subscription)
    saved = False
    if request.method == "POST" and form.is_valid():
        updated = form.save(commit=False)
        if updated.is_active:
            updated.unsubscribed_at = None
        updated.save()
        form.save_m2m()
        saved = True
    return render(request, "digests/manage.html", {"form": form, "subscription": subscription, "saved": saved})
