"""A small, hand-built watchlist for the detection tests: no database, no corpus.

Company and person ids are module constants so a test reads ``GRAB`` rather than ``2``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rumours.detection.names import Alias, NameIndex
from rumours.detection.pipeline import Detection, Document, Watchlist, detect
from rumours.detection.quotes import People

GOTO, GRAB, SEA, LAZADA, TIKI, ALIBABA, LY, BE_GROUP, SENDO = range(1, 10)
ALEX_HUNGATE, PATRICK_WALUJO = 101, 102

COMPANY_NAMES = {
    GOTO: "GoTo",
    GRAB: "Grab",
    SEA: "Sea Limited",
    LAZADA: "Lazada",
    TIKI: "Tiki",
    ALIBABA: "Alibaba Group",
    LY: "LY Corporation",
    BE_GROUP: "Be Group",
}

COMPANY_ALIASES = [
    Alias(GOTO, "GoTo"),
    Alias(GOTO, "Gojek"),
    Alias(GOTO, "Tokopedia"),
    Alias(GOTO, "고투", ambiguous=True),
    Alias(GOTO, "ゴートゥー", ambiguous=True),
    Alias(GRAB, "Grab", ambiguous=True),
    Alias(GRAB, "Grab Holdings"),
    Alias(GRAB, "그랩"),
    Alias(GRAB, "グラブ", ambiguous=True),
    Alias(GRAB, "格步"),
    Alias(GRAB, "แกร็บ"),
    Alias(SEA, "Sea", ambiguous=True),
    Alias(SEA, "Sea Limited"),
    Alias(SEA, "Shopee"),
    Alias(LAZADA, "Lazada"),
    Alias(LAZADA, "ラザダ"),
    Alias(TIKI, "Tiki", ambiguous=True),
    Alias(ALIBABA, "Alibaba Group"),
    Alias(ALIBABA, "Alibaba"),
    Alias(ALIBABA, "阿里巴巴"),
    Alias(ALIBABA, "アリババ"),
    Alias(LY, "LY Corporation"),
    Alias(LY, "LINE", ambiguous=True),
    Alias(BE_GROUP, "Be Group"),
    Alias(BE_GROUP, "Be", ambiguous=True),
]

PERSON_ALIASES = [
    Alias(ALEX_HUNGATE, "Alex Hungate"),
    Alias(ALEX_HUNGATE, "알렉스 헝가테"),
    Alias(ALEX_HUNGATE, "アレックス・ハンゲート"),
    Alias(ALEX_HUNGATE, "亚历克斯·亨盖特"),
    Alias(PATRICK_WALUJO, "Patrick Walujo"),
    Alias(PATRICK_WALUJO, "파트릭 왈루조"),
]


def make_people() -> People:
    return People(
        index=NameIndex(PERSON_ALIASES),
        names={ALEX_HUNGATE: "Alex Hungate", PATRICK_WALUJO: "Patrick Walujo"},
        roles={ALEX_HUNGATE: "President", PATRICK_WALUJO: "CEO"},
        companies={ALEX_HUNGATE: GRAB, PATRICK_WALUJO: GOTO},
    )


def make_watchlist() -> Watchlist:
    return Watchlist(companies=NameIndex(COMPANY_ALIASES), company_names=dict(COMPANY_NAMES), people=make_people())


WATCHLIST = make_watchlist()
# The day the test articles are published: a year in the text before 2025 is history.
PUBLISHED = datetime(2025, 5, 8, 3, 10, tzinfo=UTC)


def read(
    title: str,
    body: str = "",
    *,
    language: str = "",
    published_at: datetime | None = PUBLISHED,
    watchlist: Watchlist = WATCHLIST,
) -> Detection:
    """Run the whole detection pipeline over one article, as the inbox does."""
    return detect(Document(title=title, body=body, language=language, published_at=published_at), watchlist)


@pytest.fixture(scope="session")
def sendo_watchlist() -> Watchlist:
    """A watchlist whose only company is known by its Latin name alone."""
    return Watchlist(
        companies=NameIndex([Alias(SENDO, "Sendo")]),
        company_names={SENDO: "Sendo"},
        people=People(index=NameIndex([]), names={}, roles={}, companies={}),
    )
