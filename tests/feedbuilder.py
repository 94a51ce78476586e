"""Build small RSS and Atom documents for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass
class Item:
    title: str
    link: str = ""
    guid: str | None = None
    description: str = "<p>Body</p>"
    published: datetime | None = None


def items(
    count: int, *, start: datetime | None = None, gap: timedelta = timedelta(hours=1), prefix: str = "story"
) -> list[Item]:
    start = start or datetime(2026, 11, 1, tzinfo=UTC)
    return [
        Item(
            title=f"{prefix} {n}",
            link=f"https://news.example/{prefix}/{n}",
            guid=f"urn:{prefix}:{n}",
            description=f"<p>Paragraph about {prefix} {n}.</p>",
            published=start + gap * n,
        )
        for n in range(count)
    ]


def rss(
    entries: list[Item],
    *,
    title: str = "Test feed",
    language: str = "en",
    ttl: int | None = None,
    encoding: str = "utf-8",
) -> bytes:
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://news.example/</link>",
        f"<language>{language}</language>" if language else "",
        f"<ttl>{ttl}</ttl>" if ttl else "",
    ]
    for item in entries:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        parts.append(f"<description>{escape(item.description)}</description>")
        if item.published:
            parts.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(p for p in parts if p).encode(encoding)
