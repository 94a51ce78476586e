"""The management commands: addfeed, import_opml, export_opml, pollfeeds and load_demo."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.feedbuilder import items, rss
from tracker.demo import DEMO_FEEDS
from tracker.models import Entry, Feed, OutletTier
from tracker.services import feed_create

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def feed_rows() -> list[tuple[str, str, str, int]]:
    return list(Feed.objects.order_by("url").values_list("url", "title", "language", "tier"))


OPML = """<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0"><body>
  <outline text="Asia">
    <outline text="DealStreet" xmlUrl="https://dealstreet.example/feed" language="en" tier="1"/>
    <outline title="Bisnis" text="ignored" xmlUrl="https://bisnis.example/rss" language="id"/>
  </outline>
</body></opml>
"""


# --- addfeed --------------------------------------------------------------------------


def test_it_adds_a_feed():
    output = run(
        "addfeed", "https://dealstreet.example/feed", "--title", "DealStreet", "--language", "en_SG", "--tier", "1"
    )

    feed = Feed.objects.get()
    assert output == f"Added feed {feed.pk} https://dealstreet.example/feed\n"
    assert (feed.url, feed.title, feed.language, feed.tier) == (
        "https://dealstreet.example/feed",
        "DealStreet",
        "en-sg",
        OutletTier.WIRE,
    )


def test_it_reports_a_feed_that_is_already_present():
    first = run("addfeed", "https://dealstreet.example/feed", "--title", "DealStreet")

    second = run("addfeed", "https://dealstreet.example/feed", "--title", "Another name")

    feed = Feed.objects.get()
    assert first.startswith("Added feed")
    assert second == f"Already present: feed {feed.pk} https://dealstreet.example/feed\n"
    assert feed.title == "DealStreet"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://dealstreet.example/feed"], "'ftp://dealstreet.example/feed' is not an http(s) URL."),
        (["javascript:alert(1)"], "is not an http(s) URL."),
        (["not a url"], "'not a url' is not an http(s) URL."),
        (["https://a.example/feed", "--language", "english!"], "'english!' is not a language tag"),
        (["https://a.example/feed", "--tier", "9"], "invalid choice: 9"),
    ],
)
def test_it_refuses_a_bad_feed(args, message):
    with pytest.raises(CommandError) as caught:
        run("addfeed", *args)

    assert message in str(caught.value)
    assert not Feed.objects.exists()


# --- import_opml ----------------------------------------------------------------------


def test_it_imports_an_opml_file(tmp_path):
    path = tmp_path / "feeds.opml"
    path.write_text(OPML, encoding="utf-8")

    output = run("import_opml", str(path))

    assert output == "Imported 2 new feed(s); 0 already present.\n"
    assert feed_rows() == [
        ("https://bisnis.example/rss", "Bisnis", "id", OutletTier.NATIONAL),
        ("https://dealstreet.example/feed", "DealStreet", "en", OutletTier.WIRE),
    ]


def test_it_imports_the_same_file_twice_without_duplicates(tmp_path):
    path = tmp_path / "feeds.opml"
    path.write_text(OPML, encoding="utf-8")
    run("import_opml", str(path))

    output = run("import_opml", str(path))

    assert output == "Imported 0 new feed(s); 2 already present.\n"
    assert Feed.objects.count() == 2


def test_it_imports_nothing_when_one_outline_is_bad(tmp_path):
    path = tmp_path / "feeds.opml"
    path.write_text(
        OPML.replace(
            "</outline>",
            '<outline text="Gopher" xmlUrl="gopher://old.example/1"/>'
            '<outline text="Thai" xmlUrl="https://thai.example/rss" language="thai language"/>'
            "</outline>",
        ),
        encoding="utf-8",
    )

    with pytest.raises(CommandError) as caught:
        run("import_opml", str(path))

    assert str(caught.value).splitlines() == [
        f"{path}: nothing imported; fix these outlines:",
        "Gopher: 'gopher://old.example/1' is not an http(s) URL.",
        "Thai: 'thai language' is not a language tag such as 'en', 'id' or 'zh-cn'.",
    ]
    assert not Feed.objects.exists()


def test_it_keeps_existing_feeds_when_an_import_fails(tmp_path):
    feed_create(url="https://kept.example/feed", title="Kept")
    path = tmp_path / "feeds.opml"
    path.write_text(OPML.replace("https://bisnis.example/rss", "mailto:editor@bisnis.example"), encoding="utf-8")

    with pytest.raises(CommandError, match="nothing imported"):
        run("import_opml", str(path))

    assert feed_rows() == [("https://kept.example/feed", "Kept", "", OutletTier.NATIONAL)]


def test_it_refuses_a_missing_opml_file(tmp_path):
    path = tmp_path / "nowhere.opml"

    with pytest.raises(CommandError, match=re.escape(f"Cannot read {path}: No such file or directory.")):
        run("import_opml", str(path))


def test_it_refuses_a_file_that_is_not_opml(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(rss(items(1)))

    with pytest.raises(CommandError, match=re.escape(f"{path}: Not an OPML file")):
        run("import_opml", str(path))


# --- export_opml ----------------------------------------------------------------------


def test_it_exports_opml_that_imports_into_an_empty_database(tmp_path):
    # given feeds with titles, languages and tiers, and one not yet titled
    feed_create(url="https://dealstreet.example/feed", title="DealStreet & Co", language="en", tier=OutletTier.WIRE)
    feed_create(url="https://gyeongje.example/rss", title="경제 테크", language="ko", tier=OutletTier.NATIONAL)
    feed_create(url="https://thurakit.example/feed?x=1&y=2", title="ธุรกิจเทค", language="th", tier=OutletTier.TRADE)
    feed_create(url="https://untitled.example/atom.xml")  # titled from the feed itself on its first poll
    before = feed_rows()
    path = tmp_path / "export.opml"

    # when exported (to stdout and to a file) and imported into an empty database
    printed = run("export_opml")
    run("export_opml", "--output", str(path))
    Feed.objects.all().delete()
    output = run("import_opml", str(path))

    # then the same feeds come back
    assert printed.startswith("<?xml")
    undated = re.compile(r"<dateCreated>.*?</dateCreated>")
    assert undated.sub("", printed) == undated.sub("", path.read_text(encoding="utf-8"))
    assert output == "Imported 4 new feed(s); 0 already present.\n"
    assert feed_rows() == before


def test_it_leaves_paused_and_disabled_feeds_out_when_asked(tmp_path):
    feed_create(url="https://active.example/feed", title="Active")
    paused, _ = feed_create(url="https://paused.example/feed", title="Paused")
    Feed.objects.filter(pk=paused.pk).update(is_paused=True)

    everything = run("export_opml")
    active_only = run("export_opml", "--active-only")

    assert "https://paused.example/feed" in everything
    assert "https://active.example/feed" in active_only
    assert "https://paused.example/feed" not in active_only


# --- pollfeeds ------------------------------------------------------------------------


def test_it_polls_one_feed_and_prints_a_summary(feed_server):
    url = feed_server.add("/feed.xml", body=rss(items(3)))
    feed, _ = feed_create(url=url)
    other, _ = feed_create(url=feed_server.add("/other.xml", body=rss(items(2))))

    output = run("pollfeeds", "--feed", str(feed.pk))

    assert output.splitlines() == [
        f"feed {feed.pk}: fetched (HTTP 200), 3 new, 0 updated",
        "Polled 1 feed(s): 3 new entries, 0 updated, 0 error(s).",
    ]
    assert Entry.objects.filter(feed=feed).count() == 3
    assert feed_server.requests_to("/other.xml") == []
    assert not Entry.objects.filter(feed=other).exists()


def test_it_reports_a_failing_feed_in_the_summary(feed_server):
    feed, _ = feed_create(url=feed_server.url("/missing.xml"))

    output = run("pollfeeds", "--feed", str(feed.pk))

    assert output.splitlines() == [
        f"feed {feed.pk}: error (HTTP 404), 0 new, 0 updated — HTTP 404 Not Found.",
        "Polled 1 feed(s): 0 new entries, 0 updated, 1 error(s).",
    ]


def test_it_refuses_to_poll_a_feed_that_does_not_exist():
    feed, _ = feed_create(url="https://exists.example/feed")

    with pytest.raises(CommandError, match=re.escape("No feed with id 999998, 999999.")):
        run("pollfeeds", "--feed", "999999", "--feed", str(feed.pk), "--feed", "999998")


# --- load_demo ------------------------------------------------------------------------


def test_it_loads_the_demo_once(settings):
    settings.DEBUG = True

    first = run("load_demo")
    entries_after_first = {f.url: f.entries.count() for f in Feed.objects.all()}
    second = run("load_demo")

    # eight feeds, each with entries, in the languages of the demo
    assert Feed.objects.count() == len(DEMO_FEEDS) == 8
    assert all(count > 0 for count in entries_after_first.values())
    assert sorted(Feed.objects.values_list("language", flat=True)) == sorted(d.language for d in DEMO_FEEDS)
    assert "Created demo login admin / admin." in first
    # the second run stores nothing new and does not make a second login
    assert {f.url: f.entries.count() for f in Feed.objects.all()} == entries_after_first
    assert re.findall(r": (\d+) new, (\d+) updated entries", second) == [("0", "0")] * 8
    assert "Created demo login" not in second
    assert get_user_model().objects.filter(username="admin").count() == 1
    assert get_user_model().objects.get(username="admin").is_superuser


def test_it_creates_no_demo_login_without_debug(settings):
    settings.DEBUG = False

    output = run("load_demo")

    assert "DEBUG is off: no demo login created" in output
    # only the account the demo history is attributed to, which cannot log in
    (user,) = get_user_model().objects.all()
    assert (user.username, user.is_active, user.has_usable_password()) == ("demo-analyst", False, False)
    assert Feed.objects.count() == 8
