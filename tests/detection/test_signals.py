"""rumours.detection.signals, read through pipeline.detect: deal candidates, stage, deal type, parties."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.detection.conftest import ALIBABA, BE_GROUP, GOTO, GRAB, LAZADA, TIKI, read


def stage_of(title: str, body: str, language: str = "") -> str:
    detection = read(title, body, language=language)
    assert detection.is_deal_candidate, (title, detection.deal_score, detection.parties)
    return detection.stage_hint


# --- stages ---------------------------------------------------------------------------------

RUMOURED = [
    (
        "Grab and GoTo revive merger talks, sources say",
        "Grab Holdings and GoTo have restarted talks about a merger, according to people familiar with the "
        "matter. The companies declined to comment.",
        "",
    ),
    (
        "GoTo dan Grab dikabarkan kembali bahas merger",
        "GoTo dan Grab Holdings kembali menjajaki rencana merger, menurut sumber yang mengetahui masalah ini. "
        "Kedua perusahaan belum memberikan komentar.",
        "id",
    ),
    (
        "Grab dan GoTo dalam rundingan penggabungan",
        "Grab dan GoTo dilaporkan sedang dalam rundingan penggabungan, menurut sumber yang rapat dengan syarikat itu.",
        "ms",
    ),
    (
        "Grab và GoTo nối lại đàm phán sáp nhập",
        "Theo các nguồn tin thân cận, Grab và GoTo đã nối lại đàm phán sáp nhập.",
        "",
    ),
    (
        "แกร็บเจรจาควบรวมกิจการ GoTo",
        "แหล่งข่าวระบุว่า แกร็บ อยู่ระหว่างเจรจาควบรวมกิจการกับ GoTo",
        "",
    ),
    (
        "그랩, 고투 인수 추진…소식통",
        "그랩이 고투 인수를 추진하고 있는 것으로 알려졌다. "
        "사안에 정통한 소식통에 따르면 양사는 합병 협상을 진행 중이다.",
        "",
    ),
    (
        "グラブ、ゴートゥー買収を検討",
        "グラブがインドネシアのゴートゥーの買収を検討していることが分かった。関係者によると、両社は協議中だという。",
        "",
    ),
    ("格步与GoTo重启合并谈判", "据知情人士透露，格步与GoTo已重启合并谈判。", ""),
]

IN_TALKS = [
    (
        "GoTo confirms it is in talks with Grab over a merger",
        "GoTo said in a statement on Monday that it was in discussions with Grab about a possible merger.",
        "",
    ),
    (
        "GoTo benarkan sedang negosiasi merger dengan Grab",
        "GoTo membenarkan perseroan sedang dalam pembicaraan merger dengan Grab Holdings, kata manajemen dalam "
        "keterbukaan informasi.",
        "",
    ),
    ("Grab xác nhận đang đàm phán sáp nhập với GoTo", "Grab đã xác nhận đang đàm phán sáp nhập với GoTo.", ""),
    ("고투, 그랩과 합병 협상 중 공식 확인", "고투는 그랩과 합병 협상을 진행하고 있다고 공시했다.", ""),
    ("グラブ、ゴートゥーと統合協議を正式発表", "グラブはゴートゥーと経営統合に向けて協議していると発表した。", ""),
    ("格步确认与GoTo进行合并谈判", "格步在声明中证实，公司正与GoTo进行合并谈判。", ""),
]

AGREED = [
    (
        "Grab agrees to buy GoTo in $7 billion deal",
        "Grab Holdings has signed a definitive agreement to acquire GoTo, the companies announced on Tuesday.",
        "",
    ),
    (
        "GoTo teken perjanjian definitif merger dengan Grab",
        "GoTo dan Grab Holdings menandatangani perjanjian definitif untuk penggabungan usaha, demikian diumumkan "
        "perseroan dalam keterbukaan informasi.",
        "",
    ),
    ("Grab ký thỏa thuận mua lại GoTo", "Grab đã ký thỏa thuận chính thức mua lại GoTo, công ty thông báo.", ""),
    ("그랩, 고투 인수 본계약 체결", "그랩이 고투를 인수하는 본계약을 체결했다고 24일 공시했다.", ""),
    ("グラブ、ゴートゥーと経営統合で最終合意", "グラブとゴートゥーは経営統合で最終合意したと発表した。", ""),
    ("格步与GoTo签署最终合并协议", "格步宣布与GoTo签署最终协议，双方将合并。", ""),
]

COMPLETED = [
    (
        "Grab completes acquisition of GoTo",
        "Grab Holdings said on Friday it had completed its acquisition of GoTo, making the Indonesian company a "
        "wholly owned subsidiary.",
        "",
    ),
    (
        "Grab resmi rampungkan akuisisi GoTo",
        "Grab Holdings telah menyelesaikan akuisisi GoTo, kata perseroan dalam keterbukaan informasi.",
        "",
    ),
    ("Grab hoàn tất thương vụ mua lại GoTo", "Grab đã chính thức hoàn tất việc mua lại GoTo.", ""),
    (
        "แกร็บเข้าซื้อกิจการ GoTo เสร็จสมบูรณ์",
        "แกร็บ แจ้งตลาดหลักทรัพย์ว่าการเข้าซื้อกิจการ GoTo เสร็จสมบูรณ์แล้ว",
        "",
    ),
    ("그랩, 고투 인수 완료", "그랩이 고투 인수를 완료했다고 밝혔다.", ""),
    ("グラブ、ゴートゥーの買収を完了", "グラブはゴートゥーの買収を完了したと発表した。", ""),
    ("格步完成收购GoTo", "格步宣布已完成对GoTo的收购。", ""),
]

ABANDONED = [
    (
        "Grab and GoTo call off merger talks",
        "Grab and GoTo have terminated talks about a merger after failing to agree on valuation, the companies "
        "said on Wednesday.",
        "",
    ),
    (
        "Merger GoTo dan Grab batal",
        "Rencana merger GoTo dan Grab Holdings dibatalkan setelah negosiasi menemui jalan buntu.",
        "",
    ),
    (
        "Penggabungan Grab dan GoTo dibatalkan",
        "Grab dan GoTo telah membatalkan rancangan penggabungan mereka, menurut kenyataan kepada Bursa.",
        "ms",
    ),
    ("그랩·고투 합병 무산", "그랩과 고투의 합병 협상이 결렬됐다.", ""),
    ("グラブとゴートゥー、経営統合を断念", "グラブとゴートゥーは経営統合の協議を打ち切ったと発表した。", ""),
    ("格步与GoTo终止合并谈判", "格步与GoTo宣布终止合并谈判。", ""),
]

DENIED = [
    (
        "GoTo denies merger talks with Grab",
        "GoTo denied a report that it was in merger talks with Grab, a GoTo spokesperson said.",
        "",
    ),
    (
        "GoTo says it is not in talks with Grab",
        "GoTo said on Thursday it is not in talks with Grab about a merger, after shares jumped on a media report.",
        "",
    ),
    (
        "GoTo bantah kabar merger dengan Grab",
        "GoTo membantah kabar bahwa perseroan tengah bernegosiasi merger dengan Grab Holdings.",
        "",
    ),
    (
        "GoTo nafikan rundingan penggabungan dengan Grab",
        "GoTo menafikan laporan bahawa ia sedang dalam rundingan penggabungan dengan Grab.",
        "ms",
    ),
    ("GoTo bác tin sáp nhập với Grab", "GoTo đã bác bỏ thông tin đang đàm phán sáp nhập với Grab.", ""),
    ("GoTo ปฏิเสธข่าวควบรวมกิจการกับแกร็บ", "GoTo ออกมาปฏิเสธข่าวการเจรจาควบรวมกิจการกับแกร็บ", ""),
    ("고투, 그랩과 합병설 부인", '고투는 그랩과의 합병 협상설에 대해 "사실무근"이라고 부인했다.', ""),
    ("ゴートゥー、グラブとの統合報道を否定", "ゴートゥーはグラブとの経営統合協議の報道を否定した。", ""),
    ("GoTo否认与格步进行合并谈判", "GoTo否认正在与格步进行合并谈判的报道。", ""),
]


def stage_cases(stage: str, cases: list[tuple[str, str, str]], languages: str) -> list[object]:
    """Parameters for one stage, each with an id such as "denied-ko"."""
    return [
        pytest.param(stage, *case, id=f"{stage}-{language}")
        for case, language in zip(cases, languages.split(), strict=True)
    ]


@pytest.mark.parametrize(
    ("stage", "title", "body", "language"),
    [
        *stage_cases("rumoured", RUMOURED, "en id ms vi th ko ja zh"),
        *stage_cases("in_talks", IN_TALKS, "en id vi ko ja zh"),
        *stage_cases("agreed", AGREED, "en id vi ko ja zh"),
        *stage_cases("completed", COMPLETED, "en id vi th ko ja zh"),
        *stage_cases("abandoned", ABANDONED, "en id ms ko ja zh"),
        *stage_cases("denied", DENIED, "en en-not-in-talks id ms vi th ko ja zh"),
    ],
)
def test_it_reads_the_stage_of_a_deal_story(stage: str, title: str, body: str, language: str) -> None:
    detection = read(title, body, language=language)

    assert detection.is_deal_candidate
    assert detection.stage_hint == stage
    assert sorted(detection.parties) == [GOTO, GRAB]


def test_it_keeps_a_hedged_confirmation_at_rumoured() -> None:
    # "confirmed" in the lead is someone else's word when the headline says "sources"
    title = "Grab and GoTo in merger talks, sources say"
    body = "A person familiar with the matter confirmed that Grab was in talks with GoTo about a merger."

    assert stage_of(title, body) == "rumoured"


def test_it_lets_a_lead_denial_beat_a_plain_headline() -> None:
    title = "GoTo and Grab merger"
    body = "GoTo denied on Monday that it was in talks with Grab about a merger."

    assert stage_of(title, body) == "denied"


@pytest.mark.parametrize(
    ("title", "body"),
    [
        pytest.param(
            "Grab and GoTo in merger talks",
            "Grab and GoTo are in merger talks, but no agreement has been reached, people familiar with the "
            "matter said.",
            id="en",
        ),
        pytest.param("格步与GoTo重启合并谈判", "格步与GoTo已重启合并谈判，双方尚未达成协议。", id="zh"),
    ],
)
def test_it_does_not_read_talks_followed_by_an_unreached_agreement_as_denied(title: str, body: str) -> None:
    assert stage_of(title, body) == "rumoured"


# --- what is not a deal candidate -----------------------------------------------------------


def test_it_does_not_take_a_historical_merger_in_an_earnings_story_as_a_deal() -> None:
    # given: a 2025 story that mentions the 2021 merger that formed GoTo
    title = "GoTo posts first quarterly profit"
    body = (
        "GoTo reported its first adjusted EBITDA profit for the quarter, the company said. "
        "The result comes since the 2021 merger that formed GoTo."
    )

    # when
    detection = read(title, body, published_at=datetime(2025, 8, 14, tzinfo=UTC))

    # then
    assert detection.companies == [GOTO]
    assert not detection.is_deal_candidate
    assert (detection.parties, detection.stage_hint, detection.deal_type) == ([], "", "")
    assert {signal["kind"] for signal in detection.signals} == {"merger"}


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "GoTo names new chief executive",
            "GoTo, which was formed by the 2021 merger of Gojek and Tokopedia, appointed a new chief executive.",
        ),
        (
            "GoTo catat laba kuartal pertama",
            "GoTo membukukan laba bersih pertama sejak merger Gojek dan Tokopedia pada 2021.",
        ),
        ("GoTo首次实现季度盈利", "GoTo表示，自2021年Gojek与Tokopedia合并以来，公司首次实现季度盈利。"),
    ],
)
def test_it_does_not_take_a_past_merger_as_a_deal(title: str, body: str) -> None:
    assert not read(title, body).is_deal_candidate


def test_it_does_not_take_an_earnings_headline_as_a_deal() -> None:
    title = "Grab swings to first quarterly profit as revenue jumps"
    body = (
        "Grab Holdings reported net income of $15 million for the quarter. Revenue rose 17%. The company "
        "said it would keep looking at acquisitions that fit its strategy."
    )

    detection = read(title, body)

    assert detection.companies == [GRAB]
    assert not detection.is_deal_candidate


def test_it_keeps_a_live_rumour_that_mentions_earlier_attempts() -> None:
    title = "Grab and GoTo in merger talks"
    body = (
        "Grab and GoTo are in merger talks, people familiar with the matter said. "
        "The two held talks in 2020 and 2023 without reaching a deal."
    )

    detection = read(title, body)

    assert detection.is_deal_candidate
    assert detection.stage_hint == "rumoured"


def test_it_needs_a_named_party() -> None:
    detection = read("Regional ride-hailing merger talks resume", "Two rivals resumed merger talks, sources said.")

    assert detection.deal_score >= 0.5
    assert not detection.is_deal_candidate


def test_it_does_not_read_customer_acquisition_as_a_deal() -> None:
    detection = read(
        "Lazada cuts customer acquisition costs",
        "Lazada said customer acquisition costs fell 20% as shoppers returned.",
    )

    assert detection.signals == []
    assert not detection.is_deal_candidate


# --- parties and deal type ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "body"),
    [
        (
            "Alibaba-backed Lazada agreed to buy Tiki",
            "Alibaba-backed Lazada has agreed to buy Vietnamese e-commerce firm Tiki, the companies said in a "
            "statement.",
        ),
        (
            "Lazada to acquire Tiki",
            "Alibaba's Lazada said on Monday it had signed a definitive agreement to acquire Tiki.",
        ),
        ("阿里巴巴旗下的Lazada将收购Tiki", "阿里巴巴旗下的Lazada宣布已与Tiki签署收购协议。"),
    ],
)
def test_it_leaves_an_owner_out_of_the_parties(title: str, body: str) -> None:
    detection = read(title, body)

    assert ALIBABA in detection.companies
    assert detection.parties == [LAZADA, TIKI]


@pytest.mark.parametrize(
    ("title", "body", "deal_type"),
    [
        (
            "Grab and GoTo revive merger talks",
            "Grab and GoTo are discussing a merger, people familiar with the matter said.",
            "merger",
        ),
        (
            "Grab agrees to buy GoTo",
            "Grab Holdings said it had agreed to acquire GoTo in an all-cash deal.",
            "acquisition",
        ),
        (
            "Grab launches tender offer for GoTo",
            "Grab launched a tender offer for all GoTo shares on Monday, the company said in a filing.",
            "takeover",
        ),
        (
            "Grab bids for GoTo",
            "Grab made a takeover offer for GoTo worth $5 billion, people familiar with the matter said.",
            "takeover",
        ),
        (
            "Grab takes 10% stake in Be Group",
            "Grab Holdings has bought a 10% stake in Vietnamese ride-hailing firm Be Group, the companies said.",
            "stake",
        ),
    ],
)
def test_it_reads_the_deal_type(title: str, body: str, deal_type: str) -> None:
    detection = read(title, body)

    assert detection.is_deal_candidate
    assert detection.deal_type == deal_type


def test_it_names_the_stake_buyer_and_target_as_parties() -> None:
    detection = read(
        "Grab takes 10% stake in Be Group",
        "Grab Holdings has bought a 10% stake in Vietnamese ride-hailing firm Be Group, the companies said.",
    )

    assert detection.parties == [GRAB, BE_GROUP]


def test_it_puts_the_headline_party_first() -> None:
    detection = read("Grab agrees to buy GoTo", "GoTo and Grab Holdings signed a definitive merger agreement.")

    assert detection.parties[:1] == [GRAB]


def test_it_records_each_signal_with_its_sentence() -> None:
    detection = read("Grab in talks to buy GoTo", "Grab denied the report.")

    assert {(signal["kind"], signal["term"], signal["sentence"]) for signal in detection.signals} == {
        ("talks", "in talks", 0),
        ("acquisition", "to buy", 0),
        ("denial", "denied", 1),
    }
