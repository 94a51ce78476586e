"""URL configuration."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from config import health, metrics
from rumours.digests import views as digest_views
from tracker.views import demo_feed

admin.site.site_header = "SEA deal rumour tracker"
admin.site.site_title = "Rumour tracker"
admin.site.index_title = "Curation"

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("rumours.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("digests/unsubscribe/<str:token>/", digest_views.unsubscribe, name="digest-unsubscribe"),
    path("digests/manage/<str:token>/", digest_views.manage, name="digest-manage"),
    path("health/live/", health.live, name="health-live"),
    path("health/", health.ready, name="health"),
    path("metrics", metrics.metrics, name="metrics"),
]

if settings.TRACKER_SERVE_DEMO_FEEDS:
    urlpatterns.append(path("demo/feeds/<slug:name>.xml", demo_feed, name="demo-feed"))
