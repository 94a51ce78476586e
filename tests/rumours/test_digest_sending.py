"""Sending digests and alerts at most once (rumours.digests.services), the mail itself
(rumours.digests.rendering), the subscriber's own pages (rumours.digests.views) and the
``send_digests`` command.

Mail goes to Django's locmem backend. The Celery tasks and the command read the real
clock, so the story is placed in the subscriber's latest period as of now, and the
send hour is chosen twelve hours away from the current one: the period cannot roll
over while a test runs.
"""

from __future__ import annotations

import re
import smtplib
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from io import StringIO
from itertools import pairwise
from typing import Any
from unittest.mock import Mock
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends import locmem
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from rumours.digests import services as digest_services
from rumours.digests.content import RUMOURS_PER_DIGEST, Digest
from rumours.digests.schedule import Period, latest_period, local_label
from rumours.digests.services import (
    alerts_plan,
    deliveries_plan,
    deliveries_ready,
    deliveries_send,
    deliveries_sweep,
    subscription_unsubscribe,
)
from rumours.models import DigestDelivery, DigestState, Status, Subscription
from rumours.services import PartySpec, quote_add, rumour_attach_source, rumour_change_status, rumour_create
from rumours.tasks import plan_digests, send_digests
from tests.rumours.digest_world import (
    DENIAL_OUTLET,
    DENIAL_URL,
    HUNGATE_MEANS,
    HUNGATE_SAYS,
    GotoGrab,
    company,
    emtek_bukalapak_source,
    goto_grab_denial,
    happened_at,
    subscriber,
)

pytestmark = pytest.mark.django_db

ZONE = "Asia/Singapore"
SINGAPORE = ZoneInfo(ZONE)


# --- Mail servers that misbehave (set by dotted path, as EMAIL_BACKEND is in production) -----------


class DisconnectingBackend(locmem.EmailBackend):
    """The server hangs up while the message is on its way."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class MailboxUnavailableBackend(locmem.EmailBackend):
    """A permanent refusal (5xx): retrying will not help."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPResponseException(550, b"5.1.1 <investor@example.com>: mailbox unavailable")


class GreylistingBackend(locmem.EmailBackend):
    """A temporary refusal (4xx): try again later."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPResponseException(451, b"4.7.1 Greylisted, please try again later")


class UnreachableBackend(locmem.EmailBackend):
    """The mail server is down: the connection cannot be opened."""

    def open(self) -> bool:
        raise ConnectionRefusedError(111, "Connection refused")


def backend(cls: type) -> str:
    return f"{__name__}.{cls.__name__}"


# --- Fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def send_hour(now) -> int:
    return (now.astimezone(SINGAPORE).hour + 12) % 24


@pytest.fixture
def period(now, send_hour) -> Period:
    return latest_period(now=now, frequency="daily", time_zone=ZONE, hour=send_hour)


def local_hour_in(period: Period, hour: int) -> datetime:
    """The moment in ``period`` when it is ``hour``:00 in Singapore."""
    moments = (period.start + timedelta(hours=n) for n in range(24))
    return next(moment for moment in moments if moment.astimezone(SINGAPORE).hour == hour)


@pytest.fixture
def noon(period) -> datetime:
    # Noon in Singapore is 04:00 UTC: the same calendar day in both.
    return local_hour_in(period, 12)


@pytest.fixture
def world(analyst, period, noon) -> GotoGrab:
    """GoTo denied the GoTo–Grab merger today; Emtek–Bukalapak had news too."""
    world = goto_grab_denial(analyst=analyst, during=noon, before=period.start - timedelta(days=30))
    emtek_bukalapak_source(analyst=analyst, during=noon)
    return world


@pytest.fixture
def investor(world, now, send_hour) -> Subscription:
    """Follows Grab, reads at the send hour in Singapore; subscribed two months ago."""
    return subscriber(
        "investor@example.com",
        follows=[world.grab],
        time_zone=ZONE,
        send_hour=send_hour,
        since=now - timedelta(days=60),
    )


def send_due(now: datetime) -> dict[str, int]:
    """What beat's tick does: plan what is due, send what is ready."""
    return deliveries_send(delivery_ids=deliveries_plan(now=now), now=now)


def parts(message: EmailMessage) -> tuple[str, str]:
    """(plain text, HTML)."""
    assert isinstance(message, EmailMultiAlternatives)
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return str(message.body), str(html)


def link(text: str, label: str) -> str:
    [url] = re.findall(rf"^{label}: (\S+)$", text, re.MULTILINE)
    return str(url)


def path_of(url: str) -> str:
    return urlsplit(url).path


def day_label(moment: datetime) -> str:
    """How the templates write a date: 12 May 2026."""
    return f"{moment.day} {moment:%b %Y}"


# --- The digest ------------------------------------------------------------------------------------


def test_it_sends_a_grab_follower_the_goto_grab_denial_once(world, investor, now, noon, send_hour, mailoutbox):
    # when: beat ticks twice
    first = send_due(now)
    second = send_due(now)

    # then: one mail, about the thread they follow
    assert (first, second) == ({DigestState.SENT: 1}, {})
    [message] = mailoutbox
    assert message.to == ["investor@example.com"]
    assert message.subject == "GoTo–Grab merger: now Denied"
    text, html = parts(message)
    for part in (text, html):
        assert "GoTo–Grab merger" in part
        assert f"effective {day_label(noon)}" in part
        assert DENIAL_URL in part
        assert DENIAL_OUTLET in part
        assert HUNGATE_SAYS in part
        assert HUNGATE_MEANS in part
        assert "Alex Hungate, President and COO, Grab" in part
        assert f"{send_hour:02d}:00 +08" in part  # the period, in the subscriber's time
        assert "Emtek" not in part
        assert "Bukalapak" not in part
    assert "* Denied, effective" in text
    assert 'class="badge badge-denied"' in html
    # and the delivery records what went out
    delivery = DigestDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.subject) == (DigestState.SENT, 1, message.subject)
    assert delivery.message_id == message.extra_headers["Message-ID"]
    assert delivery.sent_at is not None


def test_it_offers_one_click_unsubscribe_in_the_headers(world, investor, now, mailoutbox):
    send_due(now)

    headers = mailoutbox[0].message()

    assert re.fullmatch(r"<https?://[^<>\s]+/digests/unsubscribe/[^<>\s/]+/>", headers["List-Unsubscribe"])
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_it_inlines_the_css_and_keeps_the_mail_small(world, investor, now, mailoutbox):
    send_due(now)

    _, html = parts(mailoutbox[0])

    assert re.search(r'<body style="[^"]*background: #f3f5f7', html)
    assert re.search(r'<div class="card" style="[^"]*border-radius: 8px', html)
    assert re.search(r'<span class="badge badge-denied" style="[^"]*background: #fde8e8', html)
    assert re.search(r'<p class="translation" style="[^"]*font-style: italic', html)
    # what stays in <style> is what cannot be inlined: the narrow-screen layout
    styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", html, re.DOTALL))
    assert re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", styles).strip() == ""
    assert len(html.encode()) < 20_000


def test_a_busy_day_still_fits_under_gmails_clipping_limit(world, investor, now, noon, analyst, mailoutbox):
    # given: 80 more Grab threads opened today, each with a source and a quote (all of them would make ~120 kB)
    for n in range(80):
        rumour = rumour_create(
            title=f"Grab weighs a bid for Target {n}",
            parties=[PartySpec(world.grab, "acquirer"), PartySpec(company(f"Target {n}", "SG", "software"), "target")],
            created_by=analyst,
        )
        source = rumour_attach_source(
            rumour=rumour,
            url=f"https://wire.example/grab-target-{n}",
            title=f"Grab said to weigh a bid for Target {n} in a deal that could value it at billions",
            outlet="Wire (sample)",
            outlet_tier=1,
            published_at=noon,
            added_by=analyst,
        )
        quote = quote_add(
            rumour=rumour,
            speaker=world.hungate,
            text="We are always looking at opportunities that make sense for our ecosystem and our shareholders.",
            said_at=noon,
            source=source,
            added_by=analyst,
        )
        happened_at(noon, rumour, source, quote)

    send_due(now)

    # then: the most important first (the denial), up to RUMOURS_PER_DIGEST, and a count of the rest
    [message] = mailoutbox
    assert message.subject == "GoTo–Grab merger: now Denied · 80 more updates"
    text, html = parts(message)
    assert html.count("Grab weighs a bid for Target") == RUMOURS_PER_DIGEST - 1
    assert html.index("GoTo–Grab merger") < html.index("Grab weighs a bid for Target")
    more = 81 - RUMOURS_PER_DIGEST
    for part in (text, html):
        assert f"…and {more} less important rumours moved too" in part
    assert len(html.encode()) < 102_000  # Gmail cuts messages off beyond 102 KB, unsubscribe link and all
    assert link(text, "Unsubscribe") in html


# --- At most once ------------------------------------------------------------------------------------


def test_it_sends_once_when_the_send_task_runs_twice(world, investor, now, mailoutbox, celery_eager):
    ids = deliveries_plan(now=now)

    first = send_digests.delay(ids).get()
    second = send_digests.delay(ids).get()

    assert (first, second) == ({DigestState.SENT: 1}, {})
    assert len(mailoutbox) == 1


def test_it_sends_once_when_beat_ticks_twice(world, investor, mailoutbox, celery_eager):
    plan_digests.delay()
    plan_digests.delay()

    assert [message.to for message in mailoutbox] == [["investor@example.com"]]
    assert DigestDelivery.objects.get().state == DigestState.SENT


@pytest.mark.parametrize(
    ("claimed_minutes_ago", "swept", "state", "error"),
    [
        pytest.param(
            20,
            1,
            DigestState.UNKNOWN,
            "The worker stopped between claiming and recording this delivery; not resent.",
            id="a-dead-worker",
        ),
        pytest.param(5, 0, DigestState.SENDING, "", id="a-worker-still-sending"),
    ],
)
def test_it_never_resends_a_delivery_a_worker_left_mid_send(
    world, investor, now, mailoutbox, celery_eager, claimed_minutes_ago, swept, state, error
):
    # given: a worker claimed the delivery and stopped before recording what happened
    [pk] = deliveries_plan(now=now)
    DigestDelivery.objects.filter(pk=pk).update(
        state=DigestState.SENDING,
        claimed_at=now - timedelta(minutes=claimed_minutes_ago),
        attempts=1,
        message_id="<crashed@digests.rumours.local>",
    )

    # when: the sweep runs, then beat ticks (sweep, plan, send) and the broker redelivers the task
    marked = deliveries_sweep(now=now)
    plan_digests.delay()
    send_digests.delay([pk])

    # then: a stale claim is marked unknown, and nothing is sent either way
    assert marked == swept
    delivery = DigestDelivery.objects.get()
    assert (delivery.state, delivery.last_error) == (state, error)
    assert delivery.message_id == "<crashed@digests.rumours.local>"  # the id the mail may have gone out with
    assert mailoutbox == []


@pytest.fixture
def readers(world, investor, now, send_hour) -> list[Subscription]:
    """Three Grab followers, due the same digest: one batch."""
    since = now - timedelta(days=60)
    return [
        investor,
        subscriber("second@example.com", follows=[world.grab], send_hour=send_hour, since=since),
        subscriber("third@example.com", follows=[world.grab], send_hour=send_hour, since=since),
    ]


def test_a_batch_that_breaks_before_any_mail_leaves_is_handed_back_for_the_retry(readers, now, mailoutbox, monkeypatch):
    ids = deliveries_plan(now=now)
    monkeypatch.setattr(digest_services, "digests_build", Mock(side_effect=DatabaseError("connection lost")))

    with pytest.raises(DatabaseError):
        deliveries_send(delivery_ids=ids, now=now)

    assert list(DigestDelivery.objects.values_list("state", "claimed_at")) == [(DigestState.PLANNED, None)] * 3
    # when: the task is retried with the same ids
    monkeypatch.undo()
    assert deliveries_send(delivery_ids=ids, now=now) == {DigestState.SENT: 3}
    assert deliveries_send(delivery_ids=ids, now=now) == {}
    assert sorted(message.to[0] for message in mailoutbox) == sorted(reader.email for reader in readers)


def test_a_batch_that_breaks_midway_sends_nothing_twice(readers, now, mailoutbox, monkeypatch):
    ids = deliveries_plan(now=now)
    render = digest_services.digest_message

    def breaks_for_the_second(digest: Digest, **kwargs: Any) -> EmailMultiAlternatives:
        if digest.subscription.email == "second@example.com":
            raise DatabaseError("connection lost")
        return render(digest, **kwargs)

    monkeypatch.setattr(digest_services, "digest_message", breaks_for_the_second)

    # when: the batch breaks after the first mail went out, then the task is retried and beat sweeps and ticks
    with pytest.raises(DatabaseError):
        deliveries_send(delivery_ids=ids, now=now)
    monkeypatch.undo()
    deliveries_send(delivery_ids=ids, now=now)
    deliveries_sweep(now=now + timedelta(hours=1))
    send_due(now + timedelta(hours=1))

    # then: the first and the third got one mail each, the second at most one; no row is left mid-way
    received = Counter(message.to[0] for message in mailoutbox)
    assert (received["investor@example.com"], received["third@example.com"]) == (1, 1)
    assert received["second@example.com"] <= 1
    assert not DigestDelivery.objects.filter(state__in=[DigestState.PLANNED, DigestState.SENDING]).exists()


# --- When the mail server fails -----------------------------------------------------------------------


def test_it_retries_a_dropped_connection_with_backoff_then_gives_up(world, investor, now, settings, mailoutbox):
    settings.EMAIL_BACKEND = backend(DisconnectingBackend)
    settings.DIGEST_MAX_ATTEMPTS = 3
    [pk] = deliveries_plan(now=now)

    # when: the first attempt
    before = timezone.now()
    outcome = deliveries_send(delivery_ids=[pk], now=now)

    # then: back to planned, for later
    delivery = DigestDelivery.objects.get(pk=pk)
    assert outcome == {DigestState.PLANNED: 1}
    assert (delivery.state, delivery.attempts, delivery.claimed_at) == (DigestState.PLANNED, 1, None)
    assert delivery.next_attempt_at > timezone.now()
    assert delivery.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    waits = [delivery.next_attempt_at - before]
    # and: not before its time, neither by id nor by the ready list
    assert deliveries_send(delivery_ids=[pk], now=timezone.now()) == {}
    assert deliveries_ready(now=timezone.now()) == []

    # when: each retry is due
    for _ in range(2):
        due = DigestDelivery.objects.get(pk=pk).next_attempt_at
        before = timezone.now()
        deliveries_send(delivery_ids=deliveries_ready(now=due), now=due)
        delivery.refresh_from_db()
        waits.append(delivery.next_attempt_at - before)

    # then: after DIGEST_MAX_ATTEMPTS it gives up, having waited longer each time
    assert (delivery.state, delivery.attempts) == (DigestState.FAILED, 3)
    assert delivery.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert timedelta(minutes=1) < waits[0] < waits[1]
    assert deliveries_ready(now=now + timedelta(days=1)) == []
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("server", "state", "error"),
    [
        pytest.param(
            MailboxUnavailableBackend,
            DigestState.FAILED,
            "SMTPResponseException: (550, b'5.1.1 <investor@example.com>: mailbox unavailable')",
            id="5xx-fails-at-once",
        ),
        pytest.param(
            GreylistingBackend,
            DigestState.PLANNED,
            "SMTPResponseException: (451, b'4.7.1 Greylisted, please try again later')",
            id="4xx-is-retried",
        ),
        pytest.param(
            UnreachableBackend,
            DigestState.PLANNED,
            "ConnectionRefusedError: [Errno 111] Connection refused",
            id="server-down-is-retried",
        ),
    ],
)
def test_it_fails_for_good_only_on_a_permanent_refusal(
    world, investor, now, settings, mailoutbox, server, state, error
):
    settings.EMAIL_BACKEND = backend(server)

    outcome = send_due(now)

    delivery = DigestDelivery.objects.get()
    assert outcome == {state: 1}
    assert (delivery.state, delivery.attempts, delivery.last_error) == (state, 1, error)
    assert (delivery.next_attempt_at > timezone.now()) is (state == DigestState.PLANNED)
    assert mailoutbox == []


# --- Empty digests -------------------------------------------------------------------------------------


def test_it_skips_an_empty_digest_only_for_those_who_asked(world, now, send_hour, mailoutbox):
    quiet = company("Xendit", "ID", "payments")
    since = now - timedelta(days=60)
    subscriber("skipper@example.com", follows=[quiet], skip_empty=True, send_hour=send_hour, since=since)
    subscriber("reader@example.com", follows=[quiet], skip_empty=False, send_hour=send_hour, since=since)

    outcome = send_due(now)

    assert outcome == {DigestState.SKIPPED: 1, DigestState.SENT: 1}
    [message] = mailoutbox
    assert message.to == ["reader@example.com"]
    assert message.subject == "Daily digest: nothing new on your watchlist"
    for part in parts(message):
        assert "Nothing changed for the companies you follow in this period" in part
        assert "GoTo" not in part
    assert dict(DigestDelivery.objects.values_list("subscription__email", "state")) == {
        "skipper@example.com": DigestState.SKIPPED,
        "reader@example.com": DigestState.SENT,
    }
    # and the skipped period is done with, not planned again
    assert send_due(now) == {}


# --- Instant alerts ------------------------------------------------------------------------------------


def test_it_alerts_each_follower_once_of_a_status_change(
    world, now, analyst, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    since = now - timedelta(days=60)
    subscriber("follower@example.com", follows=[world.grab], instant_alerts=True, since=since)
    subscriber("jakarta-desk@example.com", countries=["ID"], instant_alerts=True, since=since)
    subscriber("digest-only@example.com", follows=[world.grab], instant_alerts=False, since=since)
    subscriber("elsewhere@example.com", follows=[company("Emtek", "ID", "media")], instant_alerts=True, since=since)
    subscriber("picky@example.com", min_credibility=100, instant_alerts=True, since=since)

    # when: talks resume; a second planner (a redelivered event) plans the same change before the first sends
    with django_capture_on_commit_callbacks(execute=True):
        change = rumour_change_status(
            rumour=world.rumour,
            status=Status.IN_TALKS,
            effective_at=now - timedelta(hours=1),
            recorded_by=analyst,
            note="Talks resumed, people familiar with the matter said.",
        )
        again = alerts_plan(status_change_id=change.pk)

    # then: one alert for each subscriber who wants alerts and follows the thread
    alerts = DigestDelivery.objects.filter(status_change=change)
    assert sorted(alerts.values_list("subscription__email", "state")) == [
        ("follower@example.com", DigestState.SENT),
        ("jakarta-desk@example.com", DigestState.SENT),
    ]
    assert sorted(message.to[0] for message in mailoutbox) == ["follower@example.com", "jakarta-desk@example.com"]
    assert {message.subject for message in mailoutbox} == {"Status change: GoTo–Grab merger is now In talks"}
    text, html = parts(mailoutbox[0])
    for part in (text, html):
        assert local_label(change.effective_at, ZONE) in part
        assert "Talks resumed" in part
    assert mailoutbox[0].message()["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # and: the second planner's ids, sent again, send nothing; planning again plans nothing
    assert sorted(again) == sorted(alerts.values_list("pk", flat=True))
    assert send_digests.delay(again).get() == {}
    assert alerts_plan(status_change_id=change.pk) == []
    assert alerts.count() == 2
    assert len(mailoutbox) == 2


def test_an_alert_the_broker_missed_goes_out_with_the_next_tick(
    world, now, send_hour, analyst, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    # subscribed an hour ago: after the latest send instant, which is at least 11 hours ago
    subscriber(
        "follower@example.com",
        follows=[world.grab],
        instant_alerts=True,
        send_hour=send_hour,
        since=now - timedelta(hours=1),
    )

    # given: the transaction commits but the task never reaches a worker
    with django_capture_on_commit_callbacks(execute=False):
        change = rumour_change_status(
            rumour=world.rumour, status=Status.IN_TALKS, effective_at=now - timedelta(minutes=30), recorded_by=analyst
        )

    # when: beat ticks, twice
    plan_digests.delay()
    plan_digests.delay()

    # then: the alert went out once (no digest: the subscription is newer than the latest period)
    assert [message.subject for message in mailoutbox] == ["Status change: GoTo–Grab merger is now In talks"]
    assert DigestDelivery.objects.get(status_change=change).state == DigestState.SENT


# --- Unsubscribing -------------------------------------------------------------------------------------


def test_it_unsubscribes_with_one_click_from_the_mail(world, investor, now, mailoutbox):
    send_due(now)
    [message] = mailoutbox
    url = message.message()["List-Unsubscribe"].strip("<>")
    text, html = parts(message)
    assert link(text, "Unsubscribe") == url
    assert f'href="{url}"' in html
    # given: the next digest is already planned
    tomorrow = now + timedelta(days=1)
    [planned] = deliveries_plan(now=tomorrow)

    # when: the mail client POSTs as RFC 8058 says: no cookie, no CSRF token
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(
        path_of(url), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    # then
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    investor.refresh_from_db()
    assert investor.is_active is False
    assert investor.unsubscribed_at is not None
    planned_delivery = DigestDelivery.objects.get(pk=planned)
    assert planned_delivery.state == DigestState.SKIPPED
    assert planned_delivery.last_error == "Unsubscribed before sending."
    # and nothing more is sent: not the planned one, not the next ones
    assert deliveries_send(delivery_ids=[planned], now=tomorrow) == {}
    assert send_due(now + timedelta(days=2)) == {}
    assert len(mailoutbox) == 1
    # and a second click is harmless
    again = mail_client.post(
        path_of(url), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert again.status_code == 200


def test_opening_the_unsubscribe_link_asks_first(world, investor, now, mailoutbox):
    send_due(now)
    path = path_of(link(parts(mailoutbox[0])[0], "Unsubscribe"))
    browser = Client(enforce_csrf_checks=True)

    # when: someone (or a link scanner) opens the link
    page = browser.get(path)

    # then: a page with a button, and still subscribed
    assert page.status_code == 200
    assert "Unsubscribe investor@example.com?" in page.content.decode()
    assert '<form method="post">' in page.content.decode()
    investor.refresh_from_db()
    assert investor.is_active is True
    # and the button works
    assert browser.post(path).status_code == 200
    investor.refresh_from_db()
    assert investor.is_active is False


def other_subscribers_id(token: str, other: Subscription) -> str:
    _, rest = token.split(":", 1)
    return f"{signing.b64_encode(str(other.pk).encode()).decode()}:{rest}"


def changed_signature(token: str, other: Subscription) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def manage_token_instead(token: str, other: Subscription) -> str:
    from rumours.digests.rendering import manage_token

    return manage_token(Subscription.objects.get(email="investor@example.com"))


@pytest.mark.parametrize("tamper", [other_subscribers_id, changed_signature, manage_token_instead])
def test_it_refuses_a_tampered_unsubscribe_link(world, investor, now, send_hour, mailoutbox, tamper):
    victim = subscriber("victim@example.com", follows=[world.goto], send_hour=send_hour, since=now)
    send_due(now)
    path = path_of(link(parts(mailoutbox[0])[0], "Unsubscribe"))
    token = path.rstrip("/").rsplit("/", 1)[1]

    response = Client(enforce_csrf_checks=True).post(
        path.replace(token, tamper(token, victim)),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 404
    assert Subscription.objects.filter(is_active=True).count() == 2


def test_a_link_for_a_deleted_subscription_is_not_found(world, investor, now, mailoutbox):
    send_due(now)
    path = path_of(link(parts(mailoutbox[0])[0], "Unsubscribe"))
    investor.delete()

    assert Client().get(path).status_code == 404


# --- Managing the subscription ---------------------------------------------------------------------------


def manage_form(subscription: Subscription, **changes: Any) -> dict[str, Any]:
    """The form as the page shows it for ``subscription``, with ``changes`` typed in."""
    data: dict[str, Any] = {
        "frequency": subscription.frequency,
        "companies": [company.pk for company in subscription.companies.all()],
        "countries": ", ".join(subscription.countries),
        "sectors": subscription.sectors,
        "min_credibility": subscription.min_credibility,
        "time_zone": subscription.time_zone,
        "send_hour": subscription.send_hour,
        "send_weekday": subscription.send_weekday,
    }
    flags = {
        "instant_alerts": subscription.instant_alerts,
        "skip_empty": subscription.skip_empty,
        "is_active": subscription.is_active,
    }
    data.update({name: "on" for name, on in flags.items() if on})
    data.update(changes)
    return data


def open_manage_page(message: EmailMessage) -> tuple[Client, str, str]:
    """A browser opening the link in the mail: (browser, path, CSRF token from the page)."""
    path = path_of(link(parts(message)[0], "Change what you follow"))
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200
    [token] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    return browser, path, token


def test_the_manage_page_changes_frequency_and_companies(world, investor, now, mailoutbox):
    send_due(now)
    browser, path, token = open_manage_page(mailoutbox[0])

    response = browser.post(
        path,
        manage_form(
            investor,
            csrfmiddlewaretoken=token,
            frequency="weekly",
            send_weekday=4,
            companies=[world.goto.pk, world.grab.pk],
            countries="id, sg",
        ),
    )

    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    investor.refresh_from_db()
    assert (investor.frequency, investor.send_weekday) == ("weekly", 4)
    assert set(investor.companies.all()) == {world.goto, world.grab}
    assert investor.countries == ["ID", "SG"]
    assert investor.is_active is True


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        (
            "time_zone",
            "Mars/Olympus",
            "&#x27;Mars/Olympus&#x27; is not a time zone; use an IANA name such as Asia/Jakarta.",
        ),
        ("countries", "ID, Indonesia", "&#x27;INDONESIA&#x27; is not a two-letter country code."),
    ],
)
def test_the_manage_page_refuses_bad_input_with_a_message(world, investor, now, mailoutbox, field, typed, message):
    send_due(now)
    browser, path, token = open_manage_page(mailoutbox[0])

    response = browser.post(
        path, manage_form(investor, csrfmiddlewaretoken=token, frequency="weekly", **{field: typed})
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Saved." not in response.content.decode()
    investor.refresh_from_db()
    assert (investor.frequency, investor.time_zone, investor.countries) == ("daily", ZONE, [])


def test_moving_time_zone_does_not_resend_what_was_sent(world, investor, now, mailoutbox):
    send_due(now)
    browser, path, token = open_manage_page(mailoutbox[0])

    browser.post(path, manage_form(investor, csrfmiddlewaretoken=token, time_zone="America/New_York"))
    for days in range(3):
        send_due(now + timedelta(days=days))

    assert sum(HUNGATE_SAYS in str(message.body) for message in mailoutbox) == 1
    deliveries = list(DigestDelivery.objects.order_by("period_end"))
    assert all(later.period_start >= earlier.period_end for earlier, later in pairwise(deliveries))


def test_the_manage_link_is_no_unsubscribe_link(world, investor, now, mailoutbox):
    send_due(now)
    path = path_of(link(parts(mailoutbox[0])[0], "Change what you follow"))

    assert Client().post(path.replace("/manage/", "/unsubscribe/")).status_code == 404
    investor.refresh_from_db()
    assert investor.is_active is True


# --- The send_digests command --------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_digests", *args, stdout=out)
    return out.getvalue()


def test_the_command_dry_run_prints_and_sends_nothing(world, investor, mailoutbox):
    output = run("--dry-run")

    assert "investor@example.com: daily, " in output
    assert "1 rumour(s): GoTo–Grab merger: now Denied" in output
    assert "1 digest(s) due; nothing sent (dry run)." in output
    assert mailoutbox == []
    assert not DigestDelivery.objects.exists()


def test_the_command_sends_what_is_due_once(world, investor, mailoutbox):
    assert run() == "1 digest(s) due: 1 sent.\n"
    assert run() == "0 digest(s) due: nothing to send.\n"

    assert [message.subject for message in mailoutbox] == ["GoTo–Grab merger: now Denied"]


def test_the_command_sends_only_to_the_subscriber_named(world, investor, now, send_hour, mailoutbox, django_user_model):
    dewi = django_user_model.objects.create_user("dewi", "dewi@example.com")
    subscriber("dewi@example.com", user=dewi, follows=[world.goto], send_hour=send_hour, since=now - timedelta(days=60))

    by_username = run("--user", "dewi")
    by_email = run("--user", "INVESTOR@example.com")

    assert (by_username, by_email) == ("1 digest(s) due: 1 sent.\n",) * 2
    assert [message.to for message in mailoutbox] == [["dewi@example.com"], ["investor@example.com"]]


def test_the_command_sends_only_the_frequency_asked_for(world, investor, now, period, send_hour, mailoutbox):
    weekday = period.end.astimezone(SINGAPORE).weekday()  # the weekly period ends with the daily one
    subscriber(
        "weekly@example.com",
        follows=[world.grab],
        frequency="weekly",
        send_weekday=weekday,
        send_hour=send_hour,
        since=now - timedelta(days=60),
    )

    output = run("--frequency", "weekly")

    assert output == "1 digest(s) due: 1 sent.\n"
    [message] = mailoutbox
    assert message.to == ["weekly@example.com"]
    assert "Your weekly deal-rumour digest" in str(message.body)
    assert DigestDelivery.objects.get().kind == "weekly"


def test_the_command_with_now_covers_up_to_this_moment(world, investor, now, period, analyst, mailoutbox):
    # given: the scheduled digest went out; then, after the send hour, another quote
    run()
    late = quote_add(
        rumour=world.rumour,
        speaker_name="Patrick Walujo",
        text="We do not comment on market speculation",
        said_at=timezone.now(),
        added_by=analyst,
    )

    # when: an operator sends an off-schedule digest
    output = run("--user", "investor@example.com", "--now")

    # then: it covers from the last digest up to now, and only that
    assert output == "1 digest(s) due: 1 sent.\n"
    scheduled, ad_hoc = mailoutbox
    assert HUNGATE_SAYS in str(scheduled.body)
    assert late.text not in str(scheduled.body)
    assert late.text in str(ad_hoc.body)
    assert HUNGATE_SAYS not in str(ad_hoc.body)
    first, second = DigestDelivery.objects.order_by("period_end")
    assert first.period_end == second.period_start == period.end
    assert second.period_end > late.added_at


@pytest.mark.parametrize("who", ["nobody@example.com", "investor@example.com"])
def test_the_command_refuses_a_subscriber_it_does_not_know(world, investor, who, mailoutbox):
    subscription_unsubscribe(subscription=investor)

    with pytest.raises(CommandError, match=f"No active subscription for '{who}' \\(a username or an email address\\)"):
        run("--user", who)

    assert mailoutbox == []


# --- Known defects ----------------------------------------------------------------------------------------


def test_it_dates_a_change_in_the_subscribers_time_zone(analyst, now, period, send_hour, mailoutbox):
    # given: GoTo denies at 03:00 in Singapore, which is still the day before in UTC
    early = local_hour_in(period, 3)
    world = goto_grab_denial(analyst=analyst, during=early, before=period.start - timedelta(days=30))
    subscriber("investor@example.com", follows=[world.grab], send_hour=send_hour, since=now - timedelta(days=60))

    send_due(now)

    local = early.astimezone(SINGAPORE)
    assert local.date() != early.date()
    text, html = parts(mailoutbox[0])
    for part in (text, html):
        assert f"effective {day_label(local)}" in part
        assert f"Grab, {day_label(local)}" in part  # when Alex Hungate said it
