"""Read and write OPML 2.0 subscription lists, the feed readers' exchange format.

No ORM here: :func:`read_opml` turns a file into :class:`OpmlFeed` rows or raises
:class:`OpmlError` listing every problem; :func:`write_opml` does the reverse.
Besides the standard ``xmlUrl``/``htmlUrl``/``title``/``text`` attributes we read
and write ``language`` and ``tier``, which other readers ignore.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_untrusted_xml

from tracker.parsing import MAX_TITLE, MAX_URL


class OpmlError(Exception):
    """The file cannot be imported; ``str()`` lists every problem found."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str = ""
    site_url: str = ""
    language: str = ""
    tier: int | None = None


def read_opml(data: bytes) -> list[OpmlFeed]:
    try:
        root = parse_untrusted_xml(data)
    except DefusedXmlException:
        raise OpmlError("The file declares XML entities or a DTD, which OPML never needs; refused.") from None
    except ET.ParseError as exc:
        raise OpmlError(f"Not well-formed XML: {exc}.") from None
    if root.tag != "opml" or root.find("body") is None:
        raise OpmlError("Not an OPML file: expected <opml> with a <body>.")
    feeds: list[OpmlFeed] = []
    problems: list[str] = []
    for position, outline in enumerate(root.iter("outline"), start=1):
        url = (outline.get("xmlUrl") or "").strip()
        if not url:
            continue  # a folder, or a link that is not a feed
        label = outline.get("title") or outline.get("text") or ""
        if label.strip() == url:
            label = ""  # an untitled feed, written with its URL as the required text
        site_url = (outline.get("htmlUrl") or "").strip()
        too_long = [
            f"{what} is longer than {limit:,} characters"
            for what, value, limit in (("the URL", url, MAX_URL), ("the site URL", site_url, MAX_URL))
            if len(value) > limit
        ]
        if len(label.strip()) > MAX_TITLE:
            too_long.append(f"the title is longer than {MAX_TITLE:,} characters")
        if too_long:
            problems.append(f"outline {position} ({url[:80]}): {'; '.join(too_long)}.")
            continue
        tier_text = (outline.get("tier") or "").strip()
        tier: int | None = None
        if tier_text:
            if not (tier_text.isascii() and tier_text.isdigit()):
                problems.append(f"outline {position} ({url}): tier {tier_text!r} is not a number.")
                continue
            tier = int(tier_text)
        feeds.append(
            OpmlFeed(
                url=url,
                title=label.strip(),
                site_url=site_url,
                language=(outline.get("language") or "").strip(),
                tier=tier,
            )
        )
    if problems:
        raise OpmlError("\n".join(problems))
    return feeds


def write_opml(feeds: Iterable[OpmlFeed], *, title: str, created: datetime) -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = created.strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attributes = {
            "type": "rss",
            "text": feed.title or feed.url,
            "title": feed.title or feed.url,
            "xmlUrl": feed.url,
        }
        if feed.site_url:
            attributes["htmlUrl"] = feed.site_url
        if feed.language:
            attributes["language"] = feed.language
        if feed.tier is not None:
            attributes["tier"] = str(feed.tier)
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
