"""URL configuration."""

from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, path

from tracker.views import demo_feed

admin.site.site_header = "SEA deal rumour tracker"
admin.site.site_title = "Rumour tracker"
admin.site.index_title = "Curation"

urlpatterns: list[URLPattern | URLResolver] = [
    path("admin/", admin.site.urls),
]

if settings.TRACKER_SERVE_DEMO_FEEDS:
    urlpatterns.append(path("demo/feeds/<slug:name>.xml", demo_feed, name="demo-feed"))
