"""``subscriptions/``: an investor manages their own email digests through the API.

Any key may read and write the subscriptions of the user it belongs to, and only
those (writes need a key, not only a staff session: they are the key owner's own).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request

from rumours.api.auth import ApiKey
from rumours.api.views import MentionCursorPagination
from rumours.digests.services import subscription_unsubscribe
from rumours.models import Company, Sector, Subscription


class OwnSubscriptions(permissions.BasePermission):
    message = "Send your API key: subscriptions belong to the key's user."

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, ApiKey):
            return True
        # A staff session may look (the browsable API); writes are the key owner's own.
        return request.method in permissions.SAFE_METHODS and bool(request.user and request.user.is_staff)


class SubscriptionSerializer(serializers.ModelSerializer[Subscription]):
    companies = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=Company.objects.all(), required=False,
        help_text="Company slugs (see companies/); empty follows every company.",
    )  # fmt: skip
    countries = serializers.ListField(child=serializers.CharField(max_length=2), required=False)
    sectors = serializers.ListField(child=serializers.ChoiceField(choices=Sector.choices), required=False)
    email = serializers.EmailField(required=False, help_text="Defaults to your account's address.")

    class Meta:
        model = Subscription
        fields = [
            "id", "email", "frequency", "instant_alerts", "companies", "countries", "sectors", "min_credibility",
            "time_zone", "send_hour", "send_weekday", "skip_empty", "is_active", "created_at",
        ]  # fmt: skip
        read_only_fields = ["created_at"]

    def validate_countries(self, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        bad = [code for code in codes if not re.fullmatch(r"[A-Z]{2}", code)]
        if bad:
            raise serializers.ValidationError(f"{bad[0]!r} is not a two-letter country code (ISO 3166-1).")
        return codes

    def validate_email(self, value: str) -> str:
        taken = Subscription.objects.filter(email__iexact=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("This address already has a subscription.")
        return value


class SubscriptionViewSet(viewsets.ModelViewSet[Subscription]):
    """Your digest subscriptions: what to follow, how often, when (in your time zone)."""

    serializer_class = SubscriptionSerializer
    permission_classes = [OwnSubscriptions]
    pagination_class = MentionCursorPagination  # newest first, by created_at
    queryset = Subscription.objects.none()  # typed for the schema; get_queryset narrows to the caller's

    def get_queryset(self) -> QuerySet[Subscription]:
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return Subscription.objects.filter(user_id=self.request.user.pk or 0).prefetch_related("companies")

    def perform_create(self, serializer: SubscriptionSerializer) -> None:  # type: ignore[override]
        user = self.request.user
        email = serializer.validated_data.get("email") or getattr(user, "email", "")
        if not email:
            raise serializers.ValidationError({"email": ["Your account has no address: send `email`."]})
        if Subscription.objects.filter(email__iexact=email).exists():
            raise serializers.ValidationError({"email": ["This address already has a subscription."]})
        serializer.save(user=user, email=email)

    def perform_update(self, serializer: SubscriptionSerializer) -> None:  # type: ignore[override]
        serializer.save(updated_at=timezone.now())

    def perform_destroy(self, instance: Subscription) -> None:
        # Kept as an unsubscribed record, so its deliveries stay explained; it sends nothing more.
        subscription_unsubscribe(subscription=instance)
