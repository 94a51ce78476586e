from django.urls import include, path
from rest_framework.routers import DefaultRouter

from rumours.api import subscriptions, views
from rumours.api.exports import StatusChangeFeed

router = DefaultRouter()
router.register("companies", views.CompanyViewSet, basename="company")
router.register("rumours", views.RumourViewSet, basename="rumour")
router.register("quotes", views.QuoteViewSet, basename="quote")
router.register("mentions", views.MentionViewSet, basename="mention")
router.register("webhooks", views.WebhookEndpointViewSet, basename="webhook")
router.register("subscriptions", subscriptions.SubscriptionViewSet, basename="subscription")

urlpatterns = [
    path("status-changes/", views.StatusChangeListView.as_view(), name="status-changes"),
    path("status-changes.atom", StatusChangeFeed(), name="status-changes-atom"),
    path("rumours.csv", views.RumourViewSet.as_view({"get": "export_csv"}), name="rumours-csv"),
    path("", include(router.urls)),
]
