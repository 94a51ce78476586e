"""Oversized and malformed files given to ``import_opml`` and ``import_companies``: a clear
error that names the problem, a non-zero exit, and nothing imported (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rumours.models import Company
from tracker.models import Feed

pytestmark = pytest.mark.django_db


def opml(*outlines: str) -> bytes:
    body = "".join(outlines)
    return f'<?xml version="1.0"?><opml version="2.0"><head/><body>{body}</body></opml>'.encode()


def outline(url: str, title: str = "Wire", html_url: str = "") -> str:
    extra = f' htmlUrl="{html_url}"' if html_url else ""
    return f'<outline type="rss" text="{title}" title="{title}" xmlUrl="{url}"{extra}/>'


def run(command: str, path: Path) -> None:
    call_command(command, str(path))


@pytest.mark.parametrize(
    ("document", "mentions"),
    [
        (opml(outline("https://wire.example/rss", title="T" * 5_000)), "title"),
        (opml(outline("https://wire.example/" + "p" * 2_020)), "URL"),
        (opml(outline("https://wire.example/rss", html_url="https://wire.example/" + "p" * 2_020)), "URL"),
        (opml(outline("https://wire.example/rss", title="Wire&#0;")), "XML"),
        (opml(outline("javascript:alert(1)")), "http"),
        (b"\xff\xfe<\x00o\x00" + b"\x00" * 100, "XML"),
    ],
    ids=["long-title", "long-url", "long-site-url", "nul-character", "javascript-url", "garbage"],
)
def test_it_refuses_a_malformed_opml_file_and_imports_nothing(tmp_path, document, mentions):
    # given: one good outline next to the bad one
    path = tmp_path / "feeds.opml"
    path.write_bytes(document.replace(b"<body>", b"<body>" + outline("https://good.example/rss").encode()))

    # when
    with pytest.raises(CommandError) as refused:
        run("import_opml", path)

    # then
    assert mentions.lower() in str(refused.value).lower()
    assert not Feed.objects.exists()


def test_it_imports_a_feed_from_deeply_nested_folders(tmp_path):
    # given: 5,000 folders inside one another, the feed in the innermost
    depth = 5_000
    path = tmp_path / "nested.opml"
    path.write_bytes(opml('<outline text="f">' * depth + outline("https://wire.example/rss") + "</outline>" * depth))

    # when
    call_command("import_opml", str(path))

    # then
    assert list(Feed.objects.values_list("url", flat=True)) == ["https://wire.example/rss"]


def test_it_imports_a_large_opml_file_all_at_once(tmp_path):
    # given: a few thousand feeds, as an aggregator's export would have
    path = tmp_path / "many.opml"
    path.write_bytes(opml(*(outline(f"https://wire{n}.example/rss") for n in range(2_000))))

    # when
    call_command("import_opml", str(path))

    # then
    assert Feed.objects.count() == 2_000


@pytest.mark.parametrize(
    ("name", "content", "mentions"),
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "JSON"),
        (
            "deep-item.json",
            b'[{"name": "Grab", "country": "SG", "sector": "other", "aliases": '
            + b"[" * 50_000
            + b"]" * 50_000
            + b"}]",
            "JSON",
        ),
        ("huge-field.csv", b"name,country,sector\n" + b'"' + b"G" * 200_000 + b'",SG,other\n', "CSV"),
        ("nul.csv", b"name,country,sector,aliases\nGr\x00ab,SG,other,Gr\x00ab Holdings\n", "Gr"),
        ("nul.json", json.dumps([{"name": "Gr\x00ab", "country": "SG", "sector": "other"}]).encode(), "Gr"),
    ],
)
def test_it_refuses_a_malformed_company_file_and_imports_nothing(tmp_path, name, content, mentions):
    # given
    path = tmp_path / name
    path.write_bytes(content)

    # when
    with pytest.raises(CommandError) as refused:
        run("import_companies", path)

    # then
    assert mentions.lower() in str(refused.value).lower()
    assert not Company.objects.exists()
