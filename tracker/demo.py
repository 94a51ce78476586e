"""The bundled demo feeds: sample documents in several languages and encodings.

``load_demo`` ingests them offline through :func:`tracker.services.feed_ingest_document`
(the same parse and store path as a poll) and registers each feed at a URL on the
local web server (``TRACKER_DEMO_BASE_URL``), where :func:`tracker.views.demo_feed`
serves the same bytes, so the embedded set-up's worker polls them over real HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tracker.models import OutletTier

DEMO_FEEDS_DIR = Path(__file__).resolve().parent / "demo_feeds"


@dataclass(frozen=True)
class DemoFeed:
    name: str
    title: str
    language: str
    tier: int

    @property
    def path(self) -> Path:
        return DEMO_FEEDS_DIR / f"{self.name}.xml"

    @property
    def url(self) -> str:
        return f"{settings.TRACKER_DEMO_BASE_URL.rstrip('/')}/demo/feeds/{self.name}.xml"


DEMO_FEEDS = [
    DemoFeed("en-dealstreet", "DealStreet Asia (sample)", "en", OutletTier.WIRE),
    DemoFeed("id-bisnis", "Bisnis Teknologi (contoh)", "id", OutletTier.NATIONAL),
    DemoFeed("ms-niaga", "Niaga Digital (contoh)", "ms", OutletTier.NATIONAL),
    DemoFeed("vi-kinhte", "Kinh tế Số (mẫu)", "vi", OutletTier.NATIONAL),
    DemoFeed("th-thurakit", "ธุรกิจเทค (ตัวอย่าง)", "th", OutletTier.TRADE),
    DemoFeed("ko-gyeongje", "경제 테크 (샘플)", "ko", OutletTier.NATIONAL),
    DemoFeed("ja-keizai", "経済テック (サンプル)", "ja", OutletTier.NATIONAL),
    DemoFeed("zh-caijing", "财经科技 (样本)", "zh-cn", OutletTier.TRADE),
]


def demo_feed_named(name: str) -> DemoFeed | None:
    return next((feed for feed in DEMO_FEEDS if feed.name == name), None)
